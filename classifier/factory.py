"""Build the configured backend and classifier (once per worker process)."""

from __future__ import annotations

from classifier.backends.base import LLMBackend
from classifier.prompt import PROMPTS
from classifier.service import Classifier
from core.config import Settings


def build_backend(settings: Settings) -> LLMBackend:
    if settings.llm_backend == "llamacpp":
        from classifier.backends.llamacpp import LlamaCppBackend
        from classifier.model_files import ensure_model

        model_path = ensure_model(settings.model_variant, settings.model_cache_dir)
        return LlamaCppBackend(
            model_path,
            threads=settings.llm_threads,
            context_tokens=settings.llm_context_tokens,
            slots=settings.llm_max_concurrent,
        )
    if settings.llm_backend == "ollama":
        from classifier.backends.ollama_backend import OllamaBackend

        return OllamaBackend(
            settings.ollama_host, settings.ollama_model, timeout_seconds=settings.llm_timeout_seconds
        )
    if settings.llm_backend == "fixed_latency":
        from classifier.backends.fixed_latency import FixedLatencyBackend

        return FixedLatencyBackend(settings.llm_fixed_latency_ms / 1000)
    from classifier.backends.fake import FakeBackend

    return FakeBackend()


def build_classifier(settings: Settings, prompt_name: str = "production") -> Classifier:
    classifier = Classifier(build_backend(settings), PROMPTS[prompt_name])
    if settings.llm_backend == "llamacpp":
        # One call per slot, so every llama.cpp slot holds the prompt prefix in its cache.
        for _ in range(settings.llm_max_concurrent):
            classifier.warm_up()
    return classifier
