"""The real `CaseActivities` against PostgreSQL: every activity run twice (a retry after a crash)
leaves what one run leaves and returns the same ids."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.cases import CaseActivities
from adapters.db.case_store import SqlCaseStore
from adapters.db.tables import AuditEventRow, NotificationRow, SafetySubmissionRow, TicketEventRow
from adapters.knowledge_base import DEFAULT_MIN_SCORE, KnowledgeBase
from adapters.notifications_local import LocalOutbox
from adapters.safety_db_local import LocalSafetyDatabase
from adapters.ticketing_local import LocalTicketing
from core.models import (
    AdverseEventIntake,
    AuditEntry,
    CaseIntake,
    CaseRecord,
    CaseStatus,
    CaseStatusChange,
    Category,
    Channel,
    DecisionStep,
    KnowledgeQuery,
    Notification,
    Route,
    SafetyDecisionRecord,
    SafetySubmission,
    ServiceRequestQuery,
    TicketChange,
    TicketRequest,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.integration]

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
CASE_ID = "7b0c5a52-1111-4c55-9a43-3f7d3f0b8d21"


def case_activities(sessions: async_sessionmaker[AsyncSession]) -> CaseActivities:
    return CaseActivities(
        SqlCaseStore(sessions),
        LocalTicketing(sessions),
        LocalSafetyDatabase(sessions),
        LocalOutbox(sessions),
        KnowledgeBase.default(),
    )


def intake(
    text: str = "I was admitted to hospital after taking ibuprofen tablets, I got a rash",
) -> CaseIntake:
    step = DecisionStep(step="intake", actor="api:chat", decision="accepted", reason="valid", at=T0)
    classified = step.model_copy(update={"step": "llm_classification", "decision": "safety_compliance"})
    return CaseIntake(
        record=CaseRecord(
            case_id=CASE_ID,
            message_id="m-1",
            workflow_id=f"case-{CASE_ID}",
            channel=Channel.chat,
            customer_id="cust-1",
            redacted_text=text,
            received_at=T0,
            status=CaseStatus.classified,
            category=Category.safety_compliance,
            route=Route.safety_compliance,
            confidence=0.9,
        ),
        decision_path=[step, classified],
    )


async def count(sessions: async_sessionmaker[AsyncSession], row_type: type, case_id: str = CASE_ID) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(row_type).where(row_type.case_id == case_id)  # type: ignore[attr-defined]
        return int((await session.execute(query)).scalar_one())


async def test_record_case_and_audit_are_written_once(pg_sessions: async_sessionmaker[AsyncSession]) -> None:
    activities = case_activities(pg_sessions)
    env = ActivityEnvironment()
    assert await env.run(activities.record_case, intake()) == 2
    assert await env.run(activities.record_case, intake()) == 0  # the retry adds nothing
    entry = AuditEntry(
        case_id=CASE_ID,
        key=f"{CASE_ID}:safety.status:3",
        step="status",
        actor="workflow:safety",
        decision="awaiting_safety_review",
        reason="report opened",
        at=T0 + timedelta(seconds=1),
    )
    assert await env.run(activities.append_audit, entry) is True
    assert await env.run(activities.append_audit, entry) is False
    change = CaseStatusChange(case_id=CASE_ID, status=CaseStatus.awaiting_safety_review)
    await env.run(activities.set_case_status, change)
    await env.run(activities.set_case_status, change)
    store = SqlCaseStore(pg_sessions)
    case = await store.get_case(CASE_ID)
    assert case is not None
    assert case.status is CaseStatus.awaiting_safety_review
    assert case.needs_safety_review
    assert [e.step for e in await store.get_timeline(CASE_ID)] == ["intake", "llm_classification", "status"]
    assert await count(pg_sessions, AuditEventRow) == 3


async def test_ticket_activities_are_idempotent(pg_sessions: async_sessionmaker[AsyncSession]) -> None:
    activities = case_activities(pg_sessions)
    env = ActivityEnvironment()
    await env.run(activities.record_case, intake("please cancel order 12345"))
    details = await env.run(
        activities.extract_service_request,
        ServiceRequestQuery(case_id=CASE_ID, redacted_text="please cancel order 12345"),
    )
    assert details.kind == "cancel_order"
    assert details.order_numbers == ["12345"]
    request = TicketRequest(
        case_id=CASE_ID,
        kind=details.kind,
        order_numbers=details.order_numbers,
        summary="cancel",
        sla_due_at=T0 + timedelta(hours=4),
    )
    first = await env.run(activities.create_ticket, request)
    again = await env.run(activities.create_ticket, request)
    assert first.ticket_id == again.ticket_id
    pick_up = TicketChange(case_id=CASE_ID, key=f"{CASE_ID}:ticket:1", status="in_progress", assignee="a-1")
    await env.run(activities.apply_ticket_change, pick_up)
    ticket = await env.run(activities.apply_ticket_change, pick_up)
    assert (ticket.status, ticket.assignee) == ("in_progress", "a-1")
    assert await count(pg_sessions, TicketEventRow) == 1


async def test_safety_activities_assess_open_decide_and_submit_once(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    activities = case_activities(pg_sessions)
    env = ActivityEnvironment()
    text = intake().record.redacted_text
    await env.run(activities.record_case, intake())
    report_intake = AdverseEventIntake(case_id=CASE_ID, redacted_text=text, day_zero=T0, customer_id="cust-1")
    report = await env.run(activities.open_adverse_event_report, report_intake)
    assert report == await env.run(activities.open_adverse_event_report, report_intake)
    assert report.serious and "hospitalisation" in report.seriousness
    assert report.criteria_missing == []
    assert report.regulatory_due_date == T0.date() + timedelta(days=15)
    decided = SafetyDecisionRecord(case_id=CASE_ID, status="confirmed", reviewer="pv-1", reason="plausible")
    assert (await env.run(activities.record_safety_decision, decided)).status == "confirmed"
    submission = SafetySubmission(case_id=CASE_ID, report_id=report.report_id, reviewer="pv-1", reason="ok")
    receipt = await env.run(activities.submit_to_safety_database, submission)
    assert receipt == await env.run(activities.submit_to_safety_database, submission)
    assert await count(pg_sessions, SafetySubmissionRow) == 1


async def test_notify_is_queued_once_per_key(pg_sessions: async_sessionmaker[AsyncSession]) -> None:
    activities = case_activities(pg_sessions)
    env = ActivityEnvironment()
    await env.run(activities.record_case, intake())
    note = Notification(
        key=f"{CASE_ID}:notify:review_requested:1",
        case_id=CASE_ID,
        audience="safety_team",
        channel="internal",
        template="safety_review_requested",
        body="report awaits review",
    )
    first = await env.run(activities.notify, note)
    second = await env.run(activities.notify, note)
    assert (first.duplicate, second.duplicate) == (False, True)
    assert first.notification_id == second.notification_id
    assert await count(pg_sessions, NotificationRow) == 1


async def test_knowledge_base_answer_carries_its_provenance(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    activities = case_activities(pg_sessions)
    env = ActivityEnvironment()
    answer = await env.run(
        activities.answer_from_knowledge_base,
        KnowledgeQuery(case_id=CASE_ID, redacted_text="where is my order"),
    )
    assert answer.article_id is not None and answer.article_version is not None
    assert answer.score >= DEFAULT_MIN_SCORE
    nothing = await env.run(
        activities.answer_from_knowledge_base,
        KnowledgeQuery(case_id=CASE_ID, redacted_text="my cat likes jazz"),
    )
    assert nothing.article_id is None and nothing.score == 0.0
