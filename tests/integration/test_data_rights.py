"""Data-subject erasure and the retention purge on real PostgreSQL, through Temporal.

The erasure goes through the admin API (role `admin`), the erasure workflow on the time-skipping
server and the SQL adapter; the purge through its workflow; the schedule on the dev server.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import ScheduleActionStartWorkflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.db.case_store import SqlCaseStore
from adapters.db.engine import session_factory
from adapters.notifications_local import LocalOutbox
from adapters.safety_db_local import LocalSafetyDatabase
from adapters.ticketing_local import LocalTicketing
from api.main import create_app
from core.config import Settings
from core.models import (
    AdverseEventReport,
    AuditEntry,
    CaseRecord,
    CaseStatus,
    Channel,
    Notification,
    RetentionPurgeInput,
    RetentionPurgeResult,
    TicketChange,
    TicketRequest,
)
from core.pseudonym import pseudonymise_customer_id
from temporal_workflows.retention import RetentionPurgeWorkflow
from tests.auth_helpers import auth_settings, bearer
from worker.data_rights import DATA_RIGHTS_WORKFLOWS, data_rights_activities, ensure_retention_schedule

pytestmark = pytest.mark.integration

NOW = datetime.now(timezone.utc)
LONG_AGO = NOW - timedelta(days=400)
CUSTOMER = "CRM-4711"
NOTE = "customer Anna Schmidt asked to call back on the landline"


def settings_for(task_queue: str) -> Settings:
    return Settings(
        workflow_task_queue=task_queue,
        pseudonym_key="k" * 32,  # type: ignore[arg-type]
        **auth_settings(),
    )


class Seed:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.sessions = session_factory(engine)

    async def case(
        self,
        case_id: str,
        *,
        customer: str | None = CUSTOMER,
        closed_at: datetime | None = None,
        ticket: bool = False,
        safety_report: bool = False,
    ) -> None:
        received = closed_at or NOW
        store = SqlCaseStore(self.sessions, clock=lambda: received)
        await store.save_case(
            CaseRecord(
                case_id=case_id,
                message_id=f"m-{case_id}",
                workflow_id=f"case-{case_id}",
                channel=Channel.email,
                customer_id=pseudonymise_customer_id(customer, self.settings),
                locale="de-DE",
                redacted_text="My order [ORDER_NUMBER] for Ibuprofen never arrived, I am [PERSON]",
                received_at=received,
                status=CaseStatus.closed if closed_at else CaseStatus.awaiting_agent,
            )
        )
        await store.append_audit(
            AuditEntry(
                case_id=case_id,
                key=f"{case_id}:classify:1",
                step="classify",
                actor="classifier",
                decision="service_action",
                reason="P(service_action)=0.93 above 0.80",
                observed={"probabilities": {"service_action": 0.93}, "evidence": "never arrived"},
                at=received,
            )
        )
        await store.append_audit(
            AuditEntry(
                case_id=case_id,
                key=f"{case_id}:agent:1",
                step="ticket_comment",
                actor="agent-7",
                decision="comment",
                reason=NOTE,
                at=received,
            )
        )
        if ticket:
            ticketing = LocalTicketing(self.sessions)
            await ticketing.create_ticket(
                TicketRequest(
                    case_id=case_id,
                    kind="delivery",
                    order_numbers=["88231"],
                    summary="Order 88231 missing",
                    sla_due_at=received + timedelta(hours=4),
                )
            )
            await ticketing.apply_change(TicketChange(case_id=case_id, key=f"{case_id}:note", note=NOTE))
        if safety_report:
            await LocalSafetyDatabase(self.sessions).open_report(
                AdverseEventReport(
                    report_id=f"AER-{case_id}",
                    case_id=case_id,
                    day_zero=received,
                    serious=False,
                    regulatory_due_date=date(2027, 1, 1),
                )
            )
        await LocalOutbox(self.sessions).send(
            Notification(
                key=f"{case_id}:notify:ack",
                case_id=case_id,
                audience="customer",
                channel="email",
                template="ack",
                body=f"Dear customer, {NOTE}",
            )
        )

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self.engine.connect() as connection:
            result = await connection.execute(text(sql), params)
            return [dict(row._mapping) for row in result]

    async def text_of_case(self, case_id: str) -> str:
        """Every stored value that belongs to the case, as one string to search."""
        parts: list[Any] = []
        for table in ("cases", "audit_events", "tickets", "ticket_events", "notifications"):
            parts += await self.rows(f"SELECT * FROM {table} WHERE case_id = :c", c=case_id)
        return repr(parts)


@pytest.fixture
async def seeded(
    time_skipping_env: WorkflowEnvironment, pg_engine: AsyncEngine, tmp_path: Any
) -> AsyncIterator[tuple[Seed, httpx.AsyncClient]]:
    task_queue = f"rights-{uuid.uuid4().hex[:8]}"
    settings = settings_for(task_queue)
    client = time_skipping_env.client
    app = create_app(settings, client, SqlCaseStore(session_factory(pg_engine)))
    app.state.settings = settings
    app.state.temporal = client
    app.state.case_store = SqlCaseStore(session_factory(pg_engine))
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=DATA_RIGHTS_WORKFLOWS,
        activities=data_rights_activities(pg_engine),
    )
    async with (
        worker,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        yield Seed(pg_engine, settings), http


async def test_erasure_removes_a_customers_personal_data_and_keeps_the_audit_facts(
    seeded: tuple[Seed, httpx.AsyncClient],
) -> None:
    seed, http = seeded
    await seed.case("c-erase-1", ticket=True)
    await seed.case("c-erase-2", closed_at=NOW - timedelta(days=3))
    await seed.case("c-other", customer="CRM-9999")

    reply = await http.post(
        "/v1/admin/erasures",
        json={"customer_id": CUSTOMER, "reference": "DSR-2026-17 letter"},
        headers=bearer("dpo-1", "admin"),
    )

    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert {c["case_id"]: c["outcome"] for c in result["cases"]} == {
        "c-erase-1": "erased",
        "c-erase-2": "erased",
    }
    for case_id in ("c-erase-1", "c-erase-2"):
        stored = await seed.text_of_case(case_id)
        assert NOTE not in stored
        assert "Ibuprofen" not in stored
        assert "never arrived" not in stored
        assert pseudonymise_customer_id(CUSTOMER, seed.settings) not in stored
    [case] = await seed.rows("SELECT * FROM cases WHERE case_id = 'c-erase-1'")
    assert case["customer_id"] is None
    assert case["erasure_reason"] == "data_subject_request"
    assert case["status"] == "awaiting_agent"  # the case itself, its status and category remain
    [ticket] = await seed.rows("SELECT * FROM tickets WHERE case_id = 'c-erase-1'")
    assert ticket["order_numbers"] == []
    trail = await seed.rows("SELECT * FROM audit_events WHERE case_id = 'c-erase-1' ORDER BY id")
    # The non-personal facts stay: step, actor, decision, time and the classifier's numbers.
    assert [(a["step"], a["actor"], a["decision"]) for a in trail] == [
        ("classify", "classifier", "service_action"),
        ("ticket_comment", "agent-7", "comment"),
        ("personal_data_erasure", "dpo-1", "erased"),
    ]
    assert trail[0]["observed"] == {"probabilities": {"service_action": 0.93}}
    assert trail[2]["reason"] == "data_subject_request: DSR-2026-17 letter"
    # Another customer's case is untouched.
    assert NOTE in await seed.text_of_case("c-other")


async def test_a_case_with_an_adverse_event_report_is_kept_and_the_refusal_audited(
    seeded: tuple[Seed, httpx.AsyncClient],
) -> None:
    seed, http = seeded
    await seed.case("c-safety", safety_report=True)

    reply = await http.post(
        "/v1/admin/erasures",
        json={"case_id": "c-safety", "reference": "DSR-2026-18"},
        headers=bearer("dpo-1", "admin"),
    )

    assert reply.status_code == 200, reply.text
    [case] = reply.json()["cases"]
    assert case["outcome"] == "retained_legal_obligation"
    assert "pharmacovigilance" in case["kept_because"]
    assert "Ibuprofen" in await seed.text_of_case("c-safety")
    assert await seed.rows("SELECT report_id FROM adverse_event_reports WHERE case_id = 'c-safety'")
    [audit] = await seed.rows("SELECT * FROM audit_events WHERE step = 'personal_data_erasure'")
    assert (audit["actor"], audit["decision"]) == ("dpo-1", "retained_legal_obligation")


async def test_erasure_is_idempotent_and_admin_only(seeded: tuple[Seed, httpx.AsyncClient]) -> None:
    seed, http = seeded
    await seed.case("c-twice")
    body = {"case_id": "c-twice", "reference": "DSR-1"}
    assert (
        await http.post("/v1/admin/erasures", json=body, headers=bearer("a-1", "agent"))
    ).status_code == 403
    assert (await http.post("/v1/admin/erasures", json=body)).status_code == 401
    first = await http.post("/v1/admin/erasures", json=body, headers=bearer("dpo-1", "admin"))
    second = await http.post("/v1/admin/erasures", json=body, headers=bearer("dpo-1", "admin"))
    assert first.json()["cases"][0]["outcome"] == "erased"
    assert second.json()["cases"][0]["outcome"] == "already_erased"
    both = await http.post(
        "/v1/admin/erasures",
        json={"case_id": "c-twice", "customer_id": CUSTOMER, "reference": "x"},
        headers=bearer("dpo-1", "admin"),
    )
    assert both.status_code == 422
    assert both.headers["content-type"] == "application/problem+json"


async def test_retention_purges_only_closed_cases_past_the_period_without_a_report(
    seeded: tuple[Seed, httpx.AsyncClient], time_skipping_env: WorkflowEnvironment
) -> None:
    seed, _ = seeded
    await seed.case("c-old-closed", closed_at=LONG_AGO, ticket=True)
    await seed.case("c-recent-closed", closed_at=NOW - timedelta(days=30))
    await seed.case("c-old-open")  # open cases are never purged, however old
    await seed.case("c-old-safety", closed_at=LONG_AGO, safety_report=True)

    result = await time_skipping_env.client.execute_workflow(
        RetentionPurgeWorkflow.run,
        RetentionPurgeInput(retention_days=365, batch_size=1),  # batches of one: the loop is exercised
        id=f"retention-{uuid.uuid4().hex[:8]}",
        task_queue=seed.settings.workflow_task_queue,
        result_type=RetentionPurgeResult,
    )

    assert result.purged_cases == 1
    assert NOTE not in await seed.text_of_case("c-old-closed")
    [case] = await seed.rows("SELECT erasure_reason FROM cases WHERE case_id = 'c-old-closed'")
    assert case["erasure_reason"] == "retention"
    for kept in ("c-recent-closed", "c-old-open", "c-old-safety"):
        assert NOTE in await seed.text_of_case(kept), kept


async def test_retention_schedule_is_created_once_and_follows_the_settings(
    dev_server_env: WorkflowEnvironment,
) -> None:
    client = dev_server_env.client
    schedule_id = f"retention-{uuid.uuid4().hex[:8]}"
    settings = Settings(retention_schedule_id=schedule_id, retention_days=30, workflow_task_queue="q-1")
    try:
        assert await ensure_retention_schedule(client, settings) is True
        assert await ensure_retention_schedule(client, settings) is False
        changed = settings.model_copy(update={"retention_days": 90, "retention_interval_hours": 12})
        await ensure_retention_schedule(client, changed)

        described = await client.get_schedule_handle(schedule_id).describe()
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        [args] = await client.data_converter.decode(list(action.args), [RetentionPurgeInput])
        assert args.retention_days == 90
        assert described.schedule.spec.intervals[0].every == timedelta(hours=12)
    finally:
        await client.get_schedule_handle(schedule_id).delete()
