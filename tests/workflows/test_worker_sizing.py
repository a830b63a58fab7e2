"""Workers are built with the sizing settings: slots, rate limit and graceful-shutdown timeout."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from core.config import Settings
from worker.main import build_workers


async def test_each_pool_gets_its_slots_rate_limit_and_shutdown_timeout(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings
) -> None:
    settings = queues_settings.model_copy(
        update={
            "workflow_max_concurrent_activities": 12,
            "workflow_max_concurrent_workflow_tasks": 7,
            "llm_max_concurrent": 3,
            "llm_task_queue_rate_limit": 2.5,
            "worker_graceful_shutdown_seconds": 17.0,
        }
    )
    pipeline: Any = object()  # never called: the workers are built, not run
    with ThreadPoolExecutor(max_workers=settings.llm_max_concurrent) as executor:
        workflows, llm = build_workers(
            time_skipping_env.client, settings, pipeline=pipeline, llm_executor=executor
        )
    workflow_config, llm_config = workflows.config(), llm.config()
    assert workflow_config["task_queue"] == settings.workflow_task_queue
    assert workflow_config["max_concurrent_activities"] == 12
    assert workflow_config["max_concurrent_workflow_tasks"] == 7
    assert llm_config["task_queue"] == settings.llm_task_queue
    assert llm_config["max_concurrent_activities"] == 3
    assert llm_config["max_task_queue_activities_per_second"] == 2.5
    for config in (workflow_config, llm_config):
        assert config["graceful_shutdown_timeout"] == timedelta(seconds=17)
