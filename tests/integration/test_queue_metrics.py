"""The queue collector over real case-store rows: PostgreSQL -> SqlMonitoringStore -> gauges.

tests/unit/test_metrics.py checks the collector against a fake snapshot; this one writes rows
(cases waiting in queues, pending safety reports, tickets) into a migrated schema and reads the
gauges back from the Prometheus text exposition.
"""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.db.monitoring import SqlMonitoringStore
from adapters.db.tables import AdverseEventReportRow, CaseRow, TicketRow
from worker.queue_metrics import collect_once

pytestmark = [pytest.mark.integration]

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
REVIEW_SLA = timedelta(hours=72)


def gauges() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def case(status: str, waiting_since: datetime, last_changed: datetime | None = None) -> CaseRow:
    case_id = str(uuid.uuid4())
    return CaseRow(
        case_id=case_id,
        message_id=f"m-{case_id}",
        workflow_id=f"case-{case_id}",
        channel="chat",
        redacted_text="[omitted]",
        received_at=waiting_since,
        status=status,
        created_at=waiting_since,
        updated_at=last_changed or waiting_since,
    )


def report(status: str, created: datetime, due: date) -> AdverseEventReportRow:
    return AdverseEventReportRow(
        report_id=f"ae-{uuid.uuid4()}",
        case_id=str(uuid.uuid4()),
        day_zero=created,
        criteria_present=[],
        criteria_missing=[],
        seriousness=[],
        serious=True,
        regulatory_due_date=due,
        status=status,
        created_at=created,
        updated_at=created,
    )


def ticket(status: str, due: datetime) -> TicketRow:
    return TicketRow(
        ticket_id=f"T-{uuid.uuid4().hex[:8]}",
        case_id=str(uuid.uuid4()),
        kind="cancel_order",
        status=status,
        priority="normal",
        order_numbers=[],
        summary="[omitted]",
        sla_due_at=due,
        created_at=due - timedelta(days=1),
        updated_at=due - timedelta(days=1),
    )


async def test_collector_reads_queue_depths_ages_and_breaches_from_the_case_store(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with pg_sessions.begin() as session:
        session.add_all(
            [
                # Its priority changed a minute ago: the customer has still waited 2 h.
                case("awaiting_triage", NOW - timedelta(hours=2), last_changed=NOW - timedelta(minutes=1)),
                case("awaiting_triage", NOW - timedelta(minutes=10)),
                case("awaiting_agent", NOW - timedelta(seconds=90)),
                case("closed", NOW - timedelta(days=30)),  # in no queue
                # Pending safety reviews: one past the 72 h SLA and past its regulatory due date.
                report("open", NOW - timedelta(hours=80), (NOW - timedelta(days=1)).date()),
                report("escalated", NOW - timedelta(hours=5), (NOW + timedelta(days=14)).date()),
                report("submitted", NOW - timedelta(days=20), (NOW - timedelta(days=5)).date()),  # done
                ticket("open", NOW - timedelta(hours=1)),  # over its SLA
                ticket("open", NOW + timedelta(hours=1)),
                ticket("resolved", NOW - timedelta(days=2)),  # closed: not a breach
            ]
        )

    await collect_once(SqlMonitoringStore(pg_sessions, clock=lambda: NOW), REVIEW_SLA)

    values = gauges()

    def gauge(name: str, **labels: str) -> float:
        return values[(name, tuple(sorted(labels.items())))]

    assert gauge("cc_queue_depth", queue="triage") == 2
    assert gauge("cc_queue_oldest_age_seconds", queue="triage") == 2 * 3600
    assert gauge("cc_queue_depth", queue="agent") == 1
    assert gauge("cc_queue_oldest_age_seconds", queue="agent") == 90
    assert gauge("cc_queue_depth", queue="classification") == 0
    assert gauge("cc_queue_oldest_age_seconds", queue="classification") == 0
    assert gauge("cc_queue_depth", queue="safety_review") == 2
    assert gauge("cc_queue_oldest_age_seconds", queue="safety_review") == 80 * 3600
    assert gauge("cc_sla_breaches", kind="safety_review") == 1
    assert gauge("cc_sla_breaches", kind="regulatory") == 1
    assert gauge("cc_sla_breaches", kind="ticket") == 1
    # Midnight of yesterday's due date, seen from noon today: 36 hours overdue.
    assert gauge("cc_safety_regulatory_min_seconds_left") == -36 * 3600
    assert gauge("cc_safety_review_sla_seconds") == REVIEW_SLA.total_seconds()


async def test_collector_on_an_empty_case_store(pg_sessions: async_sessionmaker[AsyncSession]) -> None:
    await collect_once(SqlMonitoringStore(pg_sessions, clock=lambda: NOW), REVIEW_SLA)
    values = gauges()
    for queue in ("triage", "agent", "classification", "safety_review"):
        assert values[("cc_queue_depth", (("queue", queue),))] == 0
        assert values[("cc_queue_oldest_age_seconds", (("queue", queue),))] == 0
    assert math.isnan(values[("cc_safety_regulatory_min_seconds_left", ())])
