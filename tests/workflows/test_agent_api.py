"""Agent API against the time-skipping server and an in-memory case store: 404/409 mapping,
and the deadline of every agent action (202 accepted-but-pending, 504 not accepted, 503 down)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from core.config import Settings
from core.models import (
    AdverseEventReport,
    AuditEntry,
    CaseMessage,
    CaseRecord,
    CaseRef,
    CaseSnapshot,
    CaseStatus,
    CaseSummary,
    Category,
    Channel,
    InboundMessage,
    Route,
    RoutingDecision,
    SafetyDecisionRecord,
)
from core.names import RECORD_SAFETY_DECISION_ACTIVITY, child_workflow_id
from core.redaction import redact
from core.temporal_client import build_data_converter
from core.temporal_dev import TEMPORAL_TEST_SERVER
from temporal_workflows.safety_compliance import SafetyComplianceWorkflow
from temporal_workflows.service_action import ServiceActionWorkflow
from tests.auth_helpers import auth_settings, bearer
from tests.workflows.fake_case_activities import FakeCaseActivities
from worker.main import workflow_classes

T0 = datetime(2026, 11, 25, tzinfo=timezone.utc)


class MemoryCaseStore:
    def __init__(self) -> None:
        self.cases: dict[str, CaseSummary] = {}
        self.audit: list[AuditEntry] = []
        self.messages: dict[str, CaseMessage] = {}

    def add(self, record: CaseRecord) -> None:
        self.messages[record.case_id] = CaseMessage(
            **record.model_dump(include={"case_id", "channel", "locale", "received_at", "redacted_text"})
        )
        self.cases[record.case_id] = CaseSummary(
            **record.model_dump(exclude={"redacted_text"}),
            created_at=T0,
            updated_at=T0,
            closed_at=None,
            needs_safety_review=record.status is CaseStatus.awaiting_safety_review,
        )

    async def get_case(self, case_id: str) -> CaseSummary | None:
        return self.cases.get(case_id)

    async def get_message(self, case_id: str) -> CaseMessage | None:
        return self.messages.get(case_id)

    async def get_timeline(self, case_id: str) -> list[AuditEntry]:
        return [e for e in self.audit if e.case_id == case_id]

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
        found = [
            c
            for c in self.cases.values()
            if status in (None, c.status)
            and category in (None, c.category)
            and channel in (None, c.channel)
            and route in (None, c.route)
        ]
        found.sort(key=lambda c: not c.needs_safety_review)
        return found[offset : offset + limit], len(found)


@contextlib.asynccontextmanager
async def agent_api(
    client: Client, settings: Settings, activities: list[Callable[..., Any]] | None
) -> AsyncIterator[httpx.AsyncClient]:
    """The API over `client`, with a workflow worker on the settings' queue unless activities is None."""
    store = MemoryCaseStore()
    settings = settings.model_copy(update=auth_settings())
    app = create_app(settings, client, store)  # type: ignore[arg-type]
    # ASGITransport does not run the lifespan, so the state it would set is set here.
    app.state.settings = settings
    app.state.temporal = client
    app.state.case_store = store
    # The first redaction loads its name lists (seconds): keep that out of the timed requests.
    redact("warm up")
    async with contextlib.AsyncExitStack() as stack:
        if activities is not None:
            await stack.enter_async_context(
                Worker(
                    client,
                    task_queue=settings.workflow_task_queue,
                    workflows=workflow_classes(),
                    activities=activities,
                )
            )
        http_client = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://api",
                headers=bearer("pv-1", "agent", "safety_reviewer", "supervisor"),
            )
        )
        http_client.app_store = store  # type: ignore[attr-defined]
        yield http_client


