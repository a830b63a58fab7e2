"""Async engine/session construction and the one dialect-aware idempotent insert."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, event, inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from adapters.db.tables import Base, utc_now

# Plain identifiers only: the schema name ends up in `SET search_path` and DDL.
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

# Sync driver names people paste from docs, mapped to the async drivers this project ships.
_ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}


def to_async_url(url: str) -> URL:
    """Accept `postgresql://` and `sqlite://` too, so a plain URL in `CC_DATABASE_URL` works."""
    parsed = make_url(url)
    return parsed.set(drivername=_ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername))


def validate_schema_name(schema: str) -> str:
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}: use letters, digits and underscores")
    return schema


def create_engine_from_url(
    url: str,
    *,
    schema: str | None = None,
    pool_size: int = 5,
    max_overflow: int = 10,
    pool_timeout: float = 30.0,
) -> AsyncEngine:
    """One engine per process; `schema` pins PostgreSQL's search_path (tests use a schema each).

    Workers pass the pool size from settings (worker/sizing.py: pool >= activity slots).
    """
    async_url = to_async_url(url)
    if async_url.get_backend_name() == "sqlite":
        if schema is not None:
            raise ValueError("SQLite has no schemas; use a separate database file instead")
        engine = create_async_engine(async_url, pool_pre_ping=True)
        _enable_sqlite_integrity(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if schema is not None:
        connect_args["server_settings"] = {"search_path": validate_schema_name(schema)}
    return create_async_engine(
        async_url,
        # Small steady pool per process (API or worker) with room for bursts of activities.
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        # No pre-ping: it costs three extra round trips (BEGIN; SELECT 1; ROLLBACK) per checkout,
        # a third of the database work per message. A connection broken by a database restart
        # fails its call, SQLAlchemy then discards the pool's connections, and Temporal retries
        # the activity (or the API answers 503). Recycling covers idle-connection reaping.
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args=connect_args,
    )


def _enable_sqlite_integrity(engine: AsyncEngine) -> None:
    """SQLite ignores foreign keys unless asked, and fails at once on a busy file unless told to wait."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Rows are converted to frozen pydantic models right away, so expiring them buys nothing.
    return async_sessionmaker(engine, expire_on_commit=False)


async def insert_if_absent(session: AsyncSession, row_type: type[Base], values: Mapping[str, Any]) -> bool:
    """`INSERT ... ON CONFLICT DO NOTHING`; True when this call created the row.

    A conflict on any unique key counts as "already there": callers read the existing row back,
    which is what makes a retried Temporal activity return the first attempt's result.
    """
    dialect = session.get_bind().dialect.name
    primary_key = inspect(row_type).primary_key
    if dialect == "postgresql":
        statement: Executable = (
            postgresql_insert(row_type).values(dict(values)).on_conflict_do_nothing().returning(*primary_key)
        )
    elif dialect == "sqlite":
        statement = (
            sqlite_insert(row_type).values(dict(values)).on_conflict_do_nothing().returning(*primary_key)
        )
    else:
        raise NotImplementedError(f"no idempotent insert for dialect {dialect!r}")
    result = await session.execute(statement)
    return result.first() is not None


class SqlAdapter:
    """Base of the SQL-backed adapters: a session factory and an injectable clock."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        # Injectable so tests can order records without sleeping.
        self._clock = clock
