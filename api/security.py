"""Who is calling: OIDC bearer JWTs for people, hashed API keys for channel integrations.

Routes declare the roles they accept once, as a FastAPI security dependency:

    principal: Annotated[Principal, require_roles(Role.agent, Role.supervisor)]

The dependency answers 401 (problem+json, `WWW-Authenticate: Bearer`) for missing or invalid
credentials, 403 for a valid caller without one of the roles, and 429 when the caller's rate
limit is used up. The roles appear in /openapi.json as the security requirement's role list.

Tokens are verified with PyJWT against a JWK set: an identity provider's JWKS URL, a JWKS file,
or (with neither configured, for `make run`) a local key pair created under the cache directory.
`python -m api.security token --subject alice --role agent` signs a token with that local key.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import math
import os
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes
from jwt.algorithms import ECAlgorithm
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from adapters.ports import ApiKeyStore
from api.problems import ProblemError
from core.config import Settings
from core.models import Channel, StrEnum

REALM = "contact-center"
LOCAL_PRIVATE_KEY_FILE = "signing-key.jwk.json"
LOCAL_JWKS_FILE = "jwks.json"
LOCAL_ALGORITHM = "ES256"
API_KEY_HEADER = "X-API-Key"
API_KEY_PREFIX = "cck"
DEFAULT_TOKEN_TTL_SECONDS = 3600
JWKS_CACHE_SECONDS = 300
JWKS_REFRESH_COOLDOWN_SECONDS = 30.0


class Role(StrEnum):
    intake = "intake"
    agent = "agent"
    safety_reviewer = "safety_reviewer"
    supervisor = "supervisor"
    admin = "admin"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. `subject` is what audit trails and workflow histories record."""

    subject: str
    roles: frozenset[Role]
    kind: Literal["bearer", "api_key"]
    # An API key may be bound to one channel: it can then only post messages of that channel.
    channel: Channel | None = None

    @property
    def rate_limit_key(self) -> str:
        return f"{self.kind}:{self.subject}"


# --------------------------------------------------------------------------- errors


class AuthenticationError(ProblemError):
    """401: no usable credentials. RFC 6750 wants the challenge; `error` only when one was sent."""

    def __init__(self, detail: str, *, token_sent: bool) -> None:
        challenge = f'Bearer realm="{REALM}"'
        if token_sent:
            challenge += ', error="invalid_token"'
        super().__init__(401, "Unauthorized", detail, headers={"WWW-Authenticate": challenge})


class PermissionDeniedError(ProblemError):
    def __init__(self, required: Sequence[str]) -> None:
        super().__init__(
            403,
            "Forbidden",
            f"This action needs one of the roles: {', '.join(required)}.",
            headers={"WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope"'},
        )


class RateLimitedError(ProblemError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            "Too many requests",
            "The rate limit of this credential is used up; retry later.",
            headers={"Retry-After": str(retry_after)},
        )


class TokenError(Exception):
    """A token failed verification; the message is safe to show the caller."""


# --------------------------------------------------------------------------- local signing key


def _write_private_file(path: Path, content: str) -> bool:
    """Create `path` (mode 0600) atomically; False when another process created it first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(tmp_name, 0o600)
        try:
            os.link(tmp_name, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(tmp_name)


def public_jwks(private_jwks: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The public half of private JWKs (what a verifier may read)."""
    keys = []
    for private in private_jwks:
        key = jwt.PyJWK(private).key
        public = json.loads(ECAlgorithm.to_jwk(key.public_key()))
        keys.append({**public, "kid": private["kid"], "alg": private["alg"], "use": "sig"})
    return {"keys": keys}


def new_private_jwk(kid: str | None = None) -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(key))
    return {**jwk, "kid": kid or f"local-{uuid.uuid4().hex[:12]}", "alg": LOCAL_ALGORITHM, "use": "sig"}


def ensure_local_signing_key(key_dir: Path) -> dict[str, Any]:
    """The local private JWK, created with its public JWKS file on first use (both mode 0600)."""
    private_path = key_dir / LOCAL_PRIVATE_KEY_FILE
    if not private_path.exists():
        _write_private_file(private_path, json.dumps(new_private_jwk()))
    private: dict[str, Any] = json.loads(private_path.read_text(encoding="utf-8"))
    jwks_path = key_dir / LOCAL_JWKS_FILE
    if not jwks_path.exists():
        _write_private_file(jwks_path, json.dumps(public_jwks([private])))
    return private


