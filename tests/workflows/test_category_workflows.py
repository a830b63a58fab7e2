"""Category workflows on the time-skipping server, with in-memory fakes behind the activity names."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.config import Settings
from core.models import (
    CaseRef,
    CaseSnapshot,
    CaseStatus,
    CaseTimers,
    Category,
    Channel,
    ClassificationOutcome,
    ClassifyInput,
    InboundMessage,
    ReclassifyRequest,
    Route,
    RouteRequest,
    RoutingDecision,
    SafetyDecision,
    TicketUpdate,
    TriageDecision,
)
from core.names import CLASSIFY_ACTIVITY, DECIDE_ROUTE_ACTIVITY, child_workflow_id, rerouted_workflow_id
from core.temporal_client import build_data_converter
from core.temporal_dev import TEMPORAL_TEST_SERVER
from temporal_workflows.informational import InformationalWorkflow
from temporal_workflows.safety_compliance import SafetyComplianceWorkflow
from temporal_workflows.service_action import ServiceActionWorkflow
from temporal_workflows.triage import TriageWorkflow
from tests.unit.test_policy import outcome
from tests.workflows.fake_case_activities import FakeCaseActivities
from worker.main import workflow_classes

TIMERS = CaseTimers(
    service_sla=timedelta(hours=4), review_reminder=timedelta(hours=24), review_deadline=timedelta(hours=72)
)


@asynccontextmanager
async def case_worker(client: Client, task_queue: str, fakes: FakeCaseActivities) -> AsyncIterator[None]:
    async with Worker(
        client, task_queue=task_queue, workflows=workflow_classes(), activities=fakes.definitions()
    ):
        yield


def case_ref(case_id: str, route: Route, received_at: datetime, text: str = "text") -> CaseRef:
    category = Category.safety_compliance if route is Route.human_triage else Category(route.value)
    message = InboundMessage(
        case_id=case_id,
        message_id=f"m-{case_id}",
        channel=Channel.email,
        redacted_text=text,
        received_at=received_at,
    )
    decision = RoutingDecision(
        category=category, confidence=0.9, route=route, decision_path=[], next_step="test"
    )
    return CaseRef(case_id=case_id, message=message, decision=decision, timers=TIMERS)


async def eventually(probe: Callable[[], Awaitable[bool]], attempts: int = 100) -> None:
    for _ in range(attempts):
        if await probe():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition never became true")


async def state_of(handle: WorkflowHandle[object, CaseSnapshot]) -> CaseSnapshot | None:
    result: CaseSnapshot | None = await handle.query("state", result_type=CaseSnapshot)
    return result


async def status_is(handle: WorkflowHandle[object, CaseSnapshot], status: CaseStatus) -> bool:
    snapshot = await state_of(handle)
    return snapshot is not None and snapshot.status is status


async def start_child(
    env: WorkflowEnvironment, workflow_type: type, route: Route, task_queue: str, text: str = "text"
) -> tuple[str, WorkflowHandle[object, CaseSnapshot]]:
    case_id = str(uuid.uuid4())
    handle: WorkflowHandle[object, CaseSnapshot] = await env.client.start_workflow(
        workflow_type.__name__,
        case_ref(case_id, route, await env.get_current_time(), text),
        id=child_workflow_id(case_id, route.value),
        task_queue=task_queue,
        result_type=CaseSnapshot,
    )
    return case_id, handle


def decision(verdict: str, review_round: int = 1, reroute_to: Category | None = None) -> SafetyDecision:
    return SafetyDecision.model_validate(
        {
            "decision": verdict,
            "reviewer": "pv-1",
            "reason": "reviewed",
            "review_round": review_round,
            "reroute_to": reroute_to,
        }
    )


@pytest.fixture(scope="module")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A server of its own: a workflow another module terminated mid-activity would hold the shared
    server's clock, and these tests need to move it."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=build_data_converter(Settings()), test_server_existing_path=str(TEMPORAL_TEST_SERVER)
    )
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"cases-{uuid.uuid4().hex[:8]}"


async def test_informational_answer_above_threshold_is_sent_and_closed(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeCaseActivities(kb_score=0.7)
    async with case_worker(time_skipping_env.client, task_queue, fakes):
        _, handle = await start_child(
            time_skipping_env, InformationalWorkflow, Route.informational, task_queue
        )
        final = await handle.result()
    assert final.status is CaseStatus.closed
    assert final.detail["article_id"] == "kb-shipping-times"
    sent = fakes.notifications[0]
    assert (sent.audience, sent.template) == ("customer", "kb_answer")
    answer_audit = next(e for e in fakes.audit if e.step == "kb_answer")
    assert answer_audit.observed["article_version"] == 3
    assert answer_audit.observed["score"] == 0.7
    assert fakes.statuses == [CaseStatus.answered, CaseStatus.closed]


async def test_informational_low_score_goes_to_an_agent(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeCaseActivities(kb_score=0.1)
    async with case_worker(time_skipping_env.client, task_queue, fakes):
        _, handle = await start_child(
            time_skipping_env, InformationalWorkflow, Route.informational, task_queue
        )
        final = await handle.result()
    assert final.status is CaseStatus.closed
    assert fakes.statuses == [CaseStatus.awaiting_agent, CaseStatus.closed]
    assert [n.audience for n in fakes.notifications] == ["agent"]


async def test_service_sla_breach_escalates_and_resolve_ends_the_workflow(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeCaseActivities()
    async with case_worker(time_skipping_env.client, task_queue, fakes):
        _, handle = await start_child(
            time_skipping_env, ServiceActionWorkflow, Route.service_action, task_queue
        )
        await eventually(lambda: status_is(handle, CaseStatus.awaiting_agent))
        await time_skipping_env.sleep(timedelta(hours=4, minutes=5))
        await eventually(lambda: status_is(handle, CaseStatus.escalated))
        assert [c.status for c in fakes.ticket_changes] == ["escalated"]
        assert ("supervisor", "service_sla_breach") in [(n.audience, n.template) for n in fakes.notifications]
        await handle.signal(ServiceActionWorkflow.ticket_update, TicketUpdate(action="pick_up", agent="a-1"))
        await handle.signal(ServiceActionWorkflow.ticket_update, TicketUpdate(action="resolve", agent="a-1"))
        final = await handle.result()
    assert final.status is CaseStatus.closed
    assert [c.status for c in fakes.ticket_changes] == ["escalated", "in_progress", "resolved"]
    assert fakes.statuses[-1] is CaseStatus.closed


async def test_ticket_picked_up_in_time_is_not_escalated(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeCaseActivities()
    async with case_worker(time_skipping_env.client, task_queue, fakes):
        case_id, handle = await start_child(
            time_skipping_env, ServiceActionWorkflow, Route.service_action, task_queue
        )
        await handle.signal(ServiceActionWorkflow.ticket_update, TicketUpdate(action="pick_up", agent="a-1"))
        comment = TicketUpdate(action="comment", agent="a-1", note="calling", request_id="req-1")
        await handle.signal(ServiceActionWorkflow.ticket_update, comment)
        await handle.signal(ServiceActionWorkflow.ticket_update, comment)  # client retry: applied once
        await handle.signal(ServiceActionWorkflow.ticket_update, TicketUpdate(action="resolve", agent="a-1"))
        final = await handle.result()
    assert final.status is CaseStatus.closed
    assert [c.status for c in fakes.ticket_changes] == ["in_progress", None, "resolved"]
    assert CaseStatus.escalated not in fakes.statuses
    ticket_request = next(arg for name, arg in fakes.calls if name == "create_ticket")
    assert ticket_request.case_id == case_id  # the ticketing system deduplicates on the case
    assert [n.template for n in fakes.notifications] == ["service_ack", "service_resolved"]


async def test_safety_review_reminder_then_deadline_escalation_then_confirm_submits(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeCaseActivities(serious=True)
    async with case_worker(time_skipping_env.client, task_queue, fakes):
        _, handle = await start_child(
            time_skipping_env, SafetyComplianceWorkflow, Route.safety_compliance, task_queue
        )
        await eventually(lambda: _has(fakes, "safety_review_requested"))
        await time_skipping_env.sleep(timedelta(hours=25))
        await eventually(lambda: _has(fakes, "safety_review_reminder"))
        assert await status_is(handle, CaseStatus.awaiting_safety_review)
        await time_skipping_env.sleep(timedelta(hours=48))
        await eventually(lambda: status_is(handle, CaseStatus.escalated))
        assert ("supervisor", "safety_review_overdue") in [
            (n.audience, n.template) for n in fakes.notifications
        ]
        # Escalated, but still waiting for the human decision.
        snapshot = await handle.execute_update(SafetyComplianceWorkflow.decide, decision("confirm"))
        final = await handle.result()
    assert snapshot.status is CaseStatus.closed
    assert final.status is CaseStatus.closed
    assert final.detail["safety_db_reference"] == "SDB-TEST"
    assert fakes.statuses[-2:] == [CaseStatus.submitted, CaseStatus.closed]
    assert "submit_to_safety_database" in fakes.names()


async def _has(fakes: FakeCaseActivities, template: str) -> bool:
    return template in fakes.templates()


async def test_confirm_submits_to_the_safety_database(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeCaseActivities()
    async with case_worker(time_skipping_env.client, task_queue, fakes):
        case_id, handle = await start_child(
            time_skipping_env, SafetyComplianceWorkflow, Route.safety_compliance, task_queue
        )
        await eventually(lambda: _has(fakes, "safety_review_requested"))
        await handle.execute_update(SafetyComplianceWorkflow.decide, decision("confirm"))
        final = await handle.result()
    assert final.status is CaseStatus.closed
    submission = next(arg for name, arg in fakes.calls if name == "submit_to_safety_database")
    assert (submission.case_id, submission.report_id, submission.reviewer) == (case_id, "AER-TEST", "pv-1")
    recorded = next(arg for name, arg in fakes.calls if name == "record_safety_decision")
    assert recorded.status == "confirmed"


async def test_stale_duplicate_and_incomplete_decisions_are_rejected(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeCaseActivities()
    async with case_worker(time_skipping_env.client, task_queue, fakes):
        _, handle = await start_child(
            time_skipping_env, SafetyComplianceWorkflow, Route.safety_compliance, task_queue
        )
        await eventually(lambda: _has(fakes, "safety_review_requested"))
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(SafetyComplianceWorkflow.decide, decision("not_a_safety_case"))
        escalated = await handle.execute_update(SafetyComplianceWorkflow.decide, decision("escalate"))
        assert escalated.detail["review_round"] == 2
        assert escalated.status is CaseStatus.escalated
        with pytest.raises(WorkflowUpdateFailedError) as rejected:
            # The same escalation sent again is for a round that is over.
            await handle.execute_update(SafetyComplianceWorkflow.decide, decision("escalate"))
        assert "stale decision for review round 1" in str(rejected.value.cause)
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(SafetyComplianceWorkflow.decide, decision("confirm", review_round=3))
        # A stale signal is dropped, not applied.
        await handle.signal(SafetyComplianceWorkflow.decision_signal, decision("confirm", review_round=1))
        await handle.execute_update(SafetyComplianceWorkflow.decide, decision("confirm", review_round=2))
        final = await handle.result()
    assert final.status is CaseStatus.closed
    recorded = [arg.status for name, arg in fakes.calls if name == "record_safety_decision"]
    assert recorded == ["escalated", "confirmed"]
    assert ("supervisor", "safety_review_escalated") in [
        (n.audience, n.template) for n in fakes.notifications
    ]


async def reroute_to_service(
    env: WorkflowEnvironment, task_queue: str, fakes: FakeCaseActivities
) -> tuple[str, CaseSnapshot]:
    """A safety case a reviewer calls not a safety case, rerouted to service_action; the safety workflow's final snapshot."""
    case_id, handle = await start_child(env, SafetyComplianceWorkflow, Route.safety_compliance, task_queue)
    await eventually(lambda: _has(fakes, "safety_review_requested"))
    await handle.execute_update(
        SafetyComplianceWorkflow.decide, decision("not_a_safety_case", reroute_to=Category.service_action)
    )
    return case_id, await handle.result()


