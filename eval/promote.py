"""Promote a challenger acceptance policy over the champion (`python -m eval promote`).

The champion is the policy the worker loads (`config/acceptance_policy.json`, settings
`policy_file`). A challenger (usually written by `python -m eval calibrate` from newly
agent-labelled cases) replaces it only if, replayed on the frozen test run's recorded
predictions with the same `classifier.policy.decide` the workflow runs (no LLM calls), it

- keeps accepted precision (share of auto-routed messages routed to the right queue) >= the
  champion's,
- keeps safety recall >= the champion's, and
- auto-routes no more true safety messages to a non-safety queue than the champion
  (the criterion of `python -m eval gate`).

Every decision, promotion or refusal, is appended as one JSON line to the promotions log
(`config/policy-promotions.jsonl` next to the policy file): who, why, the previous and new
policy (version, sha256 of the file, full thresholds), the challenger file and the test metrics
of both. A promoted policy gets the next revision in its version string (`r<N>-<base>`), which
is what every routing decision records (`policy:<version>`), so a decision leads to its log line.
The policy file is replaced atomically (temporary file, fsync, rename); the log is append-only.

`rollback_to` re-promotes a version recorded in the log (its thresholds, under a new revision)
without the precision gate: it restores a policy that was in force before, and the log records
the test metrics of both all the same.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import classifier.safety_guard as safety_guard
from classifier.policy import load_thresholds
from core.models import AcceptanceThresholds
from eval.calibrate import load_predictions, thresholds_json
from eval.metrics import coverage_and_precision, recall_of
from eval.rescore import redecide
from eval.runner import ERROR_LABEL, SAFETY, Prediction, file_sha256, summarize

LOG_SCHEMA = 1
LOG_NAME = "policy-promotions.jsonl"
DEFAULT_TEST_DATASET = Path(__file__).resolve().parent / "data" / "test.jsonl"
PROMOTED = "promoted"
REJECTED = "rejected"
ROLLED_BACK = "rolled_back"
# Precision is compared on exact ratios; this only absorbs float rounding.
_EPSILON = 1e-12
_REVISION = re.compile(r"^r(\d+)-(.+)$")


class PromotionError(ValueError):
    """Bad input (unreadable policy, test run of another data set, unknown version): exit 2."""


@dataclass(frozen=True)
class TestScore:
    """A policy replayed on the test run: the gate's numbers, exact (not rounded)."""

    n: int
    accepted: int
    coverage: float | None
    accepted_precision: float | None
    safety_n: int
    safety_recall: float | None
    safety_auto_routed_elsewhere_ids: list[str]
    macro_f1: float | None

    def as_json(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 6)

        return {
            "n": self.n,
            "accepted": self.accepted,
            "coverage": rounded(self.coverage),
            "accepted_precision": rounded(self.accepted_precision),
            "safety_n": self.safety_n,
            "safety_recall": rounded(self.safety_recall),
            "safety_auto_routed_elsewhere": len(self.safety_auto_routed_elsewhere_ids),
            "safety_auto_routed_elsewhere_ids": self.safety_auto_routed_elsewhere_ids,
            "macro_f1": self.macro_f1,
        }


@dataclass(frozen=True)
class PromotionResult:
    decision: str
    reasons: list[str]
    entry: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def promoted(self) -> bool:
        return self.decision in (PROMOTED, ROLLED_BACK)


# --------------------------------------------------------------------------- scoring


def score(predictions: Sequence[Prediction], thresholds: AcceptanceThresholds) -> TestScore:
    """Replay `decide` with these thresholds on every recorded row and measure the result."""
    rows = [redecide(p, thresholds) for p in predictions]
    y_true = [p.label for p in rows]
    y_final = [p.category or ERROR_LABEL for p in rows]
    coverage, precision = coverage_and_precision([p.accepted for p in rows], [p.correct for p in rows])
    # summarize() is what metrics.json and `eval gate` read: the same definition of the
    # dangerous miss (a true safety message on an automated non-safety route).
    summary = summarize(rows)
    return TestScore(
        n=len(rows),
        accepted=sum(p.accepted for p in rows),
        coverage=coverage,
        accepted_precision=precision,
        safety_n=sum(label == SAFETY for label in y_true),
        safety_recall=recall_of(y_true, y_final, SAFETY),
        safety_auto_routed_elsewhere_ids=list(summary["safety_auto_routed_elsewhere_ids"]),
        macro_f1=summary["macro_f1"],
    )


