"""Console sign-in through an identity provider (api/console/oidc.py): authorization code + PKCE.

A fake provider (Starlette on a real local socket, so the console reaches it over HTTP exactly as
in production) serves discovery, its JWKS, an authorize endpoint that redirects back with a code,
and a token endpoint that checks the PKCE verifier against the challenge before it issues an ID
token and an access token signed with the test key. The API trusts that key through
CC_AUTH_JWKS_FILE, so the console session is verified by the API's own `TokenVerifier`.
The test plays the browser: the console over httpx's ASGI transport, the provider over the socket.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import html
import secrets
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

import httpx
import jwt
import pytest
import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from structlog.testing import capture_logs
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from api.security import issue_token, public_jwks
from core.config import Settings
from tests.auth_helpers import TEST_AUDIENCE, auth_settings, signing_keys
from tests.workflows.test_agent_api import MemoryCaseStore
from tests.workflows.test_console import BASE, console

CLIENT_ID = "agent-console"
CHROMIUM = Path("/usr/bin/chromium")
CALLBACK = f"{BASE}/console/oidc/callback"
STARTUP_TIMEOUT_S = 30.0


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str
    subject: str
    roles: tuple[str, ...]


@dataclass
class FakeProvider:
    """An OpenID provider that does what the specs require of it, with knobs for misbehaving."""

    issuer: str
    client_secret: str | None = None
    # Who signs in at the next authorization request.
    subject: str = "rev-1"
    roles: tuple[str, ...] = ("safety_reviewer",)
    # Redirect back with this error instead of a code.
    authorize_error: str | None = None
    # Answer a sign-in page whose link the person follows (a navigation started on the provider's
    # site, as after a real login form) instead of redirecting back at once.
    interactive: bool = False
    # Claims that replace the correct ones in the next ID tokens.
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    discovery_reads: int = 0
    pkce_refusals: int = 0
    issued_access_tokens: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )

    async def discovery(self, request: Request) -> Response:
        self.discovery_reads += 1
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(public_jwks([signing_keys().current_key]))

    async def authorize(self, request: Request) -> Response:
        query = request.query_params
        assert query["response_type"] == "code" and query["code_challenge_method"] == "S256", query
        assert query["client_id"] == CLIENT_ID and "openid" in query["scope"].split(), query
        back: dict[str, str] = {"state": query["state"], "iss": self.issuer}
        if self.authorize_error:
            back.update(error=self.authorize_error, error_description="The person cancelled the sign-in.")
        else:
            code = secrets.token_urlsafe(16)
            self.grants[code] = Grant(
                query["client_id"],
                query["redirect_uri"],
                query["code_challenge"],
                query["nonce"],
                self.subject,
                self.roles,
            )
            back["code"] = code
        location = f"{query['redirect_uri']}?{urlencode(back)}"
        if self.interactive:
            return HTMLResponse(f'<a id="continue" href="{html.escape(location)}">Continue</a>')
        return RedirectResponse(location, status_code=302)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        if self.client_secret is not None:
            # client_secret_basic: both parts are form-encoded before Basic (RFC 6749 2.3.1).
            scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
            client_id, _, secret = base64.b64decode(credentials or "").decode().partition(":")
            if scheme != "Basic" or (unquote_plus(client_id), unquote_plus(secret)) != (
                CLIENT_ID,
                self.client_secret,
            ):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
        elif form.get("client_id") != CLIENT_ID:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        # A code is good for one exchange, whatever its outcome (RFC 6749 4.1.2).
        grant = self.grants.pop(str(form.get("code")), None)
        if form.get("grant_type") != "authorization_code" or grant is None:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if form.get("redirect_uri") != grant.redirect_uri:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        # RFC 7636 4.6: BASE64URL(SHA256(verifier)) must equal the challenge of the authorize request.
        digest = hashlib.sha256(str(form.get("code_verifier")).encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.code_challenge:
            self.pkce_refusals += 1
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        key = signing_keys().current_key
        now = int(time.time())
        id_claims = {
            "iss": self.issuer,
            "aud": grant.client_id,
            "sub": grant.subject,
            "nonce": grant.nonce,
            "iat": now,
            "exp": now + 300,
            **self.id_token_overrides,
        }
        id_token = jwt.encode(
            id_claims, jwt.PyJWK(key).key, algorithm=key["alg"], headers={"kid": key["kid"]}
        )
        access_token = issue_token(
            key,
            issuer=self.issuer,
            audience=TEST_AUDIENCE,
            subject=grant.subject,
            roles=grant.roles,
            ttl_seconds=600,
        )
        self.issued_access_tokens.append(access_token)
        return JSONResponse(
            {"token_type": "Bearer", "access_token": access_token, "id_token": id_token, "expires_in": 600}
        )


@contextlib.asynccontextmanager
async def serve(app: Starlette, sock: socket.socket) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(int(STARTUP_TIMEOUT_S / 0.02)):
        if server.started or serving.done():
            break
        await asyncio.sleep(0.02)
    if serving.done():
        serving.result()  # the server's start-up error, if any
    assert server.started, "the fake identity provider did not start"
    try:
        yield
    finally:
        server.should_exit = True
        await serving


@contextlib.asynccontextmanager
async def running_provider(provider: FakeProvider, sock: socket.socket) -> AsyncIterator[FakeProvider]:
    async with serve(provider.app(), sock):
        yield provider


def bound_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    sock = bound_socket()
    fake = FakeProvider(issuer=f"http://127.0.0.1:{sock.getsockname()[1]}")
    async with running_provider(fake, sock):
        yield fake


def oidc_settings(queues_settings: Settings, provider: FakeProvider, **overrides: Any) -> Settings:
    """The API trusts the provider's key (JWKS file) and issuer; the console is its client."""
    return queues_settings.model_copy(
        update={
            **auth_settings(auth_issuer=provider.issuer),
            "console_oidc_client_id": CLIENT_ID,
            **overrides,
        }
    )


@contextlib.asynccontextmanager
async def browser_to_provider() -> AsyncIterator[httpx.AsyncClient]:
    """The browser's side trip to the provider; the redirect back is followed by the test."""
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


async def to_provider_and_back(console_http: httpx.AsyncClient, provider_http: httpx.AsyncClient) -> str:
    """Start the sign-in at the console and return the URL the provider sends the browser back to."""
    login = await console_http.get("/console/oidc/login")
    assert login.status_code == 303, login.text
    authorize = await provider_http.get(login.headers["location"])
    assert authorize.status_code == 302, authorize.text
    return authorize.headers["location"]


def set_cookies(response: httpx.Response) -> dict[str, set[str]]:
    """Set-Cookie headers by cookie name: the value and the lower-cased attributes."""
    found: dict[str, set[str]] = {}
    for header in response.headers.get_list("set-cookie"):
        name_value, *attributes = (part.strip() for part in header.split(";"))
        name, value = name_value.split("=", 1)
        found[name] = {f"value={value}", *(attribute.lower() for attribute in attributes)}
    return found


def cookie_value(attributes: set[str]) -> str:
    return next(item.removeprefix("value=") for item in attributes if item.startswith("value="))


def assert_not_signed_in(response: httpx.Response) -> None:
    assert "cc_console" not in set_cookies(response), response.headers.get_list("set-cookie")


