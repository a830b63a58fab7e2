"""MessageWorkflow on the time-skipping server, with the fake LLM behind the real activity."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.routing import RoutingActivities
from classifier.backends.fake import FakeBackend
from classifier.pipeline import ClassificationPipeline
from classifier.policy import load_thresholds
from classifier.service import Classifier
from core.config import Settings
from core.models import (
    CaseSnapshot,
    CaseStatus,
    Category,
    Channel,
    GuardFinding,
    GuardResult,
    InboundMessage,
    MessageOutcome,
    MessageWorkflowInput,
    ReclassifyRequest,
    Route,
    SafetyDecision,
    TicketUpdate,
)
from core.names import child_workflow_id, message_workflow_id
from core.temporal_client import build_data_converter
from core.temporal_dev import TEMPORAL_TEST_SERVER
from temporal_workflows.message import CLASSIFY_HEARTBEAT_TIMEOUT, CLASSIFY_PATIENCE, MessageWorkflow
from temporal_workflows.safety_compliance import SafetyComplianceWorkflow
from temporal_workflows.service_action import ServiceActionWorkflow
from tests.workflows.fake_case_activities import FakeCaseActivities
from worker.main import build_workers


def no_signal_guard(_: str) -> GuardResult:
    return GuardResult(raise_to_safety=False)


def overdose_guard(text: str) -> GuardResult:
    if "double" in text:
        finding = GuardFinding(signal="overdose", language="en", evidence="double")
        return GuardResult(raise_to_safety=True, findings=[finding])
    return GuardResult(raise_to_safety=False)


@asynccontextmanager
async def running_worker(
    client: Client,
    settings: Settings,
    backend: FakeBackend,
    guard: Callable[[str], GuardResult] = no_signal_guard,
    case_activities: FakeCaseActivities | None = None,
) -> AsyncIterator[None]:
    thresholds = load_thresholds(settings.policy_file)
    pipeline = ClassificationPipeline(Classifier(backend), guard, "test-guard", thresholds)
    fakes = case_activities or FakeCaseActivities()
    with ThreadPoolExecutor(max_workers=1) as executor:
        workers: list[Worker] = build_workers(
            client,
            settings,
            pipeline=pipeline,
            llm_executor=executor,
            activities=fakes.definitions(),
            routing=RoutingActivities(guard, "test-guard"),
        )
        async with workers[0], workers[1]:
            yield


async def child_started(child: WorkflowHandle[Any, Any]) -> None:
    """The child starts after the case is recorded, a moment after the classification update returns."""
    for _ in range(100):
        try:
            if await child.query("state", result_type=CaseSnapshot) is not None:
                return
        except RPCError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("the category workflow never started")


async def classified(handle: WorkflowHandle[MessageWorkflow, MessageOutcome]) -> MessageOutcome:
    """The routing decision, read by query (an update sent long before it is ready may time out)."""
    for _ in range(200):
        outcome = await handle.query(MessageWorkflow.outcome)
        if outcome is not None:
            return outcome
        await asyncio.sleep(0.05)
    raise AssertionError("the message was never classified")


async def start(
    client: Client, settings: Settings, text: str
) -> WorkflowHandle[MessageWorkflow, MessageOutcome]:
    case_id = str(uuid.uuid4())
    message = InboundMessage(
        case_id=case_id,
        message_id=f"m-{case_id}",
        channel=Channel.chat,
        redacted_text=text,
        received_at=datetime(2026, 11, 25, tzinfo=timezone.utc),
    )
    return await client.start_workflow(
        MessageWorkflow.run,
        MessageWorkflowInput(message=message, llm_task_queue=settings.llm_task_queue),
        id=message_workflow_id(case_id),
        task_queue=settings.workflow_task_queue,
    )


async def test_classification_is_retried_by_temporal_and_routes_to_the_service_child(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings
) -> None:
    backend = FakeBackend(fail_times=1)
    fakes = FakeCaseActivities()
    client = time_skipping_env.client
    async with running_worker(client, queues_settings, backend, case_activities=fakes):
        handle = await start(client, queues_settings, "please cancel order 12345")
        outcome = await handle.execute_update(MessageWorkflow.classification)
        child = client.get_workflow_handle_for(ServiceActionWorkflow.run, outcome.child_workflow_id or "")
        await child_started(child)
        await child.signal(ServiceActionWorkflow.ticket_update, TicketUpdate(action="resolve", agent="a-1"))
        final = await handle.result()
    assert len(backend.requests) == 2  # first attempt failed, second succeeded
    assert outcome.route is Route.service_action
    assert outcome.category is Category.service_action
    assert 0.0 <= outcome.confidence <= 1.0
    assert [s.step for s in outcome.decision_path] == [
        "intake",
        "llm_classification",
        "safety_guard",
        "acceptance_policy",
    ]
    assert outcome.child_workflow_id == child_workflow_id(outcome.case_id, "service_action")
    assert final.status is CaseStatus.closed
    recorded = next(arg for name, arg in fakes.calls if name == "record_case")
    assert recorded.record.status is CaseStatus.classified
    assert recorded.record.route is Route.service_action
    assert [s.step for s in recorded.decision_path] == [s.step for s in outcome.decision_path]
    # The case row exists before the category workflow does anything.
    assert fakes.names().index("record_case") < fakes.names().index("extract_service_request")
    history = await handle.fetch_history()
    failed = [e for e in history.events if e.HasField("activity_task_failed_event_attributes")]
    assert failed == []  # retries of a retried activity are recorded in the attempt count, not as events
    completed = next(e for e in history.events if e.HasField("activity_task_completed_event_attributes"))
    started = next(e for e in history.events if e.HasField("activity_task_started_event_attributes"))
    assert started.activity_task_started_event_attributes.attempt == 2
    assert completed is not None
    # A worker killed mid-call is noticed after the heartbeat timeout, not the 30 s start-to-close.
    scheduled = next(e for e in history.events if e.HasField("activity_task_scheduled_event_attributes"))
    attributes = scheduled.activity_task_scheduled_event_attributes
    assert attributes.activity_type.name == "classify_message"
    assert attributes.heartbeat_timeout.ToTimedelta() == CLASSIFY_HEARTBEAT_TIMEOUT == timedelta(seconds=10)
    assert attributes.start_to_close_timeout.ToTimedelta() == timedelta(seconds=30)


async def test_safety_case_waits_for_a_human_decision(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, queues_settings, FakeBackend()):
        handle = await start(client, queues_settings, "I got a rash from the new tablets")
        outcome = await handle.execute_update(MessageWorkflow.classification)
        assert outcome.route is Route.safety_compliance
        assert await handle.query(MessageWorkflow.status) is CaseStatus.classified
        child = client.get_workflow_handle_for(SafetyComplianceWorkflow.run, outcome.child_workflow_id or "")
        await child_started(child)
        await child.execute_update(
            SafetyComplianceWorkflow.decide,
            SafetyDecision(decision="confirm", reviewer="pv-1", reason="rash after start", review_round=1),
        )
        final = await handle.result()
    assert final.status is CaseStatus.closed


async def test_guard_override_is_recorded_next_to_the_llm_verdict(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings
) -> None:
    client = time_skipping_env.client
    async with running_worker(client, queues_settings, FakeBackend(), guard=overdose_guard):
        handle = await start(client, queues_settings, "refund order 5 I took a double")
        outcome = await handle.execute_update(MessageWorkflow.classification)
        await handle.terminate("test done")
    steps = {s.step: s for s in outcome.decision_path}
    assert steps["llm_classification"].decision == "service_action"
    assert steps["safety_guard"].decision == "raise_to_safety"
    assert outcome.route is Route.safety_compliance


@pytest.fixture
async def own_clock_env() -> AsyncIterator[WorkflowEnvironment]:
    """A server of its own: this test moves the clock, which a shared server's other runs may hold."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=build_data_converter(Settings()), test_server_existing_path=str(TEMPORAL_TEST_SERVER)
    )
    yield env
    await env.shutdown()


