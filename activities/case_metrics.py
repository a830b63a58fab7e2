"""Per-case metrics, recorded by the case activities exactly when a row is first written.

Counting where the case is recorded (not in the API) makes each count once per case: a retried
POST attaches to the running workflow and writes nothing new, a retried activity finds its audit
lines already there (`append_audit` returns False), and 202 answers are counted too.
"""

from __future__ import annotations

from datetime import timedelta

from adapters.ports import CaseStore
from core import metrics
from core.models import AuditEntry, CaseIntake, Category, Route

TRIAGE_DECISION_STEP = "triage_decision"
SAFETY_DECISION_STEP = "safety_decision"
LLM_STEP = "llm_classification"


def answer_for(intake: CaseIntake, wait: timedelta) -> str:
    """200 if the routing decision was ready within the API's wait, else 202.

    The workflow decides at `decision_path[-1].at`; the API stamped `received_at` when it
    started waiting, so a decision later than the wait means the caller got a 202.
    """
    steps = intake.decision_path
    if not steps:
        return "202"
    return "200" if steps[-1].at - intake.record.received_at <= wait else "202"


def observe_recorded_case(intake: CaseIntake, wait: timedelta) -> None:
    record = intake.record
    category = record.category.value if record.category else "none"
    route = record.route.value if record.route else "none"
    metrics.MESSAGES_ACCEPTED.labels(record.channel.value, category, route, answer_for(intake, wait)).inc()
    if record.confidence is not None:
        metrics.CONFIDENCE.labels(category).observe(record.confidence)
    for step in intake.decision_path:
        metrics.DECISION_STEPS.labels(step.step, step.decision[:40]).inc()


def predicted_label(timeline: list[AuditEntry]) -> str | None:
    """The model's own top label for the case, from its `llm_classification` audit line."""
    for entry in timeline:
        if entry.step == LLM_STEP and entry.decision in {c.value for c in Category}:
            return entry.decision
    return None


async def observe_agent_decision(entry: AuditEntry, cases: CaseStore) -> None:
    """Count agents' category decisions and those that contradict the model."""
    if entry.step == TRIAGE_DECISION_STEP:
        metrics.AGENT_DECISIONS.labels("triage").inc()
        predicted = predicted_label(await cases.get_timeline(entry.case_id))
        if predicted is not None and predicted != entry.decision:
            metrics.AGENT_OVERRIDES.labels("triage", predicted, entry.decision).inc()
    elif entry.step == SAFETY_DECISION_STEP and entry.decision != "escalate":
        metrics.AGENT_DECISIONS.labels("safety_review").inc()
        if entry.decision == "not_a_safety_case":
            chosen = str(entry.observed.get("reroute_to") or "unknown")
            metrics.AGENT_OVERRIDES.labels("safety_review", Route.safety_compliance.value, chosen).inc()
