"""Replay the committed histories (tests/histories/*.json) against today's workflow code.

A change that alters the commands a running workflow issues (an extra activity, a different
timer) must be guarded with `workflow.patched()`; without the guard these replays fail, which is
what the second half of this file proves. Every set ever recorded stays (tests/histories/generate.py
never overwrites): the unsuffixed set from before the first patch, and one `<scenario>.<release>`
set per release since, so each patch is replayed both from runs started before it and after it
(checked below for every `*_PATCH` in temporal_workflows/). The histories were recorded without
payload encryption; replaying them through the encrypting converter proves that cases opened
before encryption was switched on keep running.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from core.config import Settings
from core.temporal_client import build_data_converter
from tests.histories.generate import CASE_IDS, generate, scenario_name
from tests.workflows.changed_workflows import InformationalWithExtraActivity, ServiceActionWithLeadingTimer
from worker.main import workflow_classes

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = sorted((ROOT / "tests" / "histories").glob("*.json"))
FIRST_SET = {
    "message_service_action",
    "informational_answered",
    "service_action_sla_breach",
    "safety_reminder_deadline_confirm",
    "safety_rerouted",
    "triage_to_informational",
}


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, json.loads(path.read_text(encoding="utf-8")))


def workflow_type(history: WorkflowHistory) -> str:
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


def patch_markers(history: WorkflowHistory) -> set[str]:
    found: set[str] = set()
    for event in history.events:
        marker = event.marker_recorded_event_attributes
        if event.HasField("marker_recorded_event_attributes") and marker.marker_name == "core_patch":
            found.add(json.loads(marker.details["patch-data"].payloads[0].data)["id"])
    return found


def declared_patches() -> set[str]:
    """Every patch id the workflows declare (`SOMETHING_PATCH = "id"`)."""
    pattern = re.compile(r'^[A-Z_]+_PATCH = "([^"]+)"', re.MULTILINE)
    sources = (ROOT / "temporal_workflows").glob("*.py")
    return {patch for source in sources for patch in pattern.findall(source.read_text(encoding="utf-8"))}


def test_histories_are_committed() -> None:
    # The first set, recorded before any patch, keeps its names.
    assert {p.stem for p in HISTORIES} >= FIRST_SET
    # Every scenario the generator knows has at least one recording with a release suffix.
    recorded = {scenario_name(p) for p in HISTORIES if p.stem not in FIRST_SET}
    assert recorded >= set(CASE_IDS)


def test_every_patch_is_replayed_from_runs_started_before_and_after_it() -> None:
    histories = [load(p) for p in HISTORIES]
    patches = declared_patches()
    assert len(patches) >= 6  # the regex still finds them
    for patch in patches:
        after = [h for h in histories if patch in patch_markers(h)]
        assert after, f"no history recorded with {patch!r}: run tests/histories/generate.py"
        for kind in {workflow_type(h) for h in after}:
            before = [h for h in histories if workflow_type(h) == kind and patch not in patch_markers(h)]
            assert before, f"no {kind} history recorded before {patch!r}"


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


async def test_the_generator_never_overwrites_a_recorded_set() -> None:
    recorded = next(p for p in HISTORIES if p.stem not in FIRST_SET)
    release = recorded.stem.split(".", 1)[1]
    before = recorded.read_bytes()
    with pytest.raises(SystemExit, match="exist already"):
        await generate(release)
    assert recorded.read_bytes() == before
