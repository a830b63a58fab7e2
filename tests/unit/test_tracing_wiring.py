"""Tracing is off by default and one setting turns on Temporal's tracing interceptor."""

from __future__ import annotations

from temporalio.contrib.opentelemetry import TracingInterceptor

from core.config import Settings
from core.telemetry import temporal_interceptors


def test_no_interceptor_without_an_otlp_endpoint() -> None:
    assert temporal_interceptors(Settings(otel_endpoint=None)) == []


def test_an_otlp_endpoint_turns_on_the_temporal_tracing_interceptor() -> None:
    interceptors = temporal_interceptors(Settings(otel_endpoint="http://127.0.0.1:4318"))
    assert len(interceptors) == 1
    assert isinstance(interceptors[0], TracingInterceptor)
