"""Through the real HTTP API (uvicorn on a socket), the real Temporal dev server and the real model."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from classifier.pipeline import ClassificationPipeline
from core.config import Settings
from worker.main import build_workers

pytestmark = [pytest.mark.integration, pytest.mark.llm]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def api_url(
    dev_server_env: WorkflowEnvironment, real_pipeline: ClassificationPipeline
) -> AsyncIterator[str]:
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(workflow_task_queue=f"wf-{suffix}", llm_task_queue=f"llm-{suffix}")
    client = dev_server_env.client
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, client), host="127.0.0.1", port=port, log_config=None)
    )
    with ThreadPoolExecutor(max_workers=1) as executor:
        workers = build_workers(client, settings, pipeline=real_pipeline, llm_executor=executor)
        async with workers[0], workers[1]:
            serve = asyncio.create_task(server.serve())
            while not server.started:
                await asyncio.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
            server.should_exit = True
            await serve


async def test_post_message_returns_the_routing_decision_and_the_case_is_readable(api_url: str) -> None:
    message_id = f"it-{uuid.uuid4()}"
    body = {
        "text": "Please cancel order 88231, my email is jane.doe@example.com",
        "channel": "chat",
        "message_id": message_id,
    }
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        first = await http.post("/v1/messages", json=body)
        assert first.status_code == 200, first.text
        decision = first.json()
        assert set(decision) >= {
            "case_id", "workflow_id", "category", "confidence", "decision_path", "next_step", "status",
        }
        assert decision["category"] == "service_action"
        assert 0.0 <= decision["confidence"] <= 1.0
        steps = [step["step"] for step in decision["decision_path"]]
        assert steps == ["intake", "llm_classification", "safety_guard", "acceptance_policy"]
        assert decision["decision_path"][0]["observed"]["redactions"] == {"EMAIL": 1}

        again = await http.post("/v1/messages", json=body)
        assert again.status_code == 200
        assert again.json()["case_id"] == decision["case_id"]
        assert again.json()["workflow_id"] == decision["workflow_id"]

        case = await http.get(f"/v1/cases/{decision['case_id']}")
        assert case.status_code == 200
        assert case.json()["category"] == "service_action"

        missing = await http.get(f"/v1/cases/{uuid.uuid4()}")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")

        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {
            "temporal": True, "workflow_worker": True, "llm_worker_model_loaded": True,
        }


async def test_the_workflow_history_never_contains_the_raw_personal_data(
    api_url: str, dev_server_env: WorkflowEnvironment
) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        reply = await http.post(
            "/v1/messages",
            json={"text": "I am Jane Roe, call me on +44 20 7946 0958 about my refund", "channel": "voice"},
        )
    assert reply.status_code == 200, reply.text
    history = await dev_server_env.client.get_workflow_handle(reply.json()["workflow_id"]).fetch_history()
    raw = history.to_json()
    assert "7946" not in raw
    assert "[PHONE]" in raw
