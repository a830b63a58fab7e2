"""Re-apply an acceptance policy to a run's recorded predictions, without calling the LLM.

The routing decision is a pure function of the classification activity's result (probabilities,
guard verdict, thresholds), so a policy change can be measured exactly on an existing run: the
same `classifier.policy.decide` the workflow runs is replayed on every row.

With `reguard` the current safety guard and injection detector are re-run on the data set's
redacted texts first (they run in the activity next to the LLM call and do not change the LLM's
answer), so a guard change is measured on recorded LLM probabilities without re-running the model.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import classifier.safety_guard as safety_guard
from classifier.injection import detect
from classifier.policy import decide, load_thresholds
from core.models import (
    AcceptanceThresholds,
)
from core.redaction import redact
from eval.calibrate import load_predictions
from eval.report import write_report
from eval.runner import Prediction, load_dataset, recorded_outcome, summarize


def reguard(rows: list[Prediction], dataset: Path) -> list[Prediction]:
    """The rows with the current guard's and injection detector's verdicts on the full texts."""
    texts = {item.id: redact(item.text).text for item in load_dataset(dataset)}
    updated = []
    for row in rows:
        if row.id not in texts:
            raise ValueError(f"{row.id} is not in {dataset}")
        guard = safety_guard.check(texts[row.id])
        updated.append(
            replace(
                row,
                guard_raised=guard.raise_to_safety,
                guard_signals=[f.signal for f in guard.findings],
                guard_findings=[{"signal": f.signal, "language": f.language} for f in guard.findings],
                guard_version=safety_guard.GUARD_VERSION if row.error is None else row.guard_version,
                guard_suppressed_needs_human=guard.suppressed_needs_human,
                injection_signals=detect(texts[row.id]),
            )
        )
    return updated


def redecide(row: Prediction, thresholds: AcceptanceThresholds) -> Prediction:
    outcome = recorded_outcome(row, thresholds)
    if outcome is None:
        return replace(row, policy_version=thresholds.version)
    decision = decide(outcome, datetime.now(timezone.utc))
    return replace(
        row,
        category=decision.category.value,
        route=decision.route.value,
        confidence=decision.confidence,
        policy_version=thresholds.version,
    )


def rescore(run_dir: Path, policy: Path, out: Path, reguard_dataset: Path | None = None) -> dict[str, Any]:
    thresholds = load_thresholds(policy)
    recorded = load_predictions(run_dir / "predictions.jsonl")
    if reguard_dataset is not None:
        recorded = reguard(recorded, reguard_dataset)
    rows = [redecide(row, thresholds) for row in recorded]
    previous = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    baseline = previous.get("baseline")
    metrics = summarize(rows, baseline_prompt=baseline["prompt_version"] if baseline else None)
    # Provenance of the original run, with the policy replaced.
    for key in ("backend", "model", "prompt_version", "guard_version", "dataset", "dataset_sha256", "limit"):
        metrics[key] = previous.get(key)
    if reguard_dataset is not None:
        metrics["guard_version"] = safety_guard.GUARD_VERSION
        metrics["reguarded_from"] = str(reguard_dataset)
    metrics.update(
        {
            "policy_version": thresholds.version,
            "policy": json.loads(thresholds.model_dump_json()),
            "rescored_from": str(run_dir),
            "started_at": previous.get("started_at"),
            "duration_s": previous.get("duration_s"),
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    with (out / "predictions.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row.to_json(), ensure_ascii=False) + "\n")
    (out / "metrics.json").write_text(
        json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    write_report(out, metrics, rows)
    return metrics
