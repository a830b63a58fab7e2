"""core.metrics as the worker records it: once per case, overrides, PSI, the queue collector.

Metrics live in the process-wide default registry, so every test reads values before and after
(deltas) through prometheus_client's registry and the text exposition, not through the metric
objects' internals.
"""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import ActivityEnvironment

from activities.case_metrics import LLM_STEP, SAFETY_DECISION_STEP, TRIAGE_DECISION_STEP, answer_for
from activities.cases import CaseActivities
from adapters.db.monitoring import QueueFigures, QueueSnapshot
from adapters.knowledge_base import KnowledgeBase
from adapters.ports import CaseStore
from core.models import AuditEntry, CaseIntake, CaseRecord, Category, Channel, DecisionStep, Route
from core.names import audit_key
from core.quality import PSI_FLOOR, histogram, psi
from worker.queue_metrics import collect_once

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
WAIT = timedelta(seconds=30)


def value(name: str, **labels: str) -> float:
    found = REGISTRY.get_sample_value(name, labels)
    return 0.0 if found is None else found


def exposition() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the default registry as the /metrics endpoint renders it."""
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


class MemoryCaseStore:
    """The parts of the CaseStore port the two counting activities use, with its idempotency."""

    def __init__(self) -> None:
        self.cases: dict[str, CaseRecord] = {}
        self.audit: dict[tuple[str, str], AuditEntry] = {}

    async def save_case(self, record: CaseRecord) -> None:
        self.cases[record.case_id] = record

    async def append_audit(self, entry: AuditEntry) -> bool:
        if (entry.case_id, entry.key) in self.audit:
            return False
        self.audit[(entry.case_id, entry.key)] = entry
        return True

    async def get_timeline(self, case_id: str) -> list[AuditEntry]:
        return sorted((e for e in self.audit.values() if e.case_id == case_id), key=lambda e: e.at)


def activities(store: MemoryCaseStore) -> CaseActivities:
    unused: Any = None
    return CaseActivities(
        case_store=cast(CaseStore, store),
        ticketing=unused,
        safety_db=unused,
        notifications=unused,
        knowledge_base=KnowledgeBase.default(),
        answer_wait=WAIT,
    )


def intake(
    channel: Channel, decided_after: timedelta, category: Category = Category.informational
) -> CaseIntake:
    case_id = str(uuid.uuid4())
    record = CaseRecord(
        case_id=case_id,
        message_id=f"m-{case_id}",
        workflow_id=f"case-{case_id}",
        channel=channel,
        redacted_text="what is the dose for children",
        received_at=T0,
        category=category,
        route=Route(category.value),
        confidence=0.93,
    )
    steps = [
        DecisionStep(step=LLM_STEP, actor="llm", decision=category.value, reason="top label", at=T0),
        DecisionStep(
            step="acceptance_policy", actor="policy", decision="accept", reason="p>=t", at=T0 + decided_after
        ),
    ]
    return CaseIntake(record=record, decision_path=steps)


ACCEPTED = "cc_messages_accepted_total"


# ------------------------------------------------------------------ accepted messages


async def test_a_case_recorded_twice_counts_once() -> None:
    """A retried record_case (same intake, same audit keys) writes nothing new and counts nothing."""
    store = MemoryCaseStore()
    env = ActivityEnvironment()
    case = intake(Channel.voice, timedelta(seconds=2), Category.service_action)
    labels = {"channel": "voice", "category": "service_action", "route": "service_action", "answer": "200"}
    before = value(ACCEPTED, **labels)

    first = await env.run(activities(store).record_case, case)
    again = await env.run(activities(store).record_case, case)

    assert (first, again) == (2, 0)
    assert value(ACCEPTED, **labels) - before == 1
    assert exposition()[(ACCEPTED, tuple(sorted(labels.items())))] == value(ACCEPTED, **labels)


async def test_decision_within_the_wait_is_labelled_200_and_later_202() -> None:
    store = MemoryCaseStore()
    env = ActivityEnvironment()
    common = {"channel": "email", "category": "informational", "route": "informational"}
    before_200 = value(ACCEPTED, **common, answer="200")
    before_202 = value(ACCEPTED, **common, answer="202")

    await env.run(activities(store).record_case, intake(Channel.email, WAIT))  # exactly at the wait
    await env.run(activities(store).record_case, intake(Channel.email, WAIT + timedelta(seconds=1)))
    await env.run(activities(store).record_case, intake(Channel.email, timedelta(minutes=5)))

    assert value(ACCEPTED, **common, answer="200") - before_200 == 1
    assert value(ACCEPTED, **common, answer="202") - before_202 == 2


def test_a_case_without_a_decision_path_is_a_202() -> None:
    case = intake(Channel.chat, timedelta(seconds=1))
    assert answer_for(case, WAIT) == "200"
    assert answer_for(case.model_copy(update={"decision_path": []}), WAIT) == "202"


# ------------------------------------------------------------------ agent overrides


def audit(case_id: str, step: str, decision: str, sequence: int, **observed: str) -> AuditEntry:
    return AuditEntry(
        case_id=case_id,
        key=audit_key(case_id, step, sequence),
        step=step,
        actor="agent-7" if step != LLM_STEP else "llm",
        decision=decision,
        reason="test",
        observed=dict(observed),
        at=T0 + timedelta(minutes=sequence),
    )


async def predicted_case(store: MemoryCaseStore, env: ActivityEnvironment, predicted: str) -> str:
    case_id = str(uuid.uuid4())
    await env.run(activities(store).append_audit, audit(case_id, LLM_STEP, predicted, 1))
    return case_id


async def test_a_triage_choice_different_from_the_prediction_is_an_override() -> None:
    store, env = MemoryCaseStore(), ActivityEnvironment()
    override = {"kind": "triage", "predicted": "informational", "chosen": "service_action"}
    before_override = value("cc_agent_overrides_total", **override)
    before_decisions = value("cc_agent_decisions_total", kind="triage")

    case_id = await predicted_case(store, env, "informational")
    entry = audit(case_id, TRIAGE_DECISION_STEP, "service_action", 2)
    assert await env.run(activities(store).append_audit, entry) is True
    # The same audit line retried by Temporal is not a second decision.
    assert await env.run(activities(store).append_audit, entry) is False

    assert value("cc_agent_overrides_total", **override) - before_override == 1
    assert value("cc_agent_decisions_total", kind="triage") - before_decisions == 1


async def test_a_triage_choice_equal_to_the_prediction_is_no_override() -> None:
    store, env = MemoryCaseStore(), ActivityEnvironment()
    before_overrides = {key: v for key, v in exposition().items() if key[0] == "cc_agent_overrides_total"}
    before_decisions = value("cc_agent_decisions_total", kind="triage")

    case_id = await predicted_case(store, env, "safety_compliance")
    await env.run(
        activities(store).append_audit, audit(case_id, TRIAGE_DECISION_STEP, "safety_compliance", 2)
    )

    after_overrides = {key: v for key, v in exposition().items() if key[0] == "cc_agent_overrides_total"}
    assert after_overrides == before_overrides
    assert value("cc_agent_decisions_total", kind="triage") - before_decisions == 1


async def test_a_not_a_safety_case_verdict_overrides_and_escalate_is_no_decision() -> None:
    store, env = MemoryCaseStore(), ActivityEnvironment()
    override = {"kind": "safety_review", "predicted": "safety_compliance", "chosen": "informational"}
    before_override = value("cc_agent_overrides_total", **override)
    before_decisions = value("cc_agent_decisions_total", kind="safety_review")

    case_id = await predicted_case(store, env, "safety_compliance")
    await env.run(activities(store).append_audit, audit(case_id, SAFETY_DECISION_STEP, "escalate", 2))
    await env.run(
        activities(store).append_audit,
        audit(case_id, SAFETY_DECISION_STEP, "not_a_safety_case", 3, reroute_to="informational"),
    )
    other = await predicted_case(store, env, "safety_compliance")
    await env.run(activities(store).append_audit, audit(other, SAFETY_DECISION_STEP, "confirm", 2))

    assert value("cc_agent_overrides_total", **override) - before_override == 1
    assert value("cc_agent_decisions_total", kind="safety_review") - before_decisions == 2


# ------------------------------------------------------------------ PSI


def test_psi_of_known_distributions() -> None:
    # (0.5-0.25)*ln(2) + (0.5-0.75)*ln(2/3)
    expected = 0.25 * math.log(2) + 0.25 * math.log(1.5)
    assert psi([50, 50], [25, 75]) == pytest.approx(expected, abs=1e-4)
    assert psi([50, 50], [25, 75]) == 0.2747
    # Symmetric in its two arguments.
    assert psi([25, 75], [50, 50]) == psi([50, 50], [25, 75])


def test_psi_of_identical_shares_is_zero() -> None:
    assert psi([3, 1, 0, 6], [30, 10, 0, 60]) == 0.0


def test_an_empty_bin_is_floored_not_infinite() -> None:
    value_ = psi([100, 0], [50, 50])
    floored = 0.5 * math.log(2) + (0.5 - PSI_FLOOR) * math.log(0.5 / PSI_FLOOR)
    assert value_ is not None and math.isfinite(value_)
    assert value_ == pytest.approx(floored, abs=1e-4)


def test_psi_of_an_empty_histogram_is_none_and_bins_must_match() -> None:
    assert psi([0, 0, 0], [1, 2, 3]) is None
    assert psi([1, 2, 3], [0, 0, 0]) is None
    with pytest.raises(ValueError, match="same bins"):
        psi([1, 2], [1, 2, 3])


def test_histogram_bins_the_top_probability_on_zero_to_one() -> None:
    assert histogram([0.0, 0.05, 0.1, 0.55, 0.99, 1.0]) == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]


# ------------------------------------------------------------------ queue collector


class FakeMonitoringStore:
    """What SqlMonitoringStore answers, with rows chosen by the test."""

    def __init__(self, snapshot: QueueSnapshot, report: tuple[date, dict[str, Any], datetime] | None) -> None:
        self.snapshot = snapshot
        self.report = report
        self.asked_sla: timedelta | None = None

    async def queue_snapshot(self, review_sla: timedelta) -> QueueSnapshot:
        self.asked_sla = review_sla
        return self.snapshot

    async def latest_quality_report(self) -> tuple[date, dict[str, Any], datetime] | None:
        return self.report


def gauge(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def test_collector_sets_queue_depth_age_sla_and_quality_gauges() -> None:
    snapshot = QueueSnapshot(
        queues={
            "triage": QueueFigures(3, 5400.0),
            "classification": QueueFigures(0, 0.0),
            "agent": QueueFigures(7, 120.5),
            "safety_review": QueueFigures(2, 80000.0),
        },
        safety_reviews_over_sla=1,
        regulatory_overdue=0,
        min_seconds_to_regulatory_due=-3600.0,
        tickets_over_sla=4,
    )
    report = {
        "labelled": {"n": 12, "agreement": 0.75, "per_class": {"informational": {"n": 4, "agreement": 0.5}}},
        "confidence_psi": 0.31,
        "category_share": {"informational": 0.6, "service_action": 0.4},
    }
    computed = datetime(2026, 12, 1, 0, 15, tzinfo=timezone.utc)
    store = FakeMonitoringStore(snapshot, (date(2026, 11, 30), report, computed))
    before = datetime.now(timezone.utc).timestamp()

    await collect_once(store, timedelta(hours=72))

    samples = exposition()
    assert store.asked_sla == timedelta(hours=72)
    assert gauge(samples, "cc_queue_depth", queue="triage") == 3
    assert gauge(samples, "cc_queue_depth", queue="agent") == 7
    assert gauge(samples, "cc_queue_depth", queue="classification") == 0
    assert gauge(samples, "cc_queue_depth", queue="safety_review") == 2
    assert gauge(samples, "cc_queue_oldest_age_seconds", queue="triage") == 5400.0
    assert gauge(samples, "cc_queue_oldest_age_seconds", queue="agent") == 120.5
    assert gauge(samples, "cc_queue_oldest_age_seconds", queue="safety_review") == 80000.0
    assert gauge(samples, "cc_safety_review_sla_seconds") == 72 * 3600
    assert gauge(samples, "cc_safety_regulatory_min_seconds_left") == -3600.0
    assert gauge(samples, "cc_sla_breaches", kind="safety_review") == 1
    assert gauge(samples, "cc_sla_breaches", kind="regulatory") == 0
    assert gauge(samples, "cc_sla_breaches", kind="ticket") == 4
    assert gauge(samples, "cc_quality_labelled_cases") == 12
    assert gauge(samples, "cc_quality_agreement_ratio", category="all") == 0.75
    assert gauge(samples, "cc_quality_agreement_ratio", category="informational") == 0.5
    assert gauge(samples, "cc_quality_confidence_psi") == 0.31
    assert gauge(samples, "cc_quality_category_share", category="safety_compliance") == 0.0
    assert gauge(samples, "cc_quality_last_run_timestamp_seconds") == computed.timestamp()
    assert gauge(samples, "cc_queue_collector_last_success_timestamp_seconds") >= before


async def test_collector_with_empty_queues_and_no_pending_review() -> None:
    snapshot = QueueSnapshot(
        queues={
            name: QueueFigures(0, 0.0) for name in ("triage", "classification", "agent", "safety_review")
        },
        safety_reviews_over_sla=0,
        regulatory_overdue=0,
        min_seconds_to_regulatory_due=None,
        tickets_over_sla=0,
    )
    await collect_once(FakeMonitoringStore(snapshot, None), timedelta(hours=72))

    samples = exposition()
    for queue in ("triage", "classification", "agent", "safety_review"):
        assert gauge(samples, "cc_queue_depth", queue=queue) == 0
        assert gauge(samples, "cc_queue_oldest_age_seconds", queue=queue) == 0
    # No pending review: NaN, so `< 86400` never matches and the alert stays quiet.
    assert math.isnan(gauge(samples, "cc_safety_regulatory_min_seconds_left"))
