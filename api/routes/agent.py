"""Agent actions: the work queue from the case store, and decisions sent to the case's workflow.

Decisions go to the category workflow as Temporal updates, whose validators reject what does not
fit the case's state (stale review round, duplicate, already triaged): those come back as 409.

Every action has a deadline (`agent_action_timeout_seconds`) covering all calls to Temporal:
- accepted by the workflow and finished in time: 200 with the case;
- accepted (durable: the workflow will carry it out) but not finished in time: 202 + `Location`;
- not accepted in time (no worker, or the workflow task that accepts it not yet completed): 504;
  the action may still be applied later, so the caller reads the case before sending it again
  (a second decision for the same round is then a 409);
- Temporal unreachable: 503.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.service import RPCError, RPCStatusCode

from adapters.ports import CaseStore
from api.deps import (
    CaseReader,
    CaseStoreDep,
    SafetyReviewer,
    SettingsDep,
    TemporalDep,
    TicketAgent,
    TriageAgent,
)
from api.problems import PROBLEM_JSON, ProblemError
from api.routes.cases import parse_case_id
from api.security import Principal
from core.config import Settings
from core.logging import get_logger
from core.models import (
    CaseListPage,
    CaseSnapshot,
    CaseStatus,
    Category,
    Channel,
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
log = get_logger(__name__)

MAX_PAGE = 500
# Beyond any real queue; keeps the database's OFFSET (a BIGINT) from overflowing into a 500.
MAX_OFFSET = 1_000_000
# Update names as declared by the workflows (`SafetyComplianceWorkflow.decide`, `TriageWorkflow.triage`).
DECIDE_UPDATE = "decide"
TRIAGE_UPDATE = "triage"
# Reachability probe after a deadline passed without an answer: unreachable (503) or slow (504).
_PROBE_TIMEOUT = timedelta(seconds=1)
# An update whose outcome is already known still decodes it; never cut that off mid-way.
_MIN_RESULT_WAIT_S = 0.05
# RPC statuses that mean "no answer within the deadline", not "the server said no".
_NO_ANSWER = (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)


class ActionAccepted(BaseModel):
    """202 body: the case's workflow accepted the action durably and is still carrying it out."""

    case_id: str
    action: str
    status: Literal["accepted"] = "accepted"
    detail: str


def _problem(description: str) -> dict[str, Any]:
    """An error response in /openapi.json: an RFC 9457 problem document (api/problems.py)."""
    schema = {"$ref": "#/components/schemas/ProblemDetails"}
    return {"description": description, "content": {PROBLEM_JSON: {"schema": schema}}}


_TIMEOUTS: dict[int | str, dict[str, Any]] = {
    503: _problem("The workflow service is unreachable"),
    504: _problem(
        "The case's workflow did not accept the action within the deadline; "
        "it may still be applied, read the case before sending it again"
    ),
}
_UPDATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "model": ActionAccepted,
        "description": "Accepted by the case's workflow, which will carry it out; not finished within "
        "the deadline. GET the Location for the case.",
        "headers": {"Location": {"description": "The case", "schema": {"type": "string"}}},
    },
    404: _problem("No such case"),
    409: _problem("The action does not fit the case's state (stale round, duplicate, ...)"),
    **_TIMEOUTS,
}


