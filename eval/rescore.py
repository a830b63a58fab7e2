"""Re-apply an acceptance policy to a run's recorded predictions, without calling the LLM.

The routing decision is a pure function of the classification activity's result (probabilities,
guard verdict, thresholds), so a policy change can be measured exactly on an existing run: the
same `classifier.policy.decide` the workflow runs is replayed on every row.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from classifier.policy import decide, load_thresholds
from core.models import (
    AcceptanceThresholds,
)
from eval.calibrate import load_predictions
from eval.report import write_report
from eval.runner import Prediction, recorded_outcome, summarize


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


def rescore(run_dir: Path, policy: Path, out: Path) -> dict[str, Any]:
    thresholds = load_thresholds(policy)
    rows = [redecide(row, thresholds) for row in load_predictions(run_dir / "predictions.jsonl")]
    previous = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    baseline = previous.get("baseline")
    metrics = summarize(rows, baseline_prompt=baseline["prompt_version"] if baseline else None)
    # Provenance of the original run, with the policy replaced.
    for key in ("backend", "model", "prompt_version", "guard_version", "dataset", "dataset_sha256", "limit"):
        metrics[key] = previous.get(key)
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