async def test_llm_outage_waits_visibly_and_classifies_when_the_pool_is_back(
    own_clock_env: WorkflowEnvironment, queues_settings: Settings
) -> None:
    time_skipping_env = own_clock_env
    # Fails for ~15 virtual minutes of backoff (1+2+...+256+300+300 s), then answers.
    backend = FakeBackend(fail_times=11)
    fakes = FakeCaseActivities()
    client = time_skipping_env.client
    async with running_worker(client, queues_settings, backend, case_activities=fakes):
        handle = await start(client, queues_settings, "where is my parcel")
        # Time skips only while the test sleeps on the server's clock.
        await time_skipping_env.sleep(CLASSIFY_PATIENCE + timedelta(minutes=1))
        waiting = await handle.query(MessageWorkflow.status)
        await time_skipping_env.sleep(timedelta(minutes=20))
        outcome = await classified(handle)
        await handle.result()  # the informational case answers and closes on its own
    assert waiting is CaseStatus.awaiting_classification
    assert len(backend.requests) == 12  # retried until the pool answered, not failed after 4
    assert outcome.route is Route.informational
    steps = [s.step for s in outcome.decision_path]
    assert steps[:2] == ["intake", "classification_waiting"]
    assert steps[-1] == "acceptance_policy"
    records = [arg.record for name, arg in fakes.calls if name == "record_case"]
    # Stored (and listed) as awaiting_classification while it waited, then classified.
    assert [(r.status, r.route) for r in records] == [
        (CaseStatus.awaiting_classification, None),
        (CaseStatus.classified, Route.informational),
    ]


