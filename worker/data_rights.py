"""Data-subject rights on the workflow worker: the erasure/retention activities and the purge schedule.

The retention purge schedule is made sure of at worker start (idempotent):

`CC_RETENTION_SCHEDULE_ID` starts RetentionPurgeWorkflow every `CC_RETENTION_INTERVAL_HOURS`
with `CC_RETENTION_DAYS`. Creating it again finds it there; changed settings update it; an
operator's pause is left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from activities.personal_data import PersonalDataActivities
from adapters.db.engine import session_factory
from adapters.db.personal_data import SqlPersonalDataStore
from core.config import Settings
from core.logging import get_logger
from core.models import RetentionPurgeInput
from temporal_workflows.retention import ErasureWorkflow, RetentionPurgeWorkflow

log = get_logger(__name__)

DATA_RIGHTS_WORKFLOWS: list[type] = [ErasureWorkflow, RetentionPurgeWorkflow]


def data_rights_activities(engine: AsyncEngine) -> list[Callable[..., Any]]:
    return PersonalDataActivities(SqlPersonalDataStore(session_factory(engine))).definitions()


def retention_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RetentionPurgeWorkflow.run,
            RetentionPurgeInput(retention_days=settings.retention_days),
            id=settings.retention_schedule_id,
            task_queue=settings.workflow_task_queue,
        ),
        spec=ScheduleSpec(
            intervals=[ScheduleIntervalSpec(every=timedelta(hours=settings.retention_interval_hours))]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_retention_schedule(client: Client, settings: Settings) -> bool:
    """Create the schedule if missing (True), else align it with the settings (False)."""
    wanted = retention_schedule(settings)
    try:
        await client.create_schedule(settings.retention_schedule_id, wanted)
        log.info("schedule_created", schedule_id=settings.retention_schedule_id, days=settings.retention_days)
        return True
    except ScheduleAlreadyRunningError:
        pass

    async def align(update: ScheduleUpdateInput) -> ScheduleUpdate | None:
        current = update.description.schedule
        action = current.action
        same = (
            isinstance(action, ScheduleActionStartWorkflow)
            and action.task_queue == settings.workflow_task_queue
            and current.spec.intervals == wanted.spec.intervals
            and await _retention_days(client, action) == settings.retention_days
        )
        return None if same else ScheduleUpdate(schedule=wanted)

    await client.get_schedule_handle(settings.retention_schedule_id).update(align)
    return False


async def _retention_days(client: Client, action: ScheduleActionStartWorkflow) -> int | None:
    """The retention the schedule runs with; a described schedule holds raw (encrypted) payloads."""
    payloads = [arg for arg in action.args if isinstance(arg, Payload)]
    if len(payloads) != 1:
        return None
    [current] = await client.data_converter.decode(payloads, [RetentionPurgeInput])
    return current.retention_days if isinstance(current, RetentionPurgeInput) else None
