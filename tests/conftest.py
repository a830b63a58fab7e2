"""Shared fixtures: Temporal servers (started by the suite itself), the real model, settings."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from classifier.pipeline import ClassificationPipeline
from core.config import Settings
from core.temporal_client import build_data_converter
from core.temporal_dev import DEV_SERVER_TUNING, TEMPORAL_CLI, TEMPORAL_TEST_SERVER

# Tests route with fixed, permissive thresholds: the production ones (config/) are re-calibrated
# from the eval and must not change what a workflow test expects.
TEST_POLICY = Path(__file__).parent / "fixtures" / "acceptance_policy.json"


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=build_data_converter(Settings()),
        test_server_existing_path=str(TEMPORAL_TEST_SERVER),
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_server_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=build_data_converter(Settings()),
        dev_server_existing_path=str(TEMPORAL_CLI),
        dev_server_extra_args=[*DEV_SERVER_TUNING, "--headless"],
        ui=False,
    )
    yield env
    await env.shutdown()


@pytest.fixture
def queues_settings() -> Settings:
    """Settings with fresh task queues, so tests sharing a server never steal each other's tasks."""
    suffix = uuid.uuid4().hex[:8]
    return Settings(
        workflow_task_queue=f"wf-{suffix}",
        llm_task_queue=f"llm-{suffix}",
        llm_backend="fake",
        policy_file=TEST_POLICY,
    )


@pytest.fixture(scope="session")
def real_pipeline() -> Iterator[ClassificationPipeline]:
    """The embedded model, loaded once for the whole session (about 2 s, 1.8 GB)."""
    from classifier.factory import build_classifier
    from classifier.pipeline import build_pipeline
    from classifier.policy import load_thresholds

    settings = Settings(llm_backend="llamacpp", policy_file=TEST_POLICY)
    yield build_pipeline(build_classifier(settings), load_thresholds(settings.policy_file))
