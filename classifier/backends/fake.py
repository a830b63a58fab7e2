"""Deterministic fake backend for unit and workflow tests; it answers through the real interface.

It produces the same response shape as the real backends (top-K candidates at the first
position, over the answer words the request's JSON schema allows), so the prompt building,
log-prob parsing and policy code under test are the production code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

from classifier.backends.base import LLMBackendError, LLMRequest, LLMResponse, TokenAlternatives

# Given the message text, return probabilities for the schema's answer words, in schema order.
Scorer = Callable[[str], list[float]]

_SAFETY_WORDS = ("rash", "swallow", "overdose", "double dose", "dizzy", "tampered", "reaction")
_SERVICE_WORDS = ("cancel", "refund", "track", "order", "renew", "password", "delete", "change")


def keyword_scorer(text: str) -> list[float]:
    """[informational, service_action, safety_compliance] from a few obvious keywords."""
    lowered = text.lower()
    if any(word in lowered for word in _SAFETY_WORDS):
        return [0.03, 0.05, 0.92]
    if any(word in lowered for word in _SERVICE_WORDS):
        return [0.06, 0.9, 0.04]
    return [0.88, 0.08, 0.04]


class FakeBackend:
    name = "fake"
    model = "fake-keywords"

    def __init__(self, scorer: Scorer = keyword_scorer, *, fail_times: int = 0) -> None:
        self._scorer = scorer
        self._failures_left = fail_times
        self.requests: list[LLMRequest] = []

    def complete(self, request: LLMRequest) -> LLMResponse:
        self.requests.append(request)
        if self._failures_left > 0:
            self._failures_left -= 1
            raise LLMBackendError("fake backend: injected failure")
        words = _answer_words(request)
        text = json.loads(request.messages[-1]["content"])
        probabilities = self._scorer(text)
        candidates = [(word, math.log(max(p, 1e-9))) for word, p in zip(words, probabilities, strict=True)]
        candidates.sort(key=lambda c: c[1], reverse=True)
        best = candidates[0][0]
        return LLMResponse(
            content=json.dumps(best),
            positions=[TokenAlternatives(token=best, candidates=candidates)],
            prompt_tokens=sum(len(m["content"].split()) for m in request.messages),
            completion_tokens=1,
        )


def _answer_words(request: LLMRequest) -> list[str]:
    schema = request.json_schema
    if "enum" in schema:
        return [str(word) for word in schema["enum"]]
    return [str(word) for word in schema["properties"]["category"]["enum"]]
