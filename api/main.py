"""FastAPI application: `uvicorn api.main:app` (or `python -m api.main`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import make_asgi_app
from temporalio.client import Client

from adapters.db.api_keys import SqlApiKeyStore
from adapters.db.case_store import SqlCaseStore
from adapters.db.engine import create_engine_from_url, session_factory
from adapters.ports import ApiKeyStore, CaseStore, SafetyDatabasePort, TicketingPort
from adapters.safety_db_local import LocalSafetyDatabase
from adapters.ticketing_local import LocalTicketing
from api.console import oidc
from api.console import router as console_router
from api.middleware import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from api.observability import install_observability
from api.problems import install_problem_handlers, install_problem_openapi
from api.routes import admin, admin_reclassify, agent, api_keys, cases, health, messages
from api.security import Authenticator
from core.config import Settings, get_settings
from core.logging import configure_logging
from core.redaction import warm_up
from core.telemetry import configure_tracing
from core.temporal_client import connect


def create_app(
    settings: Settings | None = None,
    client: Client | None = None,
    case_store: CaseStore | None = None,
    api_key_store: ApiKeyStore | None = None,
    ticketing: TicketingPort | None = None,
    safety_database: SafetyDatabasePort | None = None,
) -> FastAPI:
    """`client`/`case_store`/`api_key_store` let tests inject theirs; normally the lifespan connects its own.

    With an injected case store and no API key store, API keys are refused (bearer tokens work).
    """
    app_settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = app_settings
        # The redactor loads its recognizers and word lists (seconds) before the first message.
        await asyncio.to_thread(warm_up)
        app.state.temporal = client or await connect(app_settings)
        if case_store is not None:
            app.state.case_store = case_store
            app.state.api_keys = api_key_store
            app.state.ticketing = ticketing
            app.state.safety_database = safety_database
            yield
            return
        # Agents' reads (lists, timelines) come from the case store; one pooled engine per process.
        engine = create_engine_from_url(app_settings.database_url)
        app.state.db_engine = engine
        app.state.db_sessions = session_factory(engine)
        app.state.case_store = SqlCaseStore(app.state.db_sessions)
        app.state.api_keys = api_key_store or SqlApiKeyStore(app.state.db_sessions)
        # Case views read the ticket and the adverse-event report from the systems of record.
        app.state.ticketing = ticketing or LocalTicketing(app.state.db_sessions)
        app.state.safety_database = safety_database or LocalSafetyDatabase(app.state.db_sessions)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(title="Contact-center orchestrator", version="0.1.0", lifespan=lifespan)
    install_problem_handlers(app)
    install_problem_openapi(app)
    app.state.authenticator = Authenticator(app_settings, lambda: getattr(app.state, "api_keys", None))
    # Outermost last: headers on every answer (413s included), CORS only for configured origins.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=app_settings.max_request_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    if app_settings.cors_allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=app_settings.cors_allowed_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key"],
        )
    app.include_router(messages.router)
    app.include_router(agent.router)
    app.include_router(cases.router)
    app.include_router(api_keys.router)
    app.include_router(admin.router)
    app.include_router(admin_reclassify.router)
    app.include_router(health.router)
    app.include_router(console_router.router)
    app.include_router(oidc.router)
    install_observability(app, app_settings)
    app.mount("/metrics", make_asgi_app())
    return app


def main() -> None:
    import uvicorn

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    configure_tracing(settings, "cc-api")
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_config=None)


if __name__ == "__main__":
    main()
