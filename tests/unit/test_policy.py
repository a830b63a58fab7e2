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


def _with_suppressed(needs_human: bool) -> ClassificationOutcome:
    base = outcome(0.95, 0.03, 0.02)
    suppressed = [GuardFinding(signal="adverse_reaction", language="en", evidence="no rash")]
    guard = GuardResult(raise_to_safety=False, suppressed=suppressed, suppressed_needs_human=needs_human)
    return base.model_copy(update={"guard": guard})


def test_a_suppressed_guard_finding_keeps_a_confident_message_from_auto_routing() -> None:
    decision = decide(_with_suppressed(True), NOW)
    assert decision.route is Route.human_triage
    assert decision.category is Category.informational
    assert decision.decision_path[1].observed["suppressed_needs_human"] is True


def test_a_decision_recorded_by_an_older_guard_replays_unchanged() -> None:
    # Older guards reported suppressed findings without the flag: those decisions stay as they were.
    decision = decide(_with_suppressed(False), NOW)
    assert decision.route is Route.informational
    assert "suppressed_needs_human" not in decision.decision_path[1].observed
