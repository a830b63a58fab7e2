"""Temporal schedules the workflow worker makes sure of at start (idempotent).

`cc-quality-daily` starts QualityReportWorkflow on `CC_QUALITY_SCHEDULE_CRON` (UTC). Creating
it again finds it there; a changed cron expression updates it, anything else is left alone so
that an operator's pause survives a worker restart.
"""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from core.config import Settings
from core.logging import get_logger
from core.models import QualityReportRequest
from core.quality import QUALITY_SCHEDULE_ID
from temporal_workflows.quality import QualityReportWorkflow

log = get_logger(__name__)


def quality_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            QualityReportWorkflow.run,
            QualityReportRequest(),
            id=QUALITY_SCHEDULE_ID,
            task_queue=settings.workflow_task_queue,
        ),
        spec=ScheduleSpec(cron_expressions=[settings.quality_schedule_cron]),
        # A day that is still being computed is not started twice.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_quality_schedule(client: Client, settings: Settings) -> bool:
    """Create the schedule if missing (True), else align its cron expression (False)."""
    wanted = quality_schedule(settings)
    try:
        await client.create_schedule(QUALITY_SCHEDULE_ID, wanted)
        log.info("schedule_created", schedule_id=QUALITY_SCHEDULE_ID, cron=settings.quality_schedule_cron)
        return True
    except ScheduleAlreadyRunningError:
        pass

    def align(update: ScheduleUpdateInput) -> ScheduleUpdate | None:
        current = update.description.schedule
        if (
            current.spec.cron_expressions == wanted.spec.cron_expressions
            and isinstance(current.action, ScheduleActionStartWorkflow)
            and current.action.task_queue == settings.workflow_task_queue
        ):
            return None
        return ScheduleUpdate(schedule=wanted)

    await client.get_schedule_handle(QUALITY_SCHEDULE_ID).update(align)
    return False
