"""The API on a socket with a real Temporal dev server, real workers and real PostgreSQL.

- API keys: an admin creates one (shown once), a channel integration posts with it, the admin
  revokes it and the next post is refused; a key bound to a channel cannot post on another.
- Schemathesis (property-based) over /openapi.json with valid credentials: no 5xx, and every
  response matches its declared status, content type, headers and schema.

The classifier runs on the fake backend through the real interface: hundreds of generated
messages through the embedded model would take minutes and test nothing more about the API.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks as openapi_checks
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from core.config import Settings
from tests.auth_helpers import auth_settings, bearer
from tests.conftest import TEST_POLICY
from tests.integration.live_stack import serve_live_stack
from worker.main import load_pipeline

pytestmark = [pytest.mark.integration]

# Examples per operation and generation mode (9 operations x (positive + negative)): a few hundred.
POSITIVE_EXAMPLES = 25
NEGATIVE_EXAMPLES = 10
# Stateful phase: scenarios of up to 4 linked calls (post a message, then act on its case).
STATEFUL_SCENARIOS = 15


@dataclass
class LiveApi:
    base_url: str
    http: httpx.AsyncClient
    settings: Settings
    failures: list[str] = field(default_factory=list)


@pytest.fixture
async def live_api(dev_server_env: WorkflowEnvironment, pg_engine: AsyncEngine) -> AsyncIterator[LiveApi]:
    suffix = uuid.uuid4().hex[:8]
    app_settings = Settings(
        **auth_settings(
            workflow_task_queue=f"wf-{suffix}",
            llm_task_queue=f"llm-{suffix}",
            llm_backend="fake",
            policy_file=TEST_POLICY,
            rate_limit_enabled=False,
        )
    )
    pipeline = load_pipeline(app_settings)
    async with serve_live_stack(
        dev_server_env.client, app_settings, pg_engine, pipeline, with_api_keys=True
    ) as live:
        yield LiveApi(base_url=live.base_url, http=live.http, settings=app_settings)


MESSAGE = {"text": "Where is my order 4711? It has not arrived.", "channel": "chat"}


async def test_an_api_key_is_shown_once_posts_messages_and_stops_working_when_revoked(
    live_api: LiveApi,
) -> None:
    http, admin = live_api.http, bearer("admin-1", "admin")
    created = await http.post("/v1/admin/api-keys", json={"name": "chat gateway"}, headers=admin)
    assert created.status_code == 201, created.text
    secret, key_id = created.json()["api_key"], created.json()["record"]["key_id"]
    assert created.json()["record"]["created_by"] == "admin-1"

    listed = await http.get("/v1/admin/api-keys", headers=admin)
    assert key_id in [row["key_id"] for row in listed.json()]
    assert secret not in listed.text  # the key itself is never shown again

    posted = await http.post("/v1/messages", json=MESSAGE, headers={"X-API-Key": secret})
    assert posted.status_code == 200, posted.text
    assert posted.json()["category"] == "service_action"
    assert [set(step) for step in posted.json()["decision_path"]] == [
        {"step", "decision", "reason", "at"}
    ] * len(posted.json()["decision_path"])
    # The API key is an intake credential only.
    assert (await http.get("/v1/cases", headers={"X-API-Key": secret})).status_code == 401

    revoked = await http.delete(f"/v1/admin/api-keys/{key_id}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = await http.post("/v1/messages", json=MESSAGE, headers={"X-API-Key": secret})
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await http.delete("/v1/admin/api-keys/ffffffffffffffff", headers=admin)).status_code == 404
    # Only admins manage keys.
    forbidden = await http.post("/v1/admin/api-keys", json={"name": "x"}, headers=bearer("agent-1", "agent"))
    assert forbidden.status_code == 403


async def test_a_channel_bound_api_key_posts_only_on_its_channel(live_api: LiveApi) -> None:
    admin = bearer("admin-1", "admin")
    created = await live_api.http.post(
        "/v1/admin/api-keys", json={"name": "ivr", "channel": "voice"}, headers=admin
    )
    key = {"X-API-Key": created.json()["api_key"]}
    wrong = await live_api.http.post("/v1/messages", json=MESSAGE, headers=key)
    assert wrong.status_code == 403, wrong.text
    right = await live_api.http.post("/v1/messages", json={**MESSAGE, "channel": "voice"}, headers=key)
    assert right.status_code == 200, right.text


CHECKS = [
    not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]


def _fuzz(base_url: str, headers: dict[str, str]) -> tuple[int, list[str], list[str]]:
    """Run schemathesis over every operation: (calls made, failures, case ids of accepted messages)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    calls = 0
    failures: list[str] = []
    accepted: list[str] = []

    def run(operation: Any, mode: schemathesis.GenerationMode, examples: int) -> None:
        @settings(
            max_examples=examples,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: schemathesis.Case) -> None:
            nonlocal calls
            response = case.call(base_url=base_url, headers=headers, timeout=60)
            calls += 1
            if operation.label == "POST /v1/messages" and response.status_code in (200, 202):
                accepted.append(response.json()["case_id"])
            case.validate_response(response, checks=CHECKS)

        check()

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, examples in (
            (schemathesis.GenerationMode.POSITIVE, POSITIVE_EXAMPLES),
            (schemathesis.GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES),
        ):
            try:
                run(operation, mode, examples)
            except Unsatisfiable:
                continue  # no invalid input exists for an operation without parameters
            except Exception as failure:  # collect every operation's failure, then report
                failures.append(f"{operation.label} [{mode.value}]: {failure}"[:2000])
    return calls, failures, accepted


def _stateful(base_url: str, headers: dict[str, str]) -> list[tuple[str, int]]:
    """Schemathesis' stateful phase: chains of calls along the document's links (message -> case).

    Returns (operation, status) of every call made.
    """
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    # Valid input only: negative steps may drop the Authorization header (every call then 401 and
    # no link is ever followed); invalid input and missing credentials are the fuzz phase's job.
    schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE])
    made: list[tuple[str, int]] = []

    class AuthorizedCalls(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"base_url": base_url, "headers": headers, "timeout": 60}

        def after_call(self, response: Any, case: schemathesis.Case) -> None:
            made.append((case.operation.label, response.status_code))

        def validate_response(
            self, response: Any, case: schemathesis.Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(response, checks=CHECKS)

    AuthorizedCalls.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=4,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
    )
    return made


async def test_schemathesis_finds_no_server_error_and_no_response_outside_the_schema(
    live_api: LiveApi, pg_engine: AsyncEngine
) -> None:
    headers = bearer("fuzzer", "intake", "agent", "safety_reviewer", "supervisor", "admin")
    calls, failures, accepted = await asyncio.to_thread(_fuzz, live_api.base_url, headers)
    assert not failures, "\n\n".join(failures)
    chained = await asyncio.to_thread(_stateful, live_api.base_url, headers)
    # The links were followed: some action reached a case the same scenario had created.
    assert any(
        label.startswith(("GET /v1/cases/", "POST /v1/cases/")) and status != 404 for label, status in chained
    ), chained
    assert calls >= 100, calls
    # Whatever the generator sent, an accepted message ends in a durable case.
    assert accepted
    missing: set[str] = set(accepted)
    for _ in range(120):
        async with pg_engine.connect() as connection:
            rows = await connection.execute(text("SELECT case_id FROM cases"))
            missing -= {row[0] for row in rows}
        if not missing:
            break
        await asyncio.sleep(0.5)
    assert not missing, f"{len(missing)} accepted messages have no case row"
