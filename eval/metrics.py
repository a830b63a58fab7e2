"""Pure metric functions for the evaluation harness.

Plain Python on purpose: numpy is not a guaranteed dependency, and these functions are small
enough to check by hand in the unit tests. Labels are plain strings so the same code scores
the production run, the LLM-only labels and the baseline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Confusion = dict[str, dict[str, int]]


@dataclass(frozen=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "support": self.support,
        }


@dataclass(frozen=True)
class ReliabilityBin:
    """One equal-width confidence bin: [lower, upper), the last one closed at 1.0."""

    lower: float
    upper: float
    count: int
    mean_confidence: float
    accuracy: float


def _check_same_length(a: Sequence[object], b: Sequence[object]) -> None:
    if len(a) != len(b):
        raise ValueError(f"length mismatch: {len(a)} != {len(b)}")


def accuracy(y_true: Sequence[str], y_pred: Sequence[str | None]) -> float | None:
    """Share of exact matches; None for an empty input (undefined, not zero)."""
    _check_same_length(y_true, y_pred)
    if not y_true:
        return None
    return sum(t == p for t, p in zip(y_true, y_pred, strict=True)) / len(y_true)


def confusion_matrix(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> Confusion:
    """`matrix[true][pred]` counts; predictions outside `labels` get their own column."""
    _check_same_length(y_true, y_pred)
    columns = list(labels) + sorted({p for p in y_pred if p not in labels})
    rows = list(labels) + sorted({t for t in y_true if t not in labels})
    matrix: Confusion = {t: dict.fromkeys(columns, 0) for t in rows}
    for t, p in zip(y_true, y_pred, strict=True):
        matrix[t][p] += 1
    return matrix


def _ratio(numerator: int, denominator: int) -> float:
    # sklearn's zero_division=0 convention: an empty denominator scores 0, not NaN.
    return numerator / denominator if denominator else 0.0


def per_class_scores(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> dict[str, ClassScores]:
    """Precision, recall, F1 and support for each label (one-vs-rest)."""
    _check_same_length(y_true, y_pred)
    scores: dict[str, ClassScores] = {}
    for label in labels:
        tp = sum(t == label and p == label for t, p in zip(y_true, y_pred, strict=True))
        predicted = sum(p == label for p in y_pred)
        support = sum(t == label for t in y_true)
        precision = _ratio(tp, predicted)
        recall = _ratio(tp, support)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = ClassScores(precision, recall, f1, support)
    return scores


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> float | None:
    """Unweighted mean F1 over the labels that occur in the truth or the predictions.

    A label absent from both says nothing about the classifier, so it is left out rather than
    counted as 0 (which would punish a small eval set for not covering every class).
    """
    active = [label for label in labels if label in y_true or label in y_pred]
    if not active:
        return None
    scores = per_class_scores(y_true, y_pred, active)
    return sum(s.f1 for s in scores.values()) / len(active)


def recall_of(y_true: Sequence[str], y_pred: Sequence[str | None], label: str) -> float | None:
    """Recall of one label; None when the label has no support."""
    _check_same_length(y_true, y_pred)
    hits = [p == label for t, p in zip(y_true, y_pred, strict=True) if t == label]
    return sum(hits) / len(hits) if hits else None


def reliability_bins(
    confidences: Sequence[float], correct: Sequence[bool], n_bins: int = 10
) -> list[ReliabilityBin]:
    """Equal-width bins over [0, 1]; a confidence of exactly 1.0 falls in the last bin."""
    _check_same_length(confidences, correct)
    if n_bins < 1:
        raise ValueError("n_bins must be >= 1")
    members: list[list[tuple[float, bool]]] = [[] for _ in range(n_bins)]
    for confidence, ok in zip(confidences, correct, strict=True):
        if not 0.0 <= confidence <= 1.0 or math.isnan(confidence):
            raise ValueError(f"confidence out of [0, 1]: {confidence}")
        index = min(int(confidence * n_bins), n_bins - 1)
        members[index].append((confidence, ok))
    bins = []
    for index, items in enumerate(members):
        count = len(items)
        bins.append(
            ReliabilityBin(
                lower=index / n_bins,
                upper=(index + 1) / n_bins,
                count=count,
                mean_confidence=sum(c for c, _ in items) / count if count else 0.0,
                accuracy=sum(ok for _, ok in items) / count if count else 0.0,
            )
        )
    return bins


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], n_bins: int = 10
) -> float | None:
    """ECE = sum over bins of (bin share) * |bin accuracy - bin mean confidence|."""
    _check_same_length(confidences, correct)
    if not confidences:
        return None
    total = len(confidences)
    return sum(
        b.count / total * abs(b.accuracy - b.mean_confidence)
        for b in reliability_bins(confidences, correct, n_bins)
        if b.count
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default method), q in [0, 100]."""
    if not values:
        raise ValueError("percentile of an empty sequence")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"q out of [0, 100]: {q}")
    ordered = sorted(values)
    rank = q / 100.0 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(values: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/mean in the input's unit, rounded for reports; None values for an empty run."""
    if not values:
        return {"p50": None, "p95": None, "mean": None}
    return {
        "p50": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "mean": round(sum(values) / len(values), 2),
    }


def coverage_and_precision(
    accepted: Sequence[bool], correct: Sequence[bool]
) -> tuple[float | None, float | None]:
    """Coverage = share auto-routed; accepted precision = accuracy among the auto-routed."""
    _check_same_length(accepted, correct)
    if not accepted:
        return None, None
    kept = [ok for take, ok in zip(accepted, correct, strict=True) if take]
    coverage = len(kept) / len(accepted)
    return coverage, (sum(kept) / len(kept) if kept else None)