@router.get("", response_model=CaseListPage)
async def list_cases(
    reader: CaseReader,
    store: CaseStoreDep,
    status_filter: Annotated[CaseStatus | None, Query(alias="status")] = None,
    category: Category | None = None,
    channel: Channel | None = None,
    route: Route | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> CaseListPage:
    """The work queue: pending safety reviews first, then open cases, newest first."""
    items, total = await store.list_cases(
        status=status_filter, category=category, channel=channel, route=route, limit=limit, offset=offset
    )
    return CaseListPage(items=items, total=total, limit=limit, offset=offset)


@router.post("/{case_id}/decision", response_model=CaseSnapshot, responses=_UPDATE_RESPONSES)
async def decide_safety_case(
    case_id: str,
    body: SafetyDecisionRequest,
    reviewer: SafetyReviewer,
    client: TemporalDep,
    store: CaseStoreDep,
    settings: SettingsDep,
) -> CaseSnapshot | JSONResponse:
    return await send_safety_decision(client, store, settings, case_id, body, reviewer)


async def send_safety_decision(
    client: Client,
    store: CaseStore,
    settings: Settings,
    case_id: str,
    body: SafetyDecisionRequest,
    reviewer: Principal,
) -> CaseSnapshot | JSONResponse:
    """The decision route's work; the agent console calls it too (the caller checked the roles)."""
    case_id = parse_case_id(case_id)
    workflow_id = child_workflow_id(case_id, Route.safety_compliance.value)
    # The reviewer on record is the verified token subject, never a name from the body.
    # Free text an agent writes is redacted like a message before it enters the workflow history.
    decision = SafetyDecision(
        reviewer=reviewer.subject, **body.model_dump(exclude={"reason"}), reason=redact(body.reason).text
    )
    deadline = settings.agent_action_timeout_seconds
    return await _update(client, store, case_id, workflow_id, DECIDE_UPDATE, decision, deadline)


@router.post("/{case_id}/triage", response_model=CaseSnapshot, responses=_UPDATE_RESPONSES)
async def triage_case(
    case_id: str,
    body: TriageDecisionRequest,
    agent: TriageAgent,
    client: TemporalDep,
    store: CaseStoreDep,
    settings: SettingsDep,
) -> CaseSnapshot | JSONResponse:
    return await send_triage_decision(client, store, settings, case_id, body, agent)


async def send_triage_decision(
    client: Client,
    store: CaseStore,
    settings: Settings,
    case_id: str,
    body: TriageDecisionRequest,
    agent: Principal,
) -> CaseSnapshot | JSONResponse:
    """The triage route's work; the agent console calls it too (the caller checked the roles)."""
    case_id = parse_case_id(case_id)
    workflow_id = child_workflow_id(case_id, Route.human_triage.value)
    decision = TriageDecision(
        agent=agent.subject, **body.model_dump(exclude={"reason"}), reason=redact(body.reason).text
    )
    deadline = settings.agent_action_timeout_seconds
    return await _update(client, store, case_id, workflow_id, TRIAGE_UPDATE, decision, deadline)


@router.post(
    "/{case_id}/ticket",
    response_model=CaseSnapshot,
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: _problem("No such case"), 409: _problem("The case has no open ticket"), **_TIMEOUTS},
)
async def update_ticket(
    case_id: str,
    body: TicketUpdateRequest,
    agent: TicketAgent,
    client: TemporalDep,
    store: CaseStoreDep,
    settings: SettingsDep,
) -> CaseSnapshot:
    """Accepted for the service workflow, which applies it to the ticket in order of arrival."""
    return await send_ticket_update(client, store, settings, case_id, body, agent)


async def send_ticket_update(
    client: Client,
    store: CaseStore,
    settings: Settings,
    case_id: str,
    body: TicketUpdateRequest,
    agent: Principal,
) -> CaseSnapshot:
    """The ticket route's work; the agent console calls it too (the caller checked the roles)."""
    case_id = parse_case_id(case_id)
    update = TicketUpdate(
        agent=agent.subject, **body.model_dump(exclude={"note"}), note=redact(body.note).text
    )
    deadline = settings.agent_action_timeout_seconds
    clock = _Deadline(deadline)
    # A service case is either routed there directly (or by triage) or rerouted by a safety reviewer.
    for workflow_id in (
        child_workflow_id(case_id, Route.service_action.value),
        rerouted_workflow_id(case_id, Category.service_action.value),
    ):
        handle = client.get_workflow_handle(workflow_id)
        try:
            async with asyncio.timeout(clock.left()):
                snapshot: CaseSnapshot | None = await handle.query(
                    "state", result_type=CaseSnapshot, rpc_timeout=clock.rpc_timeout()
                )
        except TimeoutError as exc:
            raise await _not_accepted(client, "ticket update", deadline, sent=False) from exc
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                continue
            if exc.status in _NO_ANSWER:
                # A query is answered by the workflow's worker: none answered in time.
                raise await _not_accepted(client, "ticket update", deadline, sent=False) from exc
            raise _unavailable() from exc
        if snapshot is None or snapshot.status is CaseStatus.closed:
            raise ProblemError(409, "Conflict", "The case's ticket is already closed.")
        try:
            async with asyncio.timeout(clock.left()):
                # Once the server has the signal it is in the workflow's history: durable.
                await handle.signal(
                    ServiceActionWorkflow.ticket_update, update, rpc_timeout=clock.rpc_timeout()
                )
        except TimeoutError as exc:
            raise await _not_accepted(client, "ticket update", deadline, sent=True) from exc
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise ProblemError(409, "Conflict", "The case's ticket is already closed.") from exc
            if exc.status in _NO_ANSWER:
                raise await _not_accepted(client, "ticket update", deadline, sent=True) from exc
            raise _unavailable() from exc
        return snapshot
    raise await _missing_workflow(client, store, case_id, "The case has no service ticket.")


