"""Classification activity: a thin adapter over the classification pipeline (one LLM call).

Runs as a synchronous activity in a thread pool: llama.cpp blocks for the whole call but
releases the GIL, so the worker's event loop keeps heartbeating and polling meanwhile.
"""

from __future__ import annotations

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


class ClassificationActivities:
    def __init__(self, pipeline: ClassificationPipeline) -> None:
        self._pipeline = pipeline

    @activity.defn(name=CLASSIFY_ACTIVITY)
    def classify_message(self, request: ClassifyInput) -> ClassificationOutcome:
        info = activity.info()
        try:
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
