"""ASGI middleware of the API: a body-size cap enforced before parsing, and security headers."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import PROBLEM_JSON, problem_body


class _BodyTooLargeError(Exception):
    pass


class BodySizeLimitMiddleware:
    """413 problem+json when a request body exceeds `max_bytes`.

    Checked on `Content-Length` before the app runs, and by counting the streamed chunks (a
    chunked upload has no length), so no handler ever buffers or parses an oversized body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, send)
            return
        received = 0
        too_large = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    raise _BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if too_large:
                return  # whatever the app made of the aborted body is replaced by the 413
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_BodyTooLargeError):
            await self.app(scope, counting_receive, guarded_send)
        if too_large and not response_started:
            await self._reject(scope, send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        body = problem_body(
            413,
            "Payload too large",
            f"The request body exceeds {self.max_bytes} bytes.",
            scope.get("path", ""),
        )
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


# Swagger UI / ReDoc pages load their own scripts; every other response is data.
_HTML_PATHS = ("/docs", "/redoc")
_DATA_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                _set_default(headers, "X-Content-Type-Options", "nosniff")
                _set_default(headers, "Referrer-Policy", "no-referrer")
                _set_default(headers, "X-Frame-Options", "DENY")
                _set_default(headers, "Cache-Control", "no-store")
                if not path.startswith(_HTML_PATHS):
                    _set_default(headers, "Content-Security-Policy", _DATA_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _set_default(headers: MutableHeaders, name: str, value: Any) -> None:
    if name not in headers:
        headers[name] = value
