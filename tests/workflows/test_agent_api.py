"""Agent API against the time-skipping server and an in-memory case store: 404/409 mapping."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from core.config import Settings
from core.models import (
    AuditEntry,
    CaseRecord,
    CaseRef,
    CaseStatus,
    CaseSummary,
    Category,
    Channel,
    InboundMessage,
    Route,
    RoutingDecision,
)
from core.names import child_workflow_id
from temporal_workflows.safety_compliance import SafetyComplianceWorkflow
from tests.auth_helpers import auth_settings, bearer
from tests.workflows.fake_case_activities import FakeCaseActivities
from worker.main import workflow_classes

T0 = datetime(2026, 11, 25, tzinfo=timezone.utc)


class MemoryCaseStore:
    def __init__(self) -> None:
        self.cases: dict[str, CaseSummary] = {}
        self.audit: list[AuditEntry] = []

    def add(self, record: CaseRecord) -> None:
        self.cases[record.case_id] = CaseSummary(
            **record.model_dump(exclude={"redacted_text"}),
            created_at=T0,
            updated_at=T0,
            closed_at=None,
            needs_safety_review=record.status is CaseStatus.awaiting_safety_review,
        )

    async def get_case(self, case_id: str) -> CaseSummary | None:
        return self.cases.get(case_id)

    async def get_timeline(self, case_id: str) -> list[AuditEntry]:
        return [e for e in self.audit if e.case_id == case_id]

    async def list_cases(
        self,
        *,
        status: CaseStatus | None = None,
        category: Category | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[CaseSummary], int]:
        found = [
            c for c in self.cases.values() if status in (None, c.status) and category in (None, c.category)
        ]
        found.sort(key=lambda c: not c.needs_safety_review)
        return found[offset : offset + limit], len(found)


@pytest.fixture
async def http(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    store = MemoryCaseStore()
    settings = queues_settings.model_copy(update=auth_settings())
    app = create_app(settings, time_skipping_env.client, store)  # type: ignore[arg-type]
    # ASGITransport does not run the lifespan, so the state it would set is set here.
    app.state.settings = settings
    app.state.temporal = time_skipping_env.client
    app.state.case_store = store
    worker = Worker(
        time_skipping_env.client,
        task_queue=queues_settings.workflow_task_queue,
        workflows=workflow_classes(),
        activities=FakeCaseActivities().definitions(),
    )
    async with (
        worker,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://api",
            headers=bearer("pv-1", "agent", "safety_reviewer", "supervisor"),
        ) as client,
    ):
        client.app_store = store  # type: ignore[attr-defined]
        yield client


async def start_safety_case(env: WorkflowEnvironment, settings: Settings, store: MemoryCaseStore) -> str:
    case_id = str(uuid.uuid4())
    message = InboundMessage(
        case_id=case_id,
        message_id=f"m-{case_id}",
        channel=Channel.chat,
        redacted_text="rash after tablets",
        received_at=await env.get_current_time(),
    )
    store.add(
        CaseRecord(
            case_id=case_id,
            message_id=message.message_id,
            workflow_id=f"case-{case_id}",
            channel=Channel.chat,
            redacted_text=message.redacted_text,
            received_at=message.received_at,
            status=CaseStatus.awaiting_safety_review,
            category=Category.safety_compliance,
        )
    )
    decision = RoutingDecision(
        category=Category.safety_compliance,
        confidence=0.9,
        route=Route.safety_compliance,
        decision_path=[],
        next_step="review",
    )
    await env.client.start_workflow(
        SafetyComplianceWorkflow.run,
        CaseRef(case_id=case_id, message=message, decision=decision),
        id=child_workflow_id(case_id, "safety_compliance"),
        task_queue=settings.workflow_task_queue,
    )
    return case_id


def safety_decision(verdict: str, review_round: int = 1) -> dict[str, object]:
    return {"decision": verdict, "reason": "checked", "review_round": review_round}


async def test_decisions_are_sent_to_the_safety_workflow_with_409_for_stale_and_duplicates(
    http: httpx.AsyncClient, time_skipping_env: WorkflowEnvironment, queues_settings: Settings
) -> None:
    store: MemoryCaseStore = http.app_store  # type: ignore[attr-defined]
    case_id = await start_safety_case(time_skipping_env, queues_settings, store)
    stale = await http.post(f"/v1/cases/{case_id}/decision", json=safety_decision("confirm", review_round=2))
    assert stale.status_code == 409, stale.text
    assert "stale" in stale.json()["detail"]
    confirmed = await http.post(f"/v1/cases/{case_id}/decision", json=safety_decision("confirm"))
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "closed"
    duplicate = await http.post(f"/v1/cases/{case_id}/decision", json=safety_decision("confirm"))
    assert duplicate.status_code == 409, duplicate.text
    not_triage = await http.post(
        f"/v1/cases/{case_id}/triage", json={"category": "informational", "reason": "r"}
    )
    assert not_triage.status_code == 409
    no_ticket = await http.post(f"/v1/cases/{case_id}/ticket", json={"action": "pick_up"})
    assert no_ticket.status_code == 409


async def test_unknown_cases_are_404_and_the_queue_lists_safety_reviews_first(
    http: httpx.AsyncClient, time_skipping_env: WorkflowEnvironment, queues_settings: Settings
) -> None:
    store: MemoryCaseStore = http.app_store  # type: ignore[attr-defined]
    unknown = await http.post(f"/v1/cases/{uuid.uuid4()}/decision", json=safety_decision("confirm"))
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    case_id = await start_safety_case(time_skipping_env, queues_settings, store)
    page = await http.get("/v1/cases", params={"status": "awaiting_safety_review", "limit": 10})
    assert page.status_code == 200, page.text
    assert case_id in [item["case_id"] for item in page.json()["items"]]
    assert page.json()["items"][0]["needs_safety_review"] is True
    view = await http.get(f"/v1/cases/{case_id}")
    assert view.status_code == 200, view.text
    assert view.json()["record"]["case_id"] == case_id
    assert (await http.get("/v1/cases", params={"limit": 0})).status_code == 422
    # Finish the case: an open workflow (or one terminated mid-activity) would hold the shared
    # time-skipping server's clock for the tests that follow.
    done = await http.post(f"/v1/cases/{case_id}/decision", json=safety_decision("confirm"))
    assert done.status_code == 200, done.text


async def test_reclassify_answers_per_case_and_never_fails_on_ids_that_name_no_workflow(
    http: httpx.AsyncClient, time_skipping_env: WorkflowEnvironment, queues_settings: Settings
) -> None:
    store: MemoryCaseStore = http.app_store  # type: ignore[attr-defined]
    safety_case = await start_safety_case(time_skipping_env, queues_settings, store)
    unknown = str(uuid.uuid4())
    answer = await http.post(
        "/v1/admin/reclassify", json={"case_ids": ["", "not-a-case", unknown, unknown, safety_case]}
    )
    assert answer.status_code == 202, answer.text
    results = answer.json()["results"]
    # Duplicates collapse; ids that are not UUIDs never reach Temporal (which rejects "").
    assert [r["case_id"] for r in results] == ["", "not-a-case", unknown, safety_case]
    assert {r["outcome"] for r in results} == {"not_found"}
    agent_only = await http.post(
        "/v1/admin/reclassify", json={"case_ids": [unknown]}, headers=bearer("agent-7", "agent")
    )
    assert agent_only.status_code == 403
    assert agent_only.headers["content-type"].startswith("application/problem+json")
    empty = await http.post("/v1/admin/reclassify", json={"case_ids": []})
    assert empty.status_code == 422
    done = await http.post(f"/v1/cases/{safety_case}/decision", json=safety_decision("confirm"))
    assert done.status_code == 200, done.text
