"""Numbers out: percentiles, one JSON object on stdout and a readable table on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (no interpolation): a p99 of 300 samples is the 297th value."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def latency_summary(values_ms: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values_ms, 0.50), 1),
        "p95_ms": round(percentile(values_ms, 0.95), 1),
        "p99_ms": round(percentile(values_ms, 0.99), 1),
        "max_ms": round(max(values_ms), 1) if values_ms else float("nan"),
    }


def _flatten(result: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in result.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows.extend(_flatten(value, f"{name}."))
        else:
            rows.append((name, value))
    return rows


def emit(result: Mapping[str, Any]) -> None:
    """JSON (machine-readable) on stdout; the same numbers as a table on stderr."""
    rows = _flatten(result)
    width = max((len(name) for name, _ in rows), default=10)
    table = "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)
    sys.stderr.write(table + "\n")
    sys.stderr.flush()
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
