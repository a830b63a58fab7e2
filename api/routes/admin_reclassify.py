"""POST /v1/admin/reclassify: classify a set of cases again, e.g. after an LLM outage.

Each case gets a `reclassify` signal on the workflow that holds it: the `MessageWorkflow` while
it is still `awaiting_classification` (a fresh attempt starts at once instead of after the retry
backoff), or the `TriageWorkflow` while the case waits for an agent (a confident route then
replaces the agent's choice; a possible safety case stays with people). With `to_triage`, a case
still waiting for classification goes to human triage instead (a long LLM outage). Signals are
durable once accepted, so the answer is 202 and the outcome shows in each case's timeline.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, status
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.deps import SettingsDep, TemporalDep
from api.problems import ProblemError
from api.security import Principal, Role, require_roles
from core.models import (
    CaseSnapshot,
    CaseStatus,
    ReclassifyBody,
    ReclassifyRequest,
    ReclassifyResponse,
    ReclassifyResult,
    Route,
)
from core.names import child_workflow_id, message_workflow_id
from core.redaction import redact
from temporal_workflows.message import MessageWorkflow
from temporal_workflows.triage import TriageWorkflow

router = APIRouter(prefix="/v1/admin", tags=["admin"])

Operator = Annotated[Principal, require_roles(Role.supervisor, Role.admin)]
# Each Temporal call is bounded: a slow server yields a 503 problem, not a hanging request.
RPC_TIMEOUT = timedelta(seconds=5)
TRIAGE_WAITING = {CaseStatus.awaiting_triage, CaseStatus.escalated}


@router.post("/reclassify", response_model=ReclassifyResponse, status_code=status.HTTP_202_ACCEPTED)
async def reclassify(
    body: ReclassifyBody, operator: Operator, client: TemporalDep, settings: SettingsDep
) -> ReclassifyResponse:
    request = ReclassifyRequest(
        requested_by=operator.subject,
        # Operator free text enters workflow history: redacted like a message.
        reason=redact(body.reason).text if body.reason else "",
        llm_task_queue=settings.llm_task_queue,
        to_triage=body.to_triage,
    )
    case_ids = list(dict.fromkeys(_canonical(case_id) for case_id in body.case_ids))
    results = await asyncio.gather(*(request_reclassify(client, case_id, request) for case_id in case_ids))
    return ReclassifyResponse(results=list(results))


async def request_reclassify(client: Client, case_id: str, request: ReclassifyRequest) -> ReclassifyResult:
    """The route's work for one case; the agent console calls it too (the caller checked the roles)."""
    try:
        return await _reclassify_one(client, case_id, request)
    except RPCError as exc:
        raise ProblemError(503, "Service unavailable", "The workflow service is unreachable.") from exc


def _canonical(case_id: str) -> str:
    try:
        return str(uuid.UUID(case_id))
    except ValueError:
        return case_id  # answered as not_found: no workflow has such an id


def _is_case_id(case_id: str) -> bool:
    try:
        uuid.UUID(case_id)
    except ValueError:
        return False
    return True


async def _reclassify_one(client: Client, case_id: str, request: ReclassifyRequest) -> ReclassifyResult:
    if not _is_case_id(case_id):
        # Case ids are UUIDs; anything else cannot name a workflow (and "" is not a valid id to Temporal).
        return ReclassifyResult(case_id=case_id, outcome="not_found")
    message = client.get_workflow_handle_for(MessageWorkflow.run, message_workflow_id(case_id))
    try:
        state = await message.query(MessageWorkflow.status, rpc_timeout=RPC_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return ReclassifyResult(case_id=case_id, outcome="not_found")
        raise
    if state in (CaseStatus.received, CaseStatus.awaiting_classification):
        await message.signal(MessageWorkflow.reclassify, request, rpc_timeout=RPC_TIMEOUT)
        return ReclassifyResult(case_id=case_id, outcome="requested", workflow_id=message.id)
    if request.to_triage:
        return ReclassifyResult(case_id=case_id, outcome="not_waiting")  # classified already
    triage = client.get_workflow_handle_for(
        TriageWorkflow.run, child_workflow_id(case_id, Route.human_triage.value)
    )
    try:
        snapshot: CaseSnapshot | None = await triage.query(TriageWorkflow.state, rpc_timeout=RPC_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return ReclassifyResult(case_id=case_id, outcome="not_waiting")
        raise
    if snapshot is None or snapshot.status not in TRIAGE_WAITING:
        return ReclassifyResult(case_id=case_id, outcome="not_waiting")
    await triage.signal(TriageWorkflow.reclassify, request, rpc_timeout=RPC_TIMEOUT)
    return ReclassifyResult(case_id=case_id, outcome="requested", workflow_id=triage.id)
