"""Record a new set of replay histories: `python -m tests.histories.generate [--release TAG]`.

Runs each workflow scenario on the time-skipping test server with the in-memory activity fakes
and writes the event history as JSON next to this file, as `<scenario>.<release>.json` (the
release tag defaults to today's date, UTC). It never overwrites a file: histories recorded by
older code are what proves that runs started before a change still replay, so every set stays
(the first set, recorded 2026-11-25 before any `workflow.patched()` change, has no suffix).
Commit the output: tests/workflows/test_replay.py replays every file with today's workflow code.
Record a set after each release that changes a workflow (behind `workflow.patched()`).

The release tag defaults to `<date>-<commit>` of the checkout. A set for an older commit is
recorded from an export of it (`git archive <sha> | tar -x -C /tmp/x`, run that tree's own
generator there, copy its files here as `<scenario>.<date>-<sha>.json`): that is how the
2026-12-01-0a6a3b5 (local-case-writes only) and 2026-12-01-0686d5f (before answer-before-record)
sets were made.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from classifier.backends.fake import FakeBackend
from classifier.pipeline import ClassificationPipeline
from classifier.policy import load_thresholds
from classifier.service import Classifier
from core.config import Settings
from core.models import (
    CaseRef,
    CaseSnapshot,
    CaseStatus,
    CaseTimers,
    Category,
    Channel,
    DecisionStep,
    GuardResult,
    InboundMessage,
    MessageOutcome,
    MessageWorkflowInput,
    ReclassifyRequest,
    Route,
    RoutingDecision,
    SafetyDecision,
    TicketUpdate,
    TriageDecision,
)
from core.names import child_workflow_id, message_workflow_id
from core.temporal_dev import TEMPORAL_TEST_SERVER
from temporal_workflows.message import CLASSIFY_PATIENCE, MessageWorkflow
from temporal_workflows.safety_compliance import SafetyComplianceWorkflow
from temporal_workflows.service_action import ServiceActionWorkflow
from temporal_workflows.triage import TriageWorkflow
from tests.conftest import TEST_POLICY
from tests.workflows.fake_case_activities import FakeCaseActivities
from worker.main import build_workers

HISTORIES_DIR = Path(__file__).resolve().parent
# Fixed ids keep regenerated files diff-friendly.
CASE_IDS = {
    "message_service_action": "00000000-0000-4000-8000-000000000001",
    "informational_answered": "00000000-0000-4000-8000-000000000002",
    "service_action_sla_breach": "00000000-0000-4000-8000-000000000003",
    "safety_reminder_deadline_confirm": "00000000-0000-4000-8000-000000000004",
    "safety_rerouted": "00000000-0000-4000-8000-000000000005",
    "triage_to_informational": "00000000-0000-4000-8000-000000000006",
    # Recorded from release 2026-12-01 on (durable classification, needs_attention, safety clock).
    "message_llm_outage": "00000000-0000-4000-8000-000000000007",
    "message_needs_attention": "00000000-0000-4000-8000-000000000008",
    "triage_safety_clock": "00000000-0000-4000-8000-000000000009",
    # From the category-records-own-failure patch on: the failing category workflow itself
    # (the child of message_needs_attention) records needs_attention.
    "service_action_needs_attention": "00000000-0000-4000-8000-000000000008",
    # From the manual-triage patch on: an operator sends a case the pool cannot classify to triage.
    "message_manual_triage": "00000000-0000-4000-8000-000000000010",
}


def history_path(name: str, release: str) -> Path:
    return HISTORIES_DIR / f"{name}.{release}.json"


def scenario_name(path: Path) -> str:
    """`message_service_action.2026-12-01.json` -> `message_service_action` (also unsuffixed files)."""
    return path.name.split(".", 1)[0]


def _case_ref(
    env_now: object, case_id: str, route: Route, text: str, path: list[DecisionStep] | None = None
) -> CaseRef:
    category = Category.safety_compliance if route is Route.human_triage else Category(route.value)
    message = InboundMessage.model_validate(
        {
            "case_id": case_id,
            "message_id": f"m-{case_id}",
            "channel": Channel.email,
            "redacted_text": text,
            "received_at": env_now,
        }
    )
    decision = RoutingDecision(
        category=category, confidence=0.9, route=route, decision_path=path or [], next_step="test"
    )
    return CaseRef(case_id=case_id, message=message, decision=decision, timers=CaseTimers())


async def _until(probe: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(200):
        if await probe():
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("scenario did not reach the expected state")


async def _state_is(handle: WorkflowHandle[Any, CaseSnapshot], status: CaseStatus) -> bool:
    try:
        snapshot: CaseSnapshot | None = await handle.query("state", result_type=CaseSnapshot)
    except RPCError:
        return False  # not started yet
    return snapshot is not None and snapshot.status is status


async def _start(
    env: WorkflowEnvironment,
    queue: str,
    name: str,
    workflow_type: str,
    route: Route,
    text: str,
    path: list[DecisionStep] | None = None,
) -> WorkflowHandle[Any, CaseSnapshot]:
    case_id = CASE_IDS[name]
    handle: WorkflowHandle[Any, CaseSnapshot] = await env.client.start_workflow(
        workflow_type,
        _case_ref(await env.get_current_time(), case_id, route, text, path),
        id=child_workflow_id(case_id, route.value) + f"-{uuid.uuid4().hex[:6]}",
        task_queue=queue,
        result_type=CaseSnapshot,
    )
    return handle


async def _save(
    name: str,
    release: str,
    handle: WorkflowHandle[Any, Any],
) -> None:
    history = await handle.fetch_history()
    # "x": never overwrite a history recorded earlier.
    with history_path(name, release).open("x", encoding="utf-8") as out:
        out.write(history.to_json() + "\n")


def _message(case_id: str, message_id: str, text: str, received_at: datetime) -> InboundMessage:
    return InboundMessage(
        case_id=case_id,
        message_id=message_id,
        channel=Channel.chat,
        redacted_text=text,
        received_at=received_at,
    )


async def _scenarios(env: WorkflowEnvironment, client: Client, settings: Settings, release: str) -> None:
    queue = settings.workflow_task_queue
    decide = SafetyComplianceWorkflow.decide

    message = InboundMessage(
        case_id=CASE_IDS["message_service_action"],
        message_id="m-history-1",
        channel=Channel.chat,
        redacted_text="please cancel order 12345",
        received_at=await env.get_current_time(),
    )
    parent = await client.start_workflow(
        MessageWorkflow.run,
        MessageWorkflowInput(message=message, llm_task_queue=settings.llm_task_queue),
        id=message_workflow_id(message.case_id) + f"-{uuid.uuid4().hex[:6]}",
        task_queue=queue,
    )
    outcome = await parent.execute_update(MessageWorkflow.classification)
    child = client.get_workflow_handle(outcome.child_workflow_id or "", result_type=CaseSnapshot)
    await _until(lambda: _state_is(child, CaseStatus.awaiting_agent))
    await child.signal(ServiceActionWorkflow.ticket_update, TicketUpdate(action="resolve", agent="a-1"))
    await parent.result()
    await _save("message_service_action", release, parent)

    informational = await _start(
        env,
        queue,
        "informational_answered",
        "InformationalWorkflow",
        Route.informational,
        "where is my order",
    )
    await informational.result()
    await _save("informational_answered", release, informational)

    service = await _start(
        env,
        queue,
        "service_action_sla_breach",
        "ServiceActionWorkflow",
        Route.service_action,
        "cancel order 12345",
    )
    await _until(lambda: _state_is(service, CaseStatus.awaiting_agent))
    await env.sleep(timedelta(hours=5))
    await _until(lambda: _state_is(service, CaseStatus.escalated))
    for action in ("pick_up", "comment", "resolve"):
        await service.signal(
            ServiceActionWorkflow.ticket_update,
            TicketUpdate.model_validate({"action": action, "agent": "a-1", "note": "done"}),
        )
    await service.result()
    await _save("service_action_sla_breach", release, service)

    safety = await _start(
        env,
        queue,
        "safety_reminder_deadline_confirm",
        "SafetyComplianceWorkflow",
        Route.safety_compliance,
        "I was admitted to hospital after the tablets",
    )
    await _until(lambda: _state_is(safety, CaseStatus.awaiting_safety_review))
    await env.sleep(timedelta(hours=73))
    await _until(lambda: _state_is(safety, CaseStatus.escalated))
    await safety.execute_update(
        decide, SafetyDecision(decision="escalate", reviewer="pv-1", reason="unclear", review_round=1)
    )
    await safety.execute_update(
        decide, SafetyDecision(decision="confirm", reviewer="pv-2", reason="plausible", review_round=2)
    )
    await safety.result()
    await _save("safety_reminder_deadline_confirm", release, safety)

    rerouted = await _start(
        env,
        queue,
        "safety_rerouted",
        "SafetyComplianceWorkflow",
        Route.safety_compliance,
        "rash? cancel order 5",
    )
    await _until(lambda: _state_is(rerouted, CaseStatus.awaiting_safety_review))
    await rerouted.execute_update(
        decide,
        SafetyDecision(
            decision="not_a_safety_case",
            reviewer="pv-1",
            reason="no event",
            review_round=1,
            reroute_to=Category.informational,
        ),
    )
    await rerouted.result()
    await _save("safety_rerouted", release, rerouted)

    triage = await _start(
        env, queue, "triage_to_informational", "TriageWorkflow", Route.human_triage, "hello"
    )
    await _until(lambda: _state_is(triage, CaseStatus.awaiting_triage))
    await triage.execute_update(
        TriageWorkflow.triage, TriageDecision(category=Category.informational, agent="a-1", reason="question")
    )
    await triage.result()
    await _save("triage_to_informational", release, triage)


async def _start_message(
    env: WorkflowEnvironment, queues: Settings, name: str, message_id: str, text: str
) -> WorkflowHandle[MessageWorkflow, MessageOutcome]:
    """A message workflow for scenario `name`, on the scenario's own queues."""
    message = _message(CASE_IDS[name], message_id, text, await env.get_current_time())
    return await env.client.start_workflow(
        MessageWorkflow.run,
        MessageWorkflowInput(message=message, llm_task_queue=queues.llm_task_queue),
        id=message_workflow_id(message.case_id) + f"-{uuid.uuid4().hex[:6]}",
        task_queue=queues.workflow_task_queue,
    )


