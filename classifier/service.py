"""The classifier: one LLM call per message, the same code in the worker and in the eval."""

from __future__ import annotations

import contextlib
import json
import time

from classifier.backends.base import LLMBackend, LLMRequest
from classifier.confidence import probabilities_from_positions
from classifier.prompt import NAIVE_PROMPT, PRODUCTION_PROMPT, PromptTemplate, naive_json_schema
from core.models import Category, Channel, ClassificationResult, ClassifyInput

TOP_LOGPROBS = 10


class Classifier:
    def __init__(self, backend: LLMBackend, prompt: PromptTemplate = PRODUCTION_PROMPT) -> None:
        self._backend = backend
        self._prompt = prompt

    @property
    def backend(self) -> LLMBackend:
        return self._backend

    @property
    def prompt(self) -> PromptTemplate:
        return self._prompt

    def warm_up(self) -> None:
        """Evaluate the fixed prompt prefix once so it sits in the runtime's prompt cache.

        The prefix (definitions and examples) is ~1,240 tokens: evaluated cold it costs tens of
        seconds on 2 CPU cores; cached, a classification pays only for the customer's own tokens.
        """
        self.classify(ClassifyInput(case_id="warm-up", redacted_text="warm up", channel=Channel.chat))

    def classify(self, request: ClassifyInput) -> ClassificationResult:
        naive = self._prompt is NAIVE_PROMPT
        llm_request = LLMRequest(
            messages=self._prompt.build_messages(request.redacted_text),
            json_schema=naive_json_schema() if naive else self._prompt.json_schema,
            max_tokens=self._prompt.max_tokens,
            top_logprobs=TOP_LOGPROBS,
        )
        started = time.perf_counter()
        response = self._backend.complete(llm_request)
        latency_ms = (time.perf_counter() - started) * 1000.0
        probabilities, label_mass = probabilities_from_positions(
            response.positions, self._prompt.answer_words, dict(self._prompt.ambiguous_prefixes)
        )
        label = probabilities.ranked()[0][0]
        if naive:
            # The baseline reads the label the model wrote, as the obvious implementation would.
            with contextlib.suppress(ValueError, KeyError, TypeError):
                label = Category(json.loads(response.content)["category"])
        return ClassificationResult(
            label=label,
            probabilities=probabilities,
            label_mass=label_mass,
            backend=self._backend.name,
            model=self._backend.model,
            prompt_version=self._prompt.version,
            latency_ms=round(latency_ms, 2),
            prompt_tokens=response.prompt_tokens,
            completion_tokens=response.completion_tokens,
        )
