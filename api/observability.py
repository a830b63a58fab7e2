"""The API's HTTP-layer observability: request ids in logs, per-route metrics, tracing.

- Every request gets a `request_id` (the caller's `X-Request-ID` if it is a sane token, else a
  new one), bound into the log context and echoed in the response header.
- prometheus-fastapi-instrumentator records `http_requests_total{handler,method,status}` and
  `http_request_duration_seconds{handler,method}` with route templates as `handler`
  (`/v1/cases/{case_id}`, never a raw path), so per-route rate, errors and latency stay bounded.
- With tracing on (CC_OTEL_ENDPOINT), opentelemetry-instrumentation-fastapi opens the server
  span that the Temporal client interceptor continues into the workflow and its activities.
"""

from __future__ import annotations

import re
import uuid

import structlog
from fastapi import FastAPI
from prometheus_fastapi_instrumentator import Instrumentator, metrics
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.config import Settings

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# Created once per process: the library refuses to register the same metric names twice, and
# tests build several apps in one process.
_HTTP_METRICS = metrics.default(
    latency_lowr_buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60),
)


class RequestContextMiddleware:
    """Pure ASGI (no response buffering): bind request_id for the request's log lines."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = given if _SANE_REQUEST_ID.match(given) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.clear_contextvars()


def install_observability(app: FastAPI, settings: Settings) -> None:
    """Metrics and request ids always; the tracing middleware only when tracing is on."""
    instrumentator = Instrumentator(
        should_group_status_codes=False,
        should_ignore_untemplated=True,
        excluded_handlers=["/metrics", "/healthz", "/readyz"],
    )
    instrumentator.add(_HTTP_METRICS).instrument(app)
    app.add_middleware(RequestContextMiddleware)
    if settings.otel_endpoint:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, excluded_urls="metrics,healthz,readyz")