async def test_the_full_flow_ends_in_a_console_session_with_the_providers_identity_and_roles(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings, provider: FakeProvider
) -> None:
    settings = oidc_settings(queues_settings, provider)
    async with console(time_skipping_env, settings, worker=False) as (http, _), browser_to_provider() as idp:
        with capture_logs() as logs:
            # Pages send people without a session to /console/login, which hands over to the flow.
            assert (await http.get("/console")).headers["location"] == "/console/login"
            handed_over = await http.get("/console/login")
            assert handed_over.status_code == 303
            assert handed_over.headers["location"] == "/console/oidc/login"
            login = await http.get("/console/oidc/login")
            assert login.status_code == 303
            target = urlsplit(login.headers["location"])
            assert f"{target.scheme}://{target.netloc}{target.path}" == f"{provider.issuer}/authorize"
            query = {key: values[0] for key, values in parse_qs(target.query).items()}
            assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
            assert query["redirect_uri"] == CALLBACK and query["scope"] == "openid profile"
            assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
            assert len(query["state"]) >= 43 and len(query["nonce"]) >= 43
            flow_cookie = set_cookies(login)["cc_console_oidc"]
            assert {"httponly", "samesite=lax", "path=/console/oidc", "max-age=600"} <= flow_cookie
            assert "secure" not in flow_cookie  # plain http in this test; https sets it
            # The flow cookie keeps state and nonce for the callback, and the verifier whose
            # hash alone went to the provider.
            flow_value = cookie_value(flow_cookie)
            assert query["state"] in flow_value and query["nonce"] in flow_value
            assert query["code_challenge"] not in flow_value

            back = await idp.get(login.headers["location"])
            assert back.status_code == 302 and back.headers["location"].startswith(CALLBACK + "?")
            signed_in = await http.get(back.headers["location"])
            assert signed_in.status_code == 200, signed_in.text
            # A same-origin page that moves on by itself: a redirect in this cross-site chain would
            # not carry the new SameSite=Strict cookie in Chromium.
            assert signed_in.headers["refresh"] == "0; url=/console"
            assert 'href="/console"' in signed_in.text and "rev-1" in signed_in.text
            assert "script-src 'self'" in signed_in.headers["content-security-policy"]
            cookies = set_cookies(signed_in)
            session = cookies["cc_console"]
            assert cookie_value(session) == provider.issued_access_tokens[-1]
            assert {"httponly", "samesite=strict", "path=/console"} <= session
            max_age = next(int(flag.split("=")[1]) for flag in session if flag.startswith("max-age="))
            assert 500 < max_age <= 600  # the access token's remaining lifetime
            assert (
                "max-age=0" in cookies["cc_console_oidc"]
                and "path=/console/oidc" in cookies["cc_console_oidc"]
            )

            queues = await http.get("/console")
            assert queues.status_code == 200, queues.text
            assert "rev-1" in queues.text and 'id="queue-safety"' in queues.text
            assert 'id="queue-triage"' not in queues.text

            # The provider's answer is good once: the flow cookie is gone after the callback.
            assert (await http.get(back.headers["location"])).status_code == 400

        # Another person, another session: discovery was read once (cached), roles follow the token.
        provider.subject, provider.roles = "agent-7", ("agent",)
        http.cookies.clear()
        second = await http.get(await to_provider_and_back(http, idp))
        assert second.status_code == 200, second.text
        page = await http.get("/console")
        assert "agent-7" in page.text and 'id="queue-triage"' in page.text
        assert 'id="queue-safety"' not in page.text
        assert provider.discovery_reads == 1

    secrets_in_flight = [provider.issued_access_tokens[0], query["state"], query["nonce"]]
    logged = repr(logs)
    assert "console_oidc_signed_in" in logged
    assert not [value for value in secrets_in_flight if value in logged]
    assert "code=" not in logged and "code_verifier" not in logged


async def test_a_confidential_client_authenticates_with_its_secret_at_the_token_endpoint(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings, provider: FakeProvider
) -> None:
    provider.client_secret = "s3cret:with/odd chars+%"  # survives the form-encoding round trip
    good = oidc_settings(
        queues_settings, provider, console_oidc_client_secret=SecretStr(provider.client_secret)
    )
    async with console(time_skipping_env, good, worker=False) as (http, _), browser_to_provider() as idp:
        signed_in = await http.get(await to_provider_and_back(http, idp))
        assert signed_in.status_code == 200, signed_in.text
        assert "cc_console" in set_cookies(signed_in)
    provider.client_secret = "right"
    wrong = oidc_settings(queues_settings, provider, console_oidc_client_secret=SecretStr("wrong"))
    async with console(time_skipping_env, wrong, worker=False) as (http, _), browser_to_provider() as idp:
        refused = await http.get(await to_provider_and_back(http, idp))
        assert refused.status_code == 401 and "invalid_client" in refused.text
        assert_not_signed_in(refused)


