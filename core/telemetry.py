"""OpenTelemetry tracing: off by default, on with one setting (CC_OTEL_ENDPOINT).

One trace follows a message from the API's server span (opentelemetry-instrumentation-fastapi)
through the update-with-start call, the workflow and its activities: the Temporal SDK's
`TracingInterceptor` on the client carries the context in Temporal headers, and workers built
from that client inherit the interceptor. Spans go to an OTLP/HTTP collector; log lines carry
the `trace_id` (core.logging).
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from temporalio.client import Interceptor as ClientInterceptor

from core.config import Settings

_OTLP_TRACES_PATH = "/v1/traces"


def otlp_traces_url(endpoint: str) -> str:
    """`http://collector:4318` -> `http://collector:4318/v1/traces` (a full URL is kept)."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(_OTLP_TRACES_PATH) else endpoint + _OTLP_TRACES_PATH


def configure_tracing(
    settings: Settings, service_name: str, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Install the process-wide tracer provider when tracing is on; returns it (None when off).

    `exporter` replaces the OTLP exporter (tests pass an in-memory one and get synchronous export).
    """
    if not settings.otel_endpoint:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_traces_url(settings.otel_endpoint)))
        )
    trace.set_tracer_provider(provider)
    return provider


def temporal_interceptors(settings: Settings) -> list[ClientInterceptor]:
    """Client interceptors for `Client.connect`; workers built from the client inherit them."""
    if not settings.otel_endpoint:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]
