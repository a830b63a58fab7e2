"""Synthetic evaluation predictions for the calibration, metrics and promotion tests."""

from __future__ import annotations

from core.models import Category
from eval.runner import Prediction

LABELS = (Category.informational.value, Category.service_action.value, Category.safety_compliance.value)


def synthetic_prediction(
    row_id: str,
    label: str,
    probabilities: tuple[float, float, float],
    *,
    guard: bool = False,
    guard_version: str = "test",
    policy_version: str = "test",
    prompt_version: str = "route-v1",
) -> Prediction:
    """A chat prediction whose top label is the most probable one, routed to triage as recorded."""
    probs = dict(zip(LABELS, probabilities, strict=True))
    top = max(LABELS, key=lambda k: probs[k])
    return Prediction(
        id=row_id,
        label=label,
        channel="chat",
        tags=[],
        text="",
        llm_label=top,
        category=top,
        route="human_triage",
        confidence=probs[top],
        probabilities=probs,
        label_mass=0.99,
        guard_raised=guard,
        guard_signals=["test_signal"] if guard else [],
        guard_findings=[{"signal": "test_signal", "language": "en"}] if guard else [],
        guard_version=guard_version,
        policy_version=policy_version,
        prompt_version=prompt_version,
        latency_ms=1.0,
        llm_latency_ms=1.0,
    )