@pytest.fixture
async def http(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    async with agent_api(
        time_skipping_env.client, queues_settings, FakeCaseActivities().definitions()
    ) as client:
        yield client


async def start_safety_case(
    env: WorkflowEnvironment,
    settings: Settings,
    store: MemoryCaseStore,
    *,
    task_queue: str | None = None,
    task_timeout: timedelta | None = None,
) -> str:
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
        task_queue=task_queue or settings.workflow_task_queue,
        task_timeout=task_timeout,
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
    # to_triage is for cases still waiting for the model; unknown ones answer per case as ever.
    manual = await http.post("/v1/admin/reclassify", json={"case_ids": [unknown], "to_triage": True})
    assert manual.status_code == 202 and manual.json()["results"][0]["outcome"] == "not_found"
    typo = await http.post("/v1/admin/reclassify", json={"case_ids": [unknown], "to_triage": "no"})
    assert typo.status_code == 422  # request bodies stay strict
    done = await http.post(f"/v1/cases/{safety_case}/decision", json=safety_decision("confirm"))
    assert done.status_code == 200, done.text


class SlowSafetyDecision(FakeCaseActivities):
    """Recording a reviewer's decision (the first step of carrying it out) waits for `release`."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    @activity.defn(name=RECORD_SAFETY_DECISION_ACTIVITY)
    async def record_safety_decision(self, record: SafetyDecisionRecord) -> AdverseEventReport:
        await self.release.wait()
        return await super().record_safety_decision(record)


async def case_status(env: WorkflowEnvironment, workflow_id: str) -> CaseStatus | None:
    snapshot: CaseSnapshot | None = await env.client.get_workflow_handle(workflow_id).query(
        "state", result_type=CaseSnapshot
    )
    return None if snapshot is None else snapshot.status


async def wait_for_status(env: WorkflowEnvironment, workflow_id: str, *statuses: CaseStatus) -> CaseStatus:
    for _ in range(200):
        status = await case_status(env, workflow_id)
        if status in statuses:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id} never reached {statuses}")


async def test_a_decision_accepted_but_not_carried_out_by_the_deadline_is_202_and_applied_later(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings
) -> None:
    env = time_skipping_env
    slow = SlowSafetyDecision()
    settings = queues_settings.model_copy(update={"agent_action_timeout_seconds": 3.0})
    async with agent_api(env.client, settings, slow.definitions()) as http:
        store: MemoryCaseStore = http.app_store  # type: ignore[attr-defined]
        # Case writes are local activities: the workflow task that accepts the decision also runs
        # the (blocked) write, and reports the acceptance at its heartbeat, 80% of its timeout.
        case_id = await start_safety_case(env, settings, store, task_timeout=timedelta(seconds=2))
        workflow_id = child_workflow_id(case_id, "safety_compliance")
        await wait_for_status(env, workflow_id, CaseStatus.awaiting_safety_review)
        started = time.monotonic()
        answer = await http.post(f"/v1/cases/{case_id}/decision", json=safety_decision("confirm"))
        elapsed = time.monotonic() - started
        assert answer.status_code == 202, answer.text
        assert answer.headers["location"] == f"/v1/cases/{case_id}"
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["status"] == "accepted"
        assert answer.json()["case_id"] == case_id
        assert 3.0 <= elapsed < 4.0, elapsed
        # Accepted is durable: nothing was recorded yet, and once the write goes through the
        # decision is carried out without anyone sending it again.
        assert RECORD_SAFETY_DECISION_ACTIVITY not in slow.names()
        slow.release.set()
        final = await env.client.get_workflow_handle(workflow_id, result_type=CaseSnapshot).result()
        assert final.status is CaseStatus.closed
        assert final.detail["safety_db_reference"] == "SDB-TEST"
        assert slow.names().count(RECORD_SAFETY_DECISION_ACTIVITY) == 1
        view = await http.get(answer.headers["location"])
        assert view.status_code == 200, view.text


async def test_actions_a_workflow_cannot_accept_by_the_deadline_are_504_and_applied_at_most_once(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings
) -> None:
    env = time_skipping_env
    settings = queues_settings.model_copy(update={"agent_action_timeout_seconds": 1.0})
    # No worker polls this queue (yet): the workflows exist, but nothing can accept an action.
    idle_queue = f"idle-{uuid.uuid4().hex[:8]}"
    activities = FakeCaseActivities()
    async with agent_api(env.client, settings, activities.definitions()) as http:
        store: MemoryCaseStore = http.app_store  # type: ignore[attr-defined]
        safety_case = await start_safety_case(env, settings, store, task_queue=idle_queue)
        service_case = await start_service_case(env, idle_queue)
        started = time.monotonic()
        decision = await http.post(f"/v1/cases/{safety_case}/decision", json=safety_decision("confirm"))
        elapsed = time.monotonic() - started
        assert decision.status_code == 504, decision.text
        assert decision.headers["content-type"].startswith("application/problem+json")
        assert "did not accept the decide action within 1 s" in decision.json()["detail"]
        assert "read the case before sending it again" in decision.json()["detail"]
        assert 1.0 <= elapsed < 2.5, elapsed
        ticket = await http.post(f"/v1/cases/{service_case}/ticket", json={"action": "resolve"})
        assert ticket.status_code == 504, ticket.text
        assert "Nothing was sent" in ticket.json()["detail"]

        # A worker comes back: both cases run to their end (an open workflow would hold the
        # shared time-skipping server's clock), and the decision is carried out exactly once,
        # whether the server kept the first attempt (as this one does: the update is applied
        # in the workflow's first task) or the reviewer has to send it again.
        async with Worker(
            env.client,
            task_queue=idle_queue,
            workflows=workflow_classes(),
            activities=activities.definitions(),
        ):
            safety_id = child_workflow_id(safety_case, "safety_compliance")
            status = await wait_for_status(
                env, safety_id, CaseStatus.awaiting_safety_review, CaseStatus.closed
            )
            if status is CaseStatus.awaiting_safety_review:
                again = await http.post(f"/v1/cases/{safety_case}/decision", json=safety_decision("confirm"))
                assert again.status_code in (200, 409), again.text
            final = await env.client.get_workflow_handle(safety_id, result_type=CaseSnapshot).result()
            assert final.status is CaseStatus.closed
            # Carried out once: one accepted update in the history (a second send was refused).
            # Counting activity calls would not show it: a local activity may run again when its
            # workflow task is retried, which is why case writes are idempotent.
            history = await env.client.get_workflow_handle(safety_id).fetch_history()
            accepted = [
                e for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")
            ]
            assert len(accepted) == 1
            assert RECORD_SAFETY_DECISION_ACTIVITY in activities.names()
            service_id = child_workflow_id(service_case, "service_action")
            await wait_for_status(env, service_id, CaseStatus.awaiting_agent)
            resolved = await http.post(f"/v1/cases/{service_case}/ticket", json={"action": "resolve"})
            assert resolved.status_code == 202, resolved.text
            closed = await env.client.get_workflow_handle(service_id, result_type=CaseSnapshot).result()
            assert closed.status is CaseStatus.closed


async def start_service_case(env: WorkflowEnvironment, task_queue: str) -> str:
    case_id = str(uuid.uuid4())
    message = InboundMessage(
        case_id=case_id,
        message_id=f"m-{case_id}",
        channel=Channel.chat,
        redacted_text="please cancel order 12345",
        received_at=await env.get_current_time(),
    )
    decision = RoutingDecision(
        category=Category.service_action,
        confidence=0.9,
        route=Route.service_action,
        decision_path=[],
        next_step="ticket",
    )
    await env.client.start_workflow(
        ServiceActionWorkflow.run,
        CaseRef(case_id=case_id, message=message, decision=decision),
        id=child_workflow_id(case_id, "service_action"),
        task_queue=task_queue,
    )
    return case_id


async def test_agent_actions_answer_503_when_temporal_is_unreachable(queues_settings: Settings) -> None:
    settings = queues_settings.model_copy(update={"agent_action_timeout_seconds": 1.0})
    # A client that was connected (as the API's is, from its start) to a server that then went away.
    gone = await WorkflowEnvironment.start_time_skipping(
        data_converter=build_data_converter(Settings()),
        test_server_existing_path=str(TEMPORAL_TEST_SERVER),
    )
    client = await Client.connect(
        gone.client.service_client.config.target_host, data_converter=build_data_converter(Settings())
    )
    await gone.shutdown()
    async with agent_api(client, settings, None) as http:
        case_id = str(uuid.uuid4())
        started = time.monotonic()
        decision = await http.post(f"/v1/cases/{case_id}/decision", json=safety_decision("confirm"))
        elapsed = time.monotonic() - started
        triage = await http.post(
            f"/v1/cases/{case_id}/triage", json={"category": "informational", "reason": "r"}
        )
        ticket = await http.post(f"/v1/cases/{case_id}/ticket", json={"action": "resolve"})
    for answer in (decision, triage, ticket):
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["detail"] == "The workflow service is unreachable."
    assert elapsed < 2.5, elapsed


async def test_the_openapi_document_declares_the_deadline_answers(http: httpx.AsyncClient) -> None:
    paths = (await http.get("/openapi.json")).json()["paths"]
    for action in ("decision", "triage"):
        responses = paths[f"/v1/cases/{{case_id}}/{action}"]["post"]["responses"]
        assert "Location" in responses["202"]["headers"]
        assert responses["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/ActionAccepted")
        for code in ("503", "504"):
            assert "application/problem+json" in responses[code]["content"], (action, code)
    ticket = paths["/v1/cases/{case_id}/ticket"]["post"]["responses"]
    assert "application/problem+json" in ticket["504"]["content"]
