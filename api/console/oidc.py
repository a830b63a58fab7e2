"""Production sign-in for the agent console: OpenID Connect authorization code flow with PKCE (S256).

On when `CC_CONSOLE_OIDC_CLIENT_ID` is set and the API trusts an identity provider's keys
(`CC_AUTH_JWKS_URL` / `CC_AUTH_JWKS_FILE`); without a provider, router.py's local sign-in applies.

- `GET /console/oidc/login` reads the provider's discovery document (cached), keeps a fresh
  state, nonce and PKCE code verifier in a 10-minute HttpOnly cookie scoped to /console/oidc, and
  sends the browser (303) to the authorization endpoint. The cookie is SameSite=Lax: the
  provider's redirect back is a cross-site navigation, which would not carry a Strict cookie.
- `GET /console/oidc/callback` checks the state, exchanges the code and the verifier at the token
  endpoint, verifies the ID token (issuer, audience = client id, expiry, nonce) against the
  provider's JWKS, then verifies the access token with the API's own `TokenVerifier`: the console
  session has exactly the identity and roles an API call with that token has. The access token
  becomes router.py's console cookie, as the local sign-in does.

The callback answers a small same-origin page that moves on to /console (`Refresh` header, which
the console's CSP does not govern, and a link) instead of a redirect: when the person leaves the
provider's page by a navigation that page starts (a login form), Chromium does not send the new
SameSite=Strict console cookie on a 303 in that chain (the person lands on the sign-in again),
but does on the navigation our own page starts (tests/workflows/test_console_oidc.py, Chromium).
Failures answer the console's HTML error page (400, 401, 403 or 502), logged without tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import jwt
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.console.queues import READER_ROLES
from api.console.router import COOKIE, COOKIE_PATH, _page, local_sign_in_enabled
from api.deps import get_app_settings
from api.problems import ProblemError
from api.security import Principal, TokenError, get_authenticator, signing_header
from core.config import Settings
from core.logging import get_logger

router = APIRouter()
log = get_logger(__name__)

FLOW_COOKIE = "cc_console_oidc"
FLOW_COOKIE_PATH = "/console/oidc"
FLOW_TTL_SECONDS = 600
WELL_KNOWN = "/.well-known/openid-configuration"
# Endpoints rarely move; keys rotate, so the key set is kept for less and refetched for an
# unknown key id (at most once per cooldown, so made-up key ids cannot make us hammer the provider).
DISCOVERY_CACHE_SECONDS = 3600.0
JWKS_CACHE_SECONDS = 300.0
JWKS_REFRESH_COOLDOWN_SECONDS = 30.0
# Error codes from the provider are shown and logged only when they look like RFC 6749 codes.
_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_PROVIDER_TROUBLE = frozenset({"server_error", "temporarily_unavailable"})


def oidc_sign_in_enabled(settings: Settings) -> bool:
    """A client id is configured and the API verifies the provider's tokens (not the local key)."""
    return bool(settings.console_oidc_client_id) and not local_sign_in_enabled(settings)


