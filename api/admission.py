"""Admission control for POST /v1/messages: accept durably, wait for the decision only when it helps.

Every message the API can persist is accepted: persisting means the case workflow exists in
Temporal, which then owns it. What varies is how long the caller waits for the routing
decision:

- normally up to `classification_wait_seconds` (the budget), then 202 + `Location`;
- at once (202 + `Location` + `Retry-After`) when the LLM pool is behind, i.e. when the LLM task
  queue's backlog (read from Temporal, cached for `admission_backlog_cache_seconds`) exceeds
  `admission_max_llm_backlog`, or when this process already has `admission_max_waiting`
  requests waiting for a decision (a burst arrives faster than any backlog reading).

Only what cannot be persisted is refused: Temporal unreachable or too slow to start the
workflow (503) or rate-limiting us (429), both with `Retry-After`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowFailureError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import ProblemError
from core.config import Settings
from core.logging import get_logger
from core.models import MessageOutcome, MessageWorkflowInput
from temporal_workflows.message import MessageWorkflow

log = get_logger(__name__)

_BACKLOG_RPC_TIMEOUT = timedelta(seconds=1)


@dataclass(frozen=True)
class LlmBacklog:
    """The LLM task queue as Temporal reports it (approximate, converges within seconds)."""

    tasks: int
    oldest_age_s: float
    dispatch_per_s: float
    pollers: int

    def drain_estimate_s(self) -> float | None:
        """Seconds until the current backlog is served at the current dispatch rate."""
        if self.dispatch_per_s <= 0:
            return None
        return self.tasks / self.dispatch_per_s


async def read_llm_backlog(client: Client, settings: Settings) -> LlmBacklog:
    reply = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=settings.temporal_namespace,
            task_queue=TaskQueue(name=settings.llm_task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            report_stats=True,
        ),
        timeout=_BACKLOG_RPC_TIMEOUT,
    )
    stats = reply.stats
    return LlmBacklog(
        tasks=int(stats.approximate_backlog_count),
        oldest_age_s=stats.approximate_backlog_age.ToTimedelta().total_seconds(),
        dispatch_per_s=float(stats.tasks_dispatch_rate),
        pollers=len(reply.pollers),
    )


class Admission:
    """Per-API-process state: requests waiting for a decision and the cached LLM backlog."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.waiting = 0
        self._backlog: LlmBacklog | None = None
        self._read_at = -math.inf
        self._refresh: asyncio.Task[None] | None = None
        # Starts sent to Temporal at once: a burst of hundreds of concurrent starts makes the
        # server slower for all of them; the rest wait here, inside the same start timeout.
        self.starts = asyncio.Semaphore(settings.admission_max_concurrent_starts)

    def backlog(self, client: Client) -> LlmBacklog | None:
        """The last reading; refreshed in the background, so no request waits for the RPC."""
        stale = time.monotonic() - self._read_at > self._settings.admission_backlog_cache_seconds
        if stale and (self._refresh is None or self._refresh.done()):
            self._refresh = asyncio.create_task(self._read(client))
        return self._backlog

    async def _read(self, client: Client) -> None:
        try:
            self._backlog = await read_llm_backlog(client, self._settings)
        except RPCError as exc:
            # Unknown backlog: admit as usual; a Temporal outage shows up when starting the case.
            log.warning("llm_backlog_unreadable", error=str(exc))
            self._backlog = None
        self._read_at = time.monotonic()

    def busy_reason(self, client: Client) -> str | None:
        """Why a caller should not wait for the decision now (None: wait up to the budget)."""
        if self.waiting >= self._settings.admission_max_waiting:
            return "waiting_requests"
        backlog = self.backlog(client)
        if backlog is not None and backlog.tasks > self._settings.admission_max_llm_backlog:
            return "llm_backlog"
        return None

    def retry_after_s(self) -> int:
        """When polling the case is worth it: the backlog's drain estimate, within bounds."""
        low, high = 1, self._settings.admission_max_retry_after_seconds
        estimate = self._backlog.drain_estimate_s() if self._backlog is not None else None
        if estimate is None:
            return min(high, max(low, math.ceil(self._settings.classification_wait_seconds)))
        return min(high, max(low, math.ceil(estimate)))

    @contextlib.contextmanager
    def waiting_for_decision(self) -> Iterator[None]:
        self.waiting += 1
        try:
            yield
        finally:
            self.waiting -= 1


def get_admission(request: Request) -> Admission:
    admission: Admission | None = getattr(request.app.state, "admission", None)
    if admission is None:
        admission = request.app.state.admission = Admission(request.app.state.settings)
    return admission


AdmissionDep = Annotated[Admission, Depends(get_admission)]


@dataclass(frozen=True)
class Submitted:
    """The case workflow exists. `outcome` is the routing decision when it came within the budget."""

    outcome: MessageOutcome | None
    retry_after_s: int | None = None
    busy_reason: str | None = None