async def _durable_classification_scenarios(
    env: WorkflowEnvironment, client: Client, settings: Settings, release: str
) -> None:
    """Branches added by the 2026-12-01 patches: the LLM pool away, a failed category workflow."""
    # The pool fails for ~15 virtual minutes of backoff: the case waits as awaiting_classification.
    async with _workers(env, settings, "outage", FakeBackend(fail_times=11), FakeCaseActivities()) as queues:
        outage = await _start_message(env, queues, "message_llm_outage", "m-history-7", "where is my parcel")
        await env.sleep(CLASSIFY_PATIENCE + timedelta(minutes=1))
        await env.sleep(timedelta(minutes=20))
        await outage.result()
        await _save("message_llm_outage", release, outage)

    # The pool stays away; an operator sends the waiting case to human triage, where an agent
    # picks the category.
    async with _workers(
        env, settings, "manual", FakeBackend(fail_times=1000), FakeCaseActivities()
    ) as queues:
        manual = await _start_message(
            env, queues, "message_manual_triage", "m-history-10", "where is my parcel"
        )
        await env.sleep(CLASSIFY_PATIENCE + timedelta(minutes=1))
        await manual.signal(
            MessageWorkflow.reclassify,
            ReclassifyRequest(requested_by="sup-1", reason="pool down for hours", to_triage=True),
        )

        async def routed() -> bool:
            return await manual.query(MessageWorkflow.outcome) is not None

        await _until(routed)
        routed_outcome = await manual.query(MessageWorkflow.outcome)
        assert routed_outcome is not None and routed_outcome.child_workflow_id is not None
        triage_child: WorkflowHandle[Any, CaseSnapshot] = client.get_workflow_handle(
            routed_outcome.child_workflow_id, result_type=CaseSnapshot
        )
        await _until(lambda: _state_is(triage_child, CaseStatus.awaiting_triage))
        await triage_child.execute_update(
            TriageWorkflow.triage,
            TriageDecision(category=Category.informational, agent="agent-1", reason="a question"),
        )
        await manual.result()
        await _save("message_manual_triage", release, manual)

    # The ticketing port refuses a write no retry can fix: the case becomes needs_attention.
    refusing = FakeCaseActivities()
    refusing.ticket_error = ApplicationError(
        "ticket system refused the order", type="InvalidTransitionError", non_retryable=True
    )
    async with _workers(env, settings, "attention", FakeBackend(), refusing) as queues:
        attention = await _start_message(
            env, queues, "message_needs_attention", "m-history-8", "please cancel order 12345"
        )
        outcome = await attention.result()
        if outcome.status is not CaseStatus.needs_attention:
            raise RuntimeError(f"expected needs_attention, got {outcome.status}")
        await _save("message_needs_attention", release, attention)
        failed_child = client.get_workflow_handle(outcome.child_workflow_id or "")
        await _save("service_action_needs_attention", release, failed_child)

    # A possible safety case (guard finding) waiting for triage runs on the review clock.
    async with _workers(env, settings, "triage", FakeBackend(), FakeCaseActivities()) as queues:
        now = await env.get_current_time()
        guard_step = DecisionStep(
            step="safety_guard",
            actor="safety_guard:history",
            observed={"findings": [{"signal": "adverse_event", "language": "en", "evidence": "rash"}]},
            decision="raise_to_safety",
            reason="experienced-harm signal",
            at=now,
        )
        triage = await _start(
            env,
            queues.workflow_task_queue,
            "triage_safety_clock",
            "TriageWorkflow",
            Route.human_triage,
            "a rash? or a refund",
            [guard_step],
        )
        await _until(lambda: _state_is(triage, CaseStatus.awaiting_triage))
        await env.sleep(timedelta(hours=5))
        await _until(lambda: _state_is(triage, CaseStatus.escalated))
        await triage.execute_update(
            TriageWorkflow.triage,
            TriageDecision(category=Category.informational, agent="pv-1", reason="no adverse event"),
        )
        await triage.result()
        await _save("triage_safety_clock", release, triage)


