"""FastAPI application: `uvicorn api.main:app` (or `python -m api.main`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import make_asgi_app
from temporalio.client import Client

from api.problems import install_problem_handlers
from api.routes import cases, health, messages
from core.config import Settings, get_settings
from core.logging import configure_logging
from worker.main import connect


def create_app(settings: Settings | None = None, client: Client | None = None) -> FastAPI:
    """`client` lets tests share one Temporal client; normally the lifespan connects its own."""
    app_settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = app_settings
        app.state.temporal = client or await connect(app_settings)
        yield

    app = FastAPI(title="Contact-center orchestrator", version="0.1.0", lifespan=lifespan)
    install_problem_handlers(app)
    app.include_router(messages.router)
    app.include_router(cases.router)
    app.include_router(health.router)
    app.mount("/metrics", make_asgi_app())
    return app


def main() -> None:
    import uvicorn

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_config=None)


if __name__ == "__main__":
    main()
