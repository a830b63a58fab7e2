"""`python -m eval promote`: the challenger replaces the champion only if it keeps accepted
precision and safety on the frozen test run; every decision is logged; the write is atomic.

All files are tmp_path copies: the committed config/acceptance_policy.json is never touched.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, cast

import pytest

from classifier.policy import load_thresholds
from classifier.safety_guard import GUARD_VERSION
from core.models import Category
from eval.__main__ import main
from eval.calibrate import thresholds_json
from eval.promote import LOG_NAME, base_of, revision_of
from eval.runner import Prediction
from tests.unit.predictions import synthetic_prediction

INFO, SERVICE, SAFETY = (c.value for c in Category)
LABELS = (INFO, SERVICE, SAFETY)
REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config" / "acceptance_policy.json"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _prediction(row_id: str, label: str, probabilities: tuple[float, float, float]) -> Prediction:
    return synthetic_prediction(
        row_id,
        label,
        probabilities,
        guard_version=GUARD_VERSION,
        policy_version="recorded",
        prompt_version="route-v2",
    )


def _test_rows() -> list[Prediction]:
    """Under the committed champion (info 0.40, service 0.96, safety 0.90, gap 0.05, floor 0.20,
    accept 0.72): 18 auto-routed, 14 right (precision 14/18), no safety message elsewhere."""
    rows = [_prediction(f"info-{i}", INFO, (0.90, 0.08, 0.02)) for i in range(10)]
    # Service requests the model reads as informational with 0.70: auto-routed wrongly.
    rows += [_prediction(f"svc-as-info-{i}", SERVICE, (0.70, 0.28, 0.02)) for i in range(4)]
    # Right but below the champion's service minimum: human triage.
    rows += [_prediction(f"svc-{i}", SERVICE, (0.04, 0.94, 0.02)) for i in range(6)]
    # Informational questions the model reads as service with 0.65: triage under the champion.
    rows += [_prediction(f"info-as-svc-{i}", INFO, (0.30, 0.65, 0.05)) for i in range(3)]
    rows += [_prediction(f"safety-{i}", SAFETY, (0.02, 0.03, 0.95)) for i in range(4)]
    # A plausible safety case (P(safety) 0.25 >= floor 0.20): the champion sends it to triage.
    rows.append(_prediction("safety-quiet", SAFETY, (0.72, 0.03, 0.25)))
    return rows


def _policy(path: Path, version: str, **changes: Any) -> Path:
    raw = json.loads(CONFIG.read_text())
    raw["version"] = version
    for key, value in changes.items():
        if key in LABELS:
            raw["min_probability"][key] = value
        else:
            raw[key] = value
    path.write_text(json.dumps(raw, indent=2) + "\n")
    return path


# Keeps precision: an informational minimum of 0.80 sends the four 0.70 misreads to triage.
STRICTER = {INFO: 0.8}
# Loses precision: a service minimum of 0.50 auto-routes 6 right and 3 wrong service readings.
LOOSER = {SERVICE: 0.5}
# Better precision, but a safety floor of 0.30 auto-routes the quiet safety case to informational.
UNSAFE = {INFO: 0.71, "safety_floor": 0.3}


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Path]:
    rows = _test_rows()
    dataset = tmp_path / "frozen-test.jsonl"
    dataset.write_text("".join(json.dumps({"id": r.id, "text": "x", "label": r.label}) + "\n" for r in rows))
    run = tmp_path / "test-run"
    run.mkdir()
    (run / "predictions.jsonl").write_text("".join(json.dumps(r.to_json()) + "\n" for r in rows))
    metrics = {
        "dataset": str(dataset),
        "dataset_sha256": _sha(dataset),
        "limit": None,
        "guard_version": GUARD_VERSION,
        "model": "fake-keywords",
        "prompt_version": "route-v2",
    }
    (run / "metrics.json").write_text(json.dumps(metrics))
    config = tmp_path / "config"
    config.mkdir()
    champion = config / "acceptance_policy.json"
    champion.write_bytes(CONFIG.read_bytes())
    return {"dataset": dataset, "run": run, "champion": champion, "log": config / LOG_NAME}


def _promote(setup: dict[str, Path], *extra: str, reason: str = "weekly recalibration") -> int:
    argv = [
        "promote",
        *extra,
        "--test-run",
        str(setup["run"]),
        "--test-dataset",
        str(setup["dataset"]),
        "--policy-file",
        str(setup["champion"]),
        "--actor",
        "alice",
        "--reason",
        reason,
    ]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    code = exc.value.code
    assert isinstance(code, int)
    return code


def _log(setup: dict[str, Path]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in setup["log"].read_text().splitlines()]


def test_a_challenger_that_keeps_precision_is_promoted_with_the_next_version(
    setup: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before_sha, before = _sha(setup["champion"]), load_thresholds(setup["champion"])
    challenger = _policy(tmp_path / "challenger.json", "calibrated-p97-abcd1234", **STRICTER)

    assert _promote(setup, "--challenger", str(challenger)) == 0
    assert "promoted: calibrated-p97-732d4477 -> r1-calibrated-p97-abcd1234" in capsys.readouterr().out

    promoted = load_thresholds(setup["champion"])  # the worker's loader reads it
    assert promoted.version == "r1-calibrated-p97-abcd1234"
    assert promoted.model_copy(update={"version": "x"}) == load_thresholds(challenger).model_copy(
        update={"version": "x"}
    )
    assert promoted.min_probability[Category.informational] == 0.8
    # Same layout as every policy the calibration writes.
    assert setup["champion"].read_text() == thresholds_json(promoted)

    [entry] = _log(setup)
    assert entry["decision"] == "promoted" and entry["reasons"] == []
    assert (entry["actor"], entry["reason"], entry["schema"]) == ("alice", "weekly recalibration", 1)
    datetime.fromisoformat(entry["at"])
    assert entry["previous"]["version"] == before.version == "calibrated-p97-732d4477"
    assert entry["previous"]["revision"] == 0
    assert entry["previous"]["sha256"] == before_sha == _sha(CONFIG)
    assert entry["previous"]["policy"]["min_probability"][INFO] == 0.4
    assert entry["new"]["version"] == "r1-calibrated-p97-abcd1234" and entry["new"]["revision"] == 1
    assert entry["new"]["sha256"] == _sha(setup["champion"])
    assert entry["challenger"] == {
        "file": str(challenger),
        "sha256": _sha(challenger),
        "version": "calibrated-p97-abcd1234",
    }
    assert entry["test_run"]["dataset_sha256"] == _sha(setup["dataset"])
    assert entry["test_run"]["n"] == 28
    champion, new = entry["test_metrics"]["champion"], entry["test_metrics"]["challenger"]
    assert (champion["accepted"], champion["accepted_precision"]) == (18, round(14 / 18, 6))
    assert (new["accepted"], new["accepted_precision"]) == (14, 1.0)
    assert champion["safety_recall"] == new["safety_recall"] == 0.8
    assert champion["safety_auto_routed_elsewhere"] == new["safety_auto_routed_elsewhere"] == 0
    assert entry["champion_matches_log"] is None  # nothing promoted before


def test_a_challenger_that_loses_precision_is_rejected_and_logged(
    setup: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = setup["champion"].read_bytes()
    challenger = _policy(tmp_path / "looser.json", "calibrated-p90-0000aaaa", **LOOSER)

    assert _promote(setup, "--challenger", str(challenger)) == 1
    err = capsys.readouterr().err
    assert "rejected: accepted precision 0.7407 is below the champion's 0.7778" in err

    assert setup["champion"].read_bytes() == original
    [entry] = _log(setup)
    assert entry["decision"] == "rejected" and entry["new"] is None
    assert entry["reasons"] == ["accepted precision 0.7407 is below the champion's 0.7778"]
    assert entry["previous"]["sha256"] == _sha(setup["champion"])
    assert entry["test_metrics"]["challenger"]["accepted"] == 27
    assert entry["test_metrics"]["challenger"]["accepted_precision"] == round(20 / 27, 6)


def test_more_safety_messages_auto_routed_elsewhere_is_rejected_even_at_higher_precision(
    setup: dict[str, Path], tmp_path: Path
) -> None:
    challenger = _policy(tmp_path / "unsafe.json", "unsafe", **UNSAFE)
    assert _promote(setup, "--challenger", str(challenger)) == 1
    [entry] = _log(setup)
    metrics = entry["test_metrics"]["challenger"]
    assert metrics["accepted_precision"] == round(14 / 15, 6)  # better than 14/18
    assert metrics["safety_auto_routed_elsewhere_ids"] == ["safety-quiet"]
    assert entry["reasons"] == [
        "1 true safety message(s) auto-routed to another queue, the champion 0: safety-quiet"
    ]
    assert load_thresholds(setup["champion"]).version == "calibrated-p97-732d4477"


def test_the_champion_itself_is_not_a_challenger(setup: dict[str, Path], tmp_path: Path) -> None:
    same = _policy(tmp_path / "same.json", "another-name")
    assert _promote(setup, "--challenger", str(same)) == 1
    assert _log(setup)[0]["reasons"] == ["the challenger's thresholds are the champion's"]


def test_versions_chain_through_promotions_and_a_rollback(setup: dict[str, Path], tmp_path: Path) -> None:
    first = _policy(tmp_path / "a.json", "calibrated-a", **STRICTER)
    assert _promote(setup, "--challenger", str(first)) == 0
    second = _policy(tmp_path / "b.json", "calibrated-b", **{INFO: 0.85})  # same precision 1.0
    assert _promote(setup, "--challenger", str(second)) == 0
    assert load_thresholds(setup["champion"]).version == "r2-calibrated-b"

    # A rollback skips the precision gate but needs a reason, and gets a new revision.
    assert _promote(setup, "--rollback-to", "r1-calibrated-a", reason="") == 2
    assert _promote(setup, "--rollback-to", "r1-calibrated-a", reason="b misroutes refunds") == 0
    restored = load_thresholds(setup["champion"])
    assert restored.version == "r3-calibrated-a"
    assert restored.min_probability[Category.informational] == 0.8
    # Back to the original champion, recorded as the `previous` of the first promotion.
    assert _promote(setup, "--rollback-to", "calibrated-p97-732d4477", reason="undo all") == 0
    assert load_thresholds(setup["champion"]).model_copy(update={"version": "x"}) == load_thresholds(
        CONFIG
    ).model_copy(update={"version": "x"})
    # Rolling back to what is in force is refused without a log line.
    assert _promote(setup, "--rollback-to", "r1-calibrated-a", reason="again") == 0
    assert _promote(setup, "--rollback-to", "r5-calibrated-a", reason="unknown") == 2
    assert _promote(setup, "--rollback-to", "r3-calibrated-a", reason="same thresholds") == 2

    entries = _log(setup)
    assert [e["decision"] for e in entries] == [
        "promoted",
        "promoted",
        "rolled_back",
        "rolled_back",
        "rolled_back",
    ]
    assert [e["new"]["revision"] for e in entries] == [1, 2, 3, 4, 5]
    assert [e["new"]["version"] for e in entries] == [
        "r1-calibrated-a",
        "r2-calibrated-b",
        "r3-calibrated-a",
        "r4-calibrated-p97-732d4477",
        "r5-calibrated-a",
    ]
    assert entries[2]["challenger"] == {"rollback_to": "r1-calibrated-a"}
    for before, after in itertools.pairwise(entries):
        # Each promotion's previous file is byte for byte what the one before wrote.
        assert after["previous"]["sha256"] == before["new"]["sha256"]
        assert after["previous"]["version"] == before["new"]["version"]
        assert after["champion_matches_log"] is True
    assert entries[-1]["new"]["sha256"] == _sha(setup["champion"])


def test_revision_parsing() -> None:
    assert (revision_of("r12-calibrated-p97-x"), base_of("r12-calibrated-p97-x")) == (12, "calibrated-p97-x")
    assert (revision_of("calibrated-p97-x"), base_of("calibrated-p97-x")) == (0, "calibrated-p97-x")
    assert revision_of("rx-1") == 0


def test_an_interrupted_write_leaves_the_old_policy_whole_and_is_reported_next_time(
    setup: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    original = setup["champion"].read_bytes()
    challenger = _policy(tmp_path / "challenger.json", "c1", **STRICTER)

    def crash(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    assert _promote(setup, "--challenger", str(challenger)) == 2  # OSError: reported, exit 2
    assert setup["champion"].read_bytes() == original
    # No temporary file is left beside the policy.
    assert sorted(p.name for p in setup["champion"].parent.iterdir()) == ["acceptance_policy.json", LOG_NAME]
    monkeypatch.undo()

    # The log line came first: the next promotion sees the file is not what the log promoted.
    assert _log(setup)[0]["new"]["sha256"] != _sha(setup["champion"])
    capsys.readouterr()
    assert _promote(setup, "--challenger", str(challenger)) == 0
    assert "is not the last policy the log promoted" in capsys.readouterr().err
    second = _log(setup)[1]
    assert second["champion_matches_log"] is False
    assert second["previous"]["sha256"] == _sha(CONFIG)
    assert second["new"]["version"] == "r2-c1"  # revisions stay unique


def test_a_run_of_another_data_set_is_refused_before_anything_is_logged(
    setup: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup["dataset"].write_text(
        setup["dataset"].read_text() + '{"id": "new", "text": "x", "label": "informational"}\n'
    )
    challenger = _policy(tmp_path / "challenger.json", "c1", **STRICTER)
    assert _promote(setup, "--challenger", str(challenger)) == 2
    assert "was not run on the frozen test set" in capsys.readouterr().err
    assert not setup["log"].exists()
    assert setup["champion"].read_bytes() == CONFIG.read_bytes()


def test_an_invalid_challenger_is_refused(setup: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": "x", "min_gap": 2.0}')
    assert _promote(setup, "--challenger", str(bad)) == 2
    assert not setup["log"].exists()


# --------------------------------------------------------------------------- the whole loop


def _labelled_case(case_id: str, text: str, label: str, predicted: str) -> Any:
    from adapters.db.monitoring import LabelledCase

    return LabelledCase(
        case_id=case_id,
        channel="chat",
        locale="en-GB",
        redacted_text=text,
        predicted=predicted,
        top_probability=0.9,
        agent_label=label,
        source="triage_decision",
        labelled_at=datetime(2026, 12, 1, 10, tzinfo=timezone.utc),
    )


# The fake backend scores by keywords: safety words -> 0.92 safety, service words -> 0.90
# service (below the champion's 0.96 service minimum: human triage), anything else 0.88 info.
LABELLED = [
    ("c01", "What are your opening hours on Sunday?", INFO),
    ("c02", "Do you have a pharmacist on duty at night?", INFO),
    ("c03", "Is the Main Street branch wheelchair accessible?", INFO),
    ("c04", "Please cancel my last delivery, I am away.", SERVICE),
    ("c05", "I need a refund for the damaged parcel.", SERVICE),
    ("c06", "Where can I track my parcel?", SERVICE),
    ("c07", "Please renew my repeat prescription.", SERVICE),
    ("c08", "I got a rash after the new tablets.", SAFETY),
    ("c09", "My son swallowed two of my pills.", SAFETY),
]
FROZEN_TEST = [
    {"id": "t1", "text": "Which vaccines do you offer in winter?", "label": INFO},
    {"id": "t2", "text": "Can I cancel my subscription box?", "label": SERVICE},
    {"id": "t3", "text": "Please refund the second charge.", "label": SERVICE},
    {"id": "t4", "text": "I felt dizzy after the first dose.", "label": SAFETY},
]
# An informational question full of service words: a looser service minimum misroutes it.
TRAP = {"id": "t5", "text": "In which order should I take my morning medicines?", "label": INFO}


@pytest.mark.parametrize(("test_rows", "expected"), [(FROZEN_TEST, 0), ([*FROZEN_TEST, TRAP], 1)])
def test_export_run_calibrate_promote_with_the_fake_backend(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], test_rows: list[dict[str, str]], expected: int
) -> None:
    from activities.quality import QualityActivities

    champion = tmp_path / "config" / "acceptance_policy.json"
    champion.parent.mkdir()
    champion.write_bytes(CONFIG.read_bytes())

    # 1. The daily quality activity's export of agent-labelled cases (no database needed for it).
    quality = QualityActivities(store=cast(Any, None), export_dir=tmp_path / "exports", baseline={})
    cases = [_labelled_case(i, text, label, predicted=label) for i, text, label in LABELLED]
    export = quality._export(date(2026, 12, 1), cases)
    assert export.name == "labelled-2026-12-01.jsonl"

    def cli(*argv: str) -> int:
        with pytest.raises(SystemExit) as exc:
            main(list(argv))
        assert isinstance(exc.value.code, int)
        return exc.value.code

    # 2. Score the labelled cases through the worker's pipeline (fake LLM) under the champion.
    labelled_run = tmp_path / "runs" / "labelled"
    common = ["--backend", "fake", "--policy", str(champion), "--no-progress"]
    assert cli("run", "--dataset", str(export), *common, "--out", str(labelled_run)) == 0
    # 3. Fit a challenger on them.
    challenger = tmp_path / "challenger.json"
    predictions = str(labelled_run / "predictions.jsonl")
    assert (
        cli("calibrate", "--predictions", predictions, "--out", str(challenger), "--target-precision", "0.95")
        == 0
    )
    fitted = load_thresholds(challenger)
    assert fitted.min_probability[Category.service_action] <= 0.9  # service is auto-routed now

    # 4. The frozen test run (recorded once under the champion), then the gate.
    frozen = tmp_path / "frozen-test.jsonl"
    frozen.write_text("".join(json.dumps(r) + "\n" for r in test_rows))
    test_run = tmp_path / "runs" / "test"
    assert cli("run", "--dataset", str(frozen), *common, "--out", str(test_run)) == 0
    capsys.readouterr()
    code = cli(
        "promote",
        "--challenger",
        str(challenger),
        "--test-run",
        str(test_run),
        "--test-dataset",
        str(frozen),
        "--policy-file",
        str(champion),
        "--actor",
        "ci",
    )
    assert code == expected, capsys.readouterr()
    [entry] = [json.loads(line) for line in (champion.parent / LOG_NAME).read_text().splitlines()]
    champion_m, challenger_m = entry["test_metrics"]["champion"], entry["test_metrics"]["challenger"]
    assert challenger_m["coverage"] > champion_m["coverage"]
    if expected == 0:
        assert entry["decision"] == "promoted"
        assert load_thresholds(champion).version == f"r1-{fitted.version}"
    else:
        assert entry["decision"] == "rejected"
        assert challenger_m["accepted_precision"] < champion_m["accepted_precision"]
        assert champion.read_bytes() == CONFIG.read_bytes()
