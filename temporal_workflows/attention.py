"""A case whose category workflow failed becomes `needs_attention`, never a silently failed parent.

Pure workflow code. The failure is almost always a port refusing a write that no retry can fix
(`RecordNotFoundError`, `ConflictingRecordError`, `InvalidTransitionError`: the non-retryable
types of `case_trail.CASE_ACTIVITY_RETRY`). The case row, the audit trail, a supervisor
notification and the worker's `case_needs_attention` counter all say so; each write is best
effort, because the very store that refused the first write may refuse these too.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError, FailureError

with workflow.unsafe.imports_passed_through():
    from core.models import (
        AuditEntry,
        CaseSnapshot,
        CaseStatus,
        CaseStatusChange,
        Notification,
        NotificationReceipt,
    )
    from core.names import (
        APPEND_AUDIT_ACTIVITY,
        NOTIFY_ACTIVITY,
        SET_CASE_STATUS_ACTIVITY,
        audit_key,
        notification_key,
    )
    from temporal_workflows.case_trail import run_case_activity


# Informational and service-action workflows record their own unfixable failures (they may run
# with no parent: rerouted by a safety reviewer); runs started before it fail as they did.
OWN_FAILURE_PATCH = "category-records-own-failure"


def failure_type(error: BaseException) -> str:
    """The innermost error type: e.g. `RecordNotFoundError` under ChildWorkflowError/ActivityError."""
    found = type(error).__name__
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, ApplicationError) and current.type:
            found = current.type
        elif not isinstance(current, (ChildWorkflowError, ActivityError)):
            found = type(current).__name__
        current = current.cause if isinstance(current, FailureError) else None
    return found


def _innermost_message(error: BaseException) -> str:
    current: BaseException = error
    while isinstance(current, FailureError) and current.cause is not None:
        current = current.cause
    return str(current)[:500]


async def record_needs_attention(case_id: str, workflow_name: str, error: BaseException) -> CaseSnapshot:
    error_type = failure_type(error)
    detail = {"error_type": error_type, "error": _innermost_message(error), "failed_workflow": workflow_name}
    workflow.logger.error("case needs attention: %s in %s", error_type, workflow_name)
    workflow.metric_meter().create_counter(
        "case_needs_attention", "cases whose workflow hit an error no retry can fix"
    ).add(1, {"error_type": error_type, "workflow": workflow_name})
    writes: list[tuple[str, object, type[Any]]] = [
        (
            SET_CASE_STATUS_ACTIVITY,
            CaseStatusChange(case_id=case_id, status=CaseStatus.needs_attention),
            type(None),
        ),
        (
            APPEND_AUDIT_ACTIVITY,
            AuditEntry(
                case_id=case_id,
                key=audit_key(case_id, "message.needs_attention", 1),
                step="needs_attention",
                actor="workflow:message",
                decision=error_type[:200],
                reason=f"{workflow_name} failed with an error no retry can fix; an operator must act",
                observed=detail,
                at=workflow.now(),
            ),
            bool,
        ),
        (
            NOTIFY_ACTIVITY,
            Notification(
                key=notification_key(case_id, "needs_attention"),
                case_id=case_id,
                audience="supervisor",
                channel="internal",
                template="case_needs_attention",
                body=f"Case {case_id} needs attention: {workflow_name} failed with {error_type}.",
            ),
            NotificationReceipt,
        ),
    ]
    for name, argument, result_type in writes:
        try:
            await run_case_activity(name, argument, result_type)
        # A local activity's non-retryable error arrives as the ApplicationError itself; runs
        # started before the patch failed on it, and replay keeps that.
        except (ActivityError, ApplicationError) as write_error:
            if not isinstance(write_error, ActivityError) and not workflow.patched(OWN_FAILURE_PATCH):
                raise
            workflow.logger.error("needs_attention write %s failed: %s", name, failure_type(write_error))
    return CaseSnapshot(case_id=case_id, workflow="message", status=CaseStatus.needs_attention, detail=detail)
