"""Acceptance policy: turn the classifier's probabilities and the guard's findings into a route.

Pure and deterministic (no I/O, no clock): the message workflow runs it, so the routing decision
is part of the workflow's replayable logic. `load_thresholds` is the only I/O and runs in the
classification activity; the thresholds in force travel in the activity result.

Rules, in order:
1. The safety guard found an experienced-harm signal -> safety review (overrides the model,
   the model's own verdict stays in the decision path).
2. P(safety) >= safety_accept -> safety review.
3. P(safety) >= safety_floor -> human triage (category stays the model's top label): a
   plausible safety case is never auto-routed to another category.
4. The guard suppressed a finding (negation, question, benign context) and says a human must
   see it (`suppressed_needs_human`, set from guard-2026-12-01.1 on) -> human triage: a
   suppression may be wrong, and a missed report costs more than a reviewer's minute.
   Histories recorded with older guards lack the flag and replay unchanged.
5. The message tries to instruct the classifier (prompt injection) -> human triage: the model's
   verdict on an adversarial message is not trusted for automatic routing.
6. Top label clears its per-label minimum and the ambiguity gap (top-1 minus top-2) -> that label.
7. Otherwise -> human triage.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from core.models import (
    AcceptanceThresholds,
    Category,
    ClassificationOutcome,
    DecisionStep,
    Route,
    RoutingDecision,
)

NEXT_STEPS: dict[Route, str] = {
    Route.informational: (
        "Answer from the knowledge base is being sent to the customer; an agent takes over if "
        "no article matches well enough."
    ),
    Route.service_action: (
        "A service ticket is being opened and the customer acknowledged; an agent picks it up "
        "from the service queue within the SLA."
    ),
    Route.safety_compliance: (
        "Possible adverse event or product-safety issue: an adverse-event report is opened and "
        "the safety team notified; a pharmacovigilance reviewer must confirm, escalate or "
        "dismiss it. Do not close this conversation."
    ),
    Route.human_triage: (
        "The classifier is not sure enough to route this automatically: an agent must pick the "
        "category in the triage queue."
    ),
}


def load_thresholds(path: Path) -> AcceptanceThresholds:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return AcceptanceThresholds.model_validate(raw)


def decide(outcome: ClassificationOutcome, now: datetime) -> RoutingDecision:
    """Route one classified message; the decision path holds the LLM, guard and policy steps."""
    result = outcome.classification
    thresholds = outcome.thresholds
    probabilities = result.probabilities
    ranked = probabilities.ranked()
    (top_label, top_p), (_, second_p) = ranked[0], ranked[1]
    p_safety = probabilities.of(Category.safety_compliance)

    steps = [
        DecisionStep(
            step="llm_classification",
            actor=f"{result.backend}:{result.model}",
            observed={
                "probabilities": probabilities.model_dump(),
                "label_mass": round(result.label_mass, 4),
                "prompt_version": result.prompt_version,
                "latency_ms": result.latency_ms,
            },
            decision=result.label.value,
            reason="label with the highest probability at the answer token",
            at=now,
        ),
        DecisionStep(
            step="safety_guard",
            actor=f"safety_guard:{outcome.guard_version}",
            observed={
                "findings": [f.model_dump() for f in outcome.guard.findings],
                "suppressed": [f.model_dump() for f in outcome.guard.suppressed],
                # Only present from guard-2026-12-01.1 on, so older decisions replay identically.
                **({"suppressed_needs_human": True} if outcome.guard.suppressed_needs_human else {}),
            },
            decision="raise_to_safety" if outcome.guard.raise_to_safety else "no_change",
            reason=(
                "experienced-harm signal found: safety takes precedence over the model's verdict"
                if outcome.guard.raise_to_safety
                else "no unsuppressed experienced-harm signal"
            ),
            at=now,
        ),
    ]

    observed = {
        "policy_version": thresholds.version,
        "top_label": top_label.value,
        "top_probability": round(top_p, 4),
        "gap": round(top_p - second_p, 4),
        "p_safety": round(p_safety, 4),
        "min_probability": round(thresholds.min_probability[top_label], 4),
        "min_gap": thresholds.min_gap,
        "safety_floor": thresholds.safety_floor,
        "safety_accept": thresholds.safety_accept,
        "injection_signals": list(outcome.injection_signals),
    }
    category: Category
    if outcome.guard.raise_to_safety:
        category, route = Category.safety_compliance, Route.safety_compliance
        reason = "safety guard raised the message to safety review"
    elif p_safety >= thresholds.safety_accept:
        category, route = Category.safety_compliance, Route.safety_compliance
        reason = f"P(safety)={p_safety:.3f} >= safety_accept={thresholds.safety_accept}"
    elif p_safety >= thresholds.safety_floor:
        category, route = top_label, Route.human_triage
        reason = (
            f"P(safety)={p_safety:.3f} >= safety_floor={thresholds.safety_floor}: "
            "a possible safety case is never auto-routed elsewhere"
        )
    elif outcome.guard.suppressed_needs_human:
        category, route = top_label, Route.human_triage
        reason = "the safety guard suppressed a possible signal: a human checks it before routing"
    elif outcome.injection_signals:
        category, route = top_label, Route.human_triage
        reason = "the message tries to instruct the classifier: an agent routes it"
    elif top_p >= thresholds.min_probability[top_label] and top_p - second_p >= thresholds.min_gap:
        category, route = top_label, Route(top_label.value)
        reason = f"{top_label.value} probability and gap clear the thresholds"
    else:
        category, route = top_label, Route.human_triage
        reason = "top probability or gap below the acceptance thresholds"
    steps.append(
        DecisionStep(
            step="acceptance_policy",
            actor=f"policy:{thresholds.version}",
            observed=observed,
            decision=route.value,
            reason=reason,
            at=now,
        )
    )
    return RoutingDecision(
        category=category,
        # The model's own probability for the final category (low when the guard overrode it).
        confidence=round(probabilities.of(category), 4),
        route=route,
        decision_path=steps,
        next_step=NEXT_STEPS[route],
    )
