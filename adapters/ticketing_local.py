"""`TicketingPort` recorded in our own database (`tickets`, `ticket_events`).

Stands in for a helpdesk such as Zendesk or ServiceNow: a real adapter would create the ticket
through the helpdesk API with the case id as external id (so the helpdesk deduplicates a retried
create) and map `apply_change` to ticket updates/comments. Here the same idempotency is kept by
unique keys, so workflows behave exactly as they would against the real system.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.db.engine import SqlAdapter, insert_if_absent
from adapters.db.tables import TicketEventRow, TicketRow
from adapters.ports import ConflictingRecordError, RecordNotFoundError, case_scoped_id
from core.models import Ticket, TicketChange, TicketRequest


class LocalTicketing(SqlAdapter):
    async def create_ticket(self, request: TicketRequest) -> Ticket:
        now = self._clock()
        async with self._sessions.begin() as session:
            await insert_if_absent(
                session,
                TicketRow,
                {
                    "ticket_id": case_scoped_id("TCK", request.case_id),
                    "case_id": request.case_id,
                    "kind": request.kind,
                    "status": "open",
                    "priority": request.priority,
                    "assignee": None,
                    "order_numbers": list(request.order_numbers),
                    "summary": request.summary,
                    "sla_due_at": request.sla_due_at,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            row = await _ticket_row(session, request.case_id)
            if row is None:
                raise ConflictingRecordError(
                    f"ticket id for case {request.case_id!r} collides with another case"
                )
            return _ticket(row)

    async def apply_change(self, change: TicketChange) -> Ticket:
        now = self._clock()
        async with self._sessions.begin() as session:
            row = await _ticket_row(session, change.case_id, for_update=True)
            if row is None:
                raise RecordNotFoundError(f"case {change.case_id!r} has no ticket")
            recorded = await insert_if_absent(
                session,
                TicketEventRow,
                {
                    "case_id": change.case_id,
                    "key": change.key,
                    "status": change.status,
                    "assignee": change.assignee,
                    "note": change.note,
                    "at": now,
                },
            )
            # A retried change was applied by the first attempt, in the same transaction.
            if recorded:
                if change.status is not None:
                    row.status = change.status
                if change.assignee is not None:
                    row.assignee = change.assignee
                row.updated_at = now
            return _ticket(row)

    async def get_ticket(self, case_id: str) -> Ticket | None:
        async with self._sessions() as session:
            row = await _ticket_row(session, case_id)
            return None if row is None else _ticket(row)

    async def get_tickets(self, case_ids: Sequence[str]) -> list[Ticket]:
        if not case_ids:
            return []
        query = select(TicketRow).where(TicketRow.case_id.in_(list(case_ids)))
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [_ticket(row) for row in rows]

    async def list_changes(self, case_id: str) -> list[TicketChange]:
        """The ticket's change history, oldest first (what an agent sees in the helpdesk)."""
        query = (
            select(TicketEventRow)
            .where(TicketEventRow.case_id == case_id)
            .order_by(TicketEventRow.at, TicketEventRow.id)
        )
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [
            TicketChange.model_validate(
                {
                    "case_id": row.case_id,
                    "key": row.key,
                    "status": row.status,
                    "assignee": row.assignee,
                    "note": row.note,
                }
            )
            for row in rows
        ]


async def _ticket_row(session: AsyncSession, case_id: str, *, for_update: bool = False) -> TicketRow | None:
    query = select(TicketRow).where(TicketRow.case_id == case_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


def _ticket(row: TicketRow) -> Ticket:
    return Ticket.model_validate(
        {
            "ticket_id": row.ticket_id,
            "case_id": row.case_id,
            "kind": row.kind,
            "status": row.status,
            "priority": row.priority,
            "assignee": row.assignee,
            "order_numbers": row.order_numbers,
            "sla_due_at": row.sla_due_at,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
    )
