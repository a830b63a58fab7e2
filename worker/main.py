"""Worker process: serves the workflow task queue and/or the LLM task queue.

`python -m worker.main`. The model loads once per process, before the LLM worker polls, so a
poller on the LLM queue means "model loaded" (the API's /readyz relies on that).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.cases import CaseActivities
from activities.classification import ClassificationActivities
from activities.routing import RoutingActivities
from adapters.db.case_store import SqlCaseStore
from adapters.db.engine import create_engine_from_url, session_factory
from adapters.db.migrate import upgrade_to_head
from adapters.knowledge_base import KnowledgeBase
from adapters.notifications_local import LocalOutbox
from adapters.safety_db_local import LocalSafetyDatabase
from adapters.ticketing_local import LocalTicketing
from classifier.factory import build_classifier
from classifier.pipeline import ClassificationPipeline, build_pipeline
from classifier.policy import load_thresholds
from core.config import Settings, get_settings
from core.logging import configure_logging, get_logger
from core.telemetry import configure_tracing
from core.temporal_client import connect
from temporal_workflows.categories import ALL_WORKFLOWS
from temporal_workflows.message import MessageWorkflow
from temporal_workflows.quality import QualityReportWorkflow
from worker.bytecode import ensure_workflow_bytecode
from worker.data_rights import DATA_RIGHTS_WORKFLOWS, data_rights_activities, ensure_retention_schedule
from worker.observability import (
    metrics_runtime,
    worker_interceptors,
    workflow_side_monitoring,
)
from worker.sizing import sizing_problems

log = get_logger(__name__)


def workflow_classes() -> list[type]:
    return [MessageWorkflow, *ALL_WORKFLOWS, QualityReportWorkflow, *DATA_RIGHTS_WORKFLOWS]


def build_workers(
    client: Client,
    settings: Settings,
    *,
    pipeline: ClassificationPipeline | None,
    activities: Sequence[Any] = (),
    llm_executor: ThreadPoolExecutor | None = None,
    routing: RoutingActivities | None = None,
) -> list[Worker]:
    """Workers for the configured roles; `pipeline` is required for the LLM role.

    `routing` (guard without the LLM, the acceptance policy) runs on the workflow queue.
    """
    workers: list[Worker] = []
    if "workflows" in settings.worker_roles:
        workers.append(
            Worker(
                client,
                task_queue=settings.workflow_task_queue,
                workflows=workflow_classes(),
                interceptors=worker_interceptors(),
                activities=[*activities, *(routing or RoutingActivities()).definitions()],
                # At most one DB connection per activity: slots sized to the pool (worker/sizing.py).
                max_concurrent_activities=settings.workflow_max_concurrent_activities,
                max_concurrent_workflow_tasks=settings.workflow_max_concurrent_workflow_tasks,
                graceful_shutdown_timeout=timedelta(seconds=settings.worker_graceful_shutdown_seconds),
            )
        )
    if "llm" in settings.worker_roles:
        if pipeline is None or llm_executor is None:
            raise ValueError("the llm role needs a classification pipeline and an executor")
        workers.append(
            Worker(
                client,
                task_queue=settings.llm_task_queue,
                interceptors=worker_interceptors(),
                activities=[ClassificationActivities(pipeline).classify_message],
                activity_executor=llm_executor,
                # One task per llama.cpp slot: the backlog waits in Temporal, visible as
                # schedule-to-start latency, which is the signal to add LLM workers.
                max_concurrent_activities=settings.llm_max_concurrent,
                max_task_queue_activities_per_second=settings.llm_task_queue_rate_limit,
                graceful_shutdown_timeout=timedelta(seconds=settings.worker_graceful_shutdown_seconds),
            )
        )
    return workers


def build_case_activities(settings: Settings, engine: AsyncEngine | None = None) -> CaseActivities:
    """Case activities over the local adapters; swap an adapter here to plug in Zendesk, Argus, ..."""
    sessions = session_factory(engine or create_engine_from_url(settings.database_url))
    return CaseActivities(
        case_store=SqlCaseStore(sessions),
        ticketing=LocalTicketing(sessions),
        safety_db=LocalSafetyDatabase(sessions),
        notifications=LocalOutbox(sessions),
        knowledge_base=KnowledgeBase.default(),
        answer_wait=timedelta(seconds=settings.classification_wait_seconds),
    )


def load_pipeline(settings: Settings) -> ClassificationPipeline:
    return build_pipeline(build_classifier(settings), load_thresholds(settings.policy_file))


async def serve(settings: Settings) -> None:
    for problem in sizing_problems(settings):
        log.warning("sizing_rule_violated", problem=problem)
    runtime = metrics_runtime(settings)
    client = await connect(settings, runtime)
    pipeline = None
    if "llm" in settings.worker_roles:
        log.info("loading_model", backend=settings.llm_backend, variant=settings.model_variant)
        pipeline = await asyncio.to_thread(load_pipeline, settings)
    engine: AsyncEngine | None = None
    case_activities: list[Any] = []
    if "workflows" in settings.worker_roles:
        # The schema must be current before the first activity writes to it; deployments run
        # the migration job once instead of racing replicas (CC_MIGRATE_ON_START=false).
        if settings.migrate_on_start:
            await upgrade_to_head(settings.database_url)
        engine = create_engine_from_url(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
        )
        case_activities = build_case_activities(settings, engine).definitions()
        case_activities += data_rights_activities(engine)
        await ensure_retention_schedule(client, settings)
    try:
        async with AsyncExitStack() as stack:
            if engine is not None:
                monitoring = await stack.enter_async_context(
                    workflow_side_monitoring(client, settings, engine)
                )
                case_activities += monitoring.activities
            await _serve_workers(client, settings, pipeline, case_activities)
    finally:
        if engine is not None:
            await engine.dispose()


async def _serve_workers(
    client: Client, settings: Settings, pipeline: ClassificationPipeline | None, activities: list[Any]
) -> None:
    with ThreadPoolExecutor(max_workers=settings.llm_max_concurrent) as executor:
        workers = build_workers(
            client, settings, pipeline=pipeline, activities=activities, llm_executor=executor
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.info("worker_started", roles=sorted(settings.worker_roles))
        async with _running(workers):
            await stop.wait()
        log.info("worker_stopped")


class _running:
    """Run several workers; on exit, shut them all down gracefully."""

    def __init__(self, workers: list[Worker]) -> None:
        self._workers = workers
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> None:
        self._tasks = [asyncio.create_task(w.run()) for w in self._workers]

    async def __aexit__(self, *_: object) -> None:
        await asyncio.gather(*(w.shutdown() for w in self._workers))
        await asyncio.gather(*self._tasks, return_exceptions=True)


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    configure_tracing(settings, "cc-worker")
    if "workflows" in settings.worker_roles:
        ensure_workflow_bytecode()
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
