"""Embedded llama.cpp (xllamacpp) backend: the model runs in the worker process."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from classifier.backends.base import LLMBackendError, LLMRequest, LLMResponse, TokenAlternatives


class LlamaCppBackend:
    name = "llamacpp"

    def __init__(self, model_path: Path, *, threads: int, context_tokens: int, slots: int = 1) -> None:
        import xllamacpp  # heavy native import: only where the backend is used

        params = xllamacpp.CommonParams()
        params.model.path = str(model_path)
        params.n_ctx = context_tokens * slots
        params.n_parallel = slots
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.warmup = True
        params.verbosity = -1  # llama.cpp logs prompts at higher levels: keep text out of logs
        self.model = model_path.stem
        self._server = xllamacpp.Server(params)
        # One llama.cpp slot per concurrent call; more callers than slots wait here.
        self._slots = threading.BoundedSemaphore(slots)

    def complete(self, request: LLMRequest) -> LLMResponse:
        body: dict[str, Any] = {
            "messages": request.messages,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "classification", "schema": request.json_schema},
            },
            "temperature": 0.0,
            "max_tokens": request.max_tokens,
            "logprobs": True,
            "top_logprobs": request.top_logprobs,
            "cache_prompt": True,
        }
        with self._slots:
            result = self._server.handle_chat_completions(body)
        if not isinstance(result, dict) or "choices" not in result:
            raise LLMBackendError(f"llama.cpp returned no choices: {str(result)[:200]}")
        choice = result["choices"][0]
        positions = [
            TokenAlternatives(
                token=item["token"],
                candidates=[(c["token"], float(c["logprob"])) for c in item.get("top_logprobs", [])],
            )
            for item in (choice.get("logprobs") or {}).get("content") or []
        ]
        usage = result.get("usage") or {}
        return LLMResponse(
            content=choice["message"].get("content") or "",
            positions=positions,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
        )
