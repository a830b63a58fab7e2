"""Agent actions: the work queue from the case store, and decisions sent to the case's workflow.

Decisions go to the category workflow as Temporal updates, whose validators reject what does not
fit the case's state (stale review round, duplicate, already triaged): those come back as 409.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import CaseReader, CaseStoreDep, SafetyReviewer, TemporalDep, TicketAgent, TriageAgent
from api.problems import ProblemError
from api.routes.cases import parse_case_id
from core.models import (
    CaseListPage,
    CaseSnapshot,
    CaseStatus,
    Category,
    Route,
    SafetyDecision,
    SafetyDecisionRequest,
    TicketUpdate,
    TicketUpdateRequest,
    TriageDecision,
    TriageDecisionRequest,
)
from core.names import child_workflow_id, message_workflow_id, rerouted_workflow_id
from core.redaction import redact
from temporal_workflows.service_action import ServiceActionWorkflow

router = APIRouter(prefix="/v1/cases", tags=["agent"])

MAX_PAGE = 500
# Beyond any real queue; keeps the database's OFFSET (a BIGINT) from overflowing into a 500.
MAX_OFFSET = 1_000_000
# Update names as declared by the workflows (`SafetyComplianceWorkflow.decide`, `TriageWorkflow.triage`).
DECIDE_UPDATE = "decide"
TRIAGE_UPDATE = "triage"


@router.get("", response_model=CaseListPage)
async def list_cases(
    reader: CaseReader,
    store: CaseStoreDep,
    status_filter: Annotated[CaseStatus | None, Query(alias="status")] = None,
    category: Category | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> CaseListPage:
    """The work queue: pending safety reviews first, then open cases, newest first."""
    items, total = await store.list_cases(status=status_filter, category=category, limit=limit, offset=offset)
    return CaseListPage(items=items, total=total, limit=limit, offset=offset)


@router.post("/{case_id}/decision", response_model=CaseSnapshot)
async def decide_safety_case(
    case_id: str,
    body: SafetyDecisionRequest,
    reviewer: SafetyReviewer,
    client: TemporalDep,
    store: CaseStoreDep,
) -> CaseSnapshot:
    case_id = parse_case_id(case_id)
    workflow_id = child_workflow_id(case_id, Route.safety_compliance.value)
    # The reviewer on record is the verified token subject, never a name from the body.
    # Free text an agent writes is redacted like a message before it enters the workflow history.
    decision = SafetyDecision(
        reviewer=reviewer.subject, **body.model_dump(exclude={"reason"}), reason=redact(body.reason).text
    )
    return await _update(client, store, case_id, workflow_id, DECIDE_UPDATE, decision)


@router.post("/{case_id}/triage", response_model=CaseSnapshot)
async def triage_case(
    case_id: str, body: TriageDecisionRequest, agent: TriageAgent, client: TemporalDep, store: CaseStoreDep
) -> CaseSnapshot:
    case_id = parse_case_id(case_id)
    workflow_id = child_workflow_id(case_id, Route.human_triage.value)
    decision = TriageDecision(
        agent=agent.subject, **body.model_dump(exclude={"reason"}), reason=redact(body.reason).text
    )
    return await _update(client, store, case_id, workflow_id, TRIAGE_UPDATE, decision)


@router.post("/{case_id}/ticket", response_model=CaseSnapshot, status_code=status.HTTP_202_ACCEPTED)
async def update_ticket(
    case_id: str, body: TicketUpdateRequest, agent: TicketAgent, client: TemporalDep, store: CaseStoreDep
) -> CaseSnapshot:
    """Accepted for the service workflow, which applies it to the ticket in order of arrival."""
    case_id = parse_case_id(case_id)
    update = TicketUpdate(
        agent=agent.subject, **body.model_dump(exclude={"note"}), note=redact(body.note).text
    )
    # A service case is either routed there directly (or by triage) or rerouted by a safety reviewer.
    for workflow_id in (
        child_workflow_id(case_id, Route.service_action.value),
        rerouted_workflow_id(case_id, Category.service_action.value),
    ):
        handle = client.get_workflow_handle(workflow_id)
        try:
            snapshot: CaseSnapshot | None = await handle.query("state", result_type=CaseSnapshot)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                continue
            raise _unavailable() from exc
        if snapshot is None or snapshot.status is CaseStatus.closed:
            raise ProblemError(409, "Conflict", "The case's ticket is already closed.")
        try:
            await handle.signal(ServiceActionWorkflow.ticket_update, update)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise ProblemError(409, "Conflict", "The case's ticket is already closed.") from exc
            raise _unavailable() from exc
        return snapshot
    raise await _missing_workflow(client, store, case_id, "The case has no service ticket.")


async def _update(
    client: Client, store: CaseStoreDep, case_id: str, workflow_id: str, update: str, body: object
) -> CaseSnapshot:
    handle = client.get_workflow_handle(workflow_id)
    try:
        snapshot: CaseSnapshot = await handle.execute_update(update, body, result_type=CaseSnapshot)
    except WorkflowUpdateFailedError as exc:
        # The validator's message says why (stale round, duplicate, missing reroute target).
        raise ProblemError(409, "Conflict", str(exc.cause or exc)) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise await _missing_workflow(
                client, store, case_id, f"The case is not waiting for a {update} action."
            ) from exc
        raise _unavailable() from exc
    return snapshot


async def _missing_workflow(client: Client, store: CaseStoreDep, case_id: str, conflict: str) -> ProblemError:
    """404 when the case does not exist at all, 409 when it exists but the action does not fit it."""
    if await store.get_case(case_id) is not None:
        return ProblemError(409, "Conflict", conflict)
    try:
        await client.get_workflow_handle(message_workflow_id(case_id)).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return ProblemError(404, "Case not found", f"No case {case_id!r}.")
        return _unavailable()
    return ProblemError(409, "Conflict", conflict)


def _unavailable() -> ProblemError:
    return ProblemError(503, "Service unavailable", "The workflow service is unreachable.")
