"""Test credentials shared by every API test: a JWKS file with two signing keys and a token factory.

    from tests.auth_helpers import auth_settings, bearer
    app = create_app(Settings(**auth_settings()), ...)
    http.get("/v1/cases", headers=bearer("agent-7", "agent"))

The key set lists a current and a previous key (rotation); `retired_key` signs tokens for a key
that is no longer listed, `token(..., ttl=-60)` makes an expired one.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from api.security import issue_token, new_private_jwk, public_jwks

TEST_ISSUER = "https://idp.test.example/realms/contact-center"
TEST_AUDIENCE = "contact-center-api"
ALL_ROLES = ("intake", "agent", "safety_reviewer", "supervisor", "admin")


@dataclass(frozen=True)
class SigningKeys:
    directory: Path
    jwks_file: Path
    current_key: dict[str, Any]
    previous_key: dict[str, Any]
    retired_key: dict[str, Any]


@lru_cache(maxsize=1)
def signing_keys() -> SigningKeys:
    directory = Path(tempfile.mkdtemp(prefix="cc-test-auth-"))
    current, previous, retired = (
        new_private_jwk(f"test-{name}") for name in ("current", "previous", "retired")
    )
    jwks_file = directory / "jwks.json"
    jwks_file.write_text(json.dumps(public_jwks([current, previous])), encoding="utf-8")
    return SigningKeys(directory, jwks_file, current, previous, retired)


def auth_settings(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments for `Settings(...)` that make the API trust the test key set."""
    return {
        "auth_jwks_file": signing_keys().jwks_file,
        "auth_issuer": TEST_ISSUER,
        "auth_audience": TEST_AUDIENCE,
        "auth_local_key_dir": signing_keys().directory / "unused-local",
        **overrides,
    }


def token(
    subject: str,
    *roles: str,
    ttl: int = 600,
    key: dict[str, Any] | None = None,
    issuer: str = TEST_ISSUER,
    audience: str = TEST_AUDIENCE,
) -> str:
    return issue_token(
        key or signing_keys().current_key,
        issuer=issuer,
        audience=audience,
        subject=subject,
        roles=roles,
        ttl_seconds=ttl,
    )


def bearer(subject: str, *roles: str, **kwargs: Any) -> dict[str, str]:
    """`Authorization` header for a caller `subject` with `roles` (all roles if none given)."""
    return {"Authorization": f"Bearer {token(subject, *(roles or ALL_ROLES), **kwargs)}"}
