"""PostgreSQL fixtures: every test gets a freshly migrated schema of its own, dropped afterwards.

A schema per test (rather than truncating shared tables) keeps tests independent and lets them
run in parallel against one database; migrating it through Alembic also tests the migration.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.db.engine import create_engine_from_url, session_factory
from adapters.db.migrate import upgrade_to_head

DEFAULT_TEST_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return os.environ.get("CC_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


async def _ensure_reachable(url: str) -> None:
    """Skip on a laptop without PostgreSQL, but fail when CI pointed us at a database."""
    probe = create_engine_from_url(url)
    try:
        async with probe.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except OSError as error:
        if "CC_TEST_DATABASE_URL" in os.environ:
            raise
        pytest.skip(f"PostgreSQL not reachable at {url}: {error}")
    finally:
        await probe.dispose()


@pytest_asyncio.fixture
async def pg_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    await _ensure_reachable(postgres_url)
    schema = f"test_{uuid.uuid4().hex}"
    await upgrade_to_head(postgres_url, schema=schema)
    engine = create_engine_from_url(postgres_url, schema=schema)
    try:
        yield engine
    finally:
        await engine.dispose()
        admin = create_engine_from_url(postgres_url)
        try:
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            await admin.dispose()


@pytest.fixture
def pg_sessions(pg_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(pg_engine)
