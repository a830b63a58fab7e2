"""Bring a database to the latest schema from inside a process (API, worker, tests).

Runs the same Alembic scripts as the `alembic` CLI, so a deployed database and a test schema
can never drift apart; used by `make run`, the worker start and the integration tests.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from adapters.db.engine import to_async_url, validate_schema_name

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str, schema: str | None = None) -> Config:
    """A file-less Alembic config, so migrating never reconfigures the process's logging."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolates `%`, which URL-encoded passwords contain.
    rendered = to_async_url(url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    if schema is not None:
        config.attributes["schema"] = validate_schema_name(schema)
    return config


def ensure_sqlite_directory(url: str) -> None:
    """SQLite creates the file but not its directory (e.g. ~/.cache/contact-center on first run)."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


async def upgrade_to_head(url: str, schema: str | None = None) -> None:
    ensure_sqlite_directory(url)
    config = alembic_config(url, schema)
    # Alembic is synchronous and env.py runs its own event loop: keep both off ours.
    await asyncio.to_thread(command.upgrade, config, "head")


def main() -> None:
    """`python -m adapters.db.migrate`: migrate the configured database (used by `make run`)."""
    from core.config import get_settings

    asyncio.run(upgrade_to_head(get_settings().database_url))


if __name__ == "__main__":
    main()