def issue_token(
    private_jwk: dict[str, Any],
    *,
    issuer: str,
    audience: str,
    subject: str,
    roles: Sequence[str],
    ttl_seconds: int = DEFAULT_TOKEN_TTL_SECONDS,
    roles_claim: str = "roles",
    now: float | None = None,
) -> str:
    """A signed access token; tests and the `token` command use it, production uses the IdP's."""
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        roles_claim: list(roles),
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    key = jwt.PyJWK(private_jwk)
    return jwt.encode(claims, key.key, algorithm=private_jwk["alg"], headers={"kid": private_jwk["kid"]})


def issue_local_token(settings: Settings, subject: str, roles: Sequence[str], ttl_seconds: int) -> str:
    if settings.auth_jwks_url or settings.auth_jwks_file:
        raise RuntimeError("tokens come from the configured identity provider, not from a local key")
    return issue_token(
        ensure_local_signing_key(settings.auth_local_key_dir),
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        subject=subject,
        roles=roles,
        ttl_seconds=ttl_seconds,
        roles_claim=settings.auth_roles_claim,
    )


# --------------------------------------------------------------------------- token verification


class JwksFileKeys:
    """A JWK set read from a file, re-read when the file changes (rotation without a restart)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}

    def _load(self) -> dict[str, jwt.PyJWK]:
        stat = self._path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            key_set = jwt.PyJWKSet.from_json(self._path.read_text(encoding="utf-8"))
            self._keys = {key.key_id: key for key in key_set.keys if key.key_id}
            self._stamp = stamp
        return self._keys

    async def signing_key(self, token: str, kid: str) -> jwt.PyJWK:
        key = self._load().get(kid)
        if key is None:
            raise TokenError("The token's signing key is not known.")
        return key


class JwksUrlKeys:
    """The identity provider's JWKS endpoint, cached for `JWKS_CACHE_SECONDS` and refetched on an unknown kid.

    Only the set is cached (not single keys), so a key the provider removed stops verifying at the
    next refetch at the latest.
    """

    def __init__(
        self, url: str, timeout: float, refresh_cooldown: float = JWKS_REFRESH_COOLDOWN_SECONDS
    ) -> None:
        self._client = jwt.PyJWKClient(
            url,
            cache_keys=False,
            cache_jwk_set=True,
            lifespan=JWKS_CACHE_SECONDS,
            timeout=math.ceil(timeout),
            # Tokens with made-up key ids must not make us hammer the provider.
            cooldown_duration=refresh_cooldown,
        )

    async def signing_key(self, token: str, kid: str) -> jwt.PyJWK:
        try:
            # urllib underneath: keep the blocking fetch off the event loop.
            return await asyncio.to_thread(self._client.get_signing_key, kid)
        except jwt.PyJWKClientConnectionError as error:
            raise ProblemError(
                503, "Service unavailable", "The identity provider's keys cannot be fetched."
            ) from error
        except jwt.PyJWKClientError as error:
            raise TokenError("The token's signing key is not known.") from error


def signing_header(token: str, algorithms: Sequence[str], what: str) -> tuple[str, str]:
    """The (algorithm, key id) a JWT names, once its algorithm is on the allow-list.

    Read before the signature is checked: only to choose the key, never trusted on its own.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as error:
        raise TokenError(f"The {what} is malformed.") from error
    algorithm, kid = header.get("alg"), header.get("kid")
    if not isinstance(algorithm, str) or algorithm not in algorithms:
        raise TokenError(f"The {what}'s signing algorithm is not accepted.")
    if not isinstance(kid, str):
        raise TokenError(f"The {what} names no signing key (kid).")
    return algorithm, kid


