"""Keyed pseudonyms for customer ids: the workflow, its history and the case store never see the raw id.

The API replaces `customer_id` by HMAC-SHA256(key, id) before the case workflow starts. The same
customer always gets the same pseudonym (cases can still be grouped, and an erasure request
for a customer id finds its cases by pseudonymising the id the same way), while nobody without
the key can reverse it or test a guessed id. The key comes from `CC_PSEUDONYM_KEY`; without it a
random local development key is created once under the cache directory, readable only by its
owner. Rotating the key changes every pseudonym: keep the old key while old cases are open.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from core.config import Settings

__all__ = ["PSEUDONYM_PREFIX", "Pseudonymiser", "load_key", "pseudonymise_customer_id"]

PSEUDONYM_PREFIX = "cust_"
_KEY_BYTES = 32
# 128 bits of the MAC: collisions are out of reach for any customer base, and ids stay short.
_DIGEST_HEX_CHARS = 32


def _create_local_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(_KEY_BYTES)
    try:
        # O_EXCL: two processes starting together must not write two different keys.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key.hex())
    return key


def load_key(settings: Settings) -> bytes:
    """The configured key, else the local development key file (created on first use)."""
    if settings.pseudonym_key is not None:
        configured = settings.pseudonym_key.get_secret_value().encode()
        if len(configured) < 16:
            raise ValueError("CC_PSEUDONYM_KEY must be at least 16 characters")
        return configured
    path = settings.pseudonym_key_file
    if path.exists():
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    return _create_local_key(path)


class Pseudonymiser:
    """Deterministic keyed pseudonyms. Input is always hashed, even when it looks like a
    pseudonym, so that a caller cannot choose which pseudonym its message is filed under."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("pseudonym key too short")
        self._key = key

    @classmethod
    def from_settings(cls, settings: Settings) -> Pseudonymiser:
        return cls(load_key(settings))

    def __call__(self, customer_id: str) -> str:
        digest = hmac.new(self._key, customer_id.encode("utf-8"), hashlib.sha256).hexdigest()
        return PSEUDONYM_PREFIX + digest[:_DIGEST_HEX_CHARS]

    @staticmethod
    def is_pseudonym(value: str) -> bool:
        body = value.removeprefix(PSEUDONYM_PREFIX)
        return (
            value.startswith(PSEUDONYM_PREFIX)
            and len(body) == _DIGEST_HEX_CHARS
            and all(c in "0123456789abcdef" for c in body)
        )


@lru_cache(maxsize=4)
def _pseudonymiser(configured_key: str | None, key_file: Path) -> Pseudonymiser:
    settings = Settings(pseudonym_key=configured_key, pseudonym_key_file=key_file)
    return Pseudonymiser(load_key(settings))


def pseudonymise_customer_id(customer_id: str | None, settings: Settings) -> str | None:
    """The pseudonym the case store and workflow history keep for `customer_id` (None stays None).

    Also what an erasure request for a customer id must look up."""
    if customer_id is None:
        return None
    configured = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key is not None else None
    return _pseudonymiser(configured, settings.pseudonym_key_file)(customer_id)
