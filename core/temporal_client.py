"""The one way every process (API, worker, codec server, scripts, tests) talks to Temporal.

The data converter lives here so that no client can forget the encryption codec: a payload a
client wrote in clear would sit in the server's database, and one it encrypted with a key the
workers do not hold would fail every workflow task.
"""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime

from core.codec import EncryptionCodec, Keyring, load_or_create_dev_keyring
from core.config import Settings
from core.telemetry import temporal_interceptors


def keyring_from_settings(settings: Settings) -> Keyring:
    if not settings.payload_keys:
        return load_or_create_dev_keyring(settings.payload_keyring_file)
    active = settings.payload_active_key
    if active is None:
        if len(settings.payload_keys) != 1:
            raise ValueError("CC_PAYLOAD_ACTIVE_KEY must name the encrypting key when several are given")
        active = next(iter(settings.payload_keys))
    return Keyring.from_encoded(
        {key_id: key.get_secret_value() for key_id, key in settings.payload_keys.items()}, active
    )


def build_codec(settings: Settings) -> EncryptionCodec:
    return EncryptionCodec(keyring_from_settings(settings))


def build_data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads, encrypted; failure messages and stack traces are encrypted too."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=build_codec(settings),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=build_data_converter(settings),
        # Tracing spans API -> workflow -> activities when CC_OTEL_ENDPOINT is set; none otherwise.
        interceptors=temporal_interceptors(settings),
        runtime=runtime,
    )
