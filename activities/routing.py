"""Routing activities on the workflow task queue: no LLM, no I/O, only deterministic rules.

- `check_safety_guard` runs the safety guard alone, so that a message with a safety signal goes
  to safety review while the LLM pool is down or saturated.
- `decide_route` applies the acceptance policy as a local activity: its answer is recorded in
  the workflow history, so a later change to `classifier.policy.decide` cannot change the route
  of a case that is already open when its workflow replays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from classifier.policy import decide
from core.models import GuardCheckInput, GuardCheckOutcome, GuardResult, RouteRequest, RoutingDecision
from core.names import CHECK_SAFETY_GUARD_ACTIVITY, DECIDE_ROUTE_ACTIVITY

GuardCheck = Callable[[str], GuardResult]


def _production_guard() -> tuple[GuardCheck, str]:
    # The guard's public surface (`check`, `GUARD_VERSION`) is what the LLM pipeline uses too.
    import classifier.safety_guard as safety_guard

    return safety_guard.check, safety_guard.GUARD_VERSION


class RoutingActivities:
    def __init__(self, guard: GuardCheck | None = None, guard_version: str | None = None) -> None:
        if guard is None:
            guard, default_version = _production_guard()
            guard_version = guard_version or default_version
        self._guard = guard
        self._guard_version = guard_version or "unversioned"

    def definitions(self) -> list[Callable[..., Any]]:
        return [self.check_safety_guard, decide_route]

    @activity.defn(name=CHECK_SAFETY_GUARD_ACTIVITY)
    async def check_safety_guard(self, request: GuardCheckInput) -> GuardCheckOutcome:
        return GuardCheckOutcome(guard=self._guard(request.redacted_text), guard_version=self._guard_version)


@activity.defn(name=DECIDE_ROUTE_ACTIVITY)
async def decide_route(request: RouteRequest) -> RoutingDecision:
    return decide(request.outcome, request.decided_at)
