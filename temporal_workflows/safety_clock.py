"""The review clock every possible safety case runs on, wherever it waits (triage or safety review).

Pure workflow code: no I/O, `workflow.now()` only. Day zero is the message's receipt
(`InboundMessage.received_at`), never the moment a workflow or a person first looked at it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.models import CasePriorityChange, NotificationAudience, RoutingDecision
    from core.names import SET_CASE_PRIORITY_ACTIVITY
    from temporal_workflows.case_trail import CaseTrail, run_case_activity

# Until the pharmacovigilance assessment says otherwise, a possible safety case is treated as
# serious: 15 calendar days from receipt (core.pharmacovigilance.SERIOUS_DUE_DAYS).
POSSIBLE_SAFETY_DUE_DAYS = 15


def safety_signals(decision: RoutingDecision) -> list[str]:
    """Why this routing decision is a possible safety case (empty: it is not one).

    Read from the decision path, so it works for any route and for runs recorded by older code:
    a guard finding (suppressed ones included), P(safety) at or above the floor, a
    classification failure, or the route itself.
    """
    signals: list[str] = []
    if decision.category.value == "safety_compliance" and decision.route.value == "safety_compliance":
        signals.append("routed_to_safety_review")
    for step in decision.decision_path:
        observed = step.observed
        if step.step in ("safety_guard", "safety_guard_only"):
            if observed.get("findings"):
                signals.append("guard_finding")
            if observed.get("suppressed"):
                signals.append("guard_finding_suppressed")
        elif step.step == "acceptance_policy":
            p_safety, floor = observed.get("p_safety"), observed.get("safety_floor")
            if isinstance(p_safety, (int, float)) and isinstance(floor, (int, float)) and p_safety >= floor:
                signals.append("p_safety_at_or_above_floor")
        elif step.step == "llm_classification" and step.decision == "failed":
            signals.append("classification_failed")
        elif step.step == "llm_classification" and step.decision == "skipped":
            # Sent to people without the model (manual triage during an outage): nobody has
            # ruled out an adverse event yet.
            signals.append("not_classified")
    return list(dict.fromkeys(signals))


def conservative_due_date(received_at: datetime) -> date:
    return received_at.date() + timedelta(days=POSSIBLE_SAFETY_DUE_DAYS)


def review_deadline(now: datetime, period: timedelta, due_date: date) -> datetime:
    """`period` from now, but never later than the eve of the regulatory due date."""
    due_eve = datetime.combine(due_date - timedelta(days=1), time(), tzinfo=timezone.utc)
    return min(now + period, due_eve)


async def set_priority(
    trail: CaseTrail, due_date: date | None, review_due_at: datetime | None, *, safety: bool = True
) -> None:
    change = CasePriorityChange(
        case_id=trail.case_id,
        priority="safety" if safety else "normal",
        regulatory_due_date=due_date,
        review_due_at=review_due_at,
    )
    await run_case_activity(SET_CASE_PRIORITY_ACTIVITY, change, type(None))


class ReviewClock:
    """Reminders every `reminder_every` and one escalation at `deadline_at`, per review round.

    `wait(condition)` returns once `condition()` holds; meanwhile it sends the reminders and the
    escalation through the trail's outbox notifications. `new_round()` restarts both.
    """

    def __init__(
        self,
        trail: CaseTrail,
        *,
        name: str,
        audience: NotificationAudience,
        reminder_every: timedelta,
        deadline_at: datetime,
        describe: Callable[[], str],
        on_deadline: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._trail = trail
        self._name = name
        self._audience: NotificationAudience = audience
        self._reminder_every = reminder_every
        self._describe = describe
        self._on_deadline = on_deadline
        self.round = 1
        self.deadline_at = deadline_at
        self._next_reminder = workflow.now() + reminder_every
        self._reminders = 0
        self._deadline_passed = False

    def new_round(self, review_round: int, deadline_at: datetime) -> None:
        self.round = review_round
        self.deadline_at = deadline_at
        self._next_reminder = workflow.now() + self._reminder_every
        self._reminders = 0
        self._deadline_passed = False

    async def wait(self, condition: Callable[[], bool]) -> None:
        while not condition():
            due = [self._next_reminder] + ([] if self._deadline_passed else [self.deadline_at])
            timeout = min(due) - workflow.now()
            if timeout > timedelta(0):
                try:
                    await workflow.wait_condition(condition, timeout=timeout)
                    return
                except asyncio.TimeoutError:
                    pass
            await self._fire(workflow.now())

    async def _fire(self, now: datetime) -> None:
        if not self._deadline_passed and now >= self.deadline_at:
            self._deadline_passed = True
            _count(f"{self._name}_deadline_missed")
            if self._on_deadline is not None:
                await self._on_deadline()
            await self._trail.notify(
                f"{self._name}_deadline:{self.round}",
                "supervisor",
                f"{self._name}_overdue",
                f"{self._describe()} passed its review deadline (round {self.round}).",
            )
            await self._trail.audit(
                f"{self._name}_deadline",
                "escalated_to_supervisor",
                "no decision by the review deadline",
                {"round": self.round, "deadline_at": self.deadline_at.isoformat()},
            )
        if now >= self._next_reminder:
            self._reminders += 1
            self._next_reminder = now + self._reminder_every
            await self._trail.notify(
                f"{self._name}_reminder:{self.round}:{self._reminders}",
                self._audience,
                f"{self._name}_reminder",
                f"{self._describe()} still awaits a decision (round {self.round}, "
                f"reminder {self._reminders}).",
            )
            await self._trail.audit(
                f"{self._name}_reminder",
                "reminded",
                "no decision within the reminder period",
                {"round": self.round, "reminder": self._reminders},
            )


def _count(name: str, **attributes: Any) -> None:
    """A counter on the worker's metrics endpoint (not emitted while replaying)."""
    workflow.metric_meter().create_counter(name, "possible safety cases past a review clock").add(
        1, attributes or None
    )
