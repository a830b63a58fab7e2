"""Data-subject erasure and the scheduled retention purge: orchestration only.

Both run as workflows so that an accepted erasure request is durable (a worker crash half-way
resumes it, each case's erasure is an idempotent activity) and so that the purge has one
place, a Temporal schedule, that says when it ran and what it did.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from core.models import (
        CaseErasure,
        CaseErasureOrder,
        ErasureRequest,
        ErasureResult,
        RetentionBatch,
        RetentionPurgeInput,
        RetentionPurgeResult,
    )
    from core.names import ERASE_CASE_ACTIVITY, FIND_CUSTOMER_CASES_ACTIVITY, PURGE_EXPIRED_BATCH_ACTIVITY

DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
# One run purges at most this many batches; what is left waits for the next scheduled run.
MAX_BATCHES_PER_RUN = 50


@workflow.defn(name="ErasureWorkflow")
class ErasureWorkflow:
    @workflow.run
    async def run(self, request: ErasureRequest) -> ErasureResult:
        case_ids = await workflow.execute_activity(
            FIND_CUSTOMER_CASES_ACTIVITY,
            request,
            result_type=list[str],
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
        )
        results: list[CaseErasure] = []
        for case_id in case_ids:
            order = CaseErasureOrder(
                case_id=case_id,
                mode="data_subject_request",
                actor=request.requested_by,
                request_id=request.request_id,
                reference=request.reference,
            )
            results.append(
                await workflow.execute_activity(
                    ERASE_CASE_ACTIVITY,
                    order,
                    result_type=CaseErasure,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=DB_RETRY,
                )
            )
        return ErasureResult(request_id=request.request_id, cases=results)


@workflow.defn(name="RetentionPurgeWorkflow")
class RetentionPurgeWorkflow:
    @workflow.run
    async def run(self, params: RetentionPurgeInput) -> RetentionPurgeResult:
        cutoff = workflow.now() - timedelta(days=params.retention_days)
        purged = 0
        for _ in range(MAX_BATCHES_PER_RUN):
            count = await workflow.execute_activity(
                PURGE_EXPIRED_BATCH_ACTIVITY,
                RetentionBatch(cutoff=cutoff, limit=params.batch_size),
                result_type=int,
                start_to_close_timeout=timedelta(minutes=5),
                heartbeat_timeout=timedelta(seconds=60),
                retry_policy=DB_RETRY,
            )
            purged += count
            if count < params.batch_size:
                break
        return RetentionPurgeResult(cutoff=cutoff, purged_cases=purged)