async def test_a_missing_or_wrong_state_is_refused_with_400(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings, provider: FakeProvider
) -> None:
    settings = oidc_settings(queues_settings, provider)
    async with console(time_skipping_env, settings, worker=False) as (http, _), browser_to_provider() as idp:
        back = urlsplit(await to_provider_and_back(http, idp))
        code = parse_qs(back.query)["code"][0]
        for query in ({"code": code, "state": "forged"}, {"code": code}):
            # Each attempt needs a live flow cookie: a refused callback also ends the flow.
            await http.get("/console/oidc/login")
            answer = await http.get("/console/oidc/callback", params=query)
            assert answer.status_code == 400, (query, answer.text)
            assert "does not belong to this sign-in" in answer.text
            assert_not_signed_in(answer)
        # A callback the browser did not start here (no flow cookie at all).
        http.cookies.clear()
        stray = await http.get("/console/oidc/callback", params={"code": code, "state": "x"})
        assert stray.status_code == 400 and "Sign-in expired" in stray.text
    assert provider.issued_access_tokens == []


async def test_an_error_from_the_provider_is_shown_as_a_clear_refusal(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings, provider: FakeProvider
) -> None:
    settings = oidc_settings(queues_settings, provider)
    async with console(time_skipping_env, settings, worker=False) as (http, _), browser_to_provider() as idp:
        provider.authorize_error = "access_denied"
        denied = await http.get(await to_provider_and_back(http, idp))
        assert denied.status_code == 401
        assert "access_denied" in denied.text and "The person cancelled the sign-in." in denied.text
        assert_not_signed_in(denied)
        provider.authorize_error = "temporarily_unavailable"
        down = await http.get(await to_provider_and_back(http, idp))
        assert down.status_code == 502 and "temporarily_unavailable" in down.text


@pytest.mark.parametrize(
    ("override", "detail"),
    [
        ({"nonce": "a-nonce-of-another-sign-in"}, "(nonce)"),
        ({"aud": "another-client"}, "not valid for this console"),
        ({"iss": "https://other-idp.example"}, "not valid for this console"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "has expired"),
    ],
    ids=["wrong-nonce", "wrong-audience", "wrong-issuer", "expired"],
)
async def test_an_id_token_not_issued_for_this_sign_in_is_refused(
    time_skipping_env: WorkflowEnvironment,
    queues_settings: Settings,
    provider: FakeProvider,
    override: dict[str, Any],
    detail: str,
) -> None:
    provider.id_token_overrides = override
    settings = oidc_settings(queues_settings, provider)
    async with console(time_skipping_env, settings, worker=False) as (http, _), browser_to_provider() as idp:
        refused = await http.get(await to_provider_and_back(http, idp))
        assert refused.status_code == 401 and detail in refused.text, refused.text
        assert_not_signed_in(refused)
        assert (await http.get("/console")).status_code == 303  # still to the sign-in


async def test_a_code_redeemed_with_another_sessions_verifier_is_refused_by_the_provider(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings, provider: FakeProvider
) -> None:
    """Code injection: a victim's code pasted into the attacker's own sign-in fails PKCE."""
    settings = oidc_settings(queues_settings, provider)
    async with console(time_skipping_env, settings, worker=False) as (http, _), browser_to_provider() as idp:
        stolen_code = parse_qs(urlsplit(await to_provider_and_back(http, idp)).query)["code"][0]
        http.cookies.clear()  # from here on the attacker's browser, with a sign-in of its own
        attacker_state = parse_qs(urlsplit(await to_provider_and_back(http, idp)).query)["state"][0]
        injected = await http.get(
            "/console/oidc/callback", params={"code": stolen_code, "state": attacker_state}
        )
        assert injected.status_code == 401 and "invalid_grant" in injected.text, injected.text
        assert_not_signed_in(injected)
    assert provider.pkce_refusals == 1 and provider.issued_access_tokens == []


