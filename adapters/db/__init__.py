"""Relational persistence: PostgreSQL in production and CI, a SQLite file for `make run`."""

from adapters.db.engine import create_engine_from_url, insert_if_absent, session_factory

__all__ = ["create_engine_from_url", "insert_if_absent", "session_factory"]
