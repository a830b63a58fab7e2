"""POST /v1/messages: redact, start the case workflow, answer with the routing decision."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timezone

from fastapi import APIRouter, Response, status
from temporalio.client import WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api import metrics
from api.deps import IntakeCaller, SettingsDep, TemporalDep
from api.problems import ProblemError
from api.public_view import public_decision_path
from core.logging import bind_log_context, get_logger
from core.models import (
    CaseStatus,
    InboundMessage,
    MessageOutcome,
    MessageRequest,
    MessageResponse,
    MessageWorkflowInput,
)
from core.names import case_id_for, message_workflow_id
from core.pseudonym import pseudonymise_customer_id
from core.redaction import redact
from temporal_workflows.message import MessageWorkflow

router = APIRouter(prefix="/v1/messages", tags=["messages"])
log = get_logger(__name__)


@router.post(
    "",
    response_model=MessageResponse,
    responses={202: {"model": MessageResponse, "description": "Accepted; still classifying"}},
)
async def post_message(
    body: MessageRequest, caller: IntakeCaller, settings: SettingsDep, client: TemporalDep, response: Response
) -> MessageResponse:
    if caller.channel is not None and caller.channel is not body.channel:
        raise ProblemError(403, "Forbidden", f"This API key may only post {caller.channel.value} messages.")
    message_id = body.message_id or f"gen-{uuid.uuid4()}"
    case_id = case_id_for(message_id)
    workflow_id = message_workflow_id(case_id)
    bind_log_context(case_id=case_id, workflow_id=workflow_id)
    redacted = redact(body.text)
    inbound = InboundMessage(
        case_id=case_id,
        message_id=message_id,
        channel=body.channel,
        redacted_text=redacted.text,
        # Raw customer ids never enter the workflow history or the case store.
        customer_id=pseudonymise_customer_id(body.customer_id, settings),
        locale=body.locale,
        received_at=datetime.now(timezone.utc),
        redaction_counts=redacted.counts,
    )
    start = WithStartWorkflowOperation(
        MessageWorkflow.run,
        MessageWorkflowInput(message=inbound, llm_task_queue=settings.llm_task_queue),
        id=workflow_id,
        task_queue=settings.workflow_task_queue,
        # Same message_id -> same workflow: a retry attaches to the running case...
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # ...and never starts a second one after the first has finished.
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    started = time.perf_counter()
    try:
        outcome = await asyncio.wait_for(
            client.execute_update_with_start_workflow(
                MessageWorkflow.classification, start_workflow_operation=start
            ),
            timeout=settings.classification_wait_seconds,
        )
    except WorkflowAlreadyStartedError:
        outcome = await client.get_workflow_handle(workflow_id, result_type=MessageOutcome).result()
    except asyncio.TimeoutError:
        return await _still_classifying(start, case_id, workflow_id, response)
    except WorkflowUpdateFailedError as exc:
        raise ProblemError(
            500, "Classification failed", "The case workflow could not classify the message.", case_id=case_id
        ) from exc
    except RPCError as exc:
        log.error("temporal_unavailable", case_id=case_id, error=str(exc))
        raise ProblemError(
            503,
            "Service unavailable",
            "The workflow service is unreachable; the message was not accepted, retry later.",
        ) from exc
    _observe(outcome, body.channel.value, time.perf_counter() - started)
    log.info(
        "message_routed",
        case_id=case_id,
        channel=body.channel.value,
        category=outcome.category.value,
        route=outcome.route.value,
        confidence=outcome.confidence,
        redactions=sum(redacted.counts.values()),
    )
    return MessageResponse(
        case_id=outcome.case_id,
        workflow_id=outcome.workflow_id,
        category=outcome.category,
        confidence=outcome.confidence,
        # The caller gets no internals (thresholds, probabilities, evidence); agents see them.
        decision_path=public_decision_path(outcome.decision_path),
        next_step=outcome.next_step,
        status=outcome.status,
        route=outcome.route,
    )


async def _still_classifying(
    start: WithStartWorkflowOperation[MessageWorkflow, MessageOutcome],
    case_id: str,
    workflow_id: str,
    response: Response,
) -> MessageResponse:
    try:
        await asyncio.wait_for(start.workflow_handle(), timeout=5)
    except (asyncio.TimeoutError, RPCError) as exc:
        raise ProblemError(
            503, "Service unavailable", "The case could not be started; retry with the same message_id."
        ) from exc
    metrics.PENDING_RESPONSES.inc()
    response.status_code = status.HTTP_202_ACCEPTED
    response.headers["Location"] = f"/v1/cases/{case_id}"
    return MessageResponse(
        case_id=case_id,
        workflow_id=workflow_id,
        category=None,
        confidence=None,
        decision_path=[],
        next_step="The message is accepted and queued for classification; poll the case for the decision.",
        status=CaseStatus.received,
    )


def _observe(outcome: MessageOutcome, channel: str, seconds: float) -> None:
    # Per-case counts are recorded once by the worker (activities.cases.record_case).
    metrics.CLASSIFICATION_SECONDS.observe(seconds)