class SignInError(Exception):
    """The sign-in cannot go on; `title` and `detail` are shown to the person and hold no secrets."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


def _unavailable(detail: str) -> SignInError:
    return SignInError(502, "Identity provider unavailable", detail)


def _refused(detail: str) -> SignInError:
    return SignInError(401, "Sign-in refused", detail)


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_endpoint_auth_methods: frozenset[str]


@dataclass(frozen=True)
class FlowState:
    """What the login step remembers for the callback, in the flow cookie."""

    state: str
    nonce: str
    code_verifier: str

    def encode(self) -> str:
        # token_urlsafe output never contains ".", so the three parts split back unambiguously.
        return ".".join((self.state, self.nonce, self.code_verifier))

    @classmethod
    def decode(cls, value: str | None) -> FlowState | None:
        parts = (value or "").split(".")
        if len(parts) != 3 or not all(parts):
            return None
        return cls(*parts)

    @classmethod
    def new(cls) -> FlowState:
        # RFC 7636: a verifier of 43 to 128 characters; 64 random bytes give 86.
        return cls(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64))


def code_challenge(code_verifier: str) -> str:
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _error_code(value: object) -> str:
    return value if isinstance(value, str) and _ERROR_CODE.match(value) else "unknown"


class OidcProvider:
    """The identity provider as the console's client sees it: one per app, built on first use.

    Every call opens its own short-lived httpx client with an explicit timeout and no transport
    retries (sign-ins are rare; a failed call is the person's retry to make, and visible in logs).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._metadata: ProviderMetadata | None = None
        self._metadata_fetched_at = 0.0
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_fetched_at = 0.0

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self._settings.console_oidc_timeout_seconds),
            transport=httpx.AsyncHTTPTransport(retries=0),
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with self._client() as http:
                answer = await http.get(url)
            answer.raise_for_status()
            document = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            log.warning("console_oidc_fetch_failed", what=what, error=type(error).__name__)
            raise _unavailable(f"The identity provider's {what} cannot be read.") from error
        if not isinstance(document, dict):
            raise _unavailable(f"The identity provider's {what} is not a JSON object.")
        return document

    def discovery_url(self) -> str:
        settings = self._settings
        return settings.console_oidc_discovery_url or settings.auth_issuer.rstrip("/") + WELL_KNOWN

    async def metadata(self) -> ProviderMetadata:
        fresh = time.monotonic() - self._metadata_fetched_at < DISCOVERY_CACHE_SECONDS
        if self._metadata is not None and fresh:
            return self._metadata
        url = self.discovery_url()
        document = await self._get_json(url, "discovery document")
        fields = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
        values = [document.get(name) for name in fields]
        if not all(isinstance(value, str) and value for value in values):
            raise _unavailable("The identity provider's discovery document lacks required endpoints.")
        issuer = str(values[0])
        # OpenID Connect Discovery 4.3: the issuer is the URL the document was fetched under, so
        # a document served for another provider cannot redirect the sign-in.
        if url.endswith(WELL_KNOWN) and issuer.rstrip("/") != url[: -len(WELL_KNOWN)].rstrip("/"):
            log.warning("console_oidc_issuer_mismatch", discovery_url=url)
            raise _unavailable("The identity provider's discovery document names another issuer.")
        challenge_methods = document.get("code_challenge_methods_supported")
        if isinstance(challenge_methods, list) and "S256" not in challenge_methods:
            raise _unavailable("The identity provider does not support PKCE with S256.")
        auth_methods = document.get("token_endpoint_auth_methods_supported")
        self._metadata = ProviderMetadata(
            issuer=issuer,
            authorization_endpoint=str(values[1]),
            token_endpoint=str(values[2]),
            jwks_uri=str(values[3]),
            token_endpoint_auth_methods=frozenset(
                method
                for method in (auth_methods if isinstance(auth_methods, list) else [])
                if isinstance(method, str)
            ),
        )
        self._metadata_fetched_at = time.monotonic()
        return self._metadata

    async def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
        """The token endpoint's answer for the code; the provider checks the PKCE verifier."""
        settings = self._settings
        client_id = str(settings.console_oidc_client_id)
        metadata = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        headers: dict[str, str] = {}
        secret = settings.console_oidc_client_secret
        methods = metadata.token_endpoint_auth_methods
        if secret is None:
            form["client_id"] = client_id  # public client: PKCE is the proof
        elif "client_secret_post" in methods and "client_secret_basic" not in methods:
            form.update(client_id=client_id, client_secret=secret.get_secret_value())
        else:
            # RFC 6749 2.3.1: both parts form-encoded before Basic (the default method).
            pair = f"{quote(client_id, safe='')}:{quote(secret.get_secret_value(), safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        try:
            async with self._client() as http:
                answer = await http.post(metadata.token_endpoint, data=form, headers=headers)
        except httpx.HTTPError as error:
            log.warning("console_oidc_token_exchange_failed", error=type(error).__name__)
            raise _unavailable("The identity provider's token endpoint cannot be reached.") from error
        try:
            body = answer.json()
        except ValueError:
            body = None
        if answer.status_code in (400, 401) and isinstance(body, dict) and "error" in body:
            code_name = _error_code(body.get("error"))
            log.warning("console_oidc_code_refused", status=answer.status_code, error=code_name)
            raise _refused(f"The identity provider refused the sign-in ({code_name}). Please sign in again.")
        if answer.status_code != 200 or not isinstance(body, dict):
            log.warning("console_oidc_token_endpoint_error", status=answer.status_code)
            raise _unavailable(f"The identity provider's token endpoint answered {answer.status_code}.")
        token_type = body.get("token_type")
        if not (isinstance(token_type, str) and token_type.lower() == "bearer"):
            raise _unavailable("The identity provider answered no bearer token.")
        if not isinstance(body.get("access_token"), str) or not isinstance(body.get("id_token"), str):
            raise _unavailable("The identity provider answered without an ID token or access token.")
        return body

    async def _signing_key(self, kid: str) -> jwt.PyJWK:
        now = time.monotonic()
        age = now - self._keys_fetched_at
        if age >= JWKS_CACHE_SECONDS or (kid not in self._keys and age >= JWKS_REFRESH_COOLDOWN_SECONDS):
            document = await self._get_json((await self.metadata()).jwks_uri, "signing keys")
            try:
                key_set = jwt.PyJWKSet.from_dict(document)
            except jwt.PyJWTError as error:
                raise _unavailable("The identity provider's signing keys are unusable.") from error
            self._keys = {key.key_id: key for key in key_set.keys if key.key_id}
            self._keys_fetched_at = now
        key = self._keys.get(kid)
        if key is None:
            raise _refused("The ID token's signing key is not known.")
        return key

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """OpenID Connect Core 3.1.3.7: signature, issuer, audience (and azp), expiry, nonce."""
        settings = self._settings
        client_id = str(settings.console_oidc_client_id)
        try:
            algorithm, kid = signing_header(id_token, settings.auth_algorithms, "ID token")
        except TokenError as error:
            raise _refused(str(error)) from error
        key = await self._signing_key(kid)
        if key.algorithm_name != algorithm:
            raise _refused("The ID token's algorithm does not match its key.")
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=[algorithm],
                audience=client_id,
                issuer=(await self.metadata()).issuer,
                leeway=settings.auth_clock_skew_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise _refused("The ID token has expired.") from error
        except jwt.InvalidTokenError as error:
            log.warning("console_oidc_id_token_invalid", error=type(error).__name__)
            raise _refused("The ID token is not valid for this console.") from error
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client_id:
            raise _refused("The ID token was issued to another client (azp).")
        received = claims.get("nonce")
        if not isinstance(received, str) or not hmac.compare_digest(received.encode(), nonce.encode()):
            log.warning("console_oidc_nonce_mismatch")
            raise _refused("The ID token does not belong to this sign-in (nonce). Please sign in again.")
        return claims


