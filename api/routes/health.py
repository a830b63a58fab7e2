"""Liveness and readiness.

/readyz is ready when Temporal answers, a worker polls the workflow queue, and a worker polls
the LLM queue (LLM workers load the model before they poll, so that also means "model loaded").
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response, status
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError

from api.deps import SettingsDep, TemporalDep

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
    checks: dict[str, bool] = {"temporal": False, "workflow_worker": False, "llm_worker_model_loaded": False}
    try:
        await client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=_RPC_TIMEOUT)
        checks["temporal"] = True
        checks["workflow_worker"] = await _has_pollers(
            client,
            settings.temporal_namespace,
            settings.workflow_task_queue,
            TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        checks["llm_worker_model_loaded"] = await _has_pollers(
            client,
            settings.temporal_namespace,
            settings.llm_task_queue,
            TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        )
    except RPCError:
        pass
    ready = all(checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "ready" if ready else "not_ready", "checks": checks}
