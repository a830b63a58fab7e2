"""Log hygiene at DEBUG: no personal data and no message text in any line, ids on every line.

Complements tests/integration/test_pii_leaks.py (every sink, production INFO level, the seeded
values the redactor is measured to catch). Here only the logs, but stricter: everything written
to the process's stdout and stderr (file-descriptor capture, so stdlib, structlog, the Temporal
SDK and anything else that writes there) at DEBUG, while PII-corpus messages go through the real
API, a Temporal dev server, the real workers and the real case activities over PostgreSQL. Logs
must hold no text at all, so every seeded value counts (also those the redactor misses), and
neither the raw nor the redacted message text may appear.

Which lines were emitted inside an HTTP request or an activity is known independently of the ids
on them: a marker contextvar set by an ASGI wrapper around the app and by an outermost activity
interceptor, read when the production handler formats each line.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio import client as temporal_client
from temporalio import worker as temporal_worker
from temporalio.testing import WorkflowEnvironment

from classifier.backends.fake import FakeBackend
from classifier.pipeline import build_pipeline
from classifier.policy import load_thresholds
from classifier.prompt import PROMPTS
from classifier.service import Classifier
from core.config import Settings
from core.logging import configure_logging
from core.redaction import redact
from eval.pii import CorpusRow, load_corpus
from tests.auth_helpers import auth_settings, bearer
from tests.conftest import TEST_POLICY
from tests.integration.live_stack import in_process_stack, post_corpus_row, wait_until_recorded
from tests.integration.test_pii_leaks import Secret

pytestmark = [pytest.mark.integration]

CORPUS = Path(__file__).resolve().parents[2] / "eval" / "data" / "pii-corpus.jsonl"
ROWS_PER_TYPE = 3
# Shorter values ("Tom", "Ana") also match by chance inside the SDK's escaped binary dumps.
MIN_SECRET_LENGTH = 5
WINDOW_WORDS = 5

_scope: contextvars.ContextVar[str | None] = contextvars.ContextVar("log_test_scope", default=None)


class RequestScope:
    """Outermost ASGI layer: everything the app does for this request is in scope "request"."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _scope.set("request")
        try:
            await self.app(scope, receive, send)
        finally:
            _scope.reset(token)


class _ActivityScope(temporal_worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: temporal_worker.ExecuteActivityInput) -> Any:
        token = _scope.set("activity")
        try:
            return await self.next.execute_activity(input)
        finally:
            _scope.reset(token)


class ActivityScope(temporal_client.Interceptor, temporal_worker.Interceptor):
    """On the client, so that workers built from it put it outside their own interceptors."""

    def intercept_activity(
        self, next: temporal_worker.ActivityInboundInterceptor
    ) -> temporal_worker.ActivityInboundInterceptor:
        return _ActivityScope(next)


@dataclass
class Emitted:
    """Every formatted line the production handler wrote, with the scope it was written in."""

    lines: list[tuple[str | None, str]] = field(default_factory=list)


def record_scopes(emitted: Emitted) -> None:
    [handler] = logging.getLogger().handlers
    format_line = handler.format

    def format_and_record(record: logging.LogRecord) -> str:
        line = format_line(record)
        emitted.lines.append((_scope.get(), line))
        return line

    handler.format = format_and_record  # type: ignore[method-assign]


def fd2_stream() -> TextIO:
    """File descriptor 2 as a text stream, left open when the stream is dropped."""
    return open(2, "w", encoding="utf-8", closefd=False)


@dataclass
class Stack:
    http: httpx.AsyncClient
    engine: AsyncEngine
    emitted: Emitted
    capfd: pytest.CaptureFixture[str]


@pytest.fixture
async def stack(
    dev_server_env: WorkflowEnvironment, pg_engine: AsyncEngine, capfd: pytest.CaptureFixture[str]
) -> AsyncIterator[Stack]:
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        workflow_task_queue=f"wf-logs-{suffix}",
        llm_task_queue=f"llm-logs-{suffix}",
        llm_backend="fake",
        policy_file=TEST_POLICY,
        log_level="DEBUG",
        **auth_settings(pseudonym_key=f"log-test-key-{suffix}"),
    )
    # What `python -m api.main` / `python -m worker.main` do, writing to file descriptor 2 (what
    # sys.stderr is in a process; pytest swaps the sys.stderr object between test phases), which
    # capfd has redirected along with descriptor 1.
    configure_logging(settings.log_level, settings.log_json, stream=fd2_stream())
    emitted = Emitted()
    record_scopes(emitted)
    config = dev_server_env.client.config()
    config["interceptors"] = [ActivityScope()]
    client = temporal_client.Client(**config)
    pipeline = build_pipeline(Classifier(FakeBackend(), PROMPTS["production"]), load_thresholds(TEST_POLICY))
    try:
        async with in_process_stack(client, settings, pg_engine, pipeline, wrap_app=RequestScope) as http:
            yield Stack(http, pg_engine, emitted, capfd)
    finally:
        configure_logging()


def sample_rows() -> list[CorpusRow]:
    """The first rows carrying each kind of personal data (names, emails, phones, cards, ...)."""
    rows = load_corpus(CORPUS)
    chosen: dict[str, CorpusRow] = {}
    for kind in sorted({seeded.type for row in rows for seeded in row.pii}):
        for row in [r for r in rows if any(s.type == kind for s in r.pii)][:ROWS_PER_TYPE]:
            chosen[row.id] = row
    return list(chosen.values())


