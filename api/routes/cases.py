"""GET /v1/cases/{case_id}: the case's live state (workflow queries) and its durable timeline."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from adapters.ports import SafetyDatabasePort, TicketingPort
from api.deps import (
    CaseReader,
    CaseStoreDep,
    MessageReader,
    SafetyDatabaseDep,
    TemporalDep,
    TicketingDep,
)
from api.problems import ProblemError
from core.logging import get_logger
from core.models import (
    AdverseEventReport,
    AuditEntry,
    CaseMessage,
    CaseSnapshot,
    CaseStatus,
    CaseSummary,
    CaseView,
    MessageOutcome,
    Ticket,
)
from core.names import message_workflow_id
from temporal_workflows.message import MessageWorkflow

router = APIRouter(prefix="/v1/cases", tags=["cases"])
log = get_logger(__name__)

# A triaged or rerouted case continues in another workflow; the snapshot names it.
NEXT_WORKFLOW_KEY = "next_workflow_id"
MAX_WORKFLOW_HOPS = 3


def parse_case_id(case_id: str) -> str:
    try:
        return str(uuid.UUID(case_id))
    except ValueError as exc:
        raise ProblemError(404, "Case not found", f"No case {case_id!r}.") from exc


async def live_state(client: Client, workflow_id: str) -> CaseSnapshot | None:
    """The `state` of the workflow currently carrying the case, following triage and reroutes."""
    snapshot: CaseSnapshot | None = None
    for _ in range(MAX_WORKFLOW_HOPS):
        try:
            found: CaseSnapshot | None = await client.get_workflow_handle(workflow_id).query(
                "state", result_type=CaseSnapshot
            )
        except RPCError:
            break  # not started yet
        if found is None:
            break
        snapshot = found
        next_id = found.detail.get(NEXT_WORKFLOW_KEY)
        if not isinstance(next_id, str):
            break
        workflow_id = next_id
    return snapshot


async def stored_case(store: CaseStoreDep, case_id: str) -> tuple[CaseSummary | None, list[AuditEntry]]:
    try:
        return await store.get_case(case_id), await store.get_timeline(case_id)
    except SQLAlchemyError as error:
        # The workflow view still answers; the timeline is added once the database is back.
        log.warning("case_store_unavailable", case_id=case_id, error=type(error).__name__)
        return None, []


async def systems_of_record(
    case_id: str, ticketing: TicketingPort | None, safety_database: SafetyDatabasePort | None
) -> tuple[Ticket | None, AdverseEventReport | None]:
    """The case's ticket and adverse-event report, where it has them and the systems answer."""
    try:
        ticket = await ticketing.get_ticket(case_id) if ticketing is not None else None
        report = await safety_database.get_report(case_id) if safety_database is not None else None
    except SQLAlchemyError as error:
        log.warning("systems_of_record_unavailable", case_id=case_id, error=type(error).__name__)
        return None, None
    return ticket, report


@router.get("/{case_id}", response_model=CaseView)
async def get_case(
    case_id: str,
    reader: CaseReader,
    client: TemporalDep,
    store: CaseStoreDep,
    ticketing: TicketingDep,
    safety_database: SafetyDatabaseDep,
) -> CaseView:
    case_id = parse_case_id(case_id)
    workflow_id = message_workflow_id(case_id)
    record, timeline = await stored_case(store, case_id)
    ticket, report = await systems_of_record(case_id, ticketing, safety_database)
    handle = client.get_workflow_handle_for(MessageWorkflow.run, workflow_id)
    outcome: MessageOutcome | None = None
    status: CaseStatus | None = record.status if record else None
    try:
        outcome = await handle.query(MessageWorkflow.outcome)
        status = await handle.query(MessageWorkflow.status)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise ProblemError(503, "Service unavailable", "The workflow service is unreachable.") from exc
        if record is None:
            raise ProblemError(404, "Case not found", f"No case {case_id!r}.") from exc
    child: CaseSnapshot | None = None
    if outcome is not None and outcome.child_workflow_id:
        child = await live_state(client, outcome.child_workflow_id)
    if child is not None:
        status = child.status
    assert status is not None
    return CaseView(
        case_id=case_id,
        workflow_id=workflow_id,
        status=status,
        category=outcome.category if outcome else (record.category if record else None),
        confidence=outcome.confidence if outcome else (record.confidence if record else None),
        route=outcome.route if outcome else (record.route if record else None),
        next_step=outcome.next_step if outcome else None,
        decision_path=outcome.decision_path if outcome else [],
        child=child,
        timeline=timeline,
        record=record,
        ticket=ticket,
        adverse_event_report=report,
    )


@router.get("/{case_id}/message", response_model=CaseMessage, responses={404: {}})
async def get_case_message(case_id: str, reader: MessageReader, store: CaseStoreDep) -> CaseMessage:
    """The message as stored: redacted before it was written, empty once erased. Every read is logged
    (who, which case; never the text) so that access to case content can be audited."""
    case_id = parse_case_id(case_id)
    message = await store.get_message(case_id)
    if message is None:
        raise ProblemError(404, "Case not found", f"No case {case_id!r}.")
    log.info("case_message_read", case_id=case_id, reader=reader.subject)
    return message
