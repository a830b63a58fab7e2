"""Classification activity: a thin adapter over the classification pipeline (one LLM call).

Runs as a synchronous activity in a thread pool: llama.cpp blocks for the whole call but
releases the GIL, so the worker's event loop keeps polling meanwhile. While the call runs, a
helper thread heartbeats: with the workflows' `heartbeat_timeout`, a worker killed mid-call is
detected within that timeout instead of the whole start-to-close timeout. An attempt the
workflow abandons (an operator's reclassify) is not interrupted inside the backend's code
(`no_thread_cancel_exception`): it finishes its call, as before, and its answer is discarded.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from classifier.backends.base import LLMBackendError
from classifier.confidence import NoLabelError
from classifier.pipeline import ClassificationPipeline
from core import metrics
from core.logging import get_logger
from core.models import ClassificationOutcome, ClassifyInput
from core.names import CLASSIFY_ACTIVITY

log = get_logger(__name__)

# Longest gap between heartbeats while the LLM call runs; shorter (a third of the activity's
# heartbeat timeout) when the workflow asks for a short timeout. The SDK throttles what it sends.
HEARTBEAT_EVERY = timedelta(seconds=2)


class ClassificationActivities:
    def __init__(
        self, pipeline: ClassificationPipeline, heartbeat_every: timedelta = HEARTBEAT_EVERY
    ) -> None:
        self._pipeline = pipeline
        self._heartbeat_every = heartbeat_every

    @activity.defn(name=CLASSIFY_ACTIVITY, no_thread_cancel_exception=True)
    def classify_message(self, request: ClassifyInput) -> ClassificationOutcome:
        info = activity.info()
        every = self._heartbeat_every
        if info.heartbeat_timeout is not None:
            every = min(every, info.heartbeat_timeout / 3)
        try:
            with heartbeating(every):
                outcome = self._pipeline.run(request)
        except NoLabelError as exc:
            metrics.LLM_ERRORS.labels("no_label").inc()
            # Deterministic at temperature 0: retrying would give the same answer.
            raise ApplicationError(str(exc), type="NoLabel", non_retryable=True) from exc
        except LLMBackendError as exc:
            metrics.LLM_ERRORS.labels("backend").inc()
            log.warning("llm_call_failed", case_id=request.case_id, attempt=info.attempt, error=str(exc))
            raise
        result = outcome.classification
        _observe(outcome)
        log.info(
            "message_classified",
            case_id=request.case_id,
            attempt=info.attempt,
            label=result.label.value,
            p_top=round(result.probabilities.of(result.label), 4),
            guard_raised=outcome.guard.raise_to_safety,
            latency_ms=result.latency_ms,
            prompt_tokens=result.prompt_tokens,
        )
        return outcome


@contextlib.contextmanager
def heartbeating(every: timedelta) -> Iterator[None]:
    """Heartbeat from a helper thread every `every` until the block ends (sync activities only)."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every.total_seconds()):
            try:
                activity.heartbeat()
            except Exception as exc:  # e.g. the worker is shutting down: the attempt ends anyway
                log.warning("classify_heartbeat_failed", error=type(exc).__name__)
                return

    # The activity context (and so `activity.heartbeat`) lives in contextvars: hand it over.
    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(beat,), name="classify-heartbeat", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every.total_seconds())


def _observe(outcome: ClassificationOutcome) -> None:
    result = outcome.classification
    metrics.LLM_SECONDS.observe(result.latency_ms / 1000)
    if result.prompt_tokens is not None:
        metrics.PROMPT_TOKENS.observe(result.prompt_tokens)
    metrics.LABEL_MASS.observe(result.label_mass)
    metrics.PREDICTIONS.labels(result.label.value).inc()
    if outcome.guard.raise_to_safety:
        metrics.GUARD_RAISES.labels(result.label.value).inc()
    if outcome.injection_signals:
        metrics.INJECTION_FLAGS.inc()
