"""The one narrow interface every LLM backend implements (embedded llama.cpp, Ollama, fake)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class LLMRequest:
    """A chat completion request, identical for every backend."""

    messages: list[dict[str, str]]
    json_schema: dict[str, Any]
    max_tokens: int
    top_logprobs: int


@dataclass(frozen=True)
class TokenAlternatives:
    """One generated position: the sampled token and the top-K candidates with log-probs."""

    token: str
    candidates: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class LLMResponse:
    content: str
    positions: list[TokenAlternatives]
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class LLMBackendError(RuntimeError):
    """The backend could not produce a completion (transport, timeout, server error)."""


class LLMBackend(Protocol):
    name: str
    model: str

    def complete(self, request: LLMRequest) -> LLMResponse:
        """Blocking call; callers run it off the event loop."""
        ...
