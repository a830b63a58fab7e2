"""TriageWorkflow: wait for an agent to pick the category, then run that category's workflow.

A possible safety case (guard finding, P(safety) at or above the floor, classification failure)
waits on the review clock; an operator's `reclassify` can route a case once the LLM is back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.models import (
        CaseRef,
        CaseSnapshot,
        CaseStatus,
        Category,
        ClassificationOutcome,
        ClassifyInput,
        ReclassifyRequest,
        Route,
        RouteRequest,
        RoutingDecision,
        TriageDecision,
    )
    from core.names import CLASSIFY_ACTIVITY, DECIDE_ROUTE_ACTIVITY, child_workflow_id
    from temporal_workflows.case_trail import CaseTrail
    from temporal_workflows.informational import InformationalWorkflow
    from temporal_workflows.safety_clock import (
        ReviewClock,
        conservative_due_date,
        review_deadline,
        safety_signals,
        set_priority,
    )
    from temporal_workflows.safety_compliance import SafetyComplianceWorkflow
    from temporal_workflows.service_action import ServiceActionWorkflow

# A possible safety case waiting for triage runs on the review clock (reminders, supervisor).
TRIAGE_SAFETY_CLOCK_PATCH = "triage-safety-clock"
# The `agent` of a triage decision made by reclassification rather than by a person.
RECLASSIFIER = "reclassification"
# As message.CLASSIFY_HEARTBEAT_TIMEOUT: a worker killed mid-call is noticed after this long.
CLASSIFY_HEARTBEAT_TIMEOUT = timedelta(seconds=10)

TRIAGED_WORKFLOWS: dict[Category, type] = {
    Category.informational: InformationalWorkflow,
    Category.service_action: ServiceActionWorkflow,
    Category.safety_compliance: SafetyComplianceWorkflow,
}


@workflow.defn
class TriageWorkflow:
    def __init__(self) -> None:
        self._trail: CaseTrail | None = None
        self._decision: TriageDecision | None = None
        self._child_started = False
        self._reclassify_requests: list[ReclassifyRequest] = []

    @workflow.run
    async def run(self, case: CaseRef) -> CaseSnapshot:
        trail = self._trail = CaseTrail(case.case_id, "triage", CaseStatus.awaiting_triage, None)
        signals = safety_signals(case.decision)
        if signals and workflow.patched(TRIAGE_SAFETY_CLOCK_PATCH):
            await self._wait_on_safety_clock(case, trail, signals)
        else:
            await trail.set_status(CaseStatus.awaiting_triage, "an agent must choose the category")
            await trail.notify("triage_requested", "agent", "triage_requested", "A message needs a category.")
            await self._wait_for_decision(case, trail, workflow.wait_condition)
        decision = self._decision
        assert decision is not None
        await trail.audit(
            "triage_decision",
            decision.category.value,
            decision.reason,
            {"category": decision.category.value},
            actor=f"{'workflow' if decision.agent == RECLASSIFIER else 'agent'}:{decision.agent}",
        )
        # Same id as a direct route would use, so the API finds the category workflow either way.
        child_id = child_workflow_id(case.case_id, decision.category.value)
        routing = case.decision.model_copy(
            update={"category": decision.category, "route": Route(decision.category.value), "confidence": 1.0}
        )
        child = await workflow.start_child_workflow(
            TRIAGED_WORKFLOWS[decision.category].__name__,
            CaseRef(case_id=case.case_id, message=case.message, decision=routing, timers=case.timers),
            id=child_id,
            result_type=CaseSnapshot,
        )
        self._child_started = True
        trail.snapshot = trail.snapshot.model_copy(update={"category": decision.category})
        trail.note(next_workflow_id=child_id, triaged_by=decision.agent)
        await trail.set_status(CaseStatus.classified, f"triaged as {decision.category.value}", persist=False)
        final: CaseSnapshot = await child
        await trail.set_status(final.status, "category workflow finished", persist=False)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return trail.snapshot

    async def _wait_on_safety_clock(self, case: CaseRef, trail: CaseTrail, signals: list[str]) -> None:
        """A possible safety case: day zero at receipt, top of the queue, reminders, a supervisor."""
        due_date = conservative_due_date(case.message.received_at)
        deadline_at = review_deadline(workflow.now(), case.timers.triage_deadline, due_date)
        trail.note(
            safety_signals=signals,
            day_zero=case.message.received_at.isoformat(),
            regulatory_due_date=due_date.isoformat(),
            review_deadline_at=deadline_at.isoformat(),
        )
        await set_priority(trail, due_date, deadline_at)
        await trail.set_status(
            CaseStatus.awaiting_triage, f"possible safety case ({', '.join(signals)}): choose the category"
        )
        await trail.notify(
            "triage_requested",
            "safety_team",
            "safety_triage_requested",
            f"A possible safety case ({', '.join(signals)}) needs a category; regulatory due date "
            f"{due_date} unless the assessment finds it non-serious.",
        )

        async def overdue() -> None:
            await trail.set_status(CaseStatus.escalated, "possible safety case not triaged by the deadline")

        clock = ReviewClock(
            trail,
            name="safety_triage",
            audience="safety_team",
            reminder_every=case.timers.triage_reminder,
            deadline_at=deadline_at,
            describe=lambda: f"Possible safety case {case.case_id} (due {due_date})",
            on_deadline=overdue,
        )
        await self._wait_for_decision(case, trail, clock.wait)

    async def _wait_for_decision(
        self, case: CaseRef, trail: CaseTrail, wait: Callable[[Callable[[], bool]], Awaitable[Any]]
    ) -> None:
        """Wait for an agent's triage; an operator's reclassify may route the case automatically."""
        while True:
            await wait(lambda: self._decision is not None or bool(self._reclassify_requests))
            if self._decision is not None:
                return
            await self._reclassify(case, trail, self._reclassify_requests.pop(0))
            if self._decision is not None:
                return

    async def _reclassify(self, case: CaseRef, trail: CaseTrail, asked: ReclassifyRequest) -> None:
        """Classify again (e.g. after an LLM outage); a confident route replaces the agent's choice."""
        if asked.to_triage:
            await trail.audit(
                "reclassify",
                "skipped",
                "already with people in triage",
                actor=f"operator:{asked.requested_by}",
            )
            return
        if asked.llm_task_queue is None:
            await trail.audit(
                "reclassify", "skipped", "no LLM task queue given", actor=f"operator:{asked.requested_by}"
            )
            return
        await trail.audit(
            "reclassify",
            "requested",
            asked.reason or "operator asked",
            actor=f"operator:{asked.requested_by}",
        )
        message = case.message
        try:
            outcome: ClassificationOutcome = await workflow.execute_activity(
                CLASSIFY_ACTIVITY,
                ClassifyInput(
                    case_id=case.case_id, redacted_text=message.redacted_text, channel=message.channel
                ),
                result_type=ClassificationOutcome,
                task_queue=asked.llm_task_queue,
                start_to_close_timeout=timedelta(seconds=30),
                heartbeat_timeout=CLASSIFY_HEARTBEAT_TIMEOUT,
                schedule_to_close_timeout=timedelta(minutes=10),
                retry_policy=RetryPolicy(
                    maximum_interval=timedelta(seconds=20), non_retryable_error_types=["NoLabel"]
                ),
            )
            decision: RoutingDecision = await workflow.execute_local_activity(
                DECIDE_ROUTE_ACTIVITY,
                RouteRequest(outcome=outcome, decided_at=workflow.now()),
                result_type=RoutingDecision,
                start_to_close_timeout=timedelta(seconds=10),
            )
        except (ActivityError, ApplicationError) as err:
            # A local activity's non-retryable error arrives as the ApplicationError itself.
            cause = err.cause if isinstance(err, ActivityError) else err
            await trail.audit("reclassify", "failed", f"classification failed: {type(cause).__name__}")
            return
        steps = [s.model_dump(mode="json") for s in decision.decision_path]
        if decision.route is Route.human_triage or self._decision is not None:
            await trail.audit(
                "reclassify",
                "still_needs_triage",
                "the policy does not route it automatically",
                {"path": steps},
            )
            return
        self._decision = TriageDecision(
            category=decision.category, agent=RECLASSIFIER, reason=f"reclassified: {decision.route.value}"
        )
        trail.note(reclassified_route=decision.route.value)
        await trail.audit(
            "reclassify", decision.route.value, "the policy routes it automatically", {"path": steps}
        )

    @workflow.signal
    def reclassify(self, request: ReclassifyRequest) -> None:
        """An operator asks for a fresh classification of a case still waiting for triage."""
        if self._decision is None:
            self._reclassify_requests.append(request)

    @workflow.update
    async def triage(self, decision: TriageDecision) -> CaseSnapshot:
        """Returns once the chosen category's workflow has started."""
        self._decision = decision
        await workflow.wait_condition(lambda: self._child_started)
        assert self._trail is not None
        return self._trail.snapshot

    @triage.validator
    def _validate_triage(self, decision: TriageDecision) -> None:
        if self._decision is not None:
            raise ValueError(f"the case was already triaged as {self._decision.category.value}")

    @workflow.query
    def state(self) -> CaseSnapshot | None:
        return None if self._trail is None else self._trail.snapshot
