"""QualityReportWorkflow: the daily quality figures, started by the `cc-quality-daily` schedule.

Pure orchestration: picks the day (the one before the scheduled run, from `workflow.now()`)
and runs the quality activity, which reads the case store, stores and exports the figures.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from core.models import QualityReportRequest, QualityReportSummary
    from core.quality import QUALITY_REPORT_ACTIVITY

QUALITY_TIMEOUT = timedelta(minutes=10)
QUALITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=10,
)


@workflow.defn
class QualityReportWorkflow:
    @workflow.run
    async def run(self, request: QualityReportRequest) -> QualityReportSummary:
        day = request.day or (workflow.now() - timedelta(days=1)).date()
        summary: QualityReportSummary = await workflow.execute_activity(
            QUALITY_REPORT_ACTIVITY,
            QualityReportRequest(day=day),
            result_type=QualityReportSummary,
            start_to_close_timeout=QUALITY_TIMEOUT,
            retry_policy=QUALITY_RETRY,
        )
        workflow.logger.info(
            "quality_report_done",
            extra={"day": day.isoformat(), "labelled": summary.labelled, "classified": summary.classified},
        )
        return summary
