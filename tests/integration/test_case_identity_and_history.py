"""Through the real API, dev server, embedded model and PostgreSQL: case identity per channel, and
workflow histories (parent and child) that hold no message text in clear.

The history is read raw from the server (`GetWorkflowExecutionHistory`), exactly what the
Temporal database and the Web UI without the codec server see.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from google.protobuf.message import Message
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.common.v1 import Payload
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from classifier.pipeline import ClassificationPipeline
from core.codec import ENCODING, KEY_ID_METADATA
from core.config import Settings
from core.names import case_id_for, child_workflow_id
from core.temporal_client import build_codec
from tests.auth_helpers import auth_settings, bearer
from tests.integration.live_stack import serve_live_stack

pytestmark = [pytest.mark.integration, pytest.mark.llm]

INTAKE = bearer("chat-gateway", "intake")
# Words the redactor keeps (no name, number or address), so the workflow input really carries
# them: the test proves they are there once decrypted, and nowhere in clear.
MARKER = "quincelantern"
SERVICE_TEXT = f"Please cancel my order, the {MARKER} parcel never arrived and I want a refund"


@pytest.fixture
async def api(
    dev_server_env: WorkflowEnvironment, real_pipeline: ClassificationPipeline, pg_engine: AsyncEngine
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        workflow_task_queue=f"wf-{suffix}",
        llm_task_queue=f"llm-{suffix}",
        tenant_id="pharmacy-a",
        **auth_settings(),
    )
    async with serve_live_stack(dev_server_env.client, settings, pg_engine, real_pipeline) as live:
        yield live.http, settings


async def post(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    reply = await http.post("/v1/messages", json=body, headers=INTAKE)
    assert reply.status_code in (200, 202), reply.text
    result: dict[str, Any] = reply.json()
    return result


async def test_equal_message_ids_on_two_channels_are_two_cases_and_a_retry_is_the_same_case(
    api: tuple[httpx.AsyncClient, Settings], pg_engine: AsyncEngine
) -> None:
    http, _ = api
    message_id = f"ext-{uuid.uuid4().hex[:10]}"

    chat = await post(
        http, text="Where is my parcel? It was due on Monday.", channel="chat", message_id=message_id
    )
    voice = await post(
        http,
        text="I would like to know your opening hours on Sunday.",
        channel="voice",
        message_id=message_id,
    )
    retry = await post(
        http, text="Where is my parcel? It was due on Monday.", channel="chat", message_id=message_id
    )

    assert chat["case_id"] != voice["case_id"]
    assert retry["case_id"] == chat["case_id"]
    assert chat["case_id"] == case_id_for(message_id, channel="chat", tenant="pharmacy-a")
    # The tenant is part of the identity: another tenant's chat message with this id is another case.
    assert chat["case_id"] != case_id_for(message_id, channel="chat", tenant="pharmacy-b")
    async with pg_engine.connect() as connection:
        rows = (
            await connection.execute(
                text("SELECT case_id, channel FROM cases WHERE message_id = :m ORDER BY channel"),
                {"m": message_id},
            )
        ).all()
    assert [(row.case_id, row.channel) for row in rows] == [
        (chat["case_id"], "chat"),
        (voice["case_id"], "voice"),
    ]


# Where the SDK puts what workflow code passes around: these must all be encrypted. Headers (trace
# context), search attributes and local-activity marker metadata are not run through a codec by
# design and carry no message content; the raw-bytes search below covers them too.
CONTENT_FIELDS = {"input", "result", "args", "success", "last_completion_result", "encoded_attributes"}


def _payloads(message: Message, field_name: str = "") -> list[tuple[str, Payload]]:
    """Every Payload inside a protobuf message, with the name of the field that holds it."""
    found: list[tuple[str, Payload]] = []
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if isinstance(value, Message):
            values: list[Any] = [value]
        elif field.message_type.GetOptions().map_entry:
            values = list(value.values())
        else:
            values = list(value)
        for item in values:
            if isinstance(item, Payload):
                found.append((field.name if field.name != "payloads" else field_name, item))
            elif isinstance(item, Message):
                found += _payloads(item, field.name)
    return found


async def _wait_until_started(client: Client, workflow_id: str) -> None:
    for _ in range(300):
        try:
            await client.get_workflow_handle(workflow_id).describe()
            return
        except RPCError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"{workflow_id} never started")


async def _raw_history(client: Client, workflow_id: str) -> list[Any]:
    events: list[Any] = []
    token = b""
    while True:
        page = await client.workflow_service.get_workflow_execution_history(
            GetWorkflowExecutionHistoryRequest(
                namespace=client.namespace,
                execution={"workflow_id": workflow_id},
                next_page_token=token,
            )
        )
        events += page.history.events
        token = page.next_page_token
        if not token:
            return events


async def test_parent_and_child_histories_hold_no_message_text_in_clear(
    api: tuple[httpx.AsyncClient, Settings], dev_server_env: WorkflowEnvironment
) -> None:
    http, settings = api
    customer = f"CRM-{uuid.uuid4().hex[:6]}"
    case = await post(http, text=SERVICE_TEXT, channel="email", customer_id=customer)
    assert case["route"] == "service_action", case
    case_id = case["case_id"]
    client = dev_server_env.client
    child = child_workflow_id(case_id, "service_action")
    await _wait_until_started(client, child)
    children = [child]

    codec = build_codec(settings)
    decrypted = b""
    for workflow_id in [case["workflow_id"], *children]:
        events = await _raw_history(client, workflow_id)
        raw = b"".join(event.SerializeToString() for event in events)
        assert MARKER.encode() not in raw, workflow_id
        assert b"parcel never arrived" not in raw
        assert customer.encode() not in raw
        payloads = [p for event in events for name, p in _payloads(event) if name in CONTENT_FIELDS]
        assert payloads, workflow_id
        for payload in payloads:
            assert payload.metadata["encoding"] == ENCODING, (workflow_id, payload.metadata)
            assert payload.metadata[KEY_ID_METADATA] == codec.active_key_id.encode()
        decrypted += b"".join(p.data for p in await codec.decode(payloads))
    # Decrypted with the keyring, the text is there: the check above is not vacuous.
    assert MARKER.encode() in decrypted