async def submit(
    client: Client,
    settings: Settings,
    admission: Admission,
    workflow_id: str,
    workflow_input: MessageWorkflowInput,
) -> Submitted:
    """Persist the case workflow and, unless the system is behind, wait for its decision.

    Raises ProblemError 429/503 (with Retry-After) only when the case could not be persisted,
    and 500 problem+json when an earlier run of this message's workflow failed.
    """
    busy = admission.busy_reason(client)
    if busy is not None:
        finished = await _persist(client, settings, admission, workflow_id, workflow_input)
        if finished is not None:
            return Submitted(finished)
        return Submitted(None, admission.retry_after_s(), busy)
    start = WithStartWorkflowOperation(
        MessageWorkflow.run,
        workflow_input,
        id=workflow_id,
        task_queue=settings.workflow_task_queue,
        # Same message_id -> same workflow: a retry attaches to the running case...
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # ...and never starts a second one after the first has finished.
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    budget = settings.classification_wait_seconds
    try:
        with admission.waiting_for_decision():
            outcome: MessageOutcome = await asyncio.wait_for(
                client.execute_update_with_start_workflow(
                    MessageWorkflow.classification,
                    start_workflow_operation=start,
                    rpc_timeout=timedelta(seconds=budget),
                ),
                timeout=budget,
            )
    except WorkflowAlreadyStartedError:
        _consume_start_error(start)
        return Submitted(await _finished_outcome(client, settings, workflow_id))
    except (asyncio.TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        # When the budget expires the SDK raises its own error, not TimeoutError. Whether or not
        # the start reached the server, starting again with USE_EXISTING is idempotent.
        finished = await _persist(client, settings, admission, workflow_id, workflow_input)
        if finished is not None:
            return Submitted(finished)
        return Submitted(None, admission.retry_after_s(), "budget_expired")
    except RPCError as exc:
        if exc.status == RPCStatusCode.RESOURCE_EXHAUSTED:
            raise _not_persisted(exc, admission) from exc
        # The update failed, not necessarily the start: accepted if the workflow exists now.
        log.warning("decision_wait_failed", error=str(exc), status=exc.status.name)
        finished = await _persist(client, settings, admission, workflow_id, workflow_input)
        if finished is not None:
            return Submitted(finished)
        return Submitted(None, admission.retry_after_s(), "decision_unavailable")
    return Submitted(outcome)


def _consume_start_error(start: WithStartWorkflowOperation[Any, Any]) -> None:
    """The SDK also sets the start's error on the operation's handle future; nobody awaits it
    here, so mark it retrieved (else asyncio logs "Future exception was never retrieved")."""
    future = start._workflow_handle  # no public non-blocking accessor in temporalio 1.x
    if future.done() and not future.cancelled():
        future.exception()


async def _persist(
    client: Client,
    settings: Settings,
    admission: Admission,
    workflow_id: str,
    workflow_input: MessageWorkflowInput,
) -> MessageOutcome | None:
    """Make sure the case workflow exists; returns the outcome when it had already finished."""
    deadline = time.monotonic() + settings.admission_start_timeout_seconds
    try:
        async with asyncio.timeout(settings.admission_start_timeout_seconds), admission.starts:
            await client.start_workflow(
                MessageWorkflow.run,
                workflow_input,
                id=workflow_id,
                task_queue=settings.workflow_task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                rpc_timeout=timedelta(seconds=max(0.1, deadline - time.monotonic())),
            )
    except TimeoutError as exc:
        raise _not_persisted(
            RPCError("start timed out", RPCStatusCode.DEADLINE_EXCEEDED, b""), admission
        ) from exc
    except WorkflowAlreadyStartedError:
        return await _finished_outcome(client, settings, workflow_id)
    except RPCError as exc:
        raise _not_persisted(exc, admission) from exc
    return None


async def _finished_outcome(client: Client, settings: Settings, workflow_id: str) -> MessageOutcome:
    """The message was sent before and its workflow has closed: answer with its outcome."""
    handle = client.get_workflow_handle(workflow_id, result_type=MessageOutcome)
    try:
        result: MessageOutcome = await handle.result(
            rpc_timeout=timedelta(seconds=settings.admission_start_timeout_seconds)
        )
    except WorkflowFailureError as exc:
        raise ProblemError(
            500,
            "Case workflow failed",
            "This message was accepted before, but its case workflow failed; an operator has to look at it.",
            workflow_id=workflow_id,
        ) from exc
    except RPCError as exc:
        raise ProblemError(
            503,
            "Service unavailable",
            "The earlier case for this message could not be read; retry with the same message_id.",
            headers={"Retry-After": "5"},
        ) from exc
    return result


def _not_persisted(exc: RPCError, admission: Admission) -> ProblemError:
    log.error("message_not_persisted", error=str(exc), status=exc.status.name)
    retry_after = {"Retry-After": str(admission.retry_after_s())}
    if exc.status == RPCStatusCode.RESOURCE_EXHAUSTED:
        return ProblemError(
            429,
            "Too many requests",
            "The workflow service is rate-limiting new cases; the message was not accepted, retry later.",
            headers=retry_after,
        )
    return ProblemError(
        503,
        "Service unavailable",
        "The workflow service is unreachable; the message was not accepted, retry with the same message_id.",
        headers=retry_after,
    )