class _Deadline:
    """One deadline shared by the successive Temporal calls of a request."""

    def __init__(self, seconds: float) -> None:
        self._ends = asyncio.get_running_loop().time() + seconds

    def left(self, floor: float = 0.0) -> float:
        return max(floor, self._ends - asyncio.get_running_loop().time())

    def rpc_timeout(self, floor: float = 0.001) -> timedelta:
        return timedelta(seconds=self.left(floor))


async def _update(
    client: Client,
    store: CaseStoreDep,
    case_id: str,
    workflow_id: str,
    update: str,
    body: object,
    deadline: float,
) -> CaseSnapshot | JSONResponse:
    """Send the update; wait for its result until the deadline (see the module docstring)."""
    clock = _Deadline(deadline)
    handle = client.get_workflow_handle(workflow_id)
    try:
        # Returns once the workflow has accepted the update (validator passed: it is in the
        # history and will run) or rejected it (then `result()` raises at once).
        async with asyncio.timeout(clock.left()):
            accepted = await handle.start_update(
                update,
                body,
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                result_type=CaseSnapshot,
                rpc_timeout=clock.rpc_timeout(),
            )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        # The SDK turns an expired deadline into its own error, not TimeoutError (as in admission).
        raise await _not_accepted(client, update, deadline, sent=True) from exc
    except WorkflowUpdateFailedError as exc:
        raise ProblemError(409, "Conflict", str(exc.cause or exc)) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise await _missing_workflow(
                client, store, case_id, f"The case is not waiting for a {update} action."
            ) from exc
        raise _unavailable() from exc
    try:
        async with asyncio.timeout(clock.left(_MIN_RESULT_WAIT_S)):
            snapshot: CaseSnapshot = await accepted.result(rpc_timeout=clock.rpc_timeout(_MIN_RESULT_WAIT_S))
    except WorkflowUpdateFailedError as exc:
        # The validator's message says why (stale round, duplicate, missing reroute target).
        raise ProblemError(409, "Conflict", str(exc.cause or exc)) from exc
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError, RPCError) as exc:
        # Accepted means durable: the workflow carries the action out whatever happens to this call.
        log.info("agent_action_pending", case_id=case_id, action=update, error=type(exc).__name__)
        return _accepted(case_id, update, deadline)
    return snapshot


def _accepted(case_id: str, action: str, deadline: float) -> JSONResponse:
    body = ActionAccepted(
        case_id=case_id,
        action=action,
        detail=f"The case's workflow accepted the {action} action and is carrying it out; it had not "
        f"finished within {deadline:g} s. Read the case for the result.",
    )
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=status.HTTP_202_ACCEPTED,
        headers={"Location": f"/v1/cases/{case_id}"},
    )


async def _not_accepted(client: Client, action: str, deadline: float, *, sent: bool) -> ProblemError:
    """No answer within the deadline: 503 when Temporal is unreachable, else 504."""
    try:
        await client.service_client.check_health(timeout=_PROBE_TIMEOUT)
    except RPCError as exc:
        if exc.status in (RPCStatusCode.UNAVAILABLE, *_NO_ANSWER):
            return _unavailable()
    detail = f"The case's workflow did not accept the {action} action within {deadline:g} s."
    if sent:
        detail += " It may still be applied: read the case before sending it again."
    else:
        detail += " Nothing was sent; retry later."
    return ProblemError(504, "Gateway timeout", detail)


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
