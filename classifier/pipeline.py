"""Classification as the worker runs it (and the eval measures it): one LLM call + the guard."""

from __future__ import annotations

from collections.abc import Callable

from classifier.injection import INJECTION_VERSION, detect
from classifier.service import Classifier
from core.models import AcceptanceThresholds, ClassificationOutcome, ClassifyInput, GuardResult

GuardCheck = Callable[[str], GuardResult]


class ClassificationPipeline:
    def __init__(
        self,
        classifier: Classifier,
        guard: GuardCheck,
        guard_version: str,
        thresholds: AcceptanceThresholds,
        injection_check: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.classifier = classifier
        self._guard = guard
        self._guard_version = guard_version
        self.thresholds = thresholds
        self._injection_check = injection_check

    def run(self, request: ClassifyInput) -> ClassificationOutcome:
        classification = self.classifier.classify(request)
        return ClassificationOutcome(
            classification=classification,
            guard=self._guard(request.redacted_text),
            guard_version=self._guard_version,
            thresholds=self.thresholds,
            injection_signals=self._injection_check(request.redacted_text) if self._injection_check else [],
            injection_version=INJECTION_VERSION if self._injection_check else None,
        )


def build_pipeline(classifier: Classifier, thresholds: AcceptanceThresholds) -> ClassificationPipeline:
    import classifier.safety_guard as safety_guard

    return ClassificationPipeline(
        classifier, safety_guard.check, safety_guard.GUARD_VERSION, thresholds, injection_check=detect
    )
