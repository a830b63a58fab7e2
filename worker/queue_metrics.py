"""Queue collector of the workflow worker: depth, ages, SLA breaches and quality gauges.

Every `CC_QUEUE_METRICS_INTERVAL_SECONDS` it reads the case store (one snapshot query set)
and sets the gauges of core.metrics, so Prometheus sees the triage and safety-review queues,
the oldest item against the review SLA and the regulatory due date, and the latest daily
quality report, even after a worker restart. A failed read is logged and retried next round;
`cc_queue_collector_last_success_timestamp_seconds` shows when the gauges were last true.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from typing import Any, Protocol

from adapters.db.monitoring import QueueSnapshot
from core import metrics
from core.logging import get_logger

log = get_logger(__name__)


class MonitoringReader(Protocol):
    """What the collector reads (adapters.db.monitoring.SqlMonitoringStore in the worker)."""

    async def queue_snapshot(self, review_sla: timedelta) -> QueueSnapshot: ...

    async def latest_quality_report(self) -> tuple[date, dict[str, Any], datetime] | None: ...


async def collect_once(store: MonitoringReader, review_sla: timedelta) -> None:
    snapshot = await store.queue_snapshot(review_sla)
    for queue, figures in snapshot.queues.items():
        metrics.QUEUE_DEPTH.labels(queue).set(figures.depth)
        metrics.QUEUE_OLDEST_AGE.labels(queue).set(figures.oldest_age_seconds)
    metrics.SAFETY_REVIEW_SLA_SECONDS.set(review_sla.total_seconds())
    if snapshot.min_seconds_to_regulatory_due is None:
        # No pending review: an absent series, not a fake "far away" number.
        metrics.SAFETY_REGULATORY_MIN_SECONDS_LEFT.set(float("nan"))
    else:
        metrics.SAFETY_REGULATORY_MIN_SECONDS_LEFT.set(snapshot.min_seconds_to_regulatory_due)
    metrics.SLA_BREACHES.labels("safety_review").set(snapshot.safety_reviews_over_sla)
    metrics.SLA_BREACHES.labels("regulatory").set(snapshot.regulatory_overdue)
    metrics.SLA_BREACHES.labels("ticket").set(snapshot.tickets_over_sla)
    latest = await store.latest_quality_report()
    if latest is not None:
        from activities.quality import set_quality_gauges

        _, report, computed_at = latest
        set_quality_gauges(report, computed_at.timestamp())
    metrics.COLLECTOR_LAST_SUCCESS.set(datetime.now(timezone.utc).timestamp())


async def run_collector(store: MonitoringReader, review_sla: timedelta, interval: float) -> None:
    """Until cancelled."""
    while True:
        try:
            await collect_once(store, review_sla)
        except Exception as error:  # a database hiccup must not stop the worker
            log.warning("queue_metrics_failed", error=type(error).__name__)
        await asyncio.sleep(interval)