def _provider(request: Request) -> OidcProvider:
    """Per app, so its caches live as long as the app (and tests with other settings get their own)."""
    provider = getattr(request.app.state, "console_oidc", None)
    if not isinstance(provider, OidcProvider):
        provider = OidcProvider(get_app_settings(request))
        request.app.state.console_oidc = provider
    return provider


def _redirect_uri(request: Request, settings: Settings) -> str:
    return settings.console_oidc_redirect_url or str(request.url_for("console_oidc_callback"))


def _not_available(request: Request) -> Response:
    context = {
        "principal": None,
        "title": "Not available",
        "detail": "Sign-in through the identity provider is not configured for this console.",
    }
    return _page(request, "error.html", context, 404)


def _failure(request: Request, error: SignInError) -> Response:
    context = {"principal": None, "title": error.title, "detail": error.detail}
    response = _page(request, "error.html", context, error.status)
    _clear_flow_cookie(response)
    return response


def _clear_flow_cookie(response: Response) -> None:
    response.delete_cookie(FLOW_COOKIE, path=FLOW_COOKIE_PATH, httponly=True, samesite="lax")


async def login(request: Request) -> Response:
    settings = get_app_settings(request)
    if not oidc_sign_in_enabled(settings):
        return _not_available(request)
    try:
        metadata = await _provider(request).metadata()
    except SignInError as error:
        return _failure(request, error)
    flow = FlowState.new()
    redirect_uri = _redirect_uri(request, settings)
    target = httpx.URL(metadata.authorization_endpoint).copy_merge_params(
        {
            "response_type": "code",
            "client_id": str(settings.console_oidc_client_id),
            "redirect_uri": redirect_uri,
            "scope": settings.console_oidc_scopes,
            "state": flow.state,
            "nonce": flow.nonce,
            "code_challenge": code_challenge(flow.code_verifier),
            "code_challenge_method": "S256",
        }
    )
    response = RedirectResponse(str(target), status_code=303)
    response.set_cookie(
        FLOW_COOKIE,
        flow.encode(),
        max_age=FLOW_TTL_SECONDS,
        path=FLOW_COOKIE_PATH,
        httponly=True,
        samesite="lax",
        # The cookie must come back to the callback; over https it must never travel in clear.
        secure=redirect_uri.startswith("https:"),
    )
    return response


