"""Workflows log through `workflow.logger` only, so a replay never writes a line twice.

A workflow's code runs again whenever a worker rebuilds its state from history (cache eviction,
restart, another worker taking over). `workflow.logger` is silent while replaying; structlog or a
stdlib logger called from workflow code is not, which the contrast workflow below shows.
"""

from __future__ import annotations

import ast
import io
import json
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from temporalio import activity, workflow
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from core.config import Settings
from core.logging import configure_logging
from core.models import QualityReportRequest, QualityReportSummary
from core.quality import QUALITY_REPORT_ACTIVITY
from core.temporal_client import build_data_converter
from temporal_workflows.quality import QualityReportWorkflow
from worker.main import workflow_classes

WORKFLOW_SOURCES = sorted((Path(__file__).resolve().parents[2] / "temporal_workflows").glob("*.py"))
FORBIDDEN_MODULES = {"logging", "structlog", "core.logging", "loguru"}


def test_workflow_modules_log_only_through_workflow_logger() -> None:
    assert len(WORKFLOW_SOURCES) >= 5
    problems = []
    for path in WORKFLOW_SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                problems += [
                    f"{path.name}: import {a.name}" for a in node.names if a.name in FORBIDDEN_MODULES
                ]
            elif isinstance(node, ast.ImportFrom) and node.module in FORBIDDEN_MODULES:
                problems.append(f"{path.name}: from {node.module} import ...")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                problems.append(f"{path.name}:{node.lineno}: print")
            elif (
                isinstance(node, ast.Attribute)
                and node.attr == "logger"
                and not (isinstance(node.value, ast.Name) and node.value.id == "workflow")
            ):
                problems.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert not problems, problems


@activity.defn(name=QUALITY_REPORT_ACTIVITY)
async def fake_quality(request: QualityReportRequest) -> QualityReportSummary:
    assert request.day is not None
    return QualityReportSummary(day=request.day, classified=10, labelled=3)


@workflow.defn(sandboxed=False)
class StructlogInWorkflow:
    """What not to do: a logger that does not know about replay."""

    @workflow.run
    async def run(self) -> None:
        await workflow.sleep(timedelta(seconds=1))
        structlog.get_logger("contrast").info("contrast_logged")


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("INFO", json_output=True, stream=stream)
    yield stream
    configure_logging()


def events(stream: io.StringIO, name: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    return [line for line in lines if line.get("event") == name]


async def run_and_replay(
    env: WorkflowEnvironment, workflow_class: type, run: Any, arg: Any, activities: list[Any]
) -> WorkflowHistory:
    task_queue = f"logs-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=task_queue, workflows=[workflow_class], activities=activities):
        args = [] if arg is None else [arg]
        handle = await env.client.start_workflow(
            run, *args, id=f"log-replay-{uuid.uuid4()}", task_queue=task_queue
        )
        await handle.result()
    return await handle.fetch_history()


async def test_workflow_logger_lines_carry_ids_and_are_not_repeated_by_replay(
    time_skipping_env: WorkflowEnvironment, log_lines: io.StringIO
) -> None:
    history = await run_and_replay(
        time_skipping_env,
        QualityReportWorkflow,
        QualityReportWorkflow.run,
        QualityReportRequest(day=date(2026, 11, 30)),
        [fake_quality],
    )
    [live] = events(log_lines, "quality_report_done")
    assert live["logger"] == "temporalio.workflow"
    assert live["workflow_id"] == history.workflow_id
    assert live["run_id"] and live["workflow_type"] == "QualityReportWorkflow"
    assert (live["day"], live["labelled"], live["classified"]) == ("2026-11-30", 3, 10)

    replayer = Replayer(workflows=workflow_classes(), data_converter=build_data_converter(Settings()))
    await replayer.replay_workflow(history)
    assert len(events(log_lines, "quality_report_done")) == 1, "replay logged the line again"


async def test_a_logger_that_ignores_replay_would_repeat_its_lines(
    time_skipping_env: WorkflowEnvironment, log_lines: io.StringIO
) -> None:
    """The contrast: proves the replay check above can see a duplicated line."""
    history = await run_and_replay(time_skipping_env, StructlogInWorkflow, StructlogInWorkflow.run, None, [])
    assert len(events(log_lines, "contrast_logged")) == 1
    await Replayer(workflows=[StructlogInWorkflow]).replay_workflow(history)
    assert len(events(log_lines, "contrast_logged")) == 2
