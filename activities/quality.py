"""The daily quality activity: agents' labels vs the model, drift, export for the evaluation.

Runs once a day from the `cc-quality-daily` Temporal schedule (worker.schedules). Reads the
case store for one UTC day, stores the figures in `quality_reports`, exports the day's
agent-labelled cases (redacted text only) as evaluation JSON Lines, and sets the quality gauges.
Idempotent: a re-run of the same day keeps the stored row and rewrites the same export file.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from temporalio import activity

from adapters.db.monitoring import SqlMonitoringStore
from core import metrics
from core.logging import get_logger
from core.models import Category, QualityReportRequest, QualityReportSummary
from core.quality import QUALITY_REPORT_ACTIVITY, agreement, eval_row, histogram, psi, shares

log = get_logger(__name__)


def day_window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=timezone.utc)
    return start, start + timedelta(days=1)


def set_quality_gauges(figures: dict[str, Any], computed_at: float) -> None:
    labelled = figures.get("labelled", {})
    metrics.QUALITY_LABELLED.set(labelled.get("n", 0))
    if labelled.get("agreement") is not None:
        metrics.QUALITY_AGREEMENT.labels("all").set(labelled["agreement"])
    for label, row in labelled.get("per_class", {}).items():
        metrics.QUALITY_AGREEMENT.labels(label).set(row["agreement"])
    if figures.get("confidence_psi") is not None:
        metrics.QUALITY_CONFIDENCE_PSI.set(figures["confidence_psi"])
    for category in Category:
        metrics.QUALITY_CATEGORY_SHARE.labels(category.value).set(
            figures.get("category_share", {}).get(category.value, 0.0)
        )
    metrics.QUALITY_LAST_RUN.set(computed_at)


class QualityActivities:
    def __init__(self, store: SqlMonitoringStore, export_dir: Path, baseline: dict[str, Any]) -> None:
        self._store = store
        self._export_dir = export_dir
        self._baseline = baseline

    @activity.defn(name=QUALITY_REPORT_ACTIVITY)
    async def compute_daily_quality(self, request: QualityReportRequest) -> QualityReportSummary:
        day = request.day
        if day is None:
            raise ValueError("the workflow passes the day")
        start, end = day_window(day)
        classified = await self._store.classified_cases(start, end)
        labelled = await self._store.labelled_cases(start, end)
        day_histogram = histogram(c.top_probability for c in classified)
        figures: dict[str, Any] = {
            "window": [start.isoformat(), end.isoformat()],
            "classified": len(classified),
            "category_share": shares(c.predicted for c in classified),
            "confidence_histogram": day_histogram,
            "baseline_histogram": self._baseline["confidence_histogram"],
            "baseline_source": self._baseline.get("source"),
            "confidence_psi": psi(day_histogram, self._baseline["confidence_histogram"]),
            "labelled": agreement([(c.predicted, c.agent_label) for c in labelled]),
            "labelled_by_source": dict(sorted(_count(c.source for c in labelled).items())),
        }
        export = self._export(day, labelled) if labelled else None
        figures["export_file"] = str(export) if export else None
        stored = await self._store.save_quality_report(day, figures)
        set_quality_gauges(figures, datetime.now(timezone.utc).timestamp())
        log.info(
            "quality_report",
            day=day.isoformat(),
            classified=len(classified),
            labelled=len(labelled),
            agreement=figures["labelled"]["agreement"],
            confidence_psi=figures["confidence_psi"],
            stored=stored,
        )
        return QualityReportSummary(
            day=day,
            classified=len(classified),
            labelled=len(labelled),
            agreement=figures["labelled"]["agreement"],
            confidence_psi=figures["confidence_psi"],
            export_file=figures["export_file"],
            stored=stored,
        )

    def _export(self, day: date, labelled: list[Any]) -> Path:
        """Write `labelled-YYYY-MM-DD.jsonl` atomically (a retry rewrites the same content)."""
        self._export_dir.mkdir(parents=True, exist_ok=True)
        target = self._export_dir / f"labelled-{day.isoformat()}.jsonl"
        rows = [
            eval_row(
                case.case_id,
                case.redacted_text,
                case.agent_label,
                case.channel,
                [
                    "live",
                    f"source:{case.source}",
                    f"predicted:{case.predicted or 'none'}",
                    *([f"lang:{case.locale.split('-')[0].lower()}"] if case.locale else []),
                ],
            )
            for case in sorted(labelled, key=lambda c: c.case_id)
        ]
        partial = target.with_suffix(".jsonl.partial")
        partial.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        os.replace(partial, target)
        return target


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts
