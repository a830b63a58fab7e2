"""`CaseStore` on our own database (PostgreSQL, or SQLite for `make run`).

This is the system of record for cases, not a stand-in: the API lists cases from here and the
workflows write status changes and the append-only audit trail through it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from adapters.db.engine import SqlAdapter, insert_if_absent
from adapters.db.tables import AuditEventRow, CaseRow
from adapters.ports import ConflictingRecordError, RecordNotFoundError
from core.models import (
    AuditEntry,
    CaseMessage,
    CasePriorityChange,
    CaseRecord,
    CaseStatus,
    CaseSummary,
    Category,
    Channel,
    Route,
)

MAX_PAGE_SIZE = 500


class SqlCaseStore(SqlAdapter):
    async def save_case(self, record: CaseRecord) -> None:
        now = self._clock()
        async with self._sessions.begin() as session:
            created = await insert_if_absent(
                session,
                CaseRow,
                {
                    "case_id": record.case_id,
                    "message_id": record.message_id,
                    "workflow_id": record.workflow_id,
                    "channel": record.channel.value,
                    "customer_id": record.customer_id,
                    "locale": record.locale,
                    "redacted_text": record.redacted_text,
                    "received_at": record.received_at,
                    "status": record.status.value,
                    "category": _value_or_none(record.category),
                    "route": _value_or_none(record.route),
                    "confidence": record.confidence,
                    "created_at": now,
                    "updated_at": now,
                    "closed_at": now if record.status is CaseStatus.closed else None,
                },
            )
            if created:
                return
            row = await session.get(CaseRow, record.case_id, with_for_update=True)
            if row is None:
                raise ConflictingRecordError(f"message {record.message_id!r} already belongs to another case")
            if row.status == CaseStatus.closed.value:
                # A late retry of an earlier step must not re-open what an agent closed.
                return
            row.workflow_id = record.workflow_id
            row.customer_id = record.customer_id or row.customer_id
            row.locale = record.locale or row.locale
            _apply_status(
                row,
                record.status,
                category=record.category,
                route=record.route,
                confidence=record.confidence,
                now=now,
            )

    async def set_status(
        self,
        case_id: str,
        status: CaseStatus,
        *,
        category: Category | None = None,
        route: Route | None = None,
        confidence: float | None = None,
    ) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(CaseRow, case_id, with_for_update=True)
            if row is None:
                raise RecordNotFoundError(f"case {case_id!r} does not exist")
            _apply_status(
                row,
                status,
                category=category,
                route=route,
                confidence=confidence,
                now=self._clock(),
            )

    async def set_priority(self, change: CasePriorityChange) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(CaseRow, change.case_id, with_for_update=True)
            if row is None:
                raise RecordNotFoundError(f"case {change.case_id!r} does not exist")
            row.priority = change.priority
            row.regulatory_due_date = change.regulatory_due_date
            row.review_due_at = change.review_due_at
            row.updated_at = self._clock()

    async def append_audit(self, entry: AuditEntry) -> bool:
        values = entry.model_dump(mode="json")  # `observed` must be JSON-serialisable
        values["at"] = entry.at
        try:
            async with self._sessions.begin() as session:
                return await insert_if_absent(session, AuditEventRow, values)
        except IntegrityError as error:
            # The unique key is absorbed by ON CONFLICT, so this is the foreign key to cases.
            raise RecordNotFoundError(
                f"case {entry.case_id!r} does not exist; save it before auditing it"
            ) from error

    async def get_case(self, case_id: str) -> CaseSummary | None:
        async with self._sessions() as session:
            row = await session.get(CaseRow, case_id)
            return None if row is None else _summary(row)

    async def get_message(self, case_id: str) -> CaseMessage | None:
        async with self._sessions() as session:
            row = await session.get(CaseRow, case_id)
        if row is None:
            return None
        return CaseMessage(
            case_id=row.case_id,
            channel=Channel(row.channel),
            locale=row.locale,
            received_at=row.received_at,
            redacted_text=row.redacted_text,
        )

    async def get_timeline(self, case_id: str) -> list[AuditEntry]:
        query = (
            select(AuditEventRow)
            .where(AuditEventRow.case_id == case_id)
            .order_by(AuditEventRow.at, AuditEventRow.id)
        )
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [
            AuditEntry(
                case_id=row.case_id,
                key=row.key,
                step=row.step,
                actor=row.actor,
                decision=row.decision,
                reason=row.reason,
                observed=row.observed,
                at=row.at,
            )
            for row in rows
        ]

    async def list_cases(
        self,
        *,
        status: CaseStatus | None = None,
        category: Category | None = None,
        channel: Channel | None = None,
        route: Route | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[CaseSummary], int]:
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        if offset < 0:
            raise ValueError("offset must not be negative")
        filters = []
        if status is not None:
            filters.append(CaseRow.status == status.value)
        if category is not None:
            filters.append(CaseRow.category == category.value)
        if channel is not None:
            filters.append(CaseRow.channel == channel.value)
        if route is not None:
            filters.append(CaseRow.route == route.value)
        # Work queue order: open possible safety cases by regulatory due date (the clock runs from
        # receipt), then the review deadline; then unfinished work, newest first; closed last.
        open_case = CaseRow.closed_at.is_(None)
        urgency = case(
            (open_case & (CaseRow.priority == "safety"), 0),
            (CaseRow.status == CaseStatus.awaiting_safety_review.value, 0),
            (open_case, 1),
            else_=2,
        )
        due_first = case((urgency == 0, CaseRow.regulatory_due_date), else_=None)
        deadline_first = case((urgency == 0, CaseRow.review_due_at), else_=None)
        page_query = (
            select(CaseRow)
            .where(*filters)
            .order_by(
                urgency,
                due_first.asc().nulls_last(),
                deadline_first.asc().nulls_last(),
                CaseRow.created_at.desc(),
                CaseRow.case_id.desc(),
            )
            .limit(limit)
            .offset(offset)
        )
        count_query = select(func.count()).select_from(CaseRow).where(*filters)
        async with self._sessions() as session:
            rows = (await session.scalars(page_query)).all()
            total = (await session.execute(count_query)).scalar_one()
        return [_summary(row) for row in rows], total


def _apply_status(
    row: CaseRow,
    status: CaseStatus,
    *,
    category: Category | None,
    route: Route | None,
    confidence: float | None,
    now: datetime,
) -> None:
    """Set the status and keep `closed_at` in step; `None` never erases a classification."""
    row.status = status.value
    if category is not None:
        row.category = category.value
    if route is not None:
        row.route = route.value
    if confidence is not None:
        row.confidence = confidence
    if status is CaseStatus.closed:
        row.closed_at = row.closed_at or now
    else:
        row.closed_at = None
    row.updated_at = now


def _value_or_none(member: Category | Route | None) -> str | None:
    return None if member is None else member.value


def _summary(row: CaseRow) -> CaseSummary:
    return CaseSummary(
        case_id=row.case_id,
        message_id=row.message_id,
        workflow_id=row.workflow_id,
        channel=Channel(row.channel),
        customer_id=row.customer_id,
        locale=row.locale,
        received_at=row.received_at,
        status=CaseStatus(row.status),
        category=None if row.category is None else Category(row.category),
        route=None if row.route is None else Route(row.route),
        confidence=row.confidence,
        created_at=row.created_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
        needs_safety_review=row.status == CaseStatus.awaiting_safety_review.value,
        priority="safety" if row.priority == "safety" else "normal",
        regulatory_due_date=row.regulatory_due_date,
        review_due_at=row.review_due_at,
    )
