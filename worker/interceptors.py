"""Worker interceptor: log ids and retry/failure metrics around every activity attempt.

Binds `workflow_id`, `run_id`, `activity`, `attempt` (and `case_id` when the input carries one)
into the structlog context for the attempt, so every line an activity or adapter logs says
which case and which attempt it belongs to. The context is copied into the executor thread of
synchronous activities (the LLM call) by the SDK. Workflows are not intercepted: inside them
`workflow.logger` carries the ids and stays silent during replay.
"""

from __future__ import annotations

from typing import Any

import structlog
from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from core import metrics


def _case_id(args: Any) -> str | None:
    for arg in args:
        case_id = getattr(arg, "case_id", None)
        if case_id is None:
            record = getattr(arg, "record", None)  # CaseIntake
            case_id = getattr(record, "case_id", None)
        if isinstance(case_id, str):
            return case_id
    return None


class _ActivityContext(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        ids: dict[str, Any] = {
            "workflow_id": info.workflow_id,
            "run_id": info.workflow_run_id,
            "activity": info.activity_type,
            "attempt": info.attempt,
        }
        case_id = _case_id(input.args)
        if case_id is not None:
            ids["case_id"] = case_id
        if info.attempt > 1:
            metrics.ACTIVITY_RETRIES.labels(info.activity_type).inc()
        with structlog.contextvars.bound_contextvars(**ids):
            try:
                return await self.next.execute_activity(input)
            except BaseException as error:
                error_type = getattr(error, "type", None) or type(error).__name__
                metrics.ACTIVITY_FAILURES.labels(info.activity_type, str(error_type)[:64]).inc()
                raise


class ObservabilityInterceptor(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityContext(next)