def gate(champion: TestScore, challenger: TestScore) -> list[str]:
    """Why the challenger may not replace the champion; empty when it may."""
    reasons = []
    if challenger.accepted_precision is None:
        reasons.append("the challenger auto-routes no test message: accepted precision is undefined")
    elif (
        champion.accepted_precision is not None
        and challenger.accepted_precision + _EPSILON < champion.accepted_precision
    ):
        reasons.append(
            f"accepted precision {challenger.accepted_precision:.4f} is below the champion's "
            f"{champion.accepted_precision:.4f}"
        )
    if (
        champion.safety_recall is not None
        and challenger.safety_recall is not None
        and challenger.safety_recall + _EPSILON < champion.safety_recall
    ):
        reasons.append(
            f"safety recall {challenger.safety_recall:.4f} is below the champion's "
            f"{champion.safety_recall:.4f}"
        )
    mine, theirs = challenger.safety_auto_routed_elsewhere_ids, champion.safety_auto_routed_elsewhere_ids
    if len(mine) > len(theirs):
        reasons.append(
            f"{len(mine)} true safety message(s) auto-routed to another queue, the champion "
            f"{len(theirs)}: {', '.join(mine[:20])}"
        )
    return reasons


# --------------------------------------------------------------------------- versions and log


def revision_of(version: str) -> int:
    """`r7-calibrated-p97-…` -> 7; a version never promoted through the log -> 0."""
    match = _REVISION.match(version)
    return int(match.group(1)) if match else 0


def base_of(version: str) -> str:
    match = _REVISION.match(version)
    return match.group(2) if match else version


def read_log(handle: IO[str]) -> list[dict[str, Any]]:
    handle.seek(0)
    entries = []
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PromotionError(f"promotions log line {number}: invalid JSON ({exc.msg})") from None
        if not isinstance(entry, dict):
            raise PromotionError(f"promotions log line {number}: not an object")
        entries.append(entry)
    return entries


def _applied(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e.get("decision") in (PROMOTED, ROLLED_BACK) and e.get("new")]


def next_revision(champion: AcceptanceThresholds, entries: Sequence[dict[str, Any]]) -> int:
    """Monotonic over the whole log, so a rollback gets a new revision too."""
    logged = [int(e["new"]["revision"]) for e in _applied(entries)]
    return max([revision_of(champion.version), *logged]) + 1


def logged_policy(entries: Sequence[dict[str, Any]], version: str) -> AcceptanceThresholds:
    """The thresholds a version had when the log saw it (as a new or as a previous policy)."""
    for entry in reversed(entries):
        for side in ("new", "previous"):
            record = entry.get(side)
            if isinstance(record, dict) and record.get("version") == version and record.get("policy"):
                return AcceptanceThresholds.model_validate(record["policy"])
    raise PromotionError(f"version {version!r} is not in the promotions log")


