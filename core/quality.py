"""The quality loop's arithmetic: agreement with agents, confidence drift (PSI), category mix.

Pure functions over plain values, shared by the daily quality activity and the eval CLI.

Drift method: the model's top probability is binned into ten equal bins on [0, 1]; the day's
histogram is compared with the histogram of the frozen evaluation run (config/
confidence_baseline.json, written by `python -m eval baseline` from eval/results/test-final)
by the population stability index PSI = sum((a - e) * ln(a / e)) over bins, with shares
floored at 1e-4 so an empty bin does not explode. Rule of thumb: < 0.1 stable, 0.1-0.25
moderate shift, > 0.25 significant shift (the alert threshold).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

# Activity and schedule names of the daily quality workflow (temporal_workflows.quality).
QUALITY_REPORT_ACTIVITY = "compute_daily_quality"
QUALITY_SCHEDULE_ID = "cc-quality-daily"

BINS = 10
PSI_FLOOR = 1e-4
PSI_ALERT = 0.25
DEFAULT_BASELINE = Path(__file__).resolve().parent.parent / "config" / "confidence_baseline.json"


def histogram(values: Iterable[float], bins: int = BINS) -> list[int]:
    counts = [0] * bins
    for value in values:
        index = min(bins - 1, max(0, int(value * bins)))
        counts[index] += 1
    return counts


def psi(actual: Sequence[int], expected: Sequence[int]) -> float | None:
    """Population stability index of two histograms over the same bins (None if either is empty)."""
    if len(actual) != len(expected):
        raise ValueError("histograms must have the same bins")
    total_a, total_e = sum(actual), sum(expected)
    if total_a == 0 or total_e == 0:
        return None
    value = 0.0
    for a_count, e_count in zip(actual, expected, strict=True):
        a = max(a_count / total_a, PSI_FLOOR)
        e = max(e_count / total_e, PSI_FLOOR)
        value += (a - e) * math.log(a / e)
    return round(value, 4)


def agreement(pairs: Sequence[tuple[str | None, str]]) -> dict[str, Any]:
    """(predicted, agent label) pairs -> overall and per-true-class agreement and the confusion."""
    scored = [(p, t) for p, t in pairs if p is not None]
    per_class: dict[str, dict[str, float | int]] = {}
    for label in sorted({t for _, t in scored}):
        rows = [p for p, t in scored if t == label]
        per_class[label] = {"n": len(rows), "agreement": round(sum(p == label for p in rows) / len(rows), 4)}
    confusion = Counter(f"{p}->{t}" for p, t in scored)
    return {
        "n": len(scored),
        "agreement": round(sum(p == t for p, t in scored) / len(scored), 4) if scored else None,
        "per_class": per_class,
        "confusion": dict(sorted(confusion.items())),
    }


def shares(labels: Iterable[str]) -> dict[str, float]:
    counts = Counter(labels)
    total = sum(counts.values())
    return {label: round(n / total, 4) for label, n in sorted(counts.items())} if total else {}


def load_baseline(path: Path = DEFAULT_BASELINE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if len(data.get("confidence_histogram", [])) != BINS:
        raise ValueError(f"{path}: confidence_histogram must have {BINS} bins")
    return data


def baseline_from_eval_metrics(metrics: dict[str, Any], source: str, sha256: str) -> dict[str, Any]:
    """The drift baseline from an eval run's metrics.json: its top-probability histogram."""
    bins = metrics["reliability"]["llm"]
    if len(bins) != BINS:
        raise ValueError(f"expected {BINS} reliability bins, got {len(bins)}")
    return {
        "source": source,
        "source_sha256": sha256,
        "model": metrics.get("model"),
        "prompt_version": metrics.get("prompt_version"),
        "n": metrics.get("n"),
        "confidence_histogram": [int(b["count"]) for b in bins],
    }


def eval_row(case_id: str, text: str, label: str, channel: str, tags: Sequence[str]) -> dict[str, Any]:
    """One line of the evaluation format (eval/data/README.md)."""
    return {"id": case_id, "text": text, "label": label, "channel": channel, "tags": list(tags)}
