"""Codec server: the Web UI's remote codec protocol, only for authenticated people, CORS for the UI."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from api.codec_server import SESSION_COOKIE, create_codec_app
from core.codec import ENCODING, KEY_ID_METADATA, EncryptionCodec, Keyring, new_key
from core.config import Settings
from tests.auth_helpers import auth_settings, bearer, signing_keys, token

UI_ORIGIN = "http://127.0.0.1:8233"
SECRET = "Patient Jane Roe, rash after amoxicillin"


@pytest.fixture
def codec() -> EncryptionCodec:
    return EncryptionCodec(Keyring.from_encoded({"k-2026": new_key()}, "k-2026"))


@pytest.fixture
def http(codec: EncryptionCodec, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(**auth_settings(codec_ui_origin=UI_ORIGIN, payload_keyring_file=tmp_path / "k.json"))
    with TestClient(create_codec_app(settings, codec)) as client:
        yield client


def as_json(payloads: list[Payload]) -> dict[str, object]:
    return json_format.MessageToDict(Payloads(payloads=payloads))


async def encrypted_body(codec: EncryptionCodec) -> dict[str, object]:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(SECRET).encode())
    return as_json(await codec.encode([plain]))


async def test_an_agent_decodes_what_the_workers_encrypted(http: TestClient, codec: EncryptionCodec) -> None:
    body = await encrypted_body(codec)
    assert SECRET not in json.dumps(body)

    reply = http.post("/decode", json=body, headers={**bearer("agent-7", "agent"), "X-Namespace": "default"})

    assert reply.status_code == 200, reply.text
    [payload] = reply.json()["payloads"]
    assert base64.b64decode(payload["data"]).decode() == json.dumps(SECRET)
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"


async def test_decode_needs_a_valid_token_of_a_case_role(http: TestClient, codec: EncryptionCodec) -> None:
    body = await encrypted_body(codec)
    missing = http.post("/decode", json=body)
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert http.post("/decode", json=body, headers=bearer("x", "agent", ttl=-120)).status_code == 401
    retired = bearer("x", "agent", key=signing_keys().retired_key)
    assert http.post("/decode", json=body, headers=retired).status_code == 401
    intake = http.post("/decode", json=body, headers=bearer("chat-bot", "intake"))
    assert intake.status_code == 403
    assert SECRET not in missing.text + intake.text


async def test_encode_is_for_supervisors_and_admins_only(http: TestClient) -> None:
    body = as_json([Payload(metadata={"encoding": b"json/plain"}, data=b'"signal input"')])
    assert http.post("/encode", json=body, headers=bearer("agent-7", "agent")).status_code == 403
    reply = http.post("/encode", json=body, headers=bearer("sup-1", "supervisor"))
    assert reply.status_code == 200
    [payload] = reply.json()["payloads"]
    assert base64.b64decode(payload["metadata"]["encoding"]) == ENCODING
    assert base64.b64decode(payload["metadata"][KEY_ID_METADATA]) == b"k-2026"


def test_preflight_admits_only_the_ui_origin_with_credentials(http: TestClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
    }
    allowed = http.options("/decode", headers={"Origin": UI_ORIGIN, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == UI_ORIGIN
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "x-namespace" in allowed.headers["access-control-allow-headers"].lower()

    foreign = http.options("/decode", headers={"Origin": "https://evil.example", **preflight})
    assert foreign.status_code == 400
    assert "access-control-allow-origin" not in foreign.headers


async def test_a_browser_session_from_the_sign_in_form_decodes_with_the_cookie(
    http: TestClient, codec: EncryptionCodec
) -> None:
    assert "<form" in http.get("/session").text
    signed_in = http.post(
        "/session",
        content=f"token={token('agent-7', 'agent')}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert signed_in.status_code == 200
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Signed in as agent-7" in signed_in.text

    # What the UI sends with "include cross-origin credentials": the cookie, no Authorization.
    reply = http.post("/decode", json=await encrypted_body(codec), headers={"Origin": UI_ORIGIN})
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == UI_ORIGIN
    assert reply.headers["access-control-allow-credentials"] == "true"

    assert http.delete("/session").status_code == 204
    http.cookies.clear()
    assert http.post("/decode", json=await encrypted_body(codec)).status_code == 401


def test_a_customer_facing_role_cannot_start_a_session(http: TestClient) -> None:
    reply = http.post(
        "/session",
        content=f"token={token('chat-bot', 'intake')}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status_code == 403
    assert "set-cookie" not in reply.headers


async def test_unknown_key_and_malformed_bodies_are_problems(http: TestClient) -> None:
    foreign = EncryptionCodec(Keyring.from_encoded({"elsewhere": new_key()}, "elsewhere"))
    unknown = http.post("/decode", json=await encrypted_body(foreign), headers=bearer("a", "agent"))
    assert unknown.status_code == 422
    assert "'elsewhere'" in unknown.json()["detail"]
    malformed = http.post("/decode", content=b"{not json", headers=bearer("a", "agent"))
    assert malformed.status_code == 400
    assert malformed.headers["content-type"] == "application/problem+json"


def test_health_names_the_active_key_but_never_the_key(http: TestClient, codec: EncryptionCodec) -> None:
    reply = http.get("/healthz")
    assert reply.json() == {"status": "ok", "active_key_id": "k-2026"}
