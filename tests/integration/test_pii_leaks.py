"""No seeded personal data leaks: the PII corpus end to end through the real API, a real Temporal
dev server and PostgreSQL, then every place the data could land is searched for the seeded values.

Sinks: every workflow history of the test's task queue (parents and children; payloads decoded
through the client's data converter, so the check still holds with payload encryption), every
row of every table of the test schema, the captured log lines, `/metrics`, and every prompt the
LLM backend received (a recorder around the instant fake backend, through the same interface).

The redactor's measured recall is below 1 on purpose-hard rows, so the leak assertion covers the
seeded values the measurement says are caught (`eval.pii`), and the measured recall has floors
of its own in tests/unit/test_pii_corpus.py. Raw customer ids must never appear either: the API
pseudonymises them before the workflow starts. Agent notes are redacted like messages.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from classifier.backends.base import LLMBackend, LLMRequest, LLMResponse
from classifier.backends.fake import FakeBackend
from classifier.pipeline import build_pipeline
from classifier.policy import load_thresholds
from classifier.prompt import PROMPTS
from classifier.service import Classifier
from core.config import Settings
from core.logging import configure_logging
from core.redaction import redact
from eval.pii import CorpusRow, load_corpus, surviving_parts
from tests.auth_helpers import auth_settings, bearer
from tests.conftest import TEST_POLICY
from tests.history_payloads import payloads_in
from tests.integration.live_stack import in_process_stack, post_corpus_row, wait_until_recorded

pytestmark = [pytest.mark.integration]

CORPUS = Path(__file__).resolve().parents[2] / "eval" / "data" / "pii-corpus.jsonl"
CONCURRENT_POSTS = 8


class RecordingBackend:
    """The LLM port with a memory: every prompt it was sent, then the wrapped backend answers."""

    def __init__(self, inner: LLMBackend) -> None:
        self._inner = inner
        self.name = inner.name
        self.model = inner.model
        self.prompts: list[str] = []

    def complete(self, request: LLMRequest) -> LLMResponse:
        self.prompts.extend(message["content"] for message in request.messages)
        return self._inner.complete(request)


@dataclass(frozen=True)
class Secret:
    row_id: str
    kind: str
    value: str

    def needles(self) -> list[str]:
        """The value as written, and for numbers also without separators ("612 345 678")."""
        found = [self.value]
        digits = re.sub(r"[\s./-]", "", self.value)
        if digits != self.value and sum(c.isdigit() for c in digits) >= 6:
            found.append(digits)
        return found

    def occurs_in(self, haystack: str) -> bool:
        """A whole-word, same-case occurrence (values are copied verbatim when they leak)."""
        for needle in self.needles():
            start = haystack.find(needle)
            while start != -1:
                end = start + len(needle)
                before = haystack[start - 1] if start else " "
                after = haystack[end] if end < len(haystack) else " "
                if not before.isalnum() and not after.isalnum():
                    return True
                start = haystack.find(needle, start + 1)
        return False


@dataclass
class Sinks:
    """Everything the system wrote, as text, by where it was found."""

    texts: dict[str, list[str]] = field(default_factory=dict)

    def add(self, sink: str, value: str) -> None:
        self.texts.setdefault(sink, []).append(value)

    def leaks(self, secrets: Iterable[Secret]) -> list[str]:
        haystacks = {sink: "\n".join(values) for sink, values in self.texts.items()}
        return [
            f"{secret.row_id} {secret.kind} {secret.value!r} in {sink}"
            for secret in secrets
            for sink, haystack in haystacks.items()
            if secret.occurs_in(haystack)
        ]


def caught_secrets(rows: list[CorpusRow]) -> tuple[list[Secret], int]:
    """Seeded values the redactor is measured to catch, minus values that also occur as ordinary
    text elsewhere in the corpus (e.g. the name "Ben" and the product "Ben-u-ron")."""
    ordinary: list[str] = []
    for row in rows:
        pieces, cursor = [], 0
        for seeded in sorted(row.pii, key=lambda s: s.start):
            pieces.append(row.text[cursor : seeded.start])
            cursor = seeded.end
        ordinary.append(" ".join([*pieces, row.text[cursor:]]))
    ordinary_text = "\n".join(ordinary)
    secrets, missed = [], 0
    for row in rows:
        redacted = redact(row.text).text
        for seeded in row.pii:
            if surviving_parts(row, seeded, redacted):
                missed += 1
                continue
            secret = Secret(row.id, seeded.type, seeded.value)
            if not secret.occurs_in(ordinary_text):
                secrets.append(secret)
    return secrets, missed


def without_payload_data(history_json: str) -> str:
    """The raw history with every payload's `data` (base64) left out: those are checked decoded
    under "history:payload", and a short name can match by chance inside base64 ciphertext
    (it did: "/Max+"). What stays is everything Temporal stores outside payloads, in clear."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            is_payload = "metadata" in node and "data" in node
            return {
                k: ("<payload data>" if is_payload and k == "data" else strip(v)) for k, v in node.items()
            }
        if isinstance(node, list):
            return [strip(item) for item in node]
        return node

    return json.dumps(strip(json.loads(history_json)))


async def collect_histories(client: Client, task_queue: str, sinks: Sinks) -> set[str]:
    """Decoded payloads and the raw event JSON of every workflow on the test's task queue."""
    workflow_ids: set[str] = set()
    codec = client.data_converter.payload_codec
    async for execution in client.list_workflows(f'TaskQueue = "{task_queue}"'):
        workflow_ids.add(execution.id)
        history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        sinks.add("history:raw-json", without_payload_data(history.to_json()))
        payloads = [payload for event in history.events for payload in payloads_in(event)]
        decoded = await codec.decode(payloads) if codec is not None and payloads else payloads
        for payload in decoded:
            sinks.add("history:payload", payload.data.decode("utf-8", errors="replace"))
            sinks.add(
                "history:payload",
                json.dumps({k: v.decode("utf-8", "replace") for k, v in payload.metadata.items()}),
            )
    return workflow_ids