async def test_unparseable_model_output_is_not_retried(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings
) -> None:
    backend = FakeBackend(scorer=lambda _: [0.0, 0.0, 0.0])
    client = time_skipping_env.client
    async with running_worker(client, queues_settings, backend):
        handle = await start(client, queues_settings, "hello")
        outcome = await handle.execute_update(MessageWorkflow.classification)
        await handle.terminate("test done")
    assert len(backend.requests) == 1
    assert outcome.route is Route.human_triage


async def test_an_operator_reclassify_starts_a_fresh_attempt_without_waiting_for_the_backoff(
    own_clock_env: WorkflowEnvironment, queues_settings: Settings
) -> None:
    backend = FakeBackend(fail_times=100)
    client = own_clock_env.client
    async with running_worker(client, queues_settings, backend):
        handle = await start(client, queues_settings, "where is my parcel")
        await own_clock_env.sleep(CLASSIFY_PATIENCE + timedelta(minutes=1))
        assert await handle.query(MessageWorkflow.status) is CaseStatus.awaiting_classification
        attempts_while_down = len(backend.requests)
        backend._failures_left = 0  # the pool is back; the next retry would be minutes away
        await handle.signal(
            MessageWorkflow.reclassify, ReclassifyRequest(requested_by="ops-1", reason="pool back")
        )
        await own_clock_env.sleep(timedelta(seconds=5))
        outcome = await classified(handle)
        await handle.result()
    assert outcome.route is Route.informational
    assert len(backend.requests) == attempts_while_down + 1
    reclassify_steps = [s for s in outcome.decision_path if s.step == "reclassify_requested"]
    assert len(reclassify_steps) == 1


async def test_an_operator_sends_a_case_waiting_for_the_llm_to_human_triage(
    own_clock_env: WorkflowEnvironment, queues_settings: Settings
) -> None:
    """A long outage: people take over an unclassified case as a possible safety case."""
    backend = FakeBackend(fail_times=1000)
    fakes = FakeCaseActivities()
    client = own_clock_env.client
    async with running_worker(client, queues_settings, backend, case_activities=fakes):
        handle = await start(client, queues_settings, "where is my parcel")
        await own_clock_env.sleep(CLASSIFY_PATIENCE + timedelta(minutes=1))
        assert await handle.query(MessageWorkflow.status) is CaseStatus.awaiting_classification
        await handle.signal(
            MessageWorkflow.reclassify,
            ReclassifyRequest(requested_by="sup-1", reason="pool down for hours", to_triage=True),
        )
        outcome = await classified(handle)
        attempts = len(backend.requests)
        triage = client.get_workflow_handle(outcome.child_workflow_id or "", result_type=CaseSnapshot)
        state: CaseSnapshot | None = None
        for _ in range(100):
            with contextlib.suppress(RPCError):  # the triage workflow starts after the case write
                state = await triage.query("state", result_type=CaseSnapshot)
            if state is not None and state.status is CaseStatus.awaiting_triage:
                break
            await asyncio.sleep(0.05)
        await own_clock_env.sleep(timedelta(minutes=30))
        assert len(backend.requests) == attempts  # the abandoned attempt is not retried any more
        await handle.terminate("test done")
        await triage.terminate("test done")
    assert outcome.route is Route.human_triage
    assert outcome.category is Category.safety_compliance  # unclassified: treated as possibly safety
    assert state is not None and state.status is CaseStatus.awaiting_triage
    # Nobody has ruled out an adverse event: triage runs the safety clock for it.
    assert state.detail["safety_signals"] == ["not_classified"]
    steps = {s.step: s for s in outcome.decision_path}
    assert steps["reclassify_requested"].decision == "to_triage"
    assert steps["reclassify_requested"].actor == "operator:sup-1"
    assert steps["llm_classification"].decision == "skipped"
    records = [arg.record for name, arg in fakes.calls if name == "record_case"]
    assert [(r.status, r.route) for r in records] == [
        (CaseStatus.awaiting_classification, None),
        (CaseStatus.classified, Route.human_triage),
    ]
