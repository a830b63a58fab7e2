"""One trace per message: API server span -> update-with-start -> workflow -> activities.

The real app (httpx ASGITransport, the lifespan run), a Temporal dev server, the real workers
(`worker.main.build_workers`, the fake LLM behind the real classifier, the real case activities
over PostgreSQL), all wired by the production functions with tracing on (`CC_OTEL_ENDPOINT`).
Spans go to an in-memory exporter; structlog lines are captured where the production handler
writes them.

OpenTelemetry's global tracer provider can be set only once per process, so one provider with
the in-memory exporter is installed for the whole session and each test clears the exporter.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from classifier.backends.fake import FakeBackend
from classifier.pipeline import build_pipeline
from classifier.policy import load_thresholds
from classifier.prompt import PROMPTS
from classifier.service import Classifier
from core.config import Settings
from core.logging import configure_logging
from core.telemetry import configure_tracing
from core.temporal_client import connect
from tests.auth_helpers import auth_settings, bearer
from tests.conftest import TEST_POLICY
from tests.integration.live_stack import in_process_stack

pytestmark = [pytest.mark.integration]

# Never contacted: the in-memory exporter replaces the OTLP one. It is what turns tracing on.
OTEL_ENDPOINT = "http://127.0.0.1:4318"


@pytest.fixture(scope="session")
def span_exporter() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    installed = trace.get_tracer_provider()
    if isinstance(installed, TracerProvider):  # another test module installed one first
        installed.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        provider = configure_tracing(Settings(otel_endpoint=OTEL_ENDPOINT), "cc-test", exporter=exporter)
        assert provider is not None and trace.get_tracer_provider() is provider
    return exporter


@pytest.fixture
def spans(span_exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    span_exporter.clear()
    yield span_exporter
    span_exporter.clear()


@dataclass
class Traced:
    http: httpx.AsyncClient
    log: io.StringIO
    spans: InMemorySpanExporter


@pytest.fixture
async def traced(
    dev_server_env: WorkflowEnvironment, pg_engine: AsyncEngine, spans: InMemorySpanExporter
) -> AsyncIterator[Traced]:
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        temporal_address=dev_server_env.client.service_client.config.target_host,
        temporal_namespace=dev_server_env.client.namespace,
        workflow_task_queue=f"wf-trace-{suffix}",
        llm_task_queue=f"llm-trace-{suffix}",
        llm_backend="fake",
        policy_file=TEST_POLICY,
        otel_endpoint=OTEL_ENDPOINT,
        **auth_settings(),
    )
    log = io.StringIO()
    configure_logging("DEBUG", json_output=True, stream=log)
    # The production client: encryption codec and, with CC_OTEL_ENDPOINT, the tracing interceptor.
    client = await connect(settings)
    pipeline = build_pipeline(Classifier(FakeBackend(), PROMPTS["production"]), load_thresholds(TEST_POLICY))
    try:
        async with in_process_stack(client, settings, pg_engine, pipeline) as http:
            yield Traced(http, log, spans)
    finally:
        configure_logging()


def _of_workflow(span: ReadableSpan, workflow_id: str) -> bool:
    attributes = span.attributes or {}
    return str(attributes.get("temporalWorkflowID", "")).startswith(workflow_id)


async def _wait_for_span(spans: InMemorySpanExporter, name: str, workflow_id: str) -> None:
    deadline = asyncio.get_running_loop().time() + 30
    while not any(s.name == name and _of_workflow(s, workflow_id) for s in spans.get_finished_spans()):
        assert asyncio.get_running_loop().time() < deadline, f"no {name} span for {workflow_id}"
        await asyncio.sleep(0.2)


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    found = []
    parent = span.parent
    while parent is not None and parent.span_id in by_id:
        found.append(by_id[parent.span_id])
        parent = by_id[parent.span_id].parent
    return found


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def test_a_message_is_one_trace_from_the_http_span_to_the_activities(traced: Traced) -> None:
    reply = await traced.http.post(
        "/v1/messages",
        json={"text": "Please cancel my order 77123", "channel": "chat", "message_id": f"t-{uuid.uuid4()}"},
        headers=bearer("chat-gateway", "intake"),
    )
    assert reply.status_code == 200, reply.text
    case_id = reply.json()["case_id"]
    workflow_id = f"case-{case_id}"
    request_id = reply.headers["x-request-id"]
    await _wait_for_span(traced.spans, "RunActivity:record_case", workflow_id)

    finished = traced.spans.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}
    [server] = [s for s in finished if s.kind is SpanKind.SERVER and s.name == "POST /v1/messages"]
    trace_id = server.context.trace_id
    [start] = [s for s in finished if s.name == "StartUpdateWithStartWorkflow:MessageWorkflow"]
    assert server in _ancestors(start, by_id), "the HTTP server span is not an ancestor of the start"
    assert start.context.trace_id == trace_id

    names_in_trace = {s.name for s in finished if s.context.trace_id == trace_id}
    for expected in (
        "RunWorkflow:MessageWorkflow",
        "StartActivity:classify_message",
        "RunActivity:classify_message",
        "RunActivity:record_case",
    ):
        assert expected in names_in_trace, f"{expected} not in the request's trace: {sorted(names_in_trace)}"
    # Every span about this case (parent and child workflows, every activity) is in that trace.
    of_case = [s for s in finished if _of_workflow(s, workflow_id)]
    assert len(of_case) >= 4
    assert {s.context.trace_id for s in of_case} == {trace_id}
    run_activity = [s for s in of_case if s.name == "RunActivity:record_case"]
    assert all(_ancestors(s, by_id)[-1] is server for s in run_activity)

    lines = _json_lines(traced.log.getvalue())
    hex_trace = format(trace_id, "032x")
    request_lines = [line for line in lines if line.get("request_id") == request_id]
    assert any(line["event"] == "message_routed" for line in request_lines), request_lines
    assert all(line.get("trace_id") == hex_trace for line in request_lines), request_lines
    activity_lines = [line for line in lines if line.get("workflow_id") == workflow_id and "activity" in line]
    assert {line["event"] for line in activity_lines} >= {"message_classified", "case_recorded"}
    # The SDK logs "Starting activity" before the interceptors run, so before the activity span
    # exists: that line has the activity's ids (tests/integration/test_log_hygiene.py) but no trace.
    activity_lines = [line for line in activity_lines if line["event"] != "Starting activity"]
    wrong = [line for line in activity_lines if line.get("trace_id") != hex_trace]
    assert not wrong, json.dumps(wrong, indent=1)


async def test_two_messages_are_two_traces(traced: Traced) -> None:
    trace_ids = []
    for text in ("What is the dose for children?", "How do I store the syrup?"):
        reply = await traced.http.post(
            "/v1/messages",
            json={"text": text, "channel": "email", "message_id": f"t-{uuid.uuid4()}"},
            headers=bearer("email-gateway", "intake"),
        )
        assert reply.status_code == 200, reply.text
        workflow_id = f"case-{reply.json()['case_id']}"
        await _wait_for_span(traced.spans, "RunActivity:record_case", workflow_id)
        of_case = [s for s in traced.spans.get_finished_spans() if _of_workflow(s, workflow_id)]
        trace_ids.append({s.context.trace_id for s in of_case})
    assert all(len(ids) == 1 for ids in trace_ids), trace_ids
    assert trace_ids[0] != trace_ids[1]
