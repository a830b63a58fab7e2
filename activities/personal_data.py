"""Erasure and retention activities: thin adapters over the `PersonalDataStore` port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from adapters.personal_data import PersonalDataStore
from core.logging import get_logger
from core.models import CaseErasure, CaseErasureOrder, ErasureRequest, RetentionBatch
from core.names import (
    ERASE_CASE_ACTIVITY,
    FIND_CUSTOMER_CASES_ACTIVITY,
    PURGE_EXPIRED_BATCH_ACTIVITY,
    RETENTION_ACTOR,
)

log = get_logger(__name__)


class PersonalDataActivities:
    def __init__(self, store: PersonalDataStore) -> None:
        self._store = store

    @activity.defn(name=FIND_CUSTOMER_CASES_ACTIVITY)
    async def find_cases(self, request: ErasureRequest) -> list[str]:
        return await self._store.find_cases(
            customer_pseudonym=request.customer_pseudonym, case_id=request.case_id
        )

    @activity.defn(name=ERASE_CASE_ACTIVITY)
    async def erase_case(self, order: CaseErasureOrder) -> CaseErasure:
        result = await self._store.erase_case(order)
        log.info("case_personal_data_erasure", case_id=order.case_id, mode=order.mode, outcome=result.outcome)
        return result

    @activity.defn(name=PURGE_EXPIRED_BATCH_ACTIVITY)
    async def purge_expired_batch(self, batch: RetentionBatch) -> int:
        """Erase up to `batch.limit` expired cases; the count tells the workflow whether to go on."""
        case_ids = await self._store.expired_cases(batch.cutoff, limit=batch.limit)
        request_id = f"retention-{batch.cutoff:%Y%m%dT%H%M%S}"
        for case_id in case_ids:
            activity.heartbeat(case_id)
            await self._store.erase_case(
                CaseErasureOrder(
                    case_id=case_id,
                    mode="retention",
                    actor=RETENTION_ACTOR,
                    request_id=request_id,
                    reference=f"retention period ended before {batch.cutoff:%Y-%m-%d}",
                )
            )
        log.info("retention_batch_purged", cases=len(case_ids), cutoff=batch.cutoff.isoformat())
        return len(case_ids)

    def definitions(self) -> list[Callable[..., Any]]:
        return [self.find_cases, self.erase_case, self.purge_expired_batch]
