"""Authentication, authorization and hardening of the HTTP API, without Temporal.

Every route of the app (read from `app.routes`, so a new one cannot be forgotten) answers 401 or
403 problem+json to callers without the right credentials; tokens are checked for signature,
key, algorithm, issuer, audience and expiry; keys rotate; bodies are capped before parsing;
rate limits answer 429 with Retry-After; unexpected errors disclose nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi import FastAPI, routing
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.main import create_app
from api.public_view import public_decision_path
from api.security import (
    Role,
    TokenError,
    TokenVerifier,
    generate_api_key,
    hash_api_key,
    issue_token,
    new_private_jwk,
    public_jwks,
)
from core.config import Settings
from core.models import CaseStatus, CaseSummary, Category, DecisionStep, MessageResponse
from tests.auth_helpers import (
    ALL_ROLES,
    TEST_AUDIENCE,
    TEST_ISSUER,
    auth_settings,
    bearer,
    signing_keys,
    token,
)

PUBLIC_PATHS = {"/healthz", "/readyz"}


class NoTemporal:
    """Any use of the Temporal client by a refused request is a test failure."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"Temporal client used ({name}) by a request that should have been refused")


class EmptyCaseStore:
    """Just enough of a case store for GET /v1/cases; it records the queries it answered."""

    def __init__(self) -> None:
        self.queries: list[dict[str, Any]] = []

    async def list_cases(self, **query: Any) -> tuple[list[CaseSummary], int]:
        self.queries.append(query)
        return [], 0


def make_app(**overrides: Any) -> FastAPI:
    return create_app(
        Settings(**auth_settings(**overrides)),
        client=NoTemporal(),  # type: ignore[arg-type]
        case_store=EmptyCaseStore(),  # type: ignore[arg-type]
    )


@pytest.fixture
def http() -> Iterator[TestClient]:
    with TestClient(make_app(), raise_server_exceptions=False) as client:
        yield client


APP = make_app()
OPENAPI = APP.openapi()


def _operations() -> list[tuple[str, str, frozenset[str]]]:
    """Every (method, path) the app routes, with the roles its OpenAPI security requirement names."""
    found = []
    # FastAPI >= 0.16x nests included routers; `iter_route_contexts` flattens them.
    for route in routing.iter_route_contexts(APP.routes):
        if not isinstance(route.original_route, APIRoute) or route.path in PUBLIC_PATHS:
            continue
        for method in sorted(route.methods or ()):
            security = OPENAPI["paths"][route.path][method.lower()].get("security", [])
            roles = frozenset(
                role for requirement in security for scopes in requirement.values() for role in scopes
            )
            found.append((method, route.path, roles))
    return found


OPERATIONS = _operations()


def _url(path: str) -> str:
    return path.replace("{case_id}", str(uuid.uuid4())).replace("{key_id}", "0123456789abcdef")


def _tampered(valid: str) -> str:
    # Same header and claims, signature from another key under the listed key's id.
    forged = new_private_jwk(signing_keys().current_key["kid"])
    return issue_token(
        forged,
        issuer=TEST_ISSUER,
        audience=TEST_AUDIENCE,
        subject="mallory",
        roles=ALL_ROLES,
        ttl_seconds=600,
    )


def test_every_route_except_health_declares_roles() -> None:
    assert len(OPERATIONS) >= 8
    for method, path, roles in OPERATIONS:
        assert roles, f"{method} {path} declares no roles"
        assert roles <= set(ALL_ROLES)
    for path in PUBLIC_PATHS:
        assert "security" not in OPENAPI["paths"][path]["get"]
    schemes = OPENAPI["components"]["securitySchemes"]
    assert schemes["BearerJWT"]["scheme"] == "bearer"
    assert schemes["ApiKey"] == {**schemes["ApiKey"], "in": "header", "name": "X-API-Key"}


