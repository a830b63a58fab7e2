"""Admission decisions: when a caller waits for the decision and what Retry-After promises."""

from __future__ import annotations

from typing import Any

from api.admission import Admission, LlmBacklog
from core.config import Settings


def _admission(**settings: Any) -> Admission:
    admission = Admission(Settings(**settings))
    # A fresh reading, so no refresh is scheduled (the client is never called).
    admission._read_at = float("inf")
    return admission


def test_a_caller_waits_for_the_decision_while_the_system_keeps_up() -> None:
    admission = _admission(admission_max_waiting=2, admission_max_llm_backlog=10)
    admission._backlog = LlmBacklog(tasks=3, oldest_age_s=0.5, dispatch_per_s=4.0, pollers=1)
    assert admission.busy_reason(client=None) is None  # type: ignore[arg-type]


def test_past_the_waiting_cap_callers_get_202_at_once() -> None:
    admission = _admission(admission_max_waiting=1)
    with admission.waiting_for_decision():
        assert admission.busy_reason(client=None) == "waiting_requests"  # type: ignore[arg-type]
    assert admission.waiting == 0


def test_past_the_llm_backlog_callers_get_202_with_the_drain_estimate_as_retry_after() -> None:
    admission = _admission(admission_max_llm_backlog=10, admission_max_retry_after_seconds=60)
    admission._backlog = LlmBacklog(tasks=40, oldest_age_s=12.0, dispatch_per_s=4.0, pollers=2)
    assert admission.busy_reason(client=None) == "llm_backlog"  # type: ignore[arg-type]
    assert admission.retry_after_s() == 10


def test_retry_after_stays_within_bounds_when_the_pool_is_stopped() -> None:
    admission = _admission(admission_max_retry_after_seconds=30, classification_wait_seconds=45)
    admission._backlog = LlmBacklog(tasks=500, oldest_age_s=300.0, dispatch_per_s=0.0, pollers=0)
    assert admission.retry_after_s() == 30
