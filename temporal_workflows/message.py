"""MessageWorkflow: one per customer message. Classify (activity), decide (here), hand off.

Pure orchestration: no I/O, no clock but `workflow.now()`, imports passed through the sandbox.
The API starts it with update-with-start and receives the routing decision from the
`classification` update, while the category child workflow carries on durably.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from classifier.policy import NEXT_STEPS, decide
    from core.models import (
        CaseIntake,
        CaseRecord,
        CaseRef,
        CaseSnapshot,
        CaseStatus,
        Category,
        ClassificationOutcome,
        ClassifyInput,
        DecisionStep,
        MessageOutcome,
        MessageWorkflowInput,
        Route,
        RoutingDecision,
    )
    from core.names import CLASSIFY_ACTIVITY, RECORD_CASE_ACTIVITY, child_workflow_id
    from temporal_workflows.case_trail import run_case_activity
    from temporal_workflows.categories import CHILD_WORKFLOWS

CLASSIFY_TIMEOUT = timedelta(seconds=30)
# Time a classification may wait for a free LLM slot plus all its attempts.
CLASSIFY_SCHEDULE_TO_CLOSE = timedelta(minutes=10)
CLASSIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=20),
    maximum_attempts=4,
    non_retryable_error_types=["NoLabel"],
)


@workflow.defn
class MessageWorkflow:
    def __init__(self) -> None:
        self._outcome: MessageOutcome | None = None
        self._status = CaseStatus.received

    @workflow.run
    async def run(self, request: MessageWorkflowInput) -> MessageOutcome:
        message = request.message
        received = DecisionStep(
            step="intake",
            actor=f"api:{message.channel.value}",
            observed={"redactions": dict(message.redaction_counts), "chars": len(message.redacted_text)},
            decision="accepted",
            reason="valid message; personal data replaced by typed placeholders before workflow start",
            at=message.received_at,
        )
        try:
            classified: ClassificationOutcome = await workflow.execute_activity(
                CLASSIFY_ACTIVITY,
                ClassifyInput(
                    case_id=message.case_id,
                    redacted_text=message.redacted_text,
                    channel=message.channel,
                ),
                result_type=ClassificationOutcome,
                task_queue=request.llm_task_queue,
                start_to_close_timeout=CLASSIFY_TIMEOUT,
                schedule_to_close_timeout=CLASSIFY_SCHEDULE_TO_CLOSE,
                retry_policy=CLASSIFY_RETRY,
            )
            decision = decide(classified, workflow.now())
        except ActivityError as err:
            decision = _classification_failed(err, workflow.now())

        path = [received, *decision.decision_path]
        child_id = child_workflow_id(message.case_id, decision.route.value)
        self._status = CaseStatus.classified
        self._outcome = MessageOutcome(
            case_id=message.case_id,
            workflow_id=workflow.info().workflow_id,
            category=decision.category,
            confidence=decision.confidence,
            route=decision.route,
            decision_path=path,
            next_step=decision.next_step,
            status=CaseStatus.classified,
            child_workflow_id=child_id,
        )
        # Durable case row and audit trail before the category workflow starts;
        # after the outcome, so the HTTP answer never waits for the database.
        await run_case_activity(
            RECORD_CASE_ACTIVITY,
            CaseIntake(
                record=CaseRecord(
                    case_id=message.case_id,
                    message_id=message.message_id,
                    workflow_id=workflow.info().workflow_id,
                    channel=message.channel,
                    customer_id=message.customer_id,
                    locale=message.locale,
                    redacted_text=message.redacted_text,
                    received_at=message.received_at,
                    status=CaseStatus.classified,
                    category=decision.category,
                    route=decision.route,
                    confidence=decision.confidence,
                ),
                decision_path=path,
            ),
            int,
        )
        final: CaseSnapshot = await workflow.execute_child_workflow(
            CHILD_WORKFLOWS[decision.route].__name__,
            CaseRef(
                case_id=message.case_id,
                message=message,
                decision=decision.model_copy(update={"decision_path": path}),
            ),
            id=child_id,
            result_type=CaseSnapshot,
        )
        self._status = final.status
        self._outcome = self._outcome.model_copy(update={"status": final.status})
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._outcome

    @workflow.update
    async def classification(self) -> MessageOutcome:
        """Returns once the message is routed; the API answers the HTTP request with it."""
        await workflow.wait_condition(lambda: self._outcome is not None)
        assert self._outcome is not None
        return self._outcome

    @workflow.query
    def outcome(self) -> MessageOutcome | None:
        return self._outcome

    @workflow.query
    def status(self) -> CaseStatus:
        return self._status


def _classification_failed(err: ActivityError, now: Any) -> RoutingDecision:
    cause = err.cause
    reason = f"{type(cause).__name__}: {cause}" if cause is not None else str(err)
    step = DecisionStep(
        step="llm_classification",
        actor="classifier",
        observed={"error": reason[:300], "retry_state": str(err.retry_state)},
        decision="failed",
        reason="classification failed after retries: an agent must pick the category",
        at=now,
    )
    return RoutingDecision(
        category=Category.safety_compliance,
        confidence=0.0,
        route=Route.human_triage,
        decision_path=[step],
        next_step=NEXT_STEPS[Route.human_triage],
    )