async def dump_tables(engine: AsyncEngine, sinks: Sinks) -> list[str]:
    async with engine.connect() as connection:
        tables = [
            row[0]
            for row in await connection.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
            )
        ]
        for table in tables:
            for row in await connection.execute(text(f'SELECT * FROM "{table}"')):
                sinks.add(f"db:{table}", json.dumps([str(value) for value in row], ensure_ascii=False))
    return tables


@dataclass
class Harness:
    http: httpx.AsyncClient
    client: Client
    settings: Settings
    engine: AsyncEngine
    backend: RecordingBackend
    log: io.StringIO


@pytest.fixture
async def harness(dev_server_env: WorkflowEnvironment, pg_engine: AsyncEngine) -> AsyncIterator[Harness]:
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        workflow_task_queue=f"wf-pii-{suffix}",
        llm_task_queue=f"llm-pii-{suffix}",
        llm_backend="fake",
        policy_file=TEST_POLICY,
        **auth_settings(pseudonym_key=f"leak-test-key-{suffix}"),
    )
    log = io.StringIO()
    # The production level and format: what operators would keep.
    configure_logging("INFO", json_output=True, stream=log)
    backend = RecordingBackend(FakeBackend())
    pipeline = build_pipeline(Classifier(backend, PROMPTS["production"]), load_thresholds(TEST_POLICY))
    client = dev_server_env.client
    try:
        async with in_process_stack(client, settings, pg_engine, pipeline) as http:
            yield Harness(http, client, settings, pg_engine, backend, log)
    finally:
        configure_logging()


async def _post(harness: Harness, row: CorpusRow, customer_id: str) -> str:
    case_id: str = (await post_corpus_row(harness.http, row, customer_id)).json()["case_id"]
    return case_id


async def _add_agent_note(harness: Harness, note: str) -> str:
    """A service case with a ticket, and an agent note full of personal data on it."""
    reply = await harness.http.post(
        "/v1/messages",
        json={
            "text": "Please cancel order 55512, thanks",
            "channel": "chat",
            "message_id": f"note-{uuid.uuid4()}",
        },
        headers=bearer("chat-gateway", "intake"),
    )
    assert reply.status_code == 200, reply.text
    case_id: str = reply.json()["case_id"]
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        update = await harness.http.post(
            f"/v1/cases/{case_id}/ticket",
            json={"action": "comment", "note": note},
            headers=bearer("agent-7", "agent"),
        )
        if update.status_code == 202:
            return case_id
        assert update.status_code in (404, 409), update.text
        assert asyncio.get_running_loop().time() < deadline, update.text
        await asyncio.sleep(0.5)


async def test_no_seeded_personal_data_reaches_history_database_logs_metrics_or_prompts(
    harness: Harness,
) -> None:
    rows = load_corpus(CORPUS)
    secrets, missed = caught_secrets(rows)
    customer_ids = {row.id: f"CRM-{row.id}-{uuid.uuid4().hex[:6]}" for row in rows}

    limit = asyncio.Semaphore(CONCURRENT_POSTS)

    async def post(row: CorpusRow) -> str:
        async with limit:
            return await _post(harness, row, customer_ids[row.id])

    case_ids = set(await asyncio.gather(*(post(row) for row in rows)))
    note_name, note_phone = "Agnieszka Wróblewska", "+48 601 987 654"
    note_case = await _add_agent_note(harness, f"Called {note_name} back on {note_phone}, she confirmed.")
    await wait_until_recorded(harness.engine, case_ids | {note_case})

    sinks = Sinks()
    workflow_ids: set[str] = set()
    deadline = asyncio.get_running_loop().time() + 60
    while not {f"case-{case_id}" for case_id in case_ids} <= workflow_ids:  # visibility is eventual
        assert asyncio.get_running_loop().time() < deadline, "workflows missing from visibility"
        sinks = Sinks()
        workflow_ids = await collect_histories(harness.client, harness.settings.workflow_task_queue, sinks)
        await asyncio.sleep(0.5)
    tables = await dump_tables(harness.engine, sinks)
    metrics = await harness.http.get("/metrics", follow_redirects=True)
    assert metrics.status_code == 200
    sinks.add("metrics", metrics.text)
    sinks.add("logs", harness.log.getvalue())
    sinks.add("llm-prompts", "\n".join(harness.backend.prompts))

    # The sinks hold what they should, so that an empty search cannot pass the test.
    children = workflow_ids - {f"case-{case_id}" for case_id in case_ids | {note_case}}
    assert children, "no child workflow was started"
    assert "cases" in tables and len(tables) >= 3, tables
    assert len(harness.backend.prompts) >= len(rows)
    assert "[NAME]" in "\n".join(sinks.texts["llm-prompts"])
    assert "[NAME]" in "\n".join(sinks.texts["history:payload"])
    assert sinks.texts["logs"][0].count("\n") > len(rows)
    assert len(secrets) >= 200, f"only {len(secrets)} seeded values to look for ({missed} missed by design)"

    raw_ids = [Secret(row_id, "CUSTOMER_ID", value) for row_id, value in customer_ids.items()]
    note_secrets = [Secret("agent-note", "NAME", note_name), Secret("agent-note", "PHONE", note_phone)]
    leaks = sinks.leaks([*secrets, *raw_ids, *note_secrets])
    assert not leaks, f"{len(leaks)} leaks:\n" + "\n".join(leaks[:40])