@asynccontextmanager
async def _workers(
    env: WorkflowEnvironment, settings: Settings, label: str, backend: FakeBackend, fakes: FakeCaseActivities
) -> AsyncIterator[Settings]:
    """Workflow and LLM workers on fresh queues of their own, with this backend and these fakes."""
    queues = settings.model_copy(
        update={
            "workflow_task_queue": f"{settings.workflow_task_queue}-{label}",
            "llm_task_queue": f"{settings.llm_task_queue}-{label}",
        }
    )
    pipeline = ClassificationPipeline(
        Classifier(backend),
        lambda _: GuardResult(raise_to_safety=False),
        "history-guard",
        load_thresholds(settings.policy_file),
    )
    with ThreadPoolExecutor(max_workers=1) as executor:
        workers = build_workers(
            env.client, queues, pipeline=pipeline, llm_executor=executor, activities=fakes.definitions()
        )
        async with workers[0], workers[1]:
            yield queues


async def generate(release: str) -> None:
    taken = [path for name in CASE_IDS if (path := history_path(name, release)).exists()]
    if taken:
        raise SystemExit(f"histories for release {release} exist already: {[p.name for p in taken]}")
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        workflow_task_queue=f"hist-wf-{suffix}",
        llm_task_queue=f"hist-llm-{suffix}",
        llm_backend="fake",
        policy_file=TEST_POLICY,
    )
    # Each group on a server of its own: a run left open by one group (a rerouted case outlives
    # its safety workflow) would hold the clock that the next group moves.
    for group in (_scenarios, _durable_classification_scenarios):
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=pydantic_data_converter, test_server_existing_path=str(TEMPORAL_TEST_SERVER)
        )
        try:
            async with _workers(env, settings, "main", FakeBackend(), FakeCaseActivities()) as queues:
                await group(env, env.client, queues, release)
        finally:
            await env.shutdown()


def _default_release() -> str:
    today = datetime.now(timezone.utc).date().isoformat()
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=7", "HEAD"],
            cwd=HISTORIES_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return today
    return f"{today}-{commit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--release", default=_default_release(), help="suffix of the new files (default: <date>-<commit>)"
    )
    asyncio.run(generate(parser.parse_args().release))


if __name__ == "__main__":
    main()