async def test_not_a_safety_case_starts_the_rerouted_category_workflow(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeCaseActivities()
    client = time_skipping_env.client
    async with case_worker(client, task_queue, fakes):
        case_id, final = await reroute_to_service(time_skipping_env, task_queue, fakes)
        rerouted_id = rerouted_workflow_id(case_id, "service_action")
        assert final.status is CaseStatus.closed
        assert final.detail["next_workflow_id"] == rerouted_id
        rerouted: WorkflowHandle[object, CaseSnapshot] = client.get_workflow_handle(
            rerouted_id, result_type=CaseSnapshot
        )
        await eventually(lambda: status_is(rerouted, CaseStatus.awaiting_agent))
        await rerouted.signal(
            ServiceActionWorkflow.ticket_update, TicketUpdate(action="resolve", agent="a-2")
        )
        rerouted_final = await rerouted.result()
    assert rerouted_final.category is Category.service_action
    assert rerouted_final.status is CaseStatus.closed
    assert "submit_to_safety_database" not in fakes.names()
    recorded = next(arg for name, arg in fakes.calls if name == "record_safety_decision")
    assert recorded.status == "rejected"


async def test_a_rerouted_case_whose_ticket_is_refused_becomes_needs_attention_not_a_silent_failure(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeCaseActivities()
    fakes.ticket_error = ApplicationError(
        "ticket system refused the order", type="InvalidTransitionError", non_retryable=True
    )
    client = time_skipping_env.client
    async with case_worker(client, task_queue, fakes):
        case_id, _ = await reroute_to_service(time_skipping_env, task_queue, fakes)
        rerouted: WorkflowHandle[object, CaseSnapshot] = client.get_workflow_handle(
            rerouted_workflow_id(case_id, "service_action"), result_type=CaseSnapshot
        )
        # Nothing waits for a rerouted workflow: it records the failure itself and completes.
        rerouted_final = await rerouted.result()
    assert rerouted_final.status is CaseStatus.needs_attention
    assert fakes.statuses[-1] is CaseStatus.needs_attention
    assert ("supervisor", "case_needs_attention") in [(n.audience, n.template) for n in fakes.notifications]
    attention = [entry for entry in fakes.audit if entry.step == "needs_attention"]
    assert [entry.decision for entry in attention] == ["InvalidTransitionError"]
    assert attention[0].observed["failed_workflow"] == "ServiceActionWorkflow"


async def test_triage_decision_continues_into_the_chosen_category_workflow(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeCaseActivities(kb_score=0.8)
    client = time_skipping_env.client
    async with case_worker(client, task_queue, fakes):
        case_id, handle = await start_child(time_skipping_env, TriageWorkflow, Route.human_triage, task_queue)
        await eventually(lambda: status_is(handle, CaseStatus.awaiting_triage))
        triage = TriageDecision(category=Category.informational, agent="a-3", reason="a shipping question")
        snapshot = await handle.execute_update(TriageWorkflow.triage, triage)
        assert snapshot.detail["next_workflow_id"] == child_workflow_id(case_id, "informational")
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(TriageWorkflow.triage, triage)
        final = await handle.result()
        child = await client.get_workflow_handle(
            child_workflow_id(case_id, "informational"), result_type=CaseSnapshot
        ).result()
    assert final.category is Category.informational
    assert final.status is CaseStatus.closed
    assert child.workflow == "informational"
    assert "kb_answer" in fakes.templates()


async def test_a_reclassify_whose_routing_step_fails_for_good_is_audited_and_triage_goes_on(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    """The routing decision is a local activity: its non-retryable error arrives as the bare
    ApplicationError (not an ActivityError), and must not fail the triage workflow."""

    @activity.defn(name=CLASSIFY_ACTIVITY)
    async def classify(_: ClassifyInput) -> ClassificationOutcome:
        return outcome(0.9, 0.05, 0.05)

    @activity.defn(name=DECIDE_ROUTE_ACTIVITY)
    async def broken_decide(_: RouteRequest) -> None:
        raise ApplicationError("policy file unreadable", type="PolicyError", non_retryable=True)

    fakes = FakeCaseActivities()
    llm_queue = f"{task_queue}-llm"
    client = time_skipping_env.client
    async with (
        Worker(client, task_queue=llm_queue, activities=[classify]),
        Worker(
            client,
            task_queue=task_queue,
            workflows=workflow_classes(),
            activities=[*fakes.definitions(), broken_decide],
        ),
    ):
        _, handle = await start_child(time_skipping_env, TriageWorkflow, Route.human_triage, task_queue)
        await eventually(lambda: status_is(handle, CaseStatus.awaiting_triage))
        await handle.signal(
            TriageWorkflow.reclassify, ReclassifyRequest(requested_by="ops-1", llm_task_queue=llm_queue)
        )

        async def failure_audited() -> bool:
            return any(e.step == "reclassify" and e.decision == "failed" for e in fakes.audit)

        await eventually(failure_audited)
        failed = next(e for e in fakes.audit if e.step == "reclassify" and e.decision == "failed")
        assert "ApplicationError" in failed.reason
        assert await status_is(handle, CaseStatus.awaiting_triage)
        triage = TriageDecision(category=Category.informational, agent="a-3", reason="a shipping question")
        await handle.execute_update(TriageWorkflow.triage, triage)
        final = await handle.result()
    assert final.category is Category.informational
