"""An LLM pool with a known service time: the fake backend's answers after a fixed delay.

For capacity tests (`python -m bench spike`): every call takes `latency_seconds` and a worker
serves `llm_max_concurrent` calls at once, so the pool's capacity is exactly
workers x slots / latency, and a measured drain rate can be compared with it. It answers
through the same interface as the real backends; never for production traffic.
"""

from __future__ import annotations

import time

from classifier.backends.base import LLMRequest, LLMResponse
from classifier.backends.fake import FakeBackend


class FixedLatencyBackend:
    name = "fixed_latency"

    def __init__(self, latency_seconds: float, inner: FakeBackend | None = None) -> None:
        if latency_seconds < 0:
            raise ValueError("latency_seconds must be >= 0")
        self.latency_seconds = latency_seconds
        self._inner = inner or FakeBackend()
        self.model = f"fixed-latency-{latency_seconds * 1000:.0f}ms"

    def complete(self, request: LLMRequest) -> LLMResponse:
        # A blocking sleep, like a real model call: the activity runs in the worker's thread pool.
        time.sleep(self.latency_seconds)
        return self._inner.complete(request)