@contextlib.contextmanager
def locked_log(path: Path) -> Iterator[IO[str]]:
    """The log opened for appending under an exclusive lock: one promotion at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield handle
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def append_entry(handle: IO[str], entry: dict[str, Any]) -> None:
    handle.seek(0, os.SEEK_END)
    handle.write(json.dumps(entry, ensure_ascii=False, sort_keys=False) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def write_policy_atomically(path: Path, thresholds: AcceptanceThresholds) -> str:
    """Replace the policy file in one rename; returns the sha256 of what was written."""
    text = thresholds_json(thresholds)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if load_thresholds(tmp) != thresholds:
            raise PromotionError(f"{tmp}: the new policy does not read back identically")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- promotion


def _load_policy(path: Path, role: str) -> tuple[AcceptanceThresholds, str]:
    try:
        return load_thresholds(path), file_sha256(path)
    except (OSError, ValueError) as exc:
        raise PromotionError(f"{role} policy {path}: {exc}") from None


def _load_test_run(test_run: Path, test_dataset: Path) -> tuple[list[Prediction], dict[str, Any]]:
    predictions_path, metrics_path = test_run / "predictions.jsonl", test_run / "metrics.json"
    if not predictions_path.is_file() or not metrics_path.is_file():
        raise PromotionError(f"{test_run}: needs predictions.jsonl and metrics.json")
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    if not isinstance(metrics, dict):
        raise PromotionError(f"{metrics_path}: not a metrics object")
    expected = file_sha256(test_dataset)
    if metrics.get("dataset_sha256") != expected:
        raise PromotionError(
            f"{test_run} was not run on the frozen test set {test_dataset} "
            f"(dataset_sha256 {metrics.get('dataset_sha256')} != {expected})"
        )
    if metrics.get("limit") is not None:
        raise PromotionError(f"{test_run} covers only the first {metrics['limit']} rows of the test set")
    predictions = load_predictions(predictions_path)
    if not predictions:
        raise PromotionError(f"{predictions_path}: no predictions")
    return predictions, metrics


def _same_thresholds(a: AcceptanceThresholds, b: AcceptanceThresholds) -> bool:
    return a.model_copy(update={"version": ""}) == b.model_copy(update={"version": ""})


def _policy_record(thresholds: AcceptanceThresholds, sha256: str) -> dict[str, Any]:
    return {
        "version": thresholds.version,
        "revision": revision_of(thresholds.version),
        "sha256": sha256,
        "policy": json.loads(thresholds.model_dump_json()),
    }


def promote(
    *,
    policy_file: Path,
    test_run: Path,
    challenger: Path | None = None,
    rollback_to: str | None = None,
    log_path: Path | None = None,
    test_dataset: Path = DEFAULT_TEST_DATASET,
    actor: str,
    reason: str = "",
    now: datetime | None = None,
) -> PromotionResult:
    """Gate the challenger on the test run; on success replace the policy file. Always logs."""
    if (challenger is None) == (rollback_to is None):
        raise PromotionError("give either a challenger file or a version to roll back to")
    if rollback_to is not None and not reason.strip():
        raise PromotionError("a rollback needs a reason")
    log_path = log_path or policy_file.with_name(LOG_NAME)
    _load_policy(policy_file, "champion")  # a bad champion is refused before the log is opened
    predictions, run_metrics = _load_test_run(test_run, test_dataset)
    warnings = []
    run_guard = run_metrics.get("guard_version")
    if run_guard != safety_guard.GUARD_VERSION:
        warnings.append(
            f"the test run was recorded with {run_guard}, the worker runs {safety_guard.GUARD_VERSION}: "
            "replay it with `python -m eval rescore --reguard` first for exact numbers"
        )

    loaded: tuple[AcceptanceThresholds, dict[str, Any]] | None = None
    if challenger is not None:
        candidate, candidate_sha = _load_policy(challenger, "challenger")
        loaded = candidate, {"file": str(challenger), "sha256": candidate_sha, "version": candidate.version}

    with locked_log(log_path) as log:
        # Read again under the lock: a concurrent promotion may have replaced it meanwhile.
        champion, champion_sha = _load_policy(policy_file, "champion")
        entries = read_log(log)
        applied = _applied(entries)
        champion_matches_log = applied[-1]["new"]["sha256"] == champion_sha if applied else None
        if champion_matches_log is False:
            warnings.append(
                f"{policy_file} is not the last policy the log promoted (edited by hand?); "
                "its current content is recorded as the previous policy"
            )
        source: dict[str, Any]
        if loaded is not None:
            candidate, source = loaded
        else:
            candidate = logged_policy(entries, str(rollback_to))
            if _same_thresholds(candidate, champion):
                raise PromotionError(f"the thresholds of {rollback_to} are already in force")
            source = {"rollback_to": rollback_to}

        champion_score = score(predictions, champion)
        candidate_score = score(predictions, candidate)
        reasons: list[str] = []
        if challenger is not None:
            reasons = gate(champion_score, candidate_score)
            if _same_thresholds(candidate, champion):
                reasons.append("the challenger's thresholds are the champion's")
        entry: dict[str, Any] = {
            "schema": LOG_SCHEMA,
            "at": (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
            "decision": REJECTED if reasons else (ROLLED_BACK if rollback_to else PROMOTED),
            "reasons": reasons,
            "actor": actor,
            "reason": reason,
            "policy_file": str(policy_file),
            "previous": _policy_record(champion, champion_sha),
            "new": None,
            "challenger": source,
            "test_run": {
                "dir": str(test_run),
                "dataset": run_metrics.get("dataset"),
                "dataset_sha256": run_metrics.get("dataset_sha256"),
                "n": len(predictions),
                "model": run_metrics.get("model"),
                "prompt_version": run_metrics.get("prompt_version"),
                "guard_version": run_guard,
            },
            "test_metrics": {"champion": champion_score.as_json(), "challenger": candidate_score.as_json()},
            "champion_matches_log": champion_matches_log,
        }
        if reasons:
            append_entry(log, entry)
            return PromotionResult(REJECTED, reasons, entry, warnings)

        revision = next_revision(champion, entries)
        new = candidate.model_copy(update={"version": f"r{revision}-{base_of(candidate.version)}"})
        text = thresholds_json(new)
        entry["new"] = _policy_record(new, hashlib.sha256(text.encode("utf-8")).hexdigest())
        # Logged first: an interrupted rename leaves a log line whose sha256 the file does not
        # match (reported by the next promotion), never a policy change the log does not show.
        append_entry(log, entry)
        written_sha = write_policy_atomically(policy_file, new)
        if written_sha != entry["new"]["sha256"]:
            raise PromotionError(f"{policy_file}: written sha256 {written_sha} differs from the log")
        return PromotionResult(str(entry["decision"]), [], entry, warnings)