async def callback(request: Request) -> Response:
    settings = get_app_settings(request)
    if not oidc_sign_in_enabled(settings):
        return _not_available(request)
    try:
        principal, access_token, max_age = await _complete_sign_in(request, settings)
    except SignInError as error:
        return _failure(request, error)
    context = {"principal": None, "subject": principal.subject}
    response = _page(request, "oidc_signed_in.html", context)
    # Not a redirect: see the module docstring. The page itself navigates to /console.
    response.headers["Refresh"] = "0; url=/console"
    # The callback URL carries the (spent) code; it need not travel as a Referer either.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.set_cookie(
        COOKIE,
        access_token,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https" or _redirect_uri(request, settings).startswith("https:"),
    )
    _clear_flow_cookie(response)
    log.info("console_oidc_signed_in", subject=principal.subject)
    return response


async def _complete_sign_in(request: Request, settings: Settings) -> tuple[Principal, str, int]:
    """The verified person, their access token and the console cookie's lifetime in seconds."""
    params = request.query_params
    flow = FlowState.decode(request.cookies.get(FLOW_COOKIE))
    if flow is None:
        raise SignInError(
            400,
            "Sign-in expired",
            "This sign-in was not started here or took too long. Please sign in again.",
        )
    received_state = params.get("state") or ""
    if not hmac.compare_digest(received_state.encode(), flow.state.encode()):
        log.warning("console_oidc_state_mismatch", state_sent=bool(received_state))
        raise SignInError(
            400, "Sign-in not recognised", "The answer does not belong to this sign-in. Please sign in again."
        )
    provider = _provider(request)
    metadata = await provider.metadata()
    # RFC 9207: a provider that names itself must be the one this sign-in went to.
    issuer = params.get("iss")
    if issuer is not None and issuer != metadata.issuer:
        raise SignInError(400, "Sign-in not recognised", "The answer comes from another identity provider.")
    if "error" in params:
        code_name = _error_code(params.get("error"))
        log.warning("console_oidc_provider_error", error=code_name)
        status = 502 if code_name in _PROVIDER_TROUBLE else 401
        description = (params.get("error_description") or "")[:300]
        detail = f"The identity provider did not sign you in ({code_name})."
        raise SignInError(status, "Sign-in refused", f"{detail} {description}".strip())
    code = params.get("code")
    if not code:
        raise SignInError(400, "Sign-in not recognised", "The identity provider's answer has no code.")
    tokens = await provider.exchange_code(code, _redirect_uri(request, settings), flow.code_verifier)
    await provider.verify_id_token(tokens["id_token"], flow.nonce)
    access_token: str = tokens["access_token"]
    try:
        principal = await get_authenticator(request).verifier.verify(access_token)
    except TokenError as error:
        log.warning("console_oidc_access_token_refused", reason=str(error))
        raise _refused(f"The API does not accept the identity provider's access token: {error}") from error
    except ProblemError as error:
        raise _unavailable("The API cannot read the identity provider's keys right now.") from error
    if not principal.roles & READER_ROLES:
        log.warning("console_oidc_no_console_role", subject=principal.subject)
        names = ", ".join(sorted(role.value for role in READER_ROLES))
        raise SignInError(403, "Forbidden", f"The console needs one of the roles: {names}.")
    # Verified above; read again only for its expiry, which the cookie must not outlive.
    expires_at = jwt.decode(access_token, options={"verify_signature": False}).get("exp")
    max_age = int(expires_at - time.time()) if isinstance(expires_at, int | float) else 0
    if max_age <= 0:
        raise _refused("The identity provider's access token has already expired.")
    return principal, access_token, max_age


# Plain Starlette routes like the rest of the console: HTML pages, not API operations.
router.add_route("/console/oidc/login", login, methods=["GET"], include_in_schema=False)
router.add_route(
    "/console/oidc/callback", callback, methods=["GET"], name="console_oidc_callback", include_in_schema=False
)
