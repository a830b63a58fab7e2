"""ServiceActionWorkflow: open a ticket, acknowledge, and follow it until an agent resolves it.

Agents report progress through the `ticket_update` signal; if nobody picks the ticket up within
the SLA, the ticket is escalated and a supervisor is told, and the workflow keeps waiting.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.models import (
        CaseRef,
        CaseSnapshot,
        CaseStatus,
        Category,
        ServiceRequestDetails,
        ServiceRequestQuery,
        Ticket,
        TicketChange,
        TicketRequest,
        TicketStatus,
        TicketUpdate,
    )
    from core.names import (
        APPLY_TICKET_CHANGE_ACTIVITY,
        CREATE_TICKET_ACTIVITY,
        EXTRACT_SERVICE_REQUEST_ACTIVITY,
    )
    from temporal_workflows.attention import OWN_FAILURE_PATCH, record_needs_attention
    from temporal_workflows.case_trail import CaseTrail, run_case_activity

TICKET_STATUS_FOR_ACTION: dict[str, TicketStatus | None] = {
    "pick_up": "in_progress",
    "comment": None,
    "resolve": "resolved",
}


@workflow.defn
class ServiceActionWorkflow:
    def __init__(self) -> None:
        self._trail: CaseTrail | None = None
        self._updates: list[TicketUpdate] = []
        self._seen_requests: set[str] = set()
        self._picked_up = False
        self._resolved = False
        self._changes = 0

    @workflow.run
    async def run(self, case: CaseRef) -> CaseSnapshot:
        try:
            return await self._handle(case)
        except (ActivityError, ApplicationError) as err:
            # A port refused a write no retry can fix (a local activity's error arrives unwrapped). A case rerouted by a safety reviewer has no
            # parent waiting to record that, so the category workflow records it itself.
            if not workflow.patched(OWN_FAILURE_PATCH):
                raise
            return await record_needs_attention(case.case_id, "ServiceActionWorkflow", err)

    async def _handle(self, case: CaseRef) -> CaseSnapshot:
        trail = self._trail = CaseTrail(
            case.case_id, "service_action", CaseStatus.classified, Category.service_action
        )
        request = await run_case_activity(
            EXTRACT_SERVICE_REQUEST_ACTIVITY,
            ServiceRequestQuery(case_id=case.case_id, redacted_text=case.message.redacted_text),
            ServiceRequestDetails,
        )
        await trail.audit(
            "service_request", request.kind, "action and references extracted", request.model_dump()
        )
        sla_due_at = workflow.now() + case.timers.service_sla
        ticket = await run_case_activity(
            CREATE_TICKET_ACTIVITY,
            TicketRequest(
                case_id=case.case_id,
                kind=request.kind,
                order_numbers=request.order_numbers,
                summary=case.message.redacted_text,
                sla_due_at=sla_due_at,
            ),
            Ticket,
        )
        trail.note(
            ticket_id=ticket.ticket_id,
            kind=request.kind,
            sla_due_at=sla_due_at.isoformat(),
            ticket_status=ticket.status,
        )
        await trail.set_status(CaseStatus.awaiting_agent, f"ticket {ticket.ticket_id} opened")
        await trail.notify(
            "acknowledgement",
            "customer",
            "service_ack",
            f"We received your request and opened ticket {ticket.ticket_id}.",
            channel=case.message.channel.value,
        )
        escalated = False
        while not self._resolved:
            timeout: timedelta | None = None
            if not self._picked_up and not escalated:
                timeout = sla_due_at - workflow.now()
            try:
                if timeout is not None and timeout <= timedelta(0):
                    raise asyncio.TimeoutError
                await workflow.wait_condition(lambda: bool(self._updates), timeout=timeout)
            except asyncio.TimeoutError:
                escalated = True
                await self._escalate(trail, ticket.ticket_id)
                continue
            await self._apply(trail, self._updates.pop(0))
        await trail.set_status(CaseStatus.closed, "ticket resolved")
        return trail.snapshot

    async def _escalate(self, trail: CaseTrail, ticket_id: str) -> None:
        await self._change_ticket(trail, "escalated", None, "SLA breached: nobody picked the ticket up")
        await trail.set_status(CaseStatus.escalated, "SLA breached before an agent picked the ticket up")
        await trail.notify(
            "sla_breach",
            "supervisor",
            "service_sla_breach",
            f"Ticket {ticket_id} breached its pick-up SLA.",
        )

    async def _apply(self, trail: CaseTrail, update: TicketUpdate) -> None:
        status = TICKET_STATUS_FOR_ACTION[update.action]
        assignee = update.agent if update.action == "pick_up" else None
        await self._change_ticket(trail, status, assignee, update.note)
        await trail.audit(
            f"ticket_{update.action}",
            update.action,
            update.note or update.action,
            {"agent": update.agent},
            actor=f"agent:{update.agent}",
        )
        if update.action == "pick_up":
            self._picked_up = True
            if trail.snapshot.status is CaseStatus.escalated:
                await trail.set_status(CaseStatus.awaiting_agent, f"picked up by {update.agent}")
        elif update.action == "resolve":
            self._resolved = True
            await trail.notify("resolved", "customer", "service_resolved", "Your request has been completed.")

    async def _change_ticket(
        self, trail: CaseTrail, status: TicketStatus | None, assignee: str | None, note: str
    ) -> None:
        self._changes += 1
        ticket = await run_case_activity(
            APPLY_TICKET_CHANGE_ACTIVITY,
            TicketChange(
                case_id=trail.case_id,
                key=f"{trail.case_id}:ticket:{self._changes}",
                status=status,
                assignee=assignee,
                note=note,
            ),
            Ticket,
        )
        trail.note(ticket_status=ticket.status, assignee=ticket.assignee)

    @workflow.signal
    def ticket_update(self, update: TicketUpdate) -> None:
        # A retried update (same request_id) is applied once.
        if update.request_id is not None:
            if update.request_id in self._seen_requests:
                return
            self._seen_requests.add(update.request_id)
        # Updates after resolution have nothing left to change.
        if not self._resolved:
            self._updates.append(update)

    @workflow.query
    def state(self) -> CaseSnapshot | None:
        return None if self._trail is None else self._trail.snapshot