CREDENTIAL_CASES = {
    "none": lambda: {},
    "bad_signature": lambda: {"Authorization": f"Bearer {_tampered(token('x', *ALL_ROLES))}"},
    "expired": lambda: bearer("late", *ALL_ROLES, ttl=-120),
    "unknown_key": lambda: bearer("old", *ALL_ROLES, key=signing_keys().retired_key),
    "wrong_issuer": lambda: bearer("x", *ALL_ROLES, issuer="https://evil.example/"),
    "wrong_audience": lambda: bearer("x", *ALL_ROLES, audience="another-api"),
    "garbage": lambda: {"Authorization": "Bearer not.a.jwt"},
    "bad_api_key": lambda: {"X-API-Key": "cck_0123456789abcdef_guess"},
}


@pytest.mark.parametrize("credentials", sorted(CREDENTIAL_CASES))
@pytest.mark.parametrize(("method", "path", "roles"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_missing_or_invalid_credentials_are_401_problems_with_a_bearer_challenge(
    http: TestClient, method: str, path: str, roles: frozenset[str], credentials: str
) -> None:
    reply = http.request(method, _url(path), headers=CREDENTIAL_CASES[credentials](), json={})
    assert reply.status_code == 401, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.headers["www-authenticate"].startswith('Bearer realm="contact-center"')
    assert reply.json()["status"] == 401


@pytest.mark.parametrize(("method", "path", "roles"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_a_valid_token_without_the_route_role_is_a_403_problem(
    http: TestClient, method: str, path: str, roles: frozenset[str]
) -> None:
    wrong = sorted(set(ALL_ROLES) - roles)
    assert wrong, f"{method} {path} admits every role"
    reply = http.request(method, _url(path), headers=bearer("someone", *wrong), json={})
    assert reply.status_code == 403, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    assert "roles" in reply.json()["detail"]


def test_a_token_with_no_roles_at_all_is_forbidden(http: TestClient) -> None:
    reply = http.get("/v1/cases", headers={"Authorization": f"Bearer {token('nobody')}"})
    assert reply.status_code == 403


def test_a_right_role_passes_and_the_query_reaches_the_store(http: TestClient) -> None:
    reply = http.get("/v1/cases", headers=bearer("agent-1", "agent"))
    assert reply.status_code == 200, reply.text
    assert reply.json()["items"] == []


def test_an_intake_token_is_refused_on_agent_routes_before_temporal_is_touched(http: TestClient) -> None:
    case_url = f"/v1/cases/{uuid.uuid4()}"
    assert http.get(case_url, headers=bearer("gateway", "intake")).status_code == 403
    body = {"decision": "confirm", "reason": "x", "review_round": 1}
    assert http.post(f"{case_url}/decision", json=body, headers=bearer("a", "agent")).status_code == 403


# --------------------------------------------------------------------------- tokens and keys


def verifier(**overrides: Any) -> TokenVerifier:
    # No refetch cooldown: the rotation test changes the provider's keys within milliseconds.
    return TokenVerifier(Settings(**auth_settings(**overrides)), jwks_refresh_cooldown=0)


async def test_tokens_of_the_current_and_the_previous_key_verify_and_a_removed_key_does_not() -> None:
    keys = signing_keys()
    check = verifier()
    current = await check.verify(token("alice", "agent"))
    previous = await check.verify(token("bob", "safety_reviewer", key=keys.previous_key))
    assert (current.subject, current.roles) == ("alice", frozenset({Role.agent}))
    assert (previous.subject, previous.roles) == ("bob", frozenset({Role.safety_reviewer}))
    with pytest.raises(TokenError, match="signing key"):
        await check.verify(token("carol", "agent", key=keys.retired_key))


async def test_removing_a_key_from_the_jwks_file_revokes_its_tokens_without_a_restart(tmp_path: Path) -> None:
    old, new = new_private_jwk("rot-old"), new_private_jwk("rot-new")
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(public_jwks([new, old])))
    check = verifier(auth_jwks_file=jwks_file)
    old_token = issue_token(old, issuer=TEST_ISSUER, audience=TEST_AUDIENCE, subject="s", roles=["agent"])
    assert (await check.verify(old_token)).subject == "s"
    jwks_file.write_text(json.dumps(public_jwks([new])))
    os.utime(jwks_file, ns=(1, 1))  # a distinct mtime even on coarse file-system clocks
    with pytest.raises(TokenError, match="signing key"):
        await check.verify(old_token)


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, dict[str, Any]]]:
    """A real HTTP JWKS endpoint; the test changes `served["jwks"]` to rotate keys."""
    served: dict[str, Any] = {"jwks": {"keys": []}, "hits": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served["hits"] += 1
            body = json.dumps(served["jwks"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks", served
    finally:
        server.shutdown()
        thread.join()


async def test_jwks_url_keys_rotate_a_new_kid_is_fetched_and_a_removed_one_refused(
    jwks_server: tuple[str, dict[str, Any]],
) -> None:
    url, served = jwks_server
    first, second = new_private_jwk("idp-1"), new_private_jwk("idp-2")
    served["jwks"] = public_jwks([first])
    check = verifier(auth_jwks_url=url, auth_jwks_file=None)
    sign = {"issuer": TEST_ISSUER, "audience": TEST_AUDIENCE, "roles": ["supervisor"]}
    assert (await check.verify(issue_token(first, subject="a", **sign))).subject == "a"
    old_token = issue_token(first, subject="a", **sign)
    # The provider rotates: the new key is fetched on first sight of its kid...
    served["jwks"] = public_jwks([second])
    assert (await check.verify(issue_token(second, subject="b", **sign))).subject == "b"
    # ...and the refetched set no longer holds the removed one.
    with pytest.raises(TokenError, match="signing key"):
        await check.verify(old_token)
    with pytest.raises(TokenError, match="signing key"):
        await check.verify(issue_token(new_private_jwk("idp-never"), subject="c", **sign))
    assert served["hits"] >= 2


async def test_an_unreachable_jwks_url_is_a_503_not_a_401() -> None:
    check = verifier(
        auth_jwks_url="http://127.0.0.1:9/jwks", auth_jwks_file=None, auth_jwks_timeout_seconds=1
    )
    with pytest.raises(Exception, match="identity provider") as caught:
        await check.verify(token("a", "agent"))
    assert getattr(caught.value, "status", None) == 503


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("algorithm", ["none", "HS256"])
async def test_tokens_with_an_algorithm_outside_the_allow_list_are_refused(algorithm: str) -> None:
    claims = {
        "iss": TEST_ISSUER,
        "aud": TEST_AUDIENCE,
        "sub": "x",
        "roles": ["admin"],
        "iat": 0,
        "exp": 2**40,
    }
    header = {"kid": signing_keys().current_key["kid"]}
    if algorithm == "none":
        forged = jwt.encode(claims, None, algorithm="none", headers=header)
    else:
        # The classic confusion attack: the public key used as an HMAC secret. PyJWT refuses to
        # sign that, so the token is assembled by hand.
        secret = json.dumps(public_jwks([signing_keys().current_key])).encode()
        parts = [_b64(json.dumps({**header, "alg": "HS256", "typ": "JWT"})), _b64(json.dumps(claims))]
        signature = hmac.new(secret, ".".join(parts).encode(), hashlib.sha256).digest()
        forged = ".".join([*parts, base64.urlsafe_b64encode(signature).rstrip(b"=").decode()])
    with pytest.raises(TokenError, match="algorithm"):
        await verifier().verify(forged)


async def test_a_token_without_expiry_is_refused() -> None:
    key = signing_keys().current_key
    claims = {"iss": TEST_ISSUER, "aud": TEST_AUDIENCE, "sub": "x", "roles": ["admin"], "iat": 0}
    forged = jwt.encode(claims, jwt.PyJWK(key).key, algorithm="ES256", headers={"kid": key["kid"]})
    with pytest.raises(TokenError):
        await verifier().verify(forged)


def test_the_token_command_creates_a_private_local_key_and_prints_a_valid_token(tmp_path: Path) -> None:
    key_dir = tmp_path / "auth"
    env = {**os.environ, "CC_AUTH_LOCAL_KEY_DIR": str(key_dir), "PYTHONPATH": str(Path.cwd())}
    env.pop("CC_AUTH_JWKS_FILE", None)
    env.pop("CC_AUTH_JWKS_URL", None)
    command = [sys.executable, "-m", "api.security", "token", "--subject", "alice", "--role", "intake"]
    printed = subprocess.run([*command, "--ttl", "120"], env=env, capture_output=True, text=True, check=True)
    for name in ("signing-key.jwk.json", "jwks.json"):
        assert stat.S_IMODE((key_dir / name).stat().st_mode) == 0o600
    assert '"d"' not in (key_dir / "jwks.json").read_text()  # the public set holds no private part
    claims = jwt.decode(printed.stdout.strip(), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120
    with TestClient(
        create_app(Settings(auth_local_key_dir=key_dir), client=NoTemporal()),  # type: ignore[arg-type]
    ) as client:
        # A valid intake token passes authentication: the empty body then fails validation.
        reply = client.post(
            "/v1/messages", json={}, headers={"Authorization": f"Bearer {printed.stdout.strip()}"}
        )
        assert reply.status_code == 422, reply.text
    refused = subprocess.run([*command[:-1], "janitor"], env=env, capture_output=True, text=True)
    assert refused.returncode != 0


def test_api_keys_are_random_and_stored_only_as_their_sha256() -> None:
    one, two = generate_api_key(), generate_api_key()
    assert one.secret != two.secret and one.key_id != two.key_id
    assert one.key_hash == hash_api_key(one.secret) and one.secret not in one.key_hash
    assert len(one.secret) > 50


# --------------------------------------------------------------------------- hardening


def test_an_oversized_body_is_refused_with_413_before_parsing(http: TestClient) -> None:
    reply = http.post(
        "/v1/messages",
        content=b'{"text": "' + b"x" * 70_000 + b'", "channel": "chat"}',
        headers={"content-type": "application/json", **bearer("gw", "intake")},
    )
    assert reply.status_code == 413
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["status"] == 413


def test_a_chunked_body_without_length_is_counted_and_refused(http: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(40):
            yield b"y" * 4096
        yield b'", "channel": "chat"}'

    reply = http.post(
        "/v1/messages",
        content=chunks(),
        headers={"content-type": "application/json", **bearer("gw", "intake")},
    )
    assert reply.status_code == 413, reply.text
    assert reply.headers["content-type"] == "application/problem+json"


def test_the_rate_limit_answers_429_with_retry_after_per_credential() -> None:
    with TestClient(make_app(rate_limit_bearer="2/minute")) as client:
        agent = bearer("busy-agent", "agent")
        assert [client.get("/v1/cases", headers=agent).status_code for _ in range(2)] == [200, 200]
        limited = client.get("/v1/cases", headers=agent)
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/problem+json"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        # Another credential has its own budget.
        assert client.get("/v1/cases", headers=bearer("other-agent", "agent")).status_code == 200


def test_rate_limits_can_be_switched_off_for_load_tests() -> None:
    with TestClient(make_app(rate_limit_bearer="1/minute", rate_limit_enabled=False)) as client:
        agent = bearer("bench", "agent")
        assert {client.get("/v1/cases", headers=agent).status_code for _ in range(5)} == {200}


def test_an_unexpected_exception_is_a_500_problem_without_its_text() -> None:
    app = make_app()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("database said: jane.doe@example.com violates constraint")

    with TestClient(app, raise_server_exceptions=False) as client:
        reply = client.get("/boom")
    assert reply.status_code == 500
    assert reply.headers["content-type"] == "application/problem+json"
    assert "jane" not in reply.text and "RuntimeError" not in reply.text and "Traceback" not in reply.text
    assert reply.json()["error_id"]


def test_unknown_paths_and_methods_are_problem_documents(http: TestClient) -> None:
    missing = http.get("/v1/nothing-here")
    assert (missing.status_code, missing.headers["content-type"]) == (404, "application/problem+json")
    wrong_method = http.put("/v1/cases", headers=bearer("a", "agent"))
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == "application/problem+json"
    assert "GET" in wrong_method.headers["allow"]


def test_a_huge_offset_is_a_422_not_a_500(http: TestClient) -> None:
    reply = http.get("/v1/cases", params={"offset": "9" * 27}, headers=bearer("a", "agent"))
    assert reply.status_code == 422
    assert reply.headers["content-type"] == "application/problem+json"


def test_security_headers_are_on_every_response(http: TestClient) -> None:
    for reply in (
        http.get("/healthz"),
        http.get("/v1/cases"),
        http.get("/v1/cases", headers=bearer("a", "agent")),
    ):
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["x-frame-options"] == "DENY"
        assert reply.headers["referrer-policy"] == "no-referrer"
        assert reply.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in reply.headers["content-security-policy"]


def test_cors_is_closed_unless_origins_are_configured() -> None:
    preflight = {"Origin": "https://agents.example", "Access-Control-Request-Method": "GET"}
    with TestClient(make_app()) as closed:
        reply = closed.options("/v1/cases", headers=preflight)
        assert "access-control-allow-origin" not in reply.headers
    with TestClient(make_app(cors_allowed_origins=["https://agents.example"])) as opened:
        reply = opened.options("/v1/cases", headers=preflight)
        assert reply.headers["access-control-allow-origin"] == "https://agents.example"
        other = opened.options("/v1/cases", headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_error_responses_are_declared_as_problem_json_in_openapi() -> None:
    operation = OPENAPI["paths"]["/v1/messages"]["post"]
    for status in ("401", "403", "413", "422", "429", "500"):
        assert "application/problem+json" in operation["responses"][status]["content"], status
    assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]


# --------------------------------------------------------------------------- decision path


def test_the_intake_caller_sees_no_internals_of_the_decision_path() -> None:
    at = datetime(2026, 11, 30, tzinfo=timezone.utc)
    steps = [
        DecisionStep(
            step="llm_classification",
            actor="llamacpp:qwen",
            observed={"probabilities": {"informational": 0.61, "service_action": 0.2}, "latency_ms": 812},
            decision="informational",
            reason="label with the highest probability at the answer token",
            at=at,
        ),
        DecisionStep(
            step="safety_guard",
            actor="safety_guard:2026-11-25.2",
            observed={"findings": [{"signal": "harm", "evidence": "felt dizzy"}]},
            decision="no_change",
            reason="no unsuppressed experienced-harm signal",
            at=at,
        ),
        DecisionStep(
            step="acceptance_policy",
            actor="policy:v7",
            observed={"min_gap": 0.17, "safety_floor": 0.2},
            decision="human_triage",
            reason="P(safety)=0.231 >= safety_floor=0.2: a possible safety case is never auto-routed elsewhere",
            at=at,
        ),
        DecisionStep(
            step="llm_classification",
            actor="classifier",
            observed={"error": "TimeoutError: llama slot 0 at /srv/models"},
            decision="failed",
            reason="classification failed after retries",
            at=at,
        ),
    ]
    response = MessageResponse(
        case_id="c",
        workflow_id="w",
        category=Category.informational,
        confidence=0.61,
        decision_path=public_decision_path(steps),
        next_step="an agent picks the category",
        status=CaseStatus.awaiting_triage,
    )
    shown = response.model_dump_json()
    for secret in (
        "0.231",
        "safety_floor",
        "0.17",
        "dizzy",
        "TimeoutError",
        "/srv",
        "qwen",
        "812",
        "observed",
        "actor",
    ):
        assert secret not in shown, secret
    path = json.loads(shown)["decision_path"]
    assert [set(step) for step in path] == [{"step", "decision", "reason", "at"}] * 4
    assert [step["decision"] for step in path] == ["informational", "no_change", "human_triage", "failed"]
