"""Liveness and readiness, as a Kubernetes probe needs them.

- `/healthz` (liveness): the process answers; restarting it would not help anything else.
- `/readyz` (readiness): the API can accept messages durably, i.e. Temporal answers. Workers are
  NOT required: without them a message still becomes a durable case workflow that waits in its
  task queue, which is exactly what a burst or an LLM outage needs. Taking the API out of
  service because the LLM pool is down would turn a slow answer into a refused message.
- The pools (workflow workers, LLM workers with a loaded model, the LLM queue's backlog) are
  reported in the same body under `pools`, for people and dashboards; they never fail readiness.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response, status
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError

from api.admission import read_llm_backlog
from api.deps import SettingsDep, TemporalDep
from core.config import Settings

router = APIRouter(tags=["health"])
_RPC_TIMEOUT = timedelta(seconds=2)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _has_pollers(client: Client, namespace: str, queue: str, kind: TaskQueueType.ValueType) -> bool:
    reply = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(namespace=namespace, task_queue=TaskQueue(name=queue), task_queue_type=kind),
        timeout=_RPC_TIMEOUT,
    )
    return len(reply.pollers) > 0


@router.get("/readyz")
async def readyz(settings: SettingsDep, client: TemporalDep, response: Response) -> dict[str, object]:
    checks: dict[str, bool] = {"temporal": False}
    try:
        await client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=_RPC_TIMEOUT)
        checks["temporal"] = True
    except RPCError:
        pass
    ready = all(checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "not_ready", "checks": checks, "pools": {}}
    return {"status": "ready", "checks": checks, "pools": await _pools(client, settings)}


async def _pools(client: Client, settings: Settings) -> dict[str, object]:
    """Informational: who serves the queues and how far behind the LLM pool is."""
    pools: dict[str, object] = {}
    try:
        pools["workflow_worker"] = await _has_pollers(
            client,
            settings.temporal_namespace,
            settings.workflow_task_queue,
            TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        backlog = await read_llm_backlog(client, settings)
    except RPCError:
        return pools
    # LLM workers load the model before they poll: a poller means a loaded model.
    pools["llm_worker_model_loaded"] = backlog.pollers > 0
    pools["llm_backlog"] = {
        "tasks": backlog.tasks,
        "oldest_age_s": round(backlog.oldest_age_s, 1),
        "dispatch_per_s": round(backlog.dispatch_per_s, 2),
    }
    return pools
