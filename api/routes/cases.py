"""GET /v1/cases/{case_id}: the case's current state, from the workflow's queries."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from temporalio.service import RPCError, RPCStatusCode

from api.deps import TemporalDep
from api.problems import ProblemError
from core.models import CaseSnapshot, CaseStatus, CaseView, MessageOutcome
from core.names import message_workflow_id
from temporal_workflows.message import MessageWorkflow

router = APIRouter(prefix="/v1/cases", tags=["cases"])


def _valid_case_id(case_id: str) -> str:
    try:
        return str(uuid.UUID(case_id))
    except ValueError as exc:
        raise ProblemError(404, "Case not found", f"No case {case_id!r}.") from exc


@router.get("/{case_id}", response_model=CaseView)
async def get_case(case_id: str, client: TemporalDep) -> CaseView:
    case_id = _valid_case_id(case_id)
    workflow_id = message_workflow_id(case_id)
    handle = client.get_workflow_handle_for(MessageWorkflow.run, workflow_id)
    try:
        outcome: MessageOutcome | None = await handle.query(MessageWorkflow.outcome)
        status: CaseStatus = await handle.query(MessageWorkflow.status)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ProblemError(404, "Case not found", f"No case {case_id!r}.") from exc
        raise ProblemError(503, "Service unavailable", "The workflow service is unreachable.") from exc
    child: CaseSnapshot | None = None
    if outcome is not None and outcome.child_workflow_id:
        try:
            child = await client.get_workflow_handle(outcome.child_workflow_id).query(
                "state", result_type=CaseSnapshot
            )
        except RPCError:
            child = None  # not started yet
    if child is not None:
        status = child.status
    return CaseView(
        case_id=case_id,
        workflow_id=workflow_id,
        status=status,
        category=outcome.category if outcome else None,
        confidence=outcome.confidence if outcome else None,
        route=outcome.route if outcome else None,
        next_step=outcome.next_step if outcome else None,
        decision_path=outcome.decision_path if outcome else [],
        child=child,
    )
