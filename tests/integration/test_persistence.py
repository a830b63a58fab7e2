"""The case store and the local external-system adapters against a real database.

The property under test is the one Temporal relies on: an activity that runs twice (a retry after
a worker crash) leaves exactly the rows one run would have left, and returns the same ids.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.db.case_store import SqlCaseStore
from adapters.db.engine import create_engine_from_url, session_factory
from adapters.db.migrate import upgrade_to_head
from adapters.db.tables import (
    AuditEventRow,
    Base,
    CaseRow,
    NotificationRow,
    SafetySubmissionRow,
    TicketEventRow,
    TicketRow,
)
from adapters.notifications_local import LocalOutbox
from adapters.ports import (
    CaseStore,
    ConflictingRecordError,
    InvalidTransitionError,
    NotificationPort,
    RecordNotFoundError,
    SafetyDatabasePort,
    TicketingPort,
    case_scoped_id,
)
from adapters.safety_db_local import LocalSafetyDatabase
from adapters.ticketing_local import LocalTicketing
from core.models import (
    AdverseEventReport,
    AuditEntry,
    CaseRecord,
    CaseStatus,
    Category,
    Channel,
    Notification,
    Route,
    SafetySubmission,
    TicketChange,
    TicketRequest,
)

pytestmark = pytest.mark.asyncio

T0 = datetime(2025, 11, 25, 9, 0, tzinfo=timezone.utc)


class StepClock:
    """A clock that advances one second per reading, so "newest first" is deterministic."""

    def __init__(self, start: datetime = T0) -> None:
        self._now = start

    def __call__(self) -> datetime:
        self._now += timedelta(seconds=1)
        return self._now


def case_record(case_id: str, **changes: object) -> CaseRecord:
    values: dict[str, object] = {
        "case_id": case_id,
        "message_id": f"msg-{case_id}",
        "workflow_id": f"message-{case_id}",
        "channel": Channel.email,
        "customer_id": "cust-1",
        "locale": "de-DE",
        "redacted_text": "Order [ORDER_NUMBER] has not arrived",
        "received_at": T0,
    }
    values.update(changes)
    return CaseRecord.model_validate(values)


def audit_entry(case_id: str, key: str, at: datetime, step: str = "classify") -> AuditEntry:
    return AuditEntry(
        case_id=case_id,
        key=key,
        step=step,
        actor="classifier",
        decision="service_action",
        reason="p=0.93 above threshold",
        observed={"probabilities": {"service_action": 0.93}, "at": at},
        at=at,
    )


def adverse_event_report(case_id: str, report_id: str | None = None) -> AdverseEventReport:
    return AdverseEventReport(
        report_id=report_id or case_scoped_id("AER", case_id),
        case_id=case_id,
        day_zero=T0,
        criteria_present=["identifiable_patient", "suspect_product", "adverse_event"],
        criteria_missing=["reporter"],
        seriousness=["hospitalisation"],
        serious=True,
        regulatory_due_date=date(2025, 12, 10),
    )


async def count_rows(engine: AsyncEngine, row_type: type[Base]) -> int:
    async with engine.connect() as connection:
        query = select(func.count()).select_from(row_type)
        return (await connection.execute(query)).scalar_one()


# --------------------------------------------------------------------------- schema


async def test_migration_creates_exactly_the_orm_tables(pg_engine: AsyncEngine) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with pg_engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_upgrade_to_head_twice_is_a_no_op(pg_engine: AsyncEngine, postgres_url: str) -> None:
    async with pg_engine.connect() as connection:
        schema = await connection.run_sync(lambda sync: sync.dialect.default_schema_name)
    assert schema is not None
    assert schema.startswith("test_")
    await upgrade_to_head(postgres_url, schema=schema)


# --------------------------------------------------------------------------- cases


async def test_save_case_twice_keeps_one_row(
    pg_engine: AsyncEngine, pg_sessions: async_sessionmaker[AsyncSession]
) -> None:
    store: CaseStore = SqlCaseStore(pg_sessions)
    record = case_record("case-1")

    await store.save_case(record)
    first = await store.get_case("case-1")
    await store.save_case(record)
    second = await store.get_case("case-1")

    assert await count_rows(pg_engine, CaseRow) == 1
    assert first is not None and second is not None
    assert second.created_at == first.created_at
    assert second.status is CaseStatus.received
    assert second.received_at == T0
    assert second.created_at.tzinfo is not None


async def test_concurrent_saves_of_one_case_keep_one_row(
    pg_engine: AsyncEngine, pg_sessions: async_sessionmaker[AsyncSession]
) -> None:
    store = SqlCaseStore(pg_sessions)
    await asyncio.gather(*(store.save_case(case_record("case-1")) for _ in range(5)))
    assert await count_rows(pg_engine, CaseRow) == 1


async def test_save_case_updates_open_case_but_never_reopens_closed_one(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = SqlCaseStore(pg_sessions)
    await store.save_case(case_record("case-1"))
    classified = case_record(
        "case-1",
        status=CaseStatus.classified,
        category=Category.service_action,
        route=Route.service_action,
        confidence=0.91,
    )
    await store.save_case(classified)
    summary = await store.get_case("case-1")
    assert summary is not None
    assert summary.status is CaseStatus.classified
    assert summary.category is Category.service_action

    await store.set_status("case-1", CaseStatus.closed)
    closed = await store.get_case("case-1")
    assert closed is not None and closed.closed_at is not None

    # A late retry of the intake activity.
    await store.save_case(case_record("case-1"))
    after_retry = await store.get_case("case-1")
    assert after_retry == closed


async def test_set_status_keeps_classification_unless_given(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = SqlCaseStore(pg_sessions)
    await store.save_case(case_record("case-1"))
    await store.set_status(
        "case-1",
        CaseStatus.awaiting_safety_review,
        category=Category.safety_compliance,
        route=Route.safety_compliance,
        confidence=0.97,
    )
    await store.set_status("case-1", CaseStatus.escalated)

    summary = await store.get_case("case-1")
    assert summary is not None
    assert summary.status is CaseStatus.escalated
    assert summary.category is Category.safety_compliance
    assert summary.route is Route.safety_compliance
    assert summary.confidence == pytest.approx(0.97)
    with pytest.raises(RecordNotFoundError):
        await store.set_status("missing", CaseStatus.closed)


async def test_a_message_cannot_open_a_second_case(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = SqlCaseStore(pg_sessions)
    await store.save_case(case_record("case-1", message_id="msg-shared"))
    with pytest.raises(ConflictingRecordError):
        await store.save_case(case_record("case-2", message_id="msg-shared"))
    assert await store.get_case("case-2") is None


# --------------------------------------------------------------------------- audit trail


async def test_append_audit_is_idempotent_and_timeline_is_ordered(
    pg_engine: AsyncEngine, pg_sessions: async_sessionmaker[AsyncSession]
) -> None:
    store = SqlCaseStore(pg_sessions)
    await store.save_case(case_record("case-1"))
    later = audit_entry("case-1", "route", T0 + timedelta(seconds=5), step="route")
    earlier = audit_entry("case-1", "guard", T0 + timedelta(seconds=1), step="guard")
    same_time_a = audit_entry("case-1", "notify-a", T0 + timedelta(seconds=9), step="a")
    same_time_b = audit_entry("case-1", "notify-b", T0 + timedelta(seconds=9), step="b")

    assert await store.append_audit(later) is True
    assert await store.append_audit(earlier) is True
    assert await store.append_audit(later) is False  # retried activity
    assert await store.append_audit(same_time_a) is True
    assert await store.append_audit(same_time_b) is True

    timeline = await store.get_timeline("case-1")
    assert [entry.key for entry in timeline] == [
        "guard",
        "route",
        "notify-a",
        "notify-b",
    ]
    # `observed` is stored as JSON, so it comes back in its JSON form.
    assert timeline[1].model_dump(mode="json") == later.model_dump(mode="json")
    assert timeline[1].at == later.at
    assert await count_rows(pg_engine, AuditEventRow) == 4


async def test_same_audit_key_on_another_case_is_a_separate_entry(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = SqlCaseStore(pg_sessions)
    for case_id in ("case-1", "case-2"):
        await store.save_case(case_record(case_id))
        assert await store.append_audit(audit_entry(case_id, "classify", T0)) is True
    assert len(await store.get_timeline("case-2")) == 1


async def test_audit_needs_an_existing_case(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = SqlCaseStore(pg_sessions)
    with pytest.raises(RecordNotFoundError):
        await store.append_audit(audit_entry("missing", "classify", T0))


# --------------------------------------------------------------------------- listing


async def test_list_cases_puts_safety_review_first_then_open_then_newest(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = SqlCaseStore(pg_sessions, clock=StepClock())
    # Saved oldest to newest.
    for case_id in (
        "closed-old",
        "safety-old",
        "open-old",
        "closed-new",
        "open-new",
        "safety-new",
    ):
        await store.save_case(case_record(case_id))
    for case_id in ("safety-old", "safety-new"):
        await store.set_status(
            case_id,
            CaseStatus.awaiting_safety_review,
            category=Category.safety_compliance,
        )
    for case_id in ("open-old", "open-new"):
        await store.set_status(case_id, CaseStatus.awaiting_agent, category=Category.service_action)
    for case_id in ("closed-old", "closed-new"):
        await store.set_status(case_id, CaseStatus.closed, category=Category.informational)

    cases, total = await store.list_cases()
    assert total == 6
    assert [c.case_id for c in cases] == [
        "safety-new",
        "safety-old",
        "open-new",
        "open-old",
        "closed-new",
        "closed-old",
    ]
    assert [c.needs_safety_review for c in cases[:3]] == [True, True, False]

    first_page, total = await store.list_cases(limit=4, offset=0)
    second_page, _ = await store.list_cases(limit=4, offset=4)
    assert total == 6
    assert [c.case_id for c in first_page + second_page] == [c.case_id for c in cases]
    assert len(second_page) == 2

    by_status, total = await store.list_cases(status=CaseStatus.awaiting_agent)
    assert total == 2
    assert {c.case_id for c in by_status} == {"open-old", "open-new"}

    by_category, total = await store.list_cases(category=Category.informational, limit=1)
    assert total == 2
    assert [c.case_id for c in by_category] == ["closed-new"]

    nothing, total = await store.list_cases(status=CaseStatus.closed, category=Category.safety_compliance)
    assert (nothing, total) == ([], 0)

    # Queues of the agent console: by channel and by the route that holds the case.
    await store.set_status("open-new", CaseStatus.escalated, route=Route.service_action)
    escalated_tickets, total = await store.list_cases(status=CaseStatus.escalated, route=Route.service_action)
    assert ([c.case_id for c in escalated_tickets], total) == (["open-new"], 1)
    none_in_triage, total = await store.list_cases(status=CaseStatus.escalated, route=Route.human_triage)
    assert (none_in_triage, total) == ([], 0)
    _, total = await store.list_cases(channel=Channel.email)
    assert total == 6 and (await store.list_cases(channel=Channel.voice)) == ([], 0)

    with pytest.raises(ValueError, match="limit"):
        await store.list_cases(limit=0)


# --------------------------------------------------------------------------- ticketing


def ticket_request(case_id: str) -> TicketRequest:
    return TicketRequest(
        case_id=case_id,
        kind="delivery_delay",
        order_numbers=["[ORDER_NUMBER_1]"],
        summary="Customer reports order [ORDER_NUMBER_1] missing",
        priority="high",
        sla_due_at=T0 + timedelta(hours=24),
    )


async def test_create_ticket_twice_returns_the_same_ticket(
    pg_engine: AsyncEngine, pg_sessions: async_sessionmaker[AsyncSession]
) -> None:
    ticketing: TicketingPort = LocalTicketing(pg_sessions)
    first = await ticketing.create_ticket(ticket_request("case-1"))
    second = await ticketing.create_ticket(ticket_request("case-1"))
    concurrent = await asyncio.gather(*(ticketing.create_ticket(ticket_request("case-1")) for _ in range(3)))

    assert second == first
    assert all(ticket == first for ticket in concurrent)
    assert first.ticket_id == case_scoped_id("TCK", "case-1")
    assert first.ticket_id.startswith("TCK-")
    assert first.status == "open"
    assert first.assignee is None
    assert first.sla_due_at == T0 + timedelta(hours=24)
    assert await count_rows(pg_engine, TicketRow) == 1
    assert await ticketing.get_ticket("case-1") == first
    assert await ticketing.get_ticket("case-2") is None


async def test_ticket_changes_are_applied_once_and_kept_as_history(
    pg_engine: AsyncEngine, pg_sessions: async_sessionmaker[AsyncSession]
) -> None:
    ticketing = LocalTicketing(pg_sessions, clock=StepClock())
    created = await ticketing.create_ticket(ticket_request("case-1"))
    pick_up = TicketChange(case_id="case-1", key="pick_up:1", status="in_progress", assignee="agent-7")
    comment = TicketChange(case_id="case-1", key="comment:2", note="Carrier contacted")
    resolve = TicketChange(case_id="case-1", key="resolve:3", status="resolved", note="Delivered")

    picked = await ticketing.apply_change(pick_up)
    assert (picked.status, picked.assignee) == ("in_progress", "agent-7")
    commented = await ticketing.apply_change(comment)
    assert (commented.status, commented.assignee) == ("in_progress", "agent-7")
    resolved = await ticketing.apply_change(resolve)
    # A pick-up retried after the ticket was resolved must not move it back.
    retried = await ticketing.apply_change(pick_up)

    assert retried == resolved
    assert resolved.status == "resolved"
    assert resolved.updated_at > created.updated_at
    assert await ticketing.list_changes("case-1") == [pick_up, comment, resolve]
    assert await count_rows(pg_engine, TicketEventRow) == 3
    with pytest.raises(RecordNotFoundError):
        await ticketing.apply_change(TicketChange(case_id="case-2", key="comment:1"))


# --------------------------------------------------------------------------- safety database


async def test_adverse_event_report_and_submission_are_idempotent(
    pg_engine: AsyncEngine, pg_sessions: async_sessionmaker[AsyncSession]
) -> None:
    safety: SafetyDatabasePort = LocalSafetyDatabase(pg_sessions)
    opened = await safety.open_report(adverse_event_report("case-1"))
    # A retry that minted a different report id still finds the case's first report.
    reopened = await safety.open_report(adverse_event_report("case-1", report_id="AER-OTHER"))
    assert reopened == opened
    assert opened.status == "open"
    assert opened.regulatory_due_date == date(2025, 12, 10)

    confirmed = await safety.record_decision(
        "case-1", "confirmed", "pv-reviewer", "Valid ICSR: all four criteria"
    )
    assert (confirmed.status, confirmed.reviewer) == ("confirmed", "pv-reviewer")

    submission = SafetySubmission(
        case_id="case-1",
        report_id=opened.report_id,
        reviewer="pv-reviewer",
        reason="Serious case, 15-day report",
    )
    receipts = [await safety.submit(submission) for _ in range(2)]
    receipts += await asyncio.gather(*(safety.submit(submission) for _ in range(3)))

    assert all(receipt == receipts[0] for receipt in receipts)
    assert receipts[0].reference.startswith("SDB-")
    assert await count_rows(pg_engine, SafetySubmissionRow) == 1
    report = await safety.get_report("case-1")
    assert report is not None
    assert report.status == "submitted"
    assert report.safety_db_reference == receipts[0].reference
    with pytest.raises(InvalidTransitionError):
        await safety.record_decision("case-1", "rejected", "pv-reviewer", "Changed my mind")


async def test_rejected_report_cannot_be_submitted(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    safety = LocalSafetyDatabase(pg_sessions)
    report = await safety.open_report(adverse_event_report("case-1"))
    await safety.record_decision("case-1", "rejected", "pv-reviewer", "Not an adverse event")
    with pytest.raises(InvalidTransitionError):
        await safety.submit(
            SafetySubmission(case_id="case-1", report_id=report.report_id, reviewer="pv", reason="x")
        )
    with pytest.raises(RecordNotFoundError):
        await safety.record_decision("case-2", "confirmed", "pv-reviewer", "n/a")
    assert await safety.get_report("case-2") is None


# --------------------------------------------------------------------------- notifications


async def test_sending_a_notification_twice_queues_it_once(
    pg_engine: AsyncEngine, pg_sessions: async_sessionmaker[AsyncSession]
) -> None:
    outbox: NotificationPort = LocalOutbox(pg_sessions)
    notification = Notification(
        key="case-1:safety-alert",
        case_id="case-1",
        audience="safety_team",
        channel="email",
        template="safety_alert",
        body="Possible adverse event on case case-1",
    )
    first = await outbox.send(notification)
    second = await outbox.send(notification)
    concurrent = await asyncio.gather(*(outbox.send(notification) for _ in range(3)))

    assert first.duplicate is False
    assert first.notification_id.startswith("NTF-")
    for receipt in [second, *concurrent]:
        assert receipt.duplicate is True
        assert receipt.model_copy(update={"duplicate": False}) == first
    assert await count_rows(pg_engine, NotificationRow) == 1


# --------------------------------------------------------------------------- SQLite


async def test_the_same_adapters_work_on_a_migrated_sqlite_file(tmp_path: Path) -> None:
    # The parent directory does not exist yet, as on a first `make run`.
    url = f"sqlite+aiosqlite:///{tmp_path / 'cache' / 'cases.sqlite'}"
    await upgrade_to_head(url)
    await upgrade_to_head(url)
    engine = create_engine_from_url(url)
    try:
        sessions = session_factory(engine)
        store = SqlCaseStore(sessions, clock=StepClock())
        await store.save_case(case_record("case-1"))
        await store.save_case(case_record("case-1"))
        await store.save_case(case_record("case-2"))
        await store.set_status(
            "case-1",
            CaseStatus.awaiting_safety_review,
            category=Category.safety_compliance,
        )
        await store.set_status("case-2", CaseStatus.closed)
        await store.save_case(case_record("case-2"))
        assert await store.append_audit(audit_entry("case-1", "guard", T0)) is True
        assert await store.append_audit(audit_entry("case-1", "guard", T0)) is False
        with pytest.raises(RecordNotFoundError):
            await store.append_audit(audit_entry("missing", "guard", T0))

        cases, total = await store.list_cases()
        assert total == 2
        assert [(c.case_id, c.status) for c in cases] == [
            ("case-1", CaseStatus.awaiting_safety_review),
            ("case-2", CaseStatus.closed),
        ]
        assert cases[0].received_at == T0
        assert cases[0].received_at.tzinfo is not None
        assert [e.at for e in await store.get_timeline("case-1")] == [T0]

        ticketing = LocalTicketing(sessions)
        ticket = await ticketing.create_ticket(ticket_request("case-1"))
        assert await ticketing.create_ticket(ticket_request("case-1")) == ticket
        change = TicketChange(case_id="case-1", key="pick_up:1", status="in_progress")
        await ticketing.apply_change(change)
        await ticketing.apply_change(change)
        assert await ticketing.list_changes("case-1") == [change]

        safety = LocalSafetyDatabase(sessions)
        report = await safety.open_report(adverse_event_report("case-1"))
        submission = SafetySubmission(
            case_id="case-1",
            report_id=report.report_id,
            reviewer="pv",
            reason="serious",
        )
        assert await safety.submit(submission) == await safety.submit(submission)

        outbox = LocalOutbox(sessions)
        notification = Notification(
            key="case-1:ack",
            case_id="case-1",
            audience="customer",
            channel="email",
            template="acknowledgement",
            body="We received your message",
        )
        assert (await outbox.send(notification)).duplicate is False
        assert (await outbox.send(notification)).duplicate is True

        for row_type, expected in [
            (CaseRow, 2),
            (AuditEventRow, 1),
            (TicketRow, 1),
            (TicketEventRow, 1),
            (SafetySubmissionRow, 1),
            (NotificationRow, 1),
        ]:
            assert await count_rows(engine, row_type) == expected, row_type.__tablename__
    finally:
        await engine.dispose()