def text_windows(message: str) -> set[str]:
    """Every run of WINDOW_WORDS consecutive words (whole short messages too)."""
    words = message.split()
    if len(words) <= WINDOW_WORDS:
        return {" ".join(words)} if len(" ".join(words)) >= 12 else set()
    return {" ".join(words[i : i + WINDOW_WORDS]) for i in range(len(words) - WINDOW_WORDS + 1)}


async def post(stack: Stack, row: CorpusRow, customer_id: str) -> tuple[str, str]:
    reply = await post_corpus_row(stack.http, row, customer_id)
    return reply.json()["case_id"], reply.headers["x-request-id"]


def parsed(lines: list[tuple[str | None, str]]) -> Iterator[tuple[str | None, dict[str, Any]]]:
    for scope, line in lines:
        yield scope, json.loads(line)


async def test_debug_logs_hold_no_personal_data_nor_message_text_and_carry_ids(stack: Stack) -> None:
    rows = sample_rows()
    kinds = {seeded.type for row in rows for seeded in row.pii}
    assert {"NAME", "EMAIL", "PHONE", "CARD", "ADDRESS", "IBAN"} <= kinds
    customer_ids = {row.id: f"CRM-{row.id}-{uuid.uuid4().hex[:6]}" for row in rows}

    posted = [await post(stack, row, customer_ids[row.id]) for row in rows]
    case_ids = {case_id for case_id, _ in posted}
    await wait_until_recorded(stack.engine, case_ids)
    await asyncio.sleep(1)  # the category workflows' first activities (tickets, answers) run too

    out, err = stack.capfd.readouterr()
    captured = out + err
    # The capture is real and is what the handler wrote: every formatted line reached stderr.
    assert len(stack.emitted.lines) > 20 * len(rows)
    lost = [line for _, line in stack.emitted.lines if line not in err]
    assert not lost, (len(lost), len(stack.emitted.lines), lost[:3], err[:2000])
    assert any(entry.get("level") == "debug" for _, entry in parsed(stack.emitted.lines))

    secrets = [
        Secret(row.id, seeded.type, seeded.value)
        for row in rows
        for seeded in row.pii
        if len(seeded.value) >= MIN_SECRET_LENGTH
    ]
    secrets += [Secret(row_id, "CUSTOMER_ID", value) for row_id, value in customer_ids.items()]
    assert len(secrets) >= 40
    leaks = [f"{s.row_id} {s.kind} {s.value!r}" for s in secrets if s.occurs_in(captured)]
    assert not leaks, f"{len(leaks)} seeded values in the logs: {leaks}"

    fragments = {w for row in rows for w in text_windows(row.text) | text_windows(redact(row.text).text)}
    assert len(fragments) > 5 * len(rows)
    found = sorted(w for w in fragments if w in captured)
    assert not found, f"message text in the logs: {found[:10]}"

    # Ids: request lines carry request_id; activity lines the case, workflow, run and attempt.
    request_ids = {request_id for _, request_id in posted}
    in_request = [entry for scope, entry in parsed(stack.emitted.lines) if scope == "request"]
    in_activity = [
        entry
        for scope, entry in parsed(stack.emitted.lines)
        if scope == "activity" or entry.get("logger") == "temporalio.activity"
    ]
    assert {entry.get("request_id") for entry in in_request} == request_ids
    assert {"message_routed"} <= {entry["event"] for entry in in_request}
    missing = [entry for entry in in_request if not entry.get("request_id")]
    assert not missing, json.dumps(missing[:5], indent=1)

    activity_ids = ("case_id", "workflow_id", "run_id", "attempt")
    assert {"message_classified", "case_recorded", "Starting activity"} <= {e["event"] for e in in_activity}
    missing = [entry for entry in in_activity if any(entry.get(key) in (None, "") for key in activity_ids)]
    assert not missing, json.dumps(missing[:5], indent=1)
    for entry in in_activity:
        assert entry["workflow_id"].startswith(f"case-{entry['case_id']}")
        assert re.fullmatch(r"[0-9a-f-]{36}", entry["run_id"]), entry
    assert {entry["case_id"] for entry in in_activity} >= case_ids

    workflow_lines = [
        entry for _, entry in parsed(stack.emitted.lines) if entry.get("logger") == "temporalio.workflow"
    ]
    assert all(entry.get("workflow_id") and entry.get("run_id") for entry in workflow_lines), workflow_lines


ACCEPTED = "cc_messages_accepted_total"


def accepted_total() -> float:
    return sum(
        sample.value
        for family in REGISTRY.collect()
        if family.name == ACCEPTED.removesuffix("_total")
        for sample in family.samples
        if sample.name == ACCEPTED
    )


async def test_a_retried_post_is_one_accepted_message(stack: Stack) -> None:
    """A caller retrying the same message id attaches to the running case: counted once."""
    message = {
        "text": "How should I store the syrup once opened?",
        "channel": "chat",
        "message_id": f"r-{uuid.uuid4()}",
    }
    before = accepted_total()
    first = await stack.http.post("/v1/messages", json=message, headers=bearer("chat-gateway", "intake"))
    assert first.status_code == 200, first.text
    case_id = first.json()["case_id"]
    await wait_until_recorded(stack.engine, {case_id})
    again = await stack.http.post("/v1/messages", json=message, headers=bearer("chat-gateway", "intake"))
    assert again.status_code == 200, again.text
    assert again.json()["case_id"] == case_id
    await asyncio.sleep(1)
    labels = {"channel": "chat", "category": "informational", "route": "informational", "answer": "200"}
    assert accepted_total() - before == 1
    assert REGISTRY.get_sample_value(ACCEPTED, labels) is not None
