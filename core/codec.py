"""AES-GCM payload codec: neither the Temporal server nor its database holds payloads in clear.

Every payload a client or worker sends (workflow inputs, activity results, updates, queries,
failure messages) is serialised, encrypted with the keyring's active key and tagged with the
key id, so a key can be rotated while cases that were encrypted with the previous key are
still open: old keys stay in the keyring for decryption only. The key id is bound to the
ciphertext as associated data, so a payload cannot be relabelled with another key's id.

Payloads without the encrypted encoding (histories recorded before the codec existed) pass
through unchanged; that keeps cases opened before encryption was switched on running.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import secrets
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12  # the size AES-GCM is specified for (NIST SP 800-38D)
KEY_BYTES = 32  # AES-256


class PayloadKeyError(ValueError):
    """A payload names a key this process does not hold, or its ciphertext does not verify."""


@dataclass(frozen=True)
class Keyring:
    """One active key that encrypts, any number of older keys that still decrypt."""

    keys: Mapping[str, bytes]
    active_key_id: str

    def __post_init__(self) -> None:
        if self.active_key_id not in self.keys:
            raise ValueError(f"active payload key {self.active_key_id!r} is not in the keyring")
        for key_id, key in self.keys.items():
            if not key_id or len(key_id) > 64:
                raise ValueError("payload key ids must be 1-64 characters")
            if len(key) not in (16, 24, 32):
                raise ValueError(f"payload key {key_id!r} must be 16, 24 or 32 bytes, not {len(key)}")

    @classmethod
    def from_encoded(cls, keys: Mapping[str, str], active_key_id: str) -> Keyring:
        """Keys as base64 text, the form they take in settings and in the dev keyring file."""
        decoded: dict[str, bytes] = {}
        for key_id, text in keys.items():
            try:
                decoded[key_id] = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError) as error:
                raise ValueError(f"payload key {key_id!r} is not valid base64") from error
        return cls(keys=decoded, active_key_id=active_key_id)

    def key(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise PayloadKeyError(
                f"payload was encrypted with key {key_id!r}, which is not in this process's keyring "
                f"(known: {sorted(self.keys)}); add it to CC_PAYLOAD_KEYS to decrypt"
            ) from None


class EncryptionCodec(PayloadCodec):
    """Encrypts each payload with AES-GCM under the keyring's active key."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.keys.items()}

    @property
    def active_key_id(self) -> str:
        return self._keyring.active_key_id

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self._keyring.active_key_id
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()},
            data=nonce + ciphertext,
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # recorded before encryption was switched on
        raw_key_id = payload.metadata.get(KEY_ID_METADATA)
        if raw_key_id is None:
            raise PayloadKeyError(f"encrypted payload without the {KEY_ID_METADATA!r} metadata")
        key_id = raw_key_id.decode()
        self._keyring.key(key_id)  # raises a clear error for an unknown key id
        nonce, ciphertext = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = self._ciphers[key_id].decrypt(nonce, ciphertext, key_id.encode())
        except InvalidTag as error:
            raise PayloadKeyError(f"payload does not verify under key {key_id!r}") from error
        decoded = Payload()
        decoded.ParseFromString(plain)
        return decoded


def new_key() -> str:
    """A fresh AES-256 key as base64, the form `CC_PAYLOAD_KEYS` takes."""
    return base64.b64encode(AESGCM.generate_key(bit_length=KEY_BYTES * 8)).decode()


def load_or_create_dev_keyring(path: Path) -> Keyring:
    """The local keyring `make run` and the tests use when no keys are configured.

    Created once with mode 0600; API, worker and codec server all start at the same time, so the
    file is written aside and linked into place: whoever links first wins, the others read it.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key_id = f"dev-{secrets.token_hex(4)}"
        document = json.dumps({"active": key_id, "keys": {key_id: new_key()}}, indent=2)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".payload-keys-")
        try:
            os.fchmod(descriptor, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(document)
            # FileExistsError: another process created it first; use theirs.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    data = json.loads(path.read_text(encoding="utf-8"))
    return Keyring.from_encoded(data["keys"], data["active"])
