"""The live stack the API integration tests share: the real app on a socket plus real workers.

uvicorn serves `create_app` on a free port (the HTTP layer as clients see it: middleware,
problem+json, auth); the workflow and LLM workers of the same settings poll the dev server;
case activities write to the test's PostgreSQL schema.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp
from temporalio.client import Client

from adapters.db.api_keys import SqlApiKeyStore
from adapters.db.case_store import SqlCaseStore
from adapters.db.engine import session_factory
from adapters.safety_db_local import LocalSafetyDatabase
from adapters.ticketing_local import LocalTicketing
from api.main import create_app
from classifier.pipeline import ClassificationPipeline
from core.config import Settings
from eval.pii import CorpusRow
from tests.auth_helpers import bearer
from worker.main import build_case_activities, build_workers

# uvicorn exposes only a `started` flag; a loaded CI machine may need a while.
STARTUP_TIMEOUT_S = 60.0


@dataclass
class LiveStack:
    base_url: str
    http: httpx.AsyncClient
    settings: Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve_live_stack(
    client: Client,
    settings: Settings,
    engine: AsyncEngine,
    pipeline: ClassificationPipeline,
    *,
    headers: dict[str, str] | None = None,
    with_api_keys: bool = False,
) -> AsyncIterator[LiveStack]:
    """Serve until the block ends; `headers` are the HTTP client's defaults (e.g. a bearer)."""
    sessions = session_factory(engine)
    app = create_app(
        settings,
        client,
        case_store=SqlCaseStore(sessions),
        api_key_store=SqlApiKeyStore(sessions) if with_api_keys else None,
        ticketing=LocalTicketing(sessions),
        safety_database=LocalSafetyDatabase(sessions),
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    activities = build_case_activities(settings, engine).definitions()
    with ThreadPoolExecutor(max_workers=1) as executor:
        workers = build_workers(
            client, settings, pipeline=pipeline, activities=activities, llm_executor=executor
        )
        async with workers[0], workers[1]:
            serving = asyncio.create_task(server.serve())
            for _ in range(int(STARTUP_TIMEOUT_S / 0.05)):
                if server.started or serving.done():
                    break
                await asyncio.sleep(0.05)
            if serving.done():
                serving.result()  # the server's start-up error, if any
            assert server.started, f"uvicorn did not start within {STARTUP_TIMEOUT_S:.0f} s"
            base_url = f"http://127.0.0.1:{port}"
            try:
                async with httpx.AsyncClient(base_url=base_url, timeout=60, headers=headers) as http:
                    yield LiveStack(base_url=base_url, http=http, settings=settings)
            finally:
                server.should_exit = True
                await serving


@asynccontextmanager
async def in_process_stack(
    client: Client,
    settings: Settings,
    engine: AsyncEngine,
    pipeline: ClassificationPipeline,
    *,
    wrap_app: Callable[[ASGIApp], ASGIApp] | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """The app in this process (its lifespan runs; no socket) with real workers and case store.

    For tests that watch what the process emits (logs, spans, prompts): everything runs here.
    `wrap_app` puts an ASGI layer around the app (e.g. one that marks requests for the test).
    """
    sessions = session_factory(engine)
    app = create_app(
        settings,
        client,
        case_store=SqlCaseStore(sessions),
        ticketing=LocalTicketing(sessions),
        safety_database=LocalSafetyDatabase(sessions),
    )
    asgi: ASGIApp = wrap_app(app) if wrap_app is not None else app
    with ThreadPoolExecutor(max_workers=1) as executor:
        workers = build_workers(
            client,
            settings,
            pipeline=pipeline,
            activities=build_case_activities(settings, engine).definitions(),
            llm_executor=executor,
        )
        async with (
            workers[0],
            workers[1],
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=asgi), base_url="http://api.test", timeout=60
            ) as http,
        ):
            yield http


async def post_corpus_row(http: httpx.AsyncClient, row: CorpusRow, customer_id: str) -> httpx.Response:
    """POST one PII-corpus row as its channel's gateway would; asserts it was accepted."""
    reply = await http.post(
        "/v1/messages",
        json={
            "text": row.text,
            "channel": row.channel,
            "message_id": f"{row.id}-{uuid.uuid4().hex[:8]}",
            "customer_id": customer_id,
            "locale": row.language,
        },
        headers=bearer(f"{row.channel}-gateway", "intake"),
    )
    assert reply.status_code in (200, 202), reply.text
    return reply


async def wait_until_recorded(engine: AsyncEngine, case_ids: set[str], timeout: float = 120) -> None:
    """Until every case has its row in the case store (written after the API's answer)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with engine.connect() as connection:
            recorded = {row[0] for row in await connection.execute(text("SELECT case_id FROM cases"))}
        if case_ids <= recorded:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{len(case_ids - recorded)} cases not recorded"
        await asyncio.sleep(0.5)
