"""Codec server for the Temporal Web UI: `python -m api.codec_server`.

Workflow histories hold only encrypted payloads (core/codec.py). The Web UI shows them in clear
by sending them from the browser to this server (the remote codec protocol: `POST /decode` and
`POST /encode` with `{"payloads": [...]}` in protobuf JSON, an `X-Namespace` header, CORS for
the UI's origin). It runs as its own process with the payload keys, apart from the API, and
answers only authenticated people:

- `Authorization: Bearer <token>`: what a UI behind OIDC sends with `passAccessToken` (the UI
  sends it only to an https endpoint), and what scripts send;
- the `cc_codec_session` cookie: a UI without login of its own (`make run`, the dev server) can
  still authenticate the agent with "include cross-origin credentials": the agent signs in once
  at `GET /session` with the same token the API takes, and the browser sends the HttpOnly,
  SameSite=Strict cookie with every decode request.

Decoding needs one of the case roles (agent, safety reviewer, supervisor, admin). Encoding lets
the UI write payloads (signals, starts) that bypass the API's audit trail, so it needs
supervisor or admin.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from typing import Annotated
from urllib.parse import parse_qs

import jwt
from fastapi import Depends, FastAPI, Request, Security
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import APIKeyCookie
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from api.middleware import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from api.problems import ProblemError, install_problem_handlers
from api.security import (
    AuthenticationError,
    Authenticator,
    AuthenticatorDep,
    BearerCredentials,
    PermissionDeniedError,
    Principal,
    Role,
)
from core.codec import EncryptionCodec, PayloadKeyError
from core.config import Settings, get_settings
from core.logging import configure_logging, get_logger
from core.temporal_client import build_codec

log = get_logger(__name__)

SESSION_COOKIE = "cc_codec_session"
DECODE_ROLES = (Role.agent, Role.safety_reviewer, Role.supervisor, Role.admin)
ENCODE_ROLES = (Role.supervisor, Role.admin)
# A case history page sends all of its payloads at once.
MAX_BODY_BYTES = 8 * 1024 * 1024
# A session never outlives its token, and never a working day.
MAX_SESSION_SECONDS = 8 * 3600

session_cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="CodecSession",
    description="Set by POST /session from a valid bearer token; sent by the Web UI with credentials.",
    auto_error=False,
)
SessionCookie = Annotated[str | None, Security(session_cookie_scheme)]


async def _caller(
    authenticator: Authenticator, bearer: BearerCredentials, cookie: str | None, roles: Sequence[Role]
) -> Principal:
    token = bearer.credentials if bearer is not None else cookie
    if not token:
        raise AuthenticationError(
            "Sign in at /session or send a bearer token to decode payloads.", token_sent=False
        )
    principal = await authenticator.from_bearer(token)
    if not principal.roles.intersection(roles):
        raise PermissionDeniedError([role.value for role in roles])
    authenticator.rate_limiter.check(principal)
    return principal


async def decoding_caller(
    authenticator: AuthenticatorDep, bearer: BearerCredentials, cookie: SessionCookie
) -> Principal:
    return await _caller(authenticator, bearer, cookie, DECODE_ROLES)


async def encoding_caller(
    authenticator: AuthenticatorDep, bearer: BearerCredentials, cookie: SessionCookie
) -> Principal:
    return await _caller(authenticator, bearer, cookie, ENCODE_ROLES)


def get_codec(request: Request) -> EncryptionCodec:
    codec: EncryptionCodec = request.app.state.codec
    return codec


CodecDep = Annotated[EncryptionCodec, Depends(get_codec)]
Decoder = Annotated[Principal, Depends(decoding_caller)]
Encoder = Annotated[Principal, Depends(encoding_caller)]

_PAYLOADS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["payloads"],
                    "properties": {
                        "payloads": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "metadata": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                    },
                                    "data": {"type": "string", "description": "base64"},
                                },
                            },
                        }
                    },
                }
            }
        },
    }
}


async def _read_payloads(request: Request) -> Payloads:
    try:
        return json_format.Parse(await request.body(), Payloads())
    except (json_format.ParseError, UnicodeDecodeError) as error:
        raise ProblemError(
            400, "Invalid payloads", 'The body must be {"payloads": [...]} in protobuf JSON.'
        ) from error


def _payloads_response(payloads: Sequence[Payload]) -> JSONResponse:
    message = Payloads(payloads=payloads)
    return JSONResponse(json_format.MessageToDict(message))


def create_codec_app(settings: Settings | None = None, codec: EncryptionCodec | None = None) -> FastAPI:
    app_settings = settings or get_settings()
    app = FastAPI(
        title="Payload codec server",
        version="1.0.0",
        description="Remote codec for the Temporal Web UI and CLI; see docs/compliance.md.",
    )
    app.state.settings = app_settings
    app.state.codec = codec or build_codec(app_settings)
    # Bearer tokens only: channel API keys are for posting messages, never for reading them.
    app.state.authenticator = Authenticator(app_settings, lambda: None)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(SecurityHeadersMiddleware)
    # Outermost: a 401 must carry CORS headers too, or the UI only sees "network error".
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[app_settings.codec_ui_origin],
        allow_credentials=True,
        allow_methods=["POST"],
        allow_headers=["Content-Type", "X-Namespace", "Authorization", "Authorization-Extras"],
        max_age=600,
    )

    @app.post("/decode", tags=["codec"], openapi_extra=_PAYLOADS_BODY)
    async def decode(request: Request, caller: Decoder, codec: CodecDep) -> JSONResponse:
        payloads = await _read_payloads(request)
        try:
            decoded = await codec.decode(payloads.payloads)
        except PayloadKeyError as error:
            raise ProblemError(422, "Cannot decode", str(error)) from error
        # Who read which namespace's payloads, never what they contained.
        log.info(
            "payloads_decoded",
            subject=caller.subject,
            namespace=request.headers.get("X-Namespace"),
            count=len(decoded),
        )
        return _payloads_response(decoded)

    @app.post("/encode", tags=["codec"], openapi_extra=_PAYLOADS_BODY)
    async def encode(request: Request, caller: Encoder, codec: CodecDep) -> JSONResponse:
        payloads = await _read_payloads(request)
        encoded = await codec.encode(payloads.payloads)
        log.info(
            "payloads_encoded",
            subject=caller.subject,
            namespace=request.headers.get("X-Namespace"),
            count=len(encoded),
        )
        return _payloads_response(encoded)

    @app.get("/session", response_class=HTMLResponse, tags=["session"])
    async def sign_in_page() -> HTMLResponse:
        return HTMLResponse(_SIGN_IN_PAGE, headers={"Content-Security-Policy": _FORM_CSP})

    @app.post("/session", response_class=HTMLResponse, tags=["session"])
    async def sign_in(
        request: Request, authenticator: AuthenticatorDep, bearer: BearerCredentials
    ) -> HTMLResponse:
        """Exchange a bearer token (header, or the sign-in form) for the session cookie."""
        token = bearer.credentials if bearer is not None else await _form_token(request)
        if not token:
            raise AuthenticationError("Paste an access token to sign in.", token_sent=False)
        principal = await _caller(authenticator, None, token, DECODE_ROLES)
        lifetime = _seconds_left(token)
        page = _SIGNED_IN_PAGE.format(
            subject=html.escape(principal.subject),
            roles=html.escape(", ".join(sorted(principal.roles))),
            minutes=lifetime // 60,
            ui=html.escape(app_settings.codec_ui_origin),
        )
        response = HTMLResponse(page, headers={"Content-Security-Policy": _FORM_CSP})
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=lifetime,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        log.info("codec_session_started", subject=principal.subject, seconds=lifetime)
        return response

    @app.delete("/session", status_code=204, tags=["session"])
    async def sign_out() -> Response:
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict")
        return response

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "active_key_id": app.state.codec.active_key_id}

    return app


async def _form_token(request: Request) -> str | None:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    fields = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    values = fields.get("token", [])
    return values[0].strip() if values else None


def _seconds_left(token: str) -> int:
    # Already verified by the authenticator; only the expiry is read here.
    expires = jwt.decode(token, options={"verify_signature": False}).get("exp", 0)
    return max(1, min(MAX_SESSION_SECONDS, int(expires - time.time())))


# The two pages load nothing and run no script; the form may only post back here.
_FORM_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
_SIGN_IN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Codec server sign-in</title>
<style>body{font-family:sans-serif;max-width:40rem;margin:3rem auto}textarea{width:100%}</style></head>
<body><h1>Decode case payloads in the Temporal Web UI</h1>
<p>Paste your access token (<code>python -m api.security token --subject NAME --role agent</code>
on a local install). The browser keeps it in an HttpOnly cookie for this server only.</p>
<form method="post" action="/session">
<textarea name="token" rows="6" required></textarea>
<p><button type="submit">Sign in</button></p></form></body></html>
"""
_SIGNED_IN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed in</title></head>
<body><h1>Signed in as {subject}</h1><p>Roles: {roles}. The session ends in {minutes} minutes.</p>
<p>In the Web UI (<a href="{ui}">{ui}</a>) open the codec server settings, choose
"Use my browser setting", keep this server's address and tick
"Include cross-origin credentials".</p></body></html>
"""


def main() -> None:
    import uvicorn

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        create_codec_app(settings),
        host=settings.codec_server_host,
        port=settings.codec_server_port,
        log_config=None,
    )


if __name__ == "__main__":
    main()
