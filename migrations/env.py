"""Alembic environment: async engine, URL from settings, optional PostgreSQL schema.

The URL is `sqlalchemy.url` when the caller set one (tests, `upgrade_to_head`), otherwise
`CC_DATABASE_URL`. A schema (config attribute `schema` or `-x schema=NAME`) runs the whole
migration, version table included, inside that schema, so tests can migrate a fresh one each.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.db.engine import to_async_url, validate_schema_name
from adapters.db.migrate import ensure_sqlite_directory
from adapters.db.tables import Base
from core.config import get_settings

# Any constant works: it only has to be the same for every process that migrates this database.
_MIGRATION_LOCK_ID = 4_201_711_250

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def _schema() -> str | None:
    schema = config.attributes.get("schema") or context.get_x_argument(as_dictionary=True).get("schema")
    return validate_schema_name(schema) if schema else None


def _run_migrations(connection: Connection, schema: str | None) -> None:
    is_postgresql = connection.dialect.name == "postgresql"
    if schema is not None:
        if not is_postgresql:
            raise ValueError("a migration schema is only supported on PostgreSQL")
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        connection.execute(text(f'SET search_path TO "{schema}"'))
        connection.commit()
        # Alembic's recipe for schema-level tenancy: unqualified names now mean this schema.
        connection.dialect.default_schema_name = schema
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table_schema=schema,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if is_postgresql:
            # API and worker both migrate at start; the second waits, then finds nothing to do.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:lock_id)"),
                {"lock_id": _MIGRATION_LOCK_ID},
            )
        context.run_migrations()


async def _run_online() -> None:
    ensure_sqlite_directory(_database_url())
    engine = create_async_engine(to_async_url(_database_url()), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_migrations, _schema())
    finally:
        await engine.dispose()


def _run_offline() -> None:
    """`alembic upgrade head --sql`: print the DDL for a DBA instead of running it."""
    context.configure(
        url=to_async_url(_database_url()),
        target_metadata=target_metadata,
        version_table_schema=_schema(),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    asyncio.run(_run_online())
