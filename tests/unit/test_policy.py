from datetime import datetime, timezone

import pytest

from classifier.policy import NEXT_STEPS, decide
from core.models import (
    AcceptanceThresholds,
    Category,
    ClassificationOutcome,
    ClassificationResult,
    GuardFinding,
    GuardResult,
    LabelProbabilities,
    Route,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
THRESHOLDS = AcceptanceThresholds(
    min_probability={
        Category.informational: 0.7,
        Category.service_action: 0.7,
        Category.safety_compliance: 0.5,
    },
    min_gap=0.3,
    safety_floor=0.15,
    safety_accept=0.5,
    version="test",
)


def outcome(info: float, service: float, safety: float, *, guard: bool = False) -> ClassificationOutcome:
    probabilities = LabelProbabilities(informational=info, service_action=service, safety_compliance=safety)
    findings = [GuardFinding(signal="overdose", language="en", evidence="double dose")] if guard else []
    return ClassificationOutcome(
        classification=ClassificationResult(
            label=probabilities.ranked()[0][0],
            probabilities=probabilities,
            label_mass=0.99,
            backend="fake",
            model="m",
            prompt_version="p",
            latency_ms=1.0,
        ),
        guard=GuardResult(raise_to_safety=guard, findings=findings),
        guard_version="g1",
        thresholds=THRESHOLDS,
    )


@pytest.mark.parametrize(
    ("probs", "route", "category"),
    [
        ((0.9, 0.05, 0.05), Route.informational, Category.informational),
        ((0.05, 0.9, 0.05), Route.service_action, Category.service_action),
        ((0.1, 0.2, 0.7), Route.safety_compliance, Category.safety_compliance),
        # confident enough in service, but P(safety) above the floor: never auto-routed elsewhere
        ((0.0, 0.8, 0.2), Route.human_triage, Category.service_action),
        # top label below its minimum
        ((0.6, 0.35, 0.05), Route.human_triage, Category.informational),
        # clears its minimum and the gap, and P(safety) is below the floor
        ((0.0, 0.72, 0.1), Route.service_action, Category.service_action),
    ],
)
def test_policy_routes_by_thresholds_gap_and_safety_floor(
    probs: tuple[float, float, float], route: Route, category: Category
) -> None:
    decision = decide(outcome(*probs), NOW)
    assert (decision.route, decision.category) == (route, category)
    assert decision.next_step == NEXT_STEPS[route]


def test_small_gap_goes_to_triage() -> None:
    decision = decide(outcome(0.36, 0.64, 0.0), NOW)
    assert decision.route is Route.human_triage


def test_guard_raises_to_safety_and_keeps_the_llm_verdict_in_the_path() -> None:
    decision = decide(outcome(0.02, 0.97, 0.01, guard=True), NOW)
    assert decision.route is Route.safety_compliance
    assert decision.category is Category.safety_compliance
    # the reported confidence is the model's own probability for the final category
    assert decision.confidence == pytest.approx(0.01)
    steps = {step.step: step for step in decision.decision_path}
    assert [s.step for s in decision.decision_path] == [
        "llm_classification",
        "safety_guard",
        "acceptance_policy",
    ]
    assert steps["llm_classification"].decision == "service_action"
    assert steps["safety_guard"].decision == "raise_to_safety"
    assert steps["safety_guard"].observed["findings"][0]["signal"] == "overdose"
    assert steps["acceptance_policy"].decision == "safety_compliance"


def test_guard_can_never_lower_a_safety_verdict() -> None:
    decision = decide(outcome(0.05, 0.05, 0.9, guard=False), NOW)
    assert decision.route is Route.safety_compliance


def test_policy_step_records_the_thresholds_it_applied() -> None:
    step = decide(outcome(0.9, 0.05, 0.05), NOW).decision_path[-1]
    assert step.actor == "policy:test"
    assert step.observed["min_gap"] == 0.3
    assert step.observed["top_probability"] == 0.9


def test_a_message_that_instructs_the_classifier_is_never_auto_routed() -> None:
    injected = outcome(0.98, 0.01, 0.01).model_copy(update={"injection_signals": ["classification_command"]})
    decision = decide(injected, NOW)
    assert decision.route is Route.human_triage
    assert decision.decision_path[-1].observed["injection_signals"] == ["classification_command"]


def test_safety_still_wins_over_an_injection_attempt() -> None:
    injected = outcome(0.9, 0.05, 0.05, guard=True).model_copy(
        update={"injection_signals": ["override_instructions"]}
    )
    assert decide(injected, NOW).route is Route.safety_compliance