async def test_an_access_token_without_console_roles_gets_the_403_page(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings, provider: FakeProvider
) -> None:
    provider.subject, provider.roles = "chat-gateway", ("intake",)
    settings = oidc_settings(queues_settings, provider)
    async with console(time_skipping_env, settings, worker=False) as (http, _), browser_to_provider() as idp:
        forbidden = await http.get(await to_provider_and_back(http, idp))
        assert forbidden.status_code == 403
        assert "needs one of the roles" in forbidden.text and "safety_reviewer" in forbidden.text
        assert_not_signed_in(forbidden)


async def test_an_unreachable_provider_answers_the_502_page(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings, provider: FakeProvider
) -> None:
    with bound_socket() as closed:
        nobody = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, never listening: refused
        settings = oidc_settings(queues_settings, provider, console_oidc_discovery_url=f"{nobody}/x")
        async with console(time_skipping_env, settings, worker=False) as (http, _):
            login = await http.get("/console/oidc/login")
            assert login.status_code == 502 and "discovery document cannot be read" in login.text
            assert "location" not in login.headers

    # The provider goes away between the authorization and the code exchange.
    sock = bound_socket()
    leaving = FakeProvider(issuer=f"http://127.0.0.1:{sock.getsockname()[1]}")
    settings = oidc_settings(queues_settings, leaving)
    async with console(time_skipping_env, settings, worker=False) as (http, _), browser_to_provider() as idp:
        async with running_provider(leaving, sock):
            back = await to_provider_and_back(http, idp)
        answer = await http.get(back)
        assert answer.status_code == 502 and "token endpoint cannot be reached" in answer.text
        assert_not_signed_in(answer)


async def test_the_flow_is_absent_without_a_client_id_or_without_an_identity_provider(
    time_skipping_env: WorkflowEnvironment, queues_settings: Settings, provider: FakeProvider, tmp_path: Path
) -> None:
    no_client = oidc_settings(queues_settings, provider, console_oidc_client_id=None)
    local_key = queues_settings.model_copy(
        update={"console_oidc_client_id": CLIENT_ID, "auth_local_key_dir": tmp_path / "auth"}
    )
    for settings in (no_client, local_key):
        async with console(time_skipping_env, settings, worker=False) as (http, _):
            for path in ("/console/oidc/login", "/console/oidc/callback?code=c&state=s"):
                answer = await http.get(path)
                assert answer.status_code == 404, (path, answer.text)
                assert "set-cookie" not in answer.headers and "location" not in answer.headers
    assert provider.discovery_reads == 0


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test")
async def test_in_chromium_the_signed_in_page_reaches_the_queues_with_the_strict_cookie(
    queues_settings: Settings, provider: FakeProvider
) -> None:
    """The console (localhost) and the provider (127.0.0.1) are different sites, and the person
    leaves the provider's page by a navigation the provider's site starts. Chromium does not send
    a SameSite=Strict cookie on a redirect in such a chain (a 303 to /console lands on the sign-in:
    checked by hand with Chromium 156), but does on the navigation the signed-in page starts."""
    from playwright.async_api import async_playwright

    provider.interactive = True
    sock = bound_socket()
    console_origin = f"http://localhost:{sock.getsockname()[1]}"
    settings = oidc_settings(
        queues_settings, provider, console_oidc_redirect_url=f"{console_origin}/console/oidc/callback"
    )
    store = MemoryCaseStore()
    app = create_app(settings, None, store)  # type: ignore[arg-type]
    app.state.settings, app.state.temporal, app.state.case_store = settings, None, store
    async with serve(app, sock), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = await browser.new_page()
            await page.goto(f"{console_origin}/console/oidc/login")
            assert page.url.startswith(f"{provider.issuer}/authorize?")
            await page.click("#continue")
            await page.wait_for_selector("#queue-safety", timeout=15_000)
            assert page.url == f"{console_origin}/console"
            assert "rev-1" in await page.inner_text("header")
            cookies = {
                cookie["name"]: cookie
                for cookie in await page.context.cookies(f"{console_origin}/console/oidc/callback")
            }
            assert cookies["cc_console"]["sameSite"] == "Strict" and cookies["cc_console"]["httpOnly"]
            assert "cc_console_oidc" not in cookies
        finally:
            await browser.close()
