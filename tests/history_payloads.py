"""Every payload of a workflow history, decoded through the client's codec (payloads are encrypted)."""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory


def payloads_in(message: Message) -> Iterable[Payload]:
    """Every Payload anywhere inside a history event (inputs, results, updates, signals, memo...)."""
    if isinstance(message, Payload):
        yield message
        return
    for descriptor, value in message.ListFields():
        if descriptor.type != descriptor.TYPE_MESSAGE:
            continue
        if isinstance(value, Message):
            yield from payloads_in(value)
        elif descriptor.message_type.GetOptions().map_entry:
            for entry in value.values():
                if isinstance(entry, Message):
                    yield from payloads_in(entry)
        else:
            for item in value:
                yield from payloads_in(item)


async def decoded_payload_texts(client: Client, history: WorkflowHistory) -> list[str]:
    payloads = [payload for event in history.events for payload in payloads_in(event)]
    codec = client.data_converter.payload_codec
    decoded = await codec.decode(payloads) if codec is not None and payloads else payloads
    return [payload.data.decode("utf-8", errors="replace") for payload in decoded]
