"""What every category workflow does the same way: run a case activity, keep status and audit.

Pure workflow code. Audit keys are derived from a per-workflow sequence number, which is
deterministic, so a retried activity or a replayed workflow writes each line exactly once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from core.models import (
        AuditEntry,
        CaseSnapshot,
        CaseStatus,
        CaseStatusChange,
        Category,
        Notification,
        NotificationAudience,
        NotificationReceipt,
    )
    from core.names import (
        APPEND_AUDIT_ACTIVITY,
        NOTIFY_ACTIVITY,
        SET_CASE_STATUS_ACTIVITY,
        audit_key,
        notification_key,
    )

ResultT = TypeVar("ResultT")

CASE_ACTIVITY_TIMEOUT = timedelta(seconds=30)
# Writes to our systems of record must eventually happen: retry until they do, except for
# errors that no retry can fix (the port's own exception types).
CASE_ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=0,
    non_retryable_error_types=["RecordNotFoundError", "ConflictingRecordError", "InvalidTransitionError"],
)


# Case writes are short calls to the workflow worker's own activities: as local activities they
# cost one marker event each instead of a task round trip through the Temporal server, which is
# most of the orchestration cost per message (docs/performance.md). Runs started before this
# patch replay their normal activities.
LOCAL_CASE_WRITES_PATCH = "local-case-writes"


async def run_case_activity(name: str, argument: Any, result_type: type[ResultT]) -> ResultT:
    result: ResultT
    if workflow.patched(LOCAL_CASE_WRITES_PATCH):
        result = await workflow.execute_local_activity(
            name,
            argument,
            result_type=result_type,
            start_to_close_timeout=CASE_ACTIVITY_TIMEOUT,
            retry_policy=CASE_ACTIVITY_RETRY,
        )
        return result
    result = await workflow.execute_activity(
        name,
        argument,
        result_type=result_type,
        start_to_close_timeout=CASE_ACTIVITY_TIMEOUT,
        retry_policy=CASE_ACTIVITY_RETRY,
    )
    return result


class CaseTrail:
    """The live snapshot of one category workflow plus its writes to the case store."""

    def __init__(
        self, case_id: str, workflow_name: str, status: CaseStatus, category: Category | None
    ) -> None:
        self.case_id = case_id
        self.actor = f"workflow:{workflow_name}"
        self.snapshot = CaseSnapshot(
            case_id=case_id, workflow=workflow_name, status=status, category=category
        )
        self._sequence = 0

    def note(self, **detail: Any) -> None:
        """Add to the snapshot's `detail` (what the `state` query shows)."""
        self.snapshot = self.snapshot.model_copy(update={"detail": {**self.snapshot.detail, **detail}})

    async def audit(
        self,
        step: str,
        decision: str,
        reason: str,
        observed: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> None:
        self._sequence += 1
        entry = AuditEntry(
            case_id=self.case_id,
            key=audit_key(self.case_id, f"{self.snapshot.workflow}.{step}", self._sequence),
            step=step,
            actor=actor or self.actor,
            decision=decision,
            reason=reason,
            observed=observed or {},
            at=workflow.now(),
        )
        await run_case_activity(APPEND_AUDIT_ACTIVITY, entry, bool)

    async def set_status(self, status: CaseStatus, reason: str, *, persist: bool = True) -> None:
        """Change status in the snapshot first (queries see it at once), then in the case store."""
        previous = self.snapshot.status
        self.snapshot = self.snapshot.model_copy(update={"status": status})
        if not persist:
            return
        change = CaseStatusChange(case_id=self.case_id, status=status, category=self.snapshot.category)
        await run_case_activity(SET_CASE_STATUS_ACTIVITY, change, type(None))
        await self.audit("status", status.value, reason, {"from": previous.value})

    async def notify(
        self,
        purpose: str,
        audience: NotificationAudience,
        template: str,
        body: str,
        channel: str = "internal",
    ) -> NotificationReceipt:
        notification = Notification(
            key=notification_key(self.case_id, purpose),
            case_id=self.case_id,
            audience=audience,
            channel=channel,
            template=template,
            body=body,
        )
        return await run_case_activity(NOTIFY_ACTIVITY, notification, NotificationReceipt)
