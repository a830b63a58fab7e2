"""The review clock of possible safety cases: every round, in safety review and in triage.

Time-skipping server, in-memory case activities. Timers: review reminder 24 h / deadline 72 h,
triage reminder 1 h / deadline 4 h (CaseTimers defaults).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from core.config import Settings
from core.models import (
    CaseRef,
    CaseSnapshot,
    CaseStatus,
    Category,
    DecisionStep,
    Route,
    RoutingDecision,
    TriageDecision,
)
from core.names import child_workflow_id
from core.temporal_client import build_data_converter
from core.temporal_dev import TEMPORAL_TEST_SERVER
from temporal_workflows.safety_clock import safety_signals
from temporal_workflows.safety_compliance import SafetyComplianceWorkflow
from temporal_workflows.triage import TriageWorkflow
from tests.workflows.fake_case_activities import FakeCaseActivities
from tests.workflows.test_category_workflows import case_ref, case_worker, decision, eventually, status_is

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


def step(name: str, decision: str = "x", **observed: object) -> DecisionStep:
    return DecisionStep(step=name, actor="test", observed=observed, decision=decision, reason="r", at=T0)


def routing(route: Route, category: Category, *steps: DecisionStep) -> RoutingDecision:
    return RoutingDecision(
        category=category, confidence=0.5, route=route, decision_path=list(steps), next_step="n"
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ([step("acceptance_policy", p_safety=0.25, safety_floor=0.2)], ["p_safety_at_or_above_floor"]),
        ([step("acceptance_policy", p_safety=0.19, safety_floor=0.2)], []),
        ([step("safety_guard", findings=[{"signal": "rash"}], suppressed=[])], ["guard_finding"]),
        ([step("safety_guard", findings=[], suppressed=[{"signal": "vomit"}])], ["guard_finding_suppressed"]),
        ([step("llm_classification", decision="failed")], ["classification_failed"]),
        ([step("llm_classification", decision="informational")], []),
    ],
)
def test_safety_signals_are_read_from_the_decision_path(
    path: list[DecisionStep], expected: list[str]
) -> None:
    assert safety_signals(routing(Route.human_triage, Category.informational, *path)) == expected


def test_a_safety_route_is_a_safety_signal() -> None:
    assert safety_signals(routing(Route.safety_compliance, Category.safety_compliance)) == [
        "routed_to_safety_review"
    ]


@pytest.fixture(scope="module")
async def clock_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=build_data_converter(Settings()), test_server_existing_path=str(TEMPORAL_TEST_SERVER)
    )
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"clock-{uuid.uuid4().hex[:8]}"


def sent(fakes: FakeCaseActivities) -> list[tuple[str, str, str]]:
    return [(n.audience, n.template, n.key.rsplit(":notify:", 1)[1]) for n in fakes.notifications]


async def test_every_safety_review_round_has_reminders_and_a_supervisor_deadline(
    clock_env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeCaseActivities(serious=True)
    case_id = str(uuid.uuid4())
    received = await clock_env.get_current_time()
    async with case_worker(clock_env.client, task_queue, fakes):
        handle: WorkflowHandle[object, CaseSnapshot] = await clock_env.client.start_workflow(
            "SafetyComplianceWorkflow",
            case_ref(case_id, Route.safety_compliance, received),
            id=child_workflow_id(case_id, "safety_compliance"),
            task_queue=task_queue,
            result_type=CaseSnapshot,
        )
        await eventually(lambda: status_is(handle, CaseStatus.awaiting_safety_review))
        await clock_env.sleep(timedelta(hours=73))
        await eventually(lambda: status_is(handle, CaseStatus.escalated))
        await handle.execute_update(SafetyComplianceWorkflow.decide, decision("escalate", 1))
        await clock_env.sleep(timedelta(hours=73))
        await eventually(lambda: _count(fakes, "safety_review_overdue", 2))
        await handle.execute_update(SafetyComplianceWorkflow.decide, decision("confirm", 2))
        final = await handle.result()
    notifications = sent(fakes)
    assert ("supervisor", "safety_review_overdue", "safety_review_deadline:1") in notifications
    assert ("supervisor", "safety_review_overdue", "safety_review_deadline:2") in notifications
    reminders = [key for _, template, key in notifications if template == "safety_review_reminder"]
    # 24 h and 48 h and 72 h in each round: reminders repeat until someone decides.
    assert {"safety_review_reminder:1:1", "safety_review_reminder:1:2", "safety_review_reminder:2:1"} <= set(
        reminders
    )
    # The queue shows the regulatory due date (day zero = receipt) and each round's deadline.
    assert [p.priority for p in fakes.priorities] == ["safety", "safety"]
    assert {p.regulatory_due_date for p in fakes.priorities} == {received.date() + timedelta(days=15)}
    first, second = (p.review_due_at for p in fakes.priorities)
    assert first is not None and second is not None
    assert timedelta(hours=72) <= first - received < timedelta(hours=72, minutes=1)
    assert second > first + timedelta(hours=72)
    assert final.status is CaseStatus.closed


def _count(fakes: FakeCaseActivities, template: str, n: int) -> object:
    async def probe() -> bool:
        return fakes.templates().count(template) >= n

    return probe()


async def test_a_possible_safety_case_in_triage_is_on_the_clock_from_receipt(
    clock_env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeCaseActivities(kb_score=0.8)
    case_id = str(uuid.uuid4())
    received = await clock_env.get_current_time() - timedelta(minutes=3)  # classified 3 min after receipt
    ref = case_ref(case_id, Route.human_triage, received)
    plausible = routing(
        Route.human_triage,
        Category.informational,
        step("safety_guard", decision="no_change", findings=[], suppressed=[{"signal": "vomit"}]),
        step("acceptance_policy", decision="human_triage", p_safety=0.31, safety_floor=0.2),
    )
    ref = CaseRef.model_validate({**ref.model_dump(), "decision": plausible.model_dump()})
    async with case_worker(clock_env.client, task_queue, fakes):
        handle: WorkflowHandle[object, CaseSnapshot] = await clock_env.client.start_workflow(
            "TriageWorkflow",
            ref,
            id=child_workflow_id(case_id, "human_triage"),
            task_queue=task_queue,
            result_type=CaseSnapshot,
        )
        await eventually(lambda: status_is(handle, CaseStatus.awaiting_triage))
        await clock_env.sleep(timedelta(hours=4, minutes=1))
        await eventually(lambda: status_is(handle, CaseStatus.escalated))
        snapshot = await handle.query(TriageWorkflow.state)
        await handle.execute_update(
            TriageWorkflow.triage,
            TriageDecision(category=Category.safety_compliance, agent="a-1", reason="hives after tablets"),
        )
        await eventually(lambda: _has_template(fakes, "safety_review_requested"))
        await clock_env.client.get_workflow_handle(
            child_workflow_id(case_id, "safety_compliance")
        ).terminate()
    assert snapshot is not None
    assert snapshot.detail["safety_signals"] == ["guard_finding_suppressed", "p_safety_at_or_above_floor"]
    assert snapshot.detail["day_zero"] == received.isoformat()
    due = received.date() + timedelta(days=15)
    assert fakes.priorities[0].priority == "safety"
    assert fakes.priorities[0].regulatory_due_date == due
    notifications = sent(fakes)
    assert notifications[0] == ("safety_team", "safety_triage_requested", "triage_requested")
    assert ("safety_team", "safety_triage_reminder", "safety_triage_reminder:1:1") in notifications
    assert ("supervisor", "safety_triage_overdue", "safety_triage_deadline:1") in notifications
    # The safety workflow that follows keeps day zero at receipt, not at triage.
    intake = next(arg for name, arg in fakes.calls if name == "open_adverse_event_report")
    assert intake.day_zero == received


async def _has_template(fakes: FakeCaseActivities, template: str) -> bool:
    return template in fakes.templates()


async def test_triage_without_a_safety_signal_stays_in_the_agent_queue(
    clock_env: WorkflowEnvironment, task_queue: str
) -> None:
    fakes = FakeCaseActivities(kb_score=0.8)
    case_id = str(uuid.uuid4())
    ref = case_ref(case_id, Route.human_triage, await clock_env.get_current_time())
    calm = routing(
        Route.human_triage,
        Category.informational,
        step("acceptance_policy", decision="human_triage", p_safety=0.05, safety_floor=0.2),
    )
    ref = CaseRef.model_validate({**ref.model_dump(), "decision": calm.model_dump()})
    async with case_worker(clock_env.client, task_queue, fakes):
        handle: WorkflowHandle[object, CaseSnapshot] = await clock_env.client.start_workflow(
            "TriageWorkflow",
            ref,
            id=child_workflow_id(case_id, "human_triage"),
            task_queue=task_queue,
            result_type=CaseSnapshot,
        )
        await eventually(lambda: status_is(handle, CaseStatus.awaiting_triage))
        await handle.execute_update(
            TriageWorkflow.triage, TriageDecision(category=Category.informational, agent="a-1", reason="q")
        )
        await handle.result()
    assert sent(fakes)[0] == ("agent", "triage_requested", "triage_requested")
    assert fakes.priorities == []
