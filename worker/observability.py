"""Wiring of the worker's observability: metrics endpoints, interceptors, collector, schedule.

Two scrape endpoints per worker process, both bound to `CC_METRICS_BIND_HOST` (0.0.0.0 in
containers): the Temporal SDK's metrics on `CC_WORKER_METRICS_PORT` (schedule-to-start latency
is the backlog) and the application's (core.metrics) on `CC_WORKER_APP_METRICS_PORT`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import start_http_server
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Interceptor

from activities.quality import QualityActivities
from adapters.db.engine import session_factory
from adapters.db.monitoring import SqlMonitoringStore
from core.config import Settings
from core.logging import get_logger
from core.models import CaseTimers
from core.quality import load_baseline
from worker.interceptors import ObservabilityInterceptor
from worker.queue_metrics import run_collector
from worker.schedules import ensure_quality_schedule

log = get_logger(__name__)


def worker_interceptors() -> list[Interceptor]:
    return [ObservabilityInterceptor()]


def metrics_runtime(settings: Settings) -> Runtime:
    """Temporal runtime exporting SDK metrics, and the app metrics server next to it."""
    host = settings.metrics_bind_host
    start_http_server(settings.worker_app_metrics_port, addr=host)
    log.info(
        "metrics_listening",
        host=host,
        sdk_port=settings.worker_metrics_port,
        app_port=settings.worker_app_metrics_port,
    )
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=f"{host}:{settings.worker_metrics_port}")
        )
    )


def quality_activities(settings: Settings, engine: AsyncEngine) -> list[Callable[..., Any]]:
    store = SqlMonitoringStore(session_factory(engine))
    return [QualityActivities(store, settings.quality_export_dir, load_baseline()).compute_daily_quality]


@dataclass
class WorkflowSideMonitoring:
    activities: list[Callable[..., Any]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def workflow_side_monitoring(
    client: Client, settings: Settings, engine: AsyncEngine
) -> AsyncIterator[WorkflowSideMonitoring]:
    """The quality activity to register, the daily schedule, and the queue collector task."""
    await ensure_quality_schedule(client, settings)
    store = SqlMonitoringStore(session_factory(engine))
    collector = asyncio.create_task(
        run_collector(store, CaseTimers().review_deadline, settings.queue_metrics_interval_seconds)
    )
    try:
        yield WorkflowSideMonitoring(activities=quality_activities(settings, engine))
    finally:
        collector.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await collector
