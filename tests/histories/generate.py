"""Regenerate the replay histories: `python -m tests.histories.generate`.

Runs each workflow scenario on the time-skipping test server with the in-memory activity fakes
and writes the event history as JSON next to this file. Commit the output: the replay tests
(tests/workflows/test_replay.py) check that today's workflow code still replays these runs. Only
regenerate on purpose, after a change guarded by `workflow.patched()` has been released; the
old histories must keep replaying as long as such runs can still be open.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
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
    GuardResult,
    InboundMessage,
    MessageWorkflowInput,
    Route,
    RoutingDecision,
    SafetyDecision,
    TicketUpdate,
    TriageDecision,
)
from core.names import child_workflow_id, message_workflow_id
from core.temporal_dev import TEMPORAL_TEST_SERVER
from temporal_workflows.message import MessageWorkflow
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
}


def _case_ref(env_now: object, case_id: str, route: Route, text: str) -> CaseRef:
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
        category=category, confidence=0.9, route=route, decision_path=[], next_step="test"
    )
    return CaseRef(case_id=case_id, message=message, decision=decision, timers=CaseTimers())


async def _until(probe: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(200):
        if await probe():
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("scenario did not reach the expected state")


async def _state_is(handle: WorkflowHandle[object, CaseSnapshot], status: CaseStatus) -> bool:
    try:
        snapshot: CaseSnapshot | None = await handle.query("state", result_type=CaseSnapshot)
    except RPCError:
        return False  # not started yet
    return snapshot is not None and snapshot.status is status


async def _start(
    env: WorkflowEnvironment, queue: str, name: str, workflow_type: str, route: Route, text: str
) -> WorkflowHandle[object, CaseSnapshot]:
    case_id = CASE_IDS[name]
    handle: WorkflowHandle[object, CaseSnapshot] = await env.client.start_workflow(
        workflow_type,
        _case_ref(await env.get_current_time(), case_id, route, text),
        id=child_workflow_id(case_id, route.value) + f"-{uuid.uuid4().hex[:6]}",
        task_queue=queue,
        result_type=CaseSnapshot,
    )
    return handle


async def _save(
    name: str, handle: WorkflowHandle[object, CaseSnapshot] | WorkflowHandle[object, object]
) -> None:
    history = await handle.fetch_history()
    (HISTORIES_DIR / f"{name}.json").write_text(history.to_json() + "\n", encoding="utf-8")


async def _scenarios(env: WorkflowEnvironment, client: Client, settings: Settings) -> None:
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
    await _save("message_service_action", parent)

    informational = await _start(
        env,
        queue,
        "informational_answered",
        "InformationalWorkflow",
        Route.informational,
        "where is my order",
    )
    await informational.result()
    await _save("informational_answered", informational)

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
    await _save("service_action_sla_breach", service)

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
    await _save("safety_reminder_deadline_confirm", safety)

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
    await _save("safety_rerouted", rerouted)

    triage = await _start(
        env, queue, "triage_to_informational", "TriageWorkflow", Route.human_triage, "hello"
    )
    await _until(lambda: _state_is(triage, CaseStatus.awaiting_triage))
    await triage.execute_update(
        TriageWorkflow.triage, TriageDecision(category=Category.informational, agent="a-1", reason="question")
    )
    await triage.result()
    await _save("triage_to_informational", triage)


async def generate() -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(TEMPORAL_TEST_SERVER)
    )
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        workflow_task_queue=f"hist-wf-{suffix}",
        llm_task_queue=f"hist-llm-{suffix}",
        llm_backend="fake",
        policy_file=TEST_POLICY,
    )
    pipeline = ClassificationPipeline(
        Classifier(FakeBackend()),
        lambda _: GuardResult(raise_to_safety=False),
        "history-guard",
        load_thresholds(settings.policy_file),
    )
    try:
        with ThreadPoolExecutor(max_workers=1) as executor:
            workers = build_workers(
                env.client,
                settings,
                pipeline=pipeline,
                llm_executor=executor,
                activities=FakeCaseActivities().definitions(),
            )
            async with workers[0], workers[1]:
                await _scenarios(env, env.client, settings)
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(generate())
