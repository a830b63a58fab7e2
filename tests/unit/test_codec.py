"""Payload codec: round trip, key rotation, clear failures, and the converter every client uses."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure

from core.codec import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    Keyring,
    PayloadKeyError,
    load_or_create_dev_keyring,
    new_key,
)
from core.config import Settings
from core.models import Channel, ClassifyInput
from core.temporal_client import build_data_converter, keyring_from_settings

SECRET_TEXT = "Jane Doe has a rash after Lisinopril"


def plain_payload(text: str = SECRET_TEXT) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps({"text": text}).encode())


def codec_with(active: str, **keys: str) -> EncryptionCodec:
    return EncryptionCodec(Keyring.from_encoded(keys, active))


async def test_round_trip_restores_the_payload_and_hides_its_text() -> None:
    codec = codec_with("k1", k1=new_key())
    original = plain_payload()

    [encrypted] = await codec.encode([original])
    [decoded] = await codec.decode([encrypted])

    assert decoded == original
    assert encrypted.metadata["encoding"] == ENCODING
    assert encrypted.metadata[KEY_ID_METADATA] == b"k1"
    assert b"Jane" not in encrypted.SerializeToString()
    assert b"json/plain" not in encrypted.SerializeToString()  # even the inner encoding is hidden


async def test_same_payload_encrypts_differently_each_time() -> None:
    codec = codec_with("k1", k1=new_key())
    first, second = await codec.encode([plain_payload(), plain_payload()])
    assert first.data != second.data  # fresh nonce per payload


async def test_after_rotation_old_payloads_decrypt_and_new_ones_use_the_new_key() -> None:
    old_key, new = new_key(), new_key()
    before = codec_with("2026-01", **{"2026-01": old_key})
    [written_before] = await before.encode([plain_payload()])

    after = codec_with("2026-06", **{"2026-01": old_key, "2026-06": new})
    [written_after] = await after.encode([plain_payload("after rotation")])

    assert (await after.decode([written_before]))[0] == plain_payload()
    assert written_after.metadata[KEY_ID_METADATA] == b"2026-06"
    # A process that still runs the old keyring cannot read what the new key wrote.
    with pytest.raises(PayloadKeyError, match="2026-06"):
        await before.decode([written_after])


async def test_unknown_key_id_fails_with_a_message_naming_the_key() -> None:
    writer = codec_with("retired", retired=new_key())
    [payload] = await writer.encode([plain_payload()])
    reader = codec_with("current", current=new_key())
    with pytest.raises(PayloadKeyError, match=r"'retired'.*not in this process's keyring"):
        await reader.decode([payload])


async def test_relabelled_or_tampered_payload_does_not_verify() -> None:
    key_a, key_b = new_key(), new_key()
    codec = codec_with("a", a=key_a, b=key_b)
    [payload] = await codec.encode([plain_payload()])

    relabelled = Payload()
    relabelled.CopyFrom(payload)
    relabelled.metadata[KEY_ID_METADATA] = b"b"
    with pytest.raises(PayloadKeyError, match="does not verify"):
        await codec.decode([relabelled])

    tampered = Payload()
    tampered.CopyFrom(payload)
    tampered.data = payload.data[:-1] + bytes([payload.data[-1] ^ 1])
    with pytest.raises(PayloadKeyError, match="does not verify"):
        await codec.decode([tampered])


async def test_payloads_recorded_before_encryption_pass_through() -> None:
    codec = codec_with("k1", k1=new_key())
    assert (await codec.decode([plain_payload()]))[0] == plain_payload()


def test_keyring_rejects_an_active_key_it_does_not_hold_and_bad_keys() -> None:
    with pytest.raises(ValueError, match="not in the keyring"):
        Keyring.from_encoded({"a": new_key()}, "b")
    with pytest.raises(ValueError, match="16, 24 or 32 bytes"):
        Keyring.from_encoded({"a": base64.b64encode(b"short").decode()}, "a")
    with pytest.raises(ValueError, match="not valid base64"):
        Keyring.from_encoded({"a": "not base64!"}, "a")


def test_dev_keyring_is_created_once_with_owner_only_permissions(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "payload-keys.json"
    first = load_or_create_dev_keyring(path)
    second = load_or_create_dev_keyring(path)
    assert first == second
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert list(tmp_path.joinpath("cache").iterdir()) == [path]  # no temporary file left behind


def test_settings_choose_the_active_key_and_keep_the_others_for_decryption(tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    settings = Settings(
        payload_keys={"old": old, "new": new},  # type: ignore[dict-item]
        payload_active_key="new",
        payload_keyring_file=tmp_path / "unused.json",
    )
    keyring = keyring_from_settings(settings)
    assert keyring.active_key_id == "new"
    assert set(keyring.keys) == {"old", "new"}
    assert not (tmp_path / "unused.json").exists()
    with pytest.raises(ValueError, match="CC_PAYLOAD_ACTIVE_KEY"):
        keyring_from_settings(Settings(payload_keys={"a": old, "b": new}))  # type: ignore[dict-item]


def test_keys_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    key = new_key()
    monkeypatch.setenv("CC_PAYLOAD_KEYS", json.dumps({"prod-1": key}))
    keyring = keyring_from_settings(Settings())
    assert keyring.active_key_id == "prod-1"
    assert keyring.keys["prod-1"] == base64.b64decode(key)


async def test_data_converter_encrypts_pydantic_payloads_end_to_end(tmp_path: Path) -> None:
    converter = build_data_converter(Settings(payload_keyring_file=tmp_path / "keys.json"))
    value = ClassifyInput(case_id="c-1", redacted_text=SECRET_TEXT, channel=Channel.chat)

    [payload] = await converter.encode([value])

    assert payload.metadata["encoding"] == ENCODING
    assert SECRET_TEXT.encode() not in payload.SerializeToString()
    assert await converter.decode([payload], [ClassifyInput]) == [value]


async def test_failure_messages_are_encrypted_too(tmp_path: Path) -> None:
    converter = build_data_converter(Settings(payload_keyring_file=tmp_path / "keys.json"))
    failure = Failure()
    await converter.encode_failure(RuntimeError(f"could not classify: {SECRET_TEXT}"), failure)
    assert SECRET_TEXT not in failure.message
    assert SECRET_TEXT.encode() not in failure.SerializeToString()
