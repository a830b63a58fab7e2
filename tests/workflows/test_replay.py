"""Replay the committed histories (tests/histories/*.json) against today's workflow code.

A change that alters the commands a running workflow issues (an extra activity, a different
timer) must be guarded with `workflow.patched()`; without the guard these replays fail, which is
what the second half of this file proves. The histories were recorded without payload
encryption; replaying them through the encrypting converter proves that cases opened before
encryption was switched on keep running.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from core.config import Settings
from core.temporal_client import build_data_converter
from tests.workflows.changed_workflows import InformationalWithExtraActivity, ServiceActionWithLeadingTimer
from worker.main import workflow_classes

HISTORIES = sorted((Path(__file__).resolve().parents[1] / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, json.loads(path.read_text(encoding="utf-8")))


def test_histories_are_committed() -> None:
    assert {p.stem for p in HISTORIES} >= {
        "message_service_action",
        "informational_answered",
        "service_action_sla_breach",
        "safety_reminder_deadline_confirm",
        "safety_rerouted",
        "triage_to_informational",
    }


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_current_workflows_replay_every_committed_history(path: Path) -> None:
    replayer = Replayer(workflows=workflow_classes(), data_converter=build_data_converter(Settings()))
    await replayer.replay_workflow(load(path))


@pytest.mark.parametrize(
    ("changed", "history"),
    [
        (InformationalWithExtraActivity, "informational_answered"),
        (ServiceActionWithLeadingTimer, "service_action_sla_breach"),
    ],
)
async def test_an_unguarded_change_fails_replay_with_nondeterminism(changed: type, history: str) -> None:
    path = next(p for p in HISTORIES if p.stem == history)
    replayer = Replayer(workflows=[changed], data_converter=build_data_converter(Settings()))
    with pytest.raises(workflow.NondeterminismError):
        await replayer.replay_workflow(load(path))
