"""Ollama backend (production): same prompt and JSON schema, served by an Ollama fleet."""

from __future__ import annotations

import httpx
import ollama

from classifier.backends.base import LLMBackendError, LLMRequest, LLMResponse, TokenAlternatives


class OllamaBackend:
    name = "ollama"

    def __init__(self, host: str, model: str, *, timeout_seconds: float) -> None:
        self.model = model
        # Temporal owns retries: the HTTP transport must not retry on its own.
        self._client = ollama.Client(
            host=host, timeout=timeout_seconds, transport=httpx.HTTPTransport(retries=0)
        )

    def complete(self, request: LLMRequest) -> LLMResponse:
        try:
            response = self._client.chat(
                model=self.model,
                messages=request.messages,
                format=request.json_schema,
                logprobs=True,
                top_logprobs=request.top_logprobs,
                options={"temperature": 0.0, "num_predict": request.max_tokens, "seed": 0},
                keep_alive="30m",
            )
        except (ollama.ResponseError, httpx.HTTPError, ConnectionError) as exc:
            raise LLMBackendError(f"ollama call failed: {type(exc).__name__}") from exc
        positions = [
            TokenAlternatives(
                token=item.token,
                candidates=[(alt.token, float(alt.logprob)) for alt in (item.top_logprobs or [])],
            )
            for item in (response.logprobs or [])
        ]
        return LLMResponse(
            content=response.message.content or "",
            positions=positions,
            prompt_tokens=response.prompt_eval_count,
            completion_tokens=response.eval_count,
        )
