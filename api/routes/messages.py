"""POST /v1/messages: redact, start the case workflow, answer with the routing decision."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

from fastapi import APIRouter, Response, status
from temporalio.client import WorkflowUpdateFailedError

from api import metrics
from api.admission import AdmissionDep, Submitted, submit
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

router = APIRouter(prefix="/v1/messages", tags=["messages"])
log = get_logger(__name__)


@router.post(
    "",
    response_model=MessageResponse,
    responses={202: {"model": MessageResponse, "description": "Accepted; still classifying"}},
)
async def post_message(
    body: MessageRequest,
    caller: IntakeCaller,
    settings: SettingsDep,
    client: TemporalDep,
    admission: AdmissionDep,
    response: Response,
) -> MessageResponse:
    if caller.channel is not None and caller.channel is not body.channel:
        raise ProblemError(403, "Forbidden", f"This API key may only post {caller.channel.value} messages.")
    message_id = body.message_id or f"gen-{uuid.uuid4()}"
    case_id = case_id_for(message_id, channel=body.channel.value, tenant=settings.tenant_id)
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
    started = time.perf_counter()
    try:
        submitted = await submit(
            client,
            settings,
            admission,
            workflow_id,
            MessageWorkflowInput(message=inbound, llm_task_queue=settings.llm_task_queue),
        )
    except WorkflowUpdateFailedError as exc:
        raise ProblemError(
            500, "Classification failed", "The case workflow could not classify the message.", case_id=case_id
        ) from exc
    outcome = submitted.outcome
    if outcome is None:
        return _still_classifying(submitted, case_id, workflow_id, response)
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


def _still_classifying(
    submitted: Submitted, case_id: str, workflow_id: str, response: Response
) -> MessageResponse:
    """Accepted durably (the case workflow exists) but not decided within the budget, or not waited for."""
    metrics.PENDING_RESPONSES.inc()
    response.status_code = status.HTTP_202_ACCEPTED
    response.headers["Location"] = f"/v1/cases/{case_id}"
    if submitted.retry_after_s is not None:
        response.headers["Retry-After"] = str(submitted.retry_after_s)
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
