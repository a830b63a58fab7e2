"""What the intake caller may see of a routing decision: outcome, not internals.

The full decision path (probabilities, thresholds, guard evidence, error text) helps an attacker
tune a prompt injection; agents read it through GET /v1/cases/{id}. The intake caller gets each
step's name, decision and time with a fixed public reason.
"""

from __future__ import annotations

from core.models import DecisionStep, PublicDecisionStep

_PUBLIC_REASONS = {
    "intake": "message accepted; personal data redacted",
    "llm_classification": "category suggested by the classifier",
    "safety_guard": "checked for possible safety signals",
    "acceptance_policy": "routing decided by the acceptance policy",
}
_FAILED = "automatic step unavailable; a person takes over"


def public_decision_path(steps: list[DecisionStep]) -> list[PublicDecisionStep]:
    return [
        PublicDecisionStep(
            step=step.step,
            decision=step.decision,
            reason=_FAILED if step.decision == "failed" else _PUBLIC_REASONS.get(step.step, "recorded"),
            at=step.at,
        )
        for step in steps
    ]
