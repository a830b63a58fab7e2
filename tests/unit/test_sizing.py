"""The sizing rule (worker/sizing.py): defaults are consistent, each kind of mismatch is caught."""

from __future__ import annotations

from core.config import Settings
from worker.sizing import sizing_problems


def test_default_settings_follow_the_sizing_rule() -> None:
    assert sizing_problems(Settings(), model_slots=1) == []


def test_more_activity_slots_than_database_connections_is_reported() -> None:
    settings = Settings(workflow_max_concurrent_activities=40, db_pool_size=10, db_max_overflow=10)
    [problem] = sizing_problems(settings)
    assert "database pool" in problem


def test_a_pool_wait_as_long_as_the_activity_timeout_is_reported() -> None:
    [problem] = sizing_problems(Settings(db_pool_timeout_seconds=30))
    assert "db_pool_timeout_seconds" in problem


def test_llm_calls_beyond_the_model_slots_are_reported() -> None:
    settings = Settings(worker_roles={"llm"}, llm_max_concurrent=2)
    assert sizing_problems(settings, model_slots=4, llm_replicas=2) == []
    [problem] = sizing_problems(settings, model_slots=4, llm_replicas=3)
    assert "6 concurrent calls > 4 model slots" in problem


def test_an_llm_timeout_longer_than_the_activity_timeout_is_reported() -> None:
    [problem] = sizing_problems(Settings(worker_roles={"llm"}, llm_timeout_seconds=45))
    assert "llm_timeout_seconds" in problem


def test_the_workflow_role_alone_ignores_llm_settings() -> None:
    settings = Settings(worker_roles={"workflows"}, llm_timeout_seconds=45, llm_max_concurrent=8)
    assert sizing_problems(settings, model_slots=1, llm_replicas=4) == []