class TokenVerifier:
    def __init__(
        self, settings: Settings, *, jwks_refresh_cooldown: float = JWKS_REFRESH_COOLDOWN_SECONDS
    ) -> None:
        self._settings = settings
        self._keys: JwksFileKeys | JwksUrlKeys
        if settings.auth_jwks_url:
            self._keys = JwksUrlKeys(
                settings.auth_jwks_url, settings.auth_jwks_timeout_seconds, jwks_refresh_cooldown
            )
        elif settings.auth_jwks_file:
            self._keys = JwksFileKeys(settings.auth_jwks_file)
        else:
            ensure_local_signing_key(settings.auth_local_key_dir)
            self._keys = JwksFileKeys(settings.auth_local_key_dir / LOCAL_JWKS_FILE)

    async def verify(self, token: str) -> Principal:
        settings = self._settings
        algorithm, kid = signing_header(token, settings.auth_algorithms, "access token")
        key = await self._keys.signing_key(token, kid)
        if key.algorithm_name != algorithm:
            raise TokenError("The access token's algorithm does not match its key.")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=settings.auth_audience,
                issuer=settings.auth_issuer,
                leeway=settings.auth_clock_skew_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise TokenError("The access token has expired.") from error
        except jwt.InvalidTokenError as error:
            raise TokenError("The access token is invalid.") from error
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > 200:
            raise TokenError("The access token has no usable subject.")
        raw_roles = claims.get(settings.auth_roles_claim, [])
        if isinstance(raw_roles, str):
            raw_roles = raw_roles.split()
        roles = frozenset(Role(r) for r in raw_roles if isinstance(r, str) and r in Role._value2member_map_)
        return Principal(subject=subject, roles=roles, kind="bearer")


# --------------------------------------------------------------------------- API keys


@dataclass(frozen=True)
class NewApiKey:
    key_id: str
    secret: str  # the full key; shown to the admin once, never stored
    key_hash: str


def hash_api_key(secret: str) -> str:
    # A 256-bit random key cannot be guessed, so a plain SHA-256 is enough (no slow KDF needed).
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def generate_api_key() -> NewApiKey:
    key_id = secrets.token_hex(8)
    secret = f"{API_KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return NewApiKey(key_id=key_id, secret=secret, key_hash=hash_api_key(secret))


def api_key_id(secret: str) -> str | None:
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or len(parts[1]) != 16:
        return None
    return parts[1]


# --------------------------------------------------------------------------- rate limits


@dataclass
class RateLimiter:
    """Moving-window limits per credential, in process memory (one API replica's share)."""

    enabled: bool
    bearer: RateLimitItem
    api_key: RateLimitItem
    _limiter: MovingWindowRateLimiter = field(
        default_factory=lambda: MovingWindowRateLimiter(MemoryStorage())
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        return cls(
            enabled=settings.rate_limit_enabled,
            bearer=parse(settings.rate_limit_bearer),
            api_key=parse(settings.rate_limit_api_key),
        )

    def check(self, principal: Principal) -> None:
        if not self.enabled:
            return
        item = self.api_key if principal.kind == "api_key" else self.bearer
        if self._limiter.hit(item, principal.rate_limit_key):
            return
        reset_at = self._limiter.get_window_stats(item, principal.rate_limit_key).reset_time
        raise RateLimitedError(max(1, math.ceil(reset_at - time.time())))


# --------------------------------------------------------------------------- FastAPI dependencies


class Authenticator:
    """Per-app state: the token verifier, the API key store and the rate limiter."""

    def __init__(self, settings: Settings, api_keys: Callable[[], ApiKeyStore | None]) -> None:
        self._settings = settings
        self._verifier: TokenVerifier | None = None
        self._api_keys = api_keys
        self.rate_limiter = RateLimiter.from_settings(settings)

    @property
    def verifier(self) -> TokenVerifier:
        # Built on first use, so creating the app never touches the key directory or the network.
        if self._verifier is None:
            self._verifier = TokenVerifier(self._settings)
        return self._verifier

    async def from_bearer(self, token: str) -> Principal:
        try:
            return await self.verifier.verify(token)
        except TokenError as error:
            raise AuthenticationError(str(error), token_sent=True) from error

    async def from_api_key(self, secret: str) -> Principal:
        key_id = api_key_id(secret)
        store = self._api_keys()
        found = await store.credentials(key_id) if key_id and store is not None else None
        if found is None:
            raise AuthenticationError("The API key is not valid.", token_sent=False)
        record, key_hash = found
        if record.revoked_at is not None or not hmac.compare_digest(key_hash, hash_api_key(secret)):
            raise AuthenticationError("The API key is not valid.", token_sent=False)
        return Principal(
            subject=f"api-key:{record.key_id}",
            roles=frozenset({Role.intake}),
            kind="api_key",
            channel=record.channel,
        )


def get_authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


bearer_scheme = HTTPBearer(
    scheme_name="BearerJWT",
    bearerFormat="JWT",
    description="OIDC access token; roles in the `roles` claim (any one of an operation's roles suffices).",
    auto_error=False,
)
api_key_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="ApiKey",
    description="Channel integration key (role `intake`), created by an admin.",
    auto_error=False,
)

BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)]
ApiKeyCredentials = Annotated[str | None, Security(api_key_scheme)]
AuthenticatorDep = Annotated[Authenticator, Depends(get_authenticator)]


def _authorize(principal: Principal, required: SecurityScopes, authenticator: Authenticator) -> Principal:
    if required.scopes and not principal.roles.intersection(required.scopes):
        raise PermissionDeniedError(required.scopes)
    authenticator.rate_limiter.check(principal)
    return principal


async def bearer_principal(
    required: SecurityScopes, authenticator: AuthenticatorDep, bearer: BearerCredentials
) -> Principal:
    if bearer is None:
        raise AuthenticationError("A bearer token is required.", token_sent=False)
    return _authorize(await authenticator.from_bearer(bearer.credentials), required, authenticator)


async def bearer_or_api_key_principal(
    required: SecurityScopes,
    authenticator: AuthenticatorDep,
    bearer: BearerCredentials,
    api_key: ApiKeyCredentials,
) -> Principal:
    if bearer is not None:
        principal = await authenticator.from_bearer(bearer.credentials)
    elif api_key:
        principal = await authenticator.from_api_key(api_key)
    else:
        raise AuthenticationError("A bearer token or an API key is required.", token_sent=False)
    return _authorize(principal, required, authenticator)


def require_roles(*roles: Role, api_key: bool = False) -> Any:
    """A security dependency admitting callers with any one of `roles` (API keys only if `api_key`).

    Use as `Annotated[Principal, require_roles(Role.agent)]` or in `dependencies=[...]`.
    """
    if not roles:
        raise ValueError("name at least one role")
    dependency = bearer_or_api_key_principal if api_key else bearer_principal
    return Security(dependency, scopes=[role.value for role in roles])


# --------------------------------------------------------------------------- command line


def _token_command(args: argparse.Namespace, settings: Settings) -> int:
    token = issue_local_token(settings, args.subject, args.role, args.ttl)
    sys.stdout.write(token + "\n")
    return 0


async def _api_key_command(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.db.api_keys import SqlApiKeyStore
    from adapters.db.engine import create_engine_from_url, session_factory
    from adapters.db.migrate import upgrade_to_head

    await upgrade_to_head(settings.database_url)
    engine = create_engine_from_url(settings.database_url)
    try:
        store = SqlApiKeyStore(session_factory(engine))
        if args.api_key_action == "create":
            new_key = generate_api_key()
            channel = Channel(args.channel) if args.channel else None
            await store.create(new_key.key_id, new_key.key_hash, args.name, channel, created_by="cli")
            sys.stdout.write(new_key.secret + "\n")
        elif args.api_key_action == "list":
            for record in await store.list_keys():
                sys.stdout.write(record.model_dump_json() + "\n")
        else:
            if await store.revoke(args.key_id) is None:
                sys.stderr.write(f"no API key {args.key_id!r}\n")
                return 1
        return 0
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    from core.config import get_settings

    parser = argparse.ArgumentParser(prog="python -m api.security", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print an access token signed with the local key")
    token.add_argument("--subject", required=True)
    token.add_argument("--role", required=True, action="append", choices=[r.value for r in Role])
    token.add_argument("--ttl", type=int, default=DEFAULT_TOKEN_TTL_SECONDS, help="seconds (default 3600)")
    keys = commands.add_parser("api-key", help="manage channel API keys in the configured database")
    key_actions = keys.add_subparsers(dest="api_key_action", required=True)
    create = key_actions.add_parser("create", help="create a key and print it (shown only once)")
    create.add_argument("--name", required=True)
    create.add_argument("--channel", choices=[c.value for c in Channel])
    key_actions.add_parser("list", help="list keys (never the key itself)")
    revoke = key_actions.add_parser("revoke")
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "token":
        return _token_command(args, settings)
    return asyncio.run(_api_key_command(args, settings))


if __name__ == "__main__":
    raise SystemExit(main())
