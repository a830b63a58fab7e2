"""`PersonalDataStore` on our own database: erasure and retention purge of a case's personal data.

What a case erasure removes (free text and identifiers that can point to a person) and what it
keeps (the non-personal audit facts: which step ran, who acted, what was decided and when, the
classifier's numbers) is listed in docs/compliance.md. Everything happens in one transaction
with the case row locked, so a concurrent activity cannot write text back half-way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update

from adapters.db.engine import SqlAdapter, insert_if_absent
from adapters.db.tables import (
    AdverseEventReportRow,
    AuditEventRow,
    CaseRow,
    NotificationRow,
    TicketEventRow,
    TicketRow,
)
from adapters.personal_data import ERASED_TEXT
from core.models import CaseErasure, CaseErasureOrder, CaseStatus

# GDPR Art. 17(3)(b)/(c) and the pharmacovigilance record-keeping duty (EU GVP Module VI,
# 21 CFR 314.80): an adverse-event report and the case it came from must stay available.
ADVERSE_EVENT_RETENTION = (
    "adverse-event report on file: pharmacovigilance records must be kept (GVP Module VI / "
    "21 CFR 314.80), erasure is restricted under GDPR Art. 17(3)(b)"
)
ERASURE_STEP = "personal_data_erasure"


def non_personal(observed: Any) -> Any:
    """Keep numbers and flags (probabilities, thresholds, counts); drop every string."""
    if isinstance(observed, dict):
        kept = {key: non_personal(value) for key, value in observed.items()}
        return {key: value for key, value in kept.items() if value is not None}
    if isinstance(observed, list):
        items = [non_personal(value) for value in observed]
        return [value for value in items if value is not None] or None
    if isinstance(observed, bool | int | float):
        return observed
    return None


class SqlPersonalDataStore(SqlAdapter):
    async def find_cases(self, *, customer_pseudonym: str | None, case_id: str | None) -> list[str]:
        query = select(CaseRow.case_id).order_by(CaseRow.created_at, CaseRow.case_id)
        if customer_pseudonym is not None:
            query = query.where(CaseRow.customer_id == customer_pseudonym)
        if case_id is not None:
            query = query.where(CaseRow.case_id == case_id)
        if customer_pseudonym is None and case_id is None:
            raise ValueError("name a customer pseudonym or a case id")
        async with self._sessions() as session:
            return list((await session.scalars(query)).all())

    async def expired_cases(self, cutoff: datetime, *, limit: int) -> list[str]:
        has_report = exists().where(AdverseEventReportRow.case_id == CaseRow.case_id)
        query = (
            select(CaseRow.case_id)
            .where(
                CaseRow.status == CaseStatus.closed.value,
                CaseRow.closed_at < cutoff,
                CaseRow.personal_data_erased_at.is_(None),
                ~has_report,
            )
            .order_by(CaseRow.closed_at, CaseRow.case_id)
            .limit(limit)
        )
        async with self._sessions() as session:
            return list((await session.scalars(query)).all())

    async def erase_case(self, order: CaseErasureOrder) -> CaseErasure:
        now = self._clock()
        async with self._sessions.begin() as session:
            row = await session.get(CaseRow, order.case_id, with_for_update=True)
            if row is None:
                return CaseErasure(case_id=order.case_id, outcome="not_found")
            if row.personal_data_erased_at is not None:
                return CaseErasure(case_id=order.case_id, outcome="already_erased")
            report = await session.scalar(
                select(AdverseEventReportRow.report_id).where(AdverseEventReportRow.case_id == order.case_id)
            )
            if report is not None:
                result = CaseErasure(
                    case_id=order.case_id,
                    outcome="retained_legal_obligation",
                    kept_because=ADVERSE_EVENT_RETENTION,
                )
            else:
                erased = await self._erase(session, row, order, now)
                result = CaseErasure(case_id=order.case_id, outcome="erased", erased=erased)
            await insert_if_absent(
                session,
                AuditEventRow,
                {
                    "case_id": order.case_id,
                    "key": f"{order.case_id}:erasure:{order.request_id}",
                    "step": ERASURE_STEP,
                    "actor": order.actor,
                    "decision": result.outcome,
                    "reason": f"{order.mode}: {order.reference}",
                    "observed": {"request_id": order.request_id, "erased": result.erased},
                    "at": now,
                },
            )
            return result

    async def _erase(self, session: Any, row: CaseRow, order: CaseErasureOrder, now: datetime) -> list[str]:
        erased = ["cases.redacted_text"]
        if row.customer_id is not None:
            erased.append("cases.customer_id")
        if row.locale is not None:
            erased.append("cases.locale")
        row.customer_id = None
        row.locale = None
        row.redacted_text = ERASED_TEXT
        row.personal_data_erased_at = now
        row.erasure_reason = order.mode
        row.updated_at = now

        audit_rows = (
            await session.scalars(select(AuditEventRow).where(AuditEventRow.case_id == order.case_id))
        ).all()
        for audit in audit_rows:
            audit.reason = ERASED_TEXT
            audit.observed = non_personal(audit.observed) or {}
        if audit_rows:
            erased += ["audit_events.reason", "audit_events.observed (text values)"]

        tickets = await session.execute(
            update(TicketRow)
            .where(TicketRow.case_id == order.case_id)
            .values(summary=ERASED_TEXT, order_numbers=[], updated_at=now)
        )
        if tickets.rowcount:
            erased += ["tickets.summary", "tickets.order_numbers"]
            notes = await session.execute(
                update(TicketEventRow)
                .where(TicketEventRow.case_id == order.case_id, TicketEventRow.note != "")
                .values(note=ERASED_TEXT)
            )
            if notes.rowcount:
                erased.append("ticket_events.note")
        bodies = await session.execute(
            update(NotificationRow).where(NotificationRow.case_id == order.case_id).values(body=ERASED_TEXT)
        )
        if bodies.rowcount:
            erased.append("notifications.body")
        return erased
