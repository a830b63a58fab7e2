"""End to end: real HTTP API (uvicorn on a socket), real Temporal dev server, real embedded model,
real PostgreSQL (fresh schema per test). Each category's case ends with the expected rows."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from classifier.pipeline import ClassificationPipeline
from classifier.policy import load_thresholds
from core.config import Settings
from core.models import GuardResult
from tests.auth_helpers import auth_settings, bearer
from tests.history_payloads import decoded_payload_texts
from tests.integration.live_stack import serve_live_stack

pytestmark = [pytest.mark.integration, pytest.mark.llm]


@dataclass
class Stack:
    http: httpx.AsyncClient
    engine: AsyncEngine
    env: WorkflowEnvironment

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            result = await conn.execute(text(sql), params)
            return [dict(row._mapping) for row in result]

    async def eventually(self, check: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await check():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not met in time")
            await asyncio.sleep(0.2)

    async def wait_for_status(self, case_id: str, status: str) -> None:
        async def reached() -> bool:
            return await self.case_status(case_id) == status

        await self.eventually(reached)

    async def case_status(self, case_id: str) -> str:
        rows = await self.rows("SELECT status FROM cases WHERE case_id = :c", c=case_id)
        return str(rows[0]["status"]) if rows else "missing"


async def _serve(
    env: WorkflowEnvironment, pipeline: ClassificationPipeline, engine: AsyncEngine, settings: Settings
) -> AsyncIterator[Stack]:
    # Default caller: an agent who may read cases; posting and decisions name their own.
    async with serve_live_stack(
        env.client, settings, engine, pipeline, headers=bearer("agent-reader", "agent")
    ) as live:
        yield Stack(http=live.http, engine=engine, env=env)


def _settings(**overrides: Any) -> Settings:
    suffix = uuid.uuid4().hex[:8]
    return Settings(
        workflow_task_queue=f"wf-{suffix}", llm_task_queue=f"llm-{suffix}", **auth_settings(**overrides)
    )


@pytest.fixture
async def stack(
    dev_server_env: WorkflowEnvironment, real_pipeline: ClassificationPipeline, pg_engine: AsyncEngine
) -> AsyncIterator[Stack]:
    async for running in _serve(dev_server_env, real_pipeline, pg_engine, _settings()):
        yield running


async def post(stack: Stack, text_: str, **extra: Any) -> dict[str, Any]:
    reply = await stack.http.post(
        "/v1/messages",
        json={"text": text_, "channel": "chat", **extra},
        headers=bearer("chat-gateway", "intake"),
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    assert set(body) >= {
        "case_id",
        "workflow_id",
        "category",
        "confidence",
        "decision_path",
        "next_step",
        "status",
    }
    assert 0.0 <= body["confidence"] <= 1.0
    return body


async def test_service_request_opens_a_ticket_that_an_agent_resolves(stack: Stack) -> None:
    message_id = f"it-{uuid.uuid4()}"
    body = {"message_id": message_id}
    case = await post(stack, "Please cancel order 88231, my email is jane.doe@example.com", **body)
    assert case["category"] == "service_action"
    assert [s["step"] for s in case["decision_path"]] == [
        "intake",
        "llm_classification",
        "safety_guard",
        "acceptance_policy",
    ]
    # The intake caller gets no internals; the agent's view of the case has the full path.
    assert all("observed" not in step for step in case["decision_path"])
    full = (await stack.http.get(f"/v1/cases/{case['case_id']}")).json()["decision_path"]
    assert full[0]["observed"]["redactions"] == {"EMAIL": 1}
    case_id = case["case_id"]

    again = await post(stack, "Please cancel order 88231, my email is jane.doe@example.com", **body)
    assert (again["case_id"], again["workflow_id"]) == (case_id, case["workflow_id"])

    async def ticket_open() -> bool:
        return bool(await stack.rows("SELECT 1 FROM tickets WHERE case_id = :c", c=case_id))

    await stack.eventually(ticket_open)
    ticket = (await stack.rows("SELECT * FROM tickets WHERE case_id = :c", c=case_id))[0]
    assert "88231" in json.dumps(ticket["order_numbers"])
    assert ticket["kind"] == "cancel_order"

    for action in ("pick_up", "resolve"):
        reply = await stack.http.post(
            f"/v1/cases/{case_id}/ticket",
            json={"action": action, "note": "done"},
            headers=bearer("agent-7", "agent"),
        )
        assert reply.status_code == 202, reply.text

    await stack.wait_for_status(case_id, "closed")
    assert (await stack.rows("SELECT status FROM tickets WHERE case_id = :c", c=case_id))[0][
        "status"
    ] == "resolved"
    assert await stack.rows(
        "SELECT 1 FROM notifications WHERE case_id = :c AND audience = 'customer'", c=case_id
    )
    stored = await stack.rows("SELECT redacted_text FROM cases WHERE case_id = :c", c=case_id)
    assert "jane.doe" not in stored[0]["redacted_text"]
    view = (await stack.http.get(f"/v1/cases/{case_id}")).json()
    assert view["status"] == "closed"
    assert len(view["timeline"]) >= 4
    # The case view carries the ticket from the ticketing system of record.
    assert view["ticket"]["status"] == "resolved" and view["ticket"]["assignee"] == "agent-7"
    assert view["adverse_event_report"] is None
    # The stored message: redacted, for the people who work cases; not for operators.
    message = await stack.http.get(f"/v1/cases/{case_id}/message", headers=bearer("agent-7", "agent"))
    assert message.status_code == 200, message.text
    assert "88231" in message.json()["redacted_text"] and "jane.doe" not in message.json()["redacted_text"]
    refused = await stack.http.get(f"/v1/cases/{case_id}/message", headers=bearer("ops", "admin"))
    assert refused.status_code == 403


async def test_general_question_is_answered_from_the_knowledge_base(stack: Stack) -> None:
    case = await post(stack, "Which payment methods do you accept? Can I pay with PayPal?")
    assert case["category"] == "informational"
    case_id = case["case_id"]

    await stack.wait_for_status(case_id, "closed")
    audit = await stack.rows(
        "SELECT step, observed FROM audit_events WHERE case_id = :c ORDER BY id", c=case_id
    )
    kb_steps = [row for row in audit if "kb-payment-methods" in json.dumps(row["observed"])]
    assert kb_steps, [row["step"] for row in audit]
    assert await stack.rows(
        "SELECT 1 FROM notifications WHERE case_id = :c AND template = 'kb_answer'", c=case_id
    )


async def test_safety_report_waits_for_a_reviewer_and_is_submitted_on_confirmation(stack: Stack) -> None:
    case = await post(stack, "My daughter swallowed several of my blood pressure tablets an hour ago.")
    assert case["category"] == "safety_compliance"
    case_id = case["case_id"]

    async def report_open() -> bool:
        return bool(await stack.rows("SELECT 1 FROM adverse_event_reports WHERE case_id = :c", c=case_id))

    await stack.eventually(report_open)
    report = (await stack.rows("SELECT * FROM adverse_event_reports WHERE case_id = :c", c=case_id))[0]
    assert report["serious"] is True
    queue = (await stack.http.get("/v1/cases", params={"status": "awaiting_safety_review"})).json()
    assert case_id in [item["case_id"] for item in queue["items"]]

    decision = {"decision": "confirm", "reason": "child exposure", "review_round": 1}
    reviewer = bearer("pv-officer-1", "safety_reviewer")
    forged = await stack.http.post(
        f"/v1/cases/{case_id}/decision", json={**decision, "reviewer": "someone-else"}, headers=reviewer
    )
    assert forged.status_code == 422, forged.text
    reply = await stack.http.post(f"/v1/cases/{case_id}/decision", json=decision, headers=reviewer)
    assert reply.status_code == 200, reply.text
    # The audit trail names the token's subject, the only identity the API accepts.
    actors = await stack.rows("SELECT actor FROM audit_events WHERE case_id = :c", c=case_id)
    assert "reviewer:pv-officer-1" in {row["actor"] for row in actors}
    duplicate = await stack.http.post(f"/v1/cases/{case_id}/decision", json=decision, headers=reviewer)
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"].startswith("application/problem+json")

    async def submitted() -> bool:
        return bool(await stack.rows("SELECT 1 FROM safety_submissions WHERE case_id = :c", c=case_id))

    await stack.eventually(submitted)
    assert len(await stack.rows("SELECT 1 FROM safety_submissions WHERE case_id = :c", c=case_id)) == 1
    view = (await stack.http.get(f"/v1/cases/{case_id}")).json()
    assert view["adverse_event_report"]["serious"] is True
    assert view["adverse_event_report"]["reviewer"] == "pv-officer-1"
    assert view["ticket"] is None


async def test_uncertain_message_waits_in_triage_until_an_agent_picks_the_category(
    dev_server_env: WorkflowEnvironment,
    real_pipeline: ClassificationPipeline,
    pg_engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    # A policy that accepts nothing automatically: every message must go through triage.
    strict = tmp_path / "policy.json"
    strict.write_text(
        json.dumps(
            {
                "version": "accept-nothing",
                "min_gap": 1.0,
                "safety_floor": 1.0,
                "safety_accept": 1.0,
                "min_probability": {"informational": 1.0, "service_action": 1.0, "safety_compliance": 1.0},
            }
        )
    )
    pipeline = ClassificationPipeline(
        real_pipeline.classifier,
        lambda _: GuardResult(raise_to_safety=False),
        "no-guard",
        load_thresholds(strict),
    )
    async for stack in _serve(dev_server_env, pipeline, pg_engine, _settings()):
        case = await post(stack, "Do you deliver to Ireland?")
        case_id = case["case_id"]
        assert case["decision_path"][-1]["decision"] == "human_triage"

        await stack.wait_for_status(case_id, "awaiting_triage")
        reply = await stack.http.post(
            f"/v1/cases/{case_id}/triage",
            json={"category": "informational", "reason": "shipping question"},
            headers=bearer("agent-2", "agent"),
        )
        assert reply.status_code == 200, reply.text

        await stack.wait_for_status(case_id, "closed")


async def test_unknown_cases_are_404_and_readiness_reports_every_dependency(stack: Stack) -> None:
    missing = await stack.http.get(f"/v1/cases/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    ready = await stack.http.get("/readyz")
    assert ready.status_code == 200, ready.text
    # Ready = can accept durably (Temporal answers); the pools are reported, never required.
    assert ready.json()["checks"] == {"temporal": True}
    pools = ready.json()["pools"]
    assert pools["workflow_worker"] is True
    assert pools["llm_worker_model_loaded"] is True
    assert pools["llm_backlog"]["tasks"] >= 0


async def test_the_workflow_history_never_contains_the_raw_personal_data(stack: Stack) -> None:
    case = await post(stack, "I am Jane Roe, call me on +44 20 7946 0958 about my refund for order 55120")
    history = await stack.env.client.get_workflow_handle(case["workflow_id"]).fetch_history()
    # Payloads are encrypted in the history: decrypt every one of them with the client's codec.
    raw = history.to_json()
    payloads = await decoded_payload_texts(stack.env.client, history)
    everything = raw + "\n".join(payloads)
    assert "[PHONE]" in everything and "[NAME]" in everything
    assert "7946" not in everything and "Jane Roe" not in everything
