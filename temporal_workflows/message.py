"""MessageWorkflow: one per customer message. Classify (activity), decide (policy), hand off.

Pure orchestration: no I/O, no clock but `workflow.now()`, imports passed through the sandbox.
The API starts it with update-with-start and receives the routing decision from the
`classification` update, while the category child workflow carries on durably.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ChildWorkflowError
from temporalio.workflow import ActivityHandle

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
        GuardCheckInput,
        GuardCheckOutcome,
        InboundMessage,
        MessageOutcome,
        MessageWorkflowInput,
        ReclassifyRequest,
        Route,
        RouteRequest,
        RoutingDecision,
    )
    from core.names import (
        CHECK_SAFETY_GUARD_ACTIVITY,
        CLASSIFY_ACTIVITY,
        DECIDE_ROUTE_ACTIVITY,
        RECORD_CASE_ACTIVITY,
        child_workflow_id,
    )
    from temporal_workflows.attention import record_needs_attention
    from temporal_workflows.case_trail import CASE_ACTIVITY_RETRY, CASE_ACTIVITY_TIMEOUT, run_case_activity
    from temporal_workflows.categories import CHILD_WORKFLOWS

CLASSIFY_TIMEOUT = timedelta(seconds=30)
# The classify activity heartbeats while the LLM call runs: a worker killed mid-call is noticed
# (and the attempt retried) after this long instead of CLASSIFY_TIMEOUT. Activity options are not
# compared on replay, so this needs no patch (tests/workflows/test_replay.py).
CLASSIFY_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
# Time a classification may wait for a free LLM slot plus all its attempts.
CLASSIFY_SCHEDULE_TO_CLOSE = timedelta(minutes=10)
# Patches (docs/workflows.md, Versioning): runs started before them replay the old branch.
DURABLE_CLASSIFICATION_PATCH = "durable-classification"
NEEDS_ATTENTION_PATCH = "needs-attention-on-child-failure"
# The update's result (the API's answer) leaves with the workflow task that completes it, and a
# local activity holds that task open until it finishes: the classified case is therefore written
# by a normal activity, scheduled in the same task as the answer (docs/performance.md).
ANSWER_BEFORE_RECORD_PATCH = "answer-before-record"
# An operator may send a case still waiting for the LLM pool to human triage (reclassify with
# to_triage). Only runs that receive such a signal take the branch, and record this marker.
MANUAL_TRIAGE_PATCH = "manual-triage"
# How long a message may wait for the LLM pool before it is stored as awaiting_classification
# and the guard runs alone (a safety signal then goes to safety review without the model).
CLASSIFY_PATIENCE = timedelta(minutes=2)
# Retryable failures are retried until the pool answers; the interval caps how long a case waits
# after the pool is back (plus the queue), an operator's reclassify starts an attempt at once.
CLASSIFY_DURABLE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=0,
    non_retryable_error_types=["NoLabel"],
)
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
        self._reclassify_requests: list[ReclassifyRequest] = []

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
        if workflow.patched(DURABLE_CLASSIFICATION_PATCH):
            decision, waited = await self._classify_durably(request, received)
            path = [received, *waited, *decision.decision_path]
        else:
            decision = await self._classify_within_ten_minutes(request)
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
        try:
            await _record(
                request,
                path,
                CaseStatus.classified,
                decision,
                after_answer=workflow.patched(ANSWER_BEFORE_RECORD_PATCH),
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
        except (ActivityError, ChildWorkflowError) as err:
            # A write no retry can fix (or a failed category workflow) becomes a visible case state.
            if not workflow.patched(NEEDS_ATTENTION_PATCH):
                raise
            final = await record_needs_attention(
                message.case_id, CHILD_WORKFLOWS[decision.route].__name__, err
            )
        self._status = final.status
        self._outcome = self._outcome.model_copy(update={"status": final.status})
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._outcome

    async def _classify_within_ten_minutes(self, request: MessageWorkflowInput) -> RoutingDecision:
        """Before DURABLE_CLASSIFICATION_PATCH (replay only): after 10 minutes a failure goes to triage."""
        message = request.message
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
                heartbeat_timeout=CLASSIFY_HEARTBEAT_TIMEOUT,
                schedule_to_close_timeout=CLASSIFY_SCHEDULE_TO_CLOSE,
                retry_policy=CLASSIFY_RETRY,
            )
            return decide(classified, workflow.now())
        except ActivityError as err:
            return _classification_failed(err, workflow.now())

    async def _classify_durably(
        self, request: MessageWorkflowInput, received: DecisionStep
    ) -> tuple[RoutingDecision, list[DecisionStep]]:
        """Classify, waiting as long as the LLM pool needs; returns the decision and the wait steps.

        A retryable failure (pool down, saturated, backend errors) never ends the wait: the
        attempts go on with backoff until the pool answers. After CLASSIFY_PATIENCE the case is
        stored as `awaiting_classification` and the guard runs without the LLM: a safety signal
        goes to safety review at once. Only a permanent error (e.g. NoLabel) goes to triage.
        """
        message = request.message
        classify = ClassifyInput(
            case_id=message.case_id, redacted_text=message.redacted_text, channel=message.channel
        )
        attempt = _start_classification(classify, request.llm_task_queue)
        waited: list[DecisionStep] = []
        with contextlib.suppress(asyncio.TimeoutError):
            await workflow.wait_condition(
                lambda: attempt.done() or bool(self._reclassify_requests), timeout=CLASSIFY_PATIENCE
            )
        if not attempt.done() and not self._reclassify_requests:
            guard = await _guard_without_llm(message)
            if guard is not None and guard.guard.raise_to_safety:
                await _abandon(attempt)
                return _guard_only_decision(guard, workflow.now()), waited
            waited.append(_waiting_step(guard, workflow.now()))
            self._status = CaseStatus.awaiting_classification
            await _record(request, [received, *waited], CaseStatus.awaiting_classification, None)
        while not attempt.done():
            await workflow.wait_condition(partial(self._settled_or_asked, attempt))
            if attempt.done():
                break
            asked = self._reclassify_requests.pop(0)
            await _abandon(attempt)
            waited.append(_reclassify_step(asked, workflow.now()))
            if asked.to_triage and workflow.patched(MANUAL_TRIAGE_PATCH):
                # People take over while the pool is away: triage with the safety clock running.
                return _manual_triage_decision(asked, workflow.now()), waited
            attempt = _start_classification(classify, request.llm_task_queue)
        try:
            classified = await attempt
        except ActivityError as err:
            return _classification_failed(err, workflow.now()), waited
        decision: RoutingDecision = await workflow.execute_local_activity(
            DECIDE_ROUTE_ACTIVITY,
            RouteRequest(outcome=classified, decided_at=workflow.now()),
            result_type=RoutingDecision,
            start_to_close_timeout=timedelta(seconds=10),
        )
        return decision, waited

    def _settled_or_asked(self, attempt: ActivityHandle[ClassificationOutcome]) -> bool:
        return attempt.done() or bool(self._reclassify_requests)

    @workflow.signal
    def reclassify(self, request: ReclassifyRequest) -> None:
        """An operator asks for a fresh classification attempt now (ignored once classified)."""
        if self._outcome is None:
            self._reclassify_requests.append(request)

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


def _start_classification(
    classify: ClassifyInput, llm_task_queue: str
) -> ActivityHandle[ClassificationOutcome]:
    return workflow.start_activity(
        CLASSIFY_ACTIVITY,
        classify,
        result_type=ClassificationOutcome,
        task_queue=llm_task_queue,
        start_to_close_timeout=CLASSIFY_TIMEOUT,
        heartbeat_timeout=CLASSIFY_HEARTBEAT_TIMEOUT,
        # No schedule-to-close: the task waits in the LLM queue for as long as the pool is away.
        retry_policy=CLASSIFY_DURABLE_RETRY,
        cancellation_type=workflow.ActivityCancellationType.TRY_CANCEL,
    )


async def _abandon(attempt: ActivityHandle[ClassificationOutcome]) -> None:
    attempt.cancel()
    with contextlib.suppress(ActivityError, asyncio.CancelledError):
        await attempt


async def _guard_without_llm(message: InboundMessage) -> GuardCheckOutcome | None:
    try:
        outcome: GuardCheckOutcome = await workflow.execute_activity(
            CHECK_SAFETY_GUARD_ACTIVITY,
            GuardCheckInput(case_id=message.case_id, redacted_text=message.redacted_text),
            result_type=GuardCheckOutcome,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
    except ActivityError:
        return None  # the LLM pipeline runs the guard again once the pool answers
    return outcome


async def _record(
    request: MessageWorkflowInput,
    path: list[DecisionStep],
    status: CaseStatus,
    decision: RoutingDecision | None,
    *,
    after_answer: bool = False,
) -> None:
    message = request.message
    intake = CaseIntake(
        record=CaseRecord(
            case_id=message.case_id,
            message_id=message.message_id,
            workflow_id=workflow.info().workflow_id,
            channel=message.channel,
            customer_id=message.customer_id,
            locale=message.locale,
            redacted_text=message.redacted_text,
            received_at=message.received_at,
            status=status,
            category=None if decision is None else decision.category,
            route=None if decision is None else decision.route,
            confidence=None if decision is None else decision.confidence,
        ),
        decision_path=path,
    )
    if after_answer:
        await workflow.execute_activity(
            RECORD_CASE_ACTIVITY,
            intake,
            result_type=int,
            start_to_close_timeout=CASE_ACTIVITY_TIMEOUT,
            retry_policy=CASE_ACTIVITY_RETRY,
        )
        return
    await run_case_activity(RECORD_CASE_ACTIVITY, intake, int)


def _guard_findings(guard: GuardCheckOutcome) -> dict[str, Any]:
    return {
        "findings": [f.model_dump() for f in guard.guard.findings],
        "suppressed": [f.model_dump() for f in guard.guard.suppressed],
    }


def _guard_only_decision(guard: GuardCheckOutcome, now: datetime) -> RoutingDecision:
    steps = [
        DecisionStep(
            step="llm_classification",
            actor="classifier",
            observed={"waited_seconds": CLASSIFY_PATIENCE.total_seconds()},
            decision="unavailable",
            reason="the LLM pool did not answer in time; the guard decides alone meanwhile",
            at=now,
        ),
        DecisionStep(
            step="safety_guard_only",
            actor=f"safety_guard:{guard.guard_version}",
            observed=_guard_findings(guard),
            decision="raise_to_safety",
            reason="experienced-harm signal found: safety review without waiting for the model",
            at=now,
        ),
    ]
    return RoutingDecision(
        category=Category.safety_compliance,
        confidence=0.0,
        route=Route.safety_compliance,
        decision_path=steps,
        next_step=NEXT_STEPS[Route.safety_compliance],
    )


def _waiting_step(guard: GuardCheckOutcome | None, now: datetime) -> DecisionStep:
    observed: dict[str, Any] = {"waited_seconds": CLASSIFY_PATIENCE.total_seconds()}
    if guard is not None:
        observed.update(_guard_findings(guard), guard_version=guard.guard_version)
    return DecisionStep(
        step="classification_waiting",
        actor="workflow:message",
        observed=observed,
        decision=CaseStatus.awaiting_classification.value,
        reason=(
            "the LLM pool is down or saturated and the guard found no signal: the case waits and "
            "is classified when capacity returns"
            if guard is not None
            else "the LLM pool is down or saturated and the guard could not run: the case waits"
        ),
        at=now,
    )


def _reclassify_step(asked: ReclassifyRequest, now: datetime) -> DecisionStep:
    return DecisionStep(
        step="reclassify_requested",
        actor=f"operator:{asked.requested_by}",
        observed={},
        decision="to_triage" if asked.to_triage else "new_attempt",
        reason=asked.reason
        or (
            "operator sent the case to human triage without the model"
            if asked.to_triage
            else "operator asked for a new classification attempt"
        ),
        at=now,
    )


def _manual_triage_decision(asked: ReclassifyRequest, now: datetime) -> RoutingDecision:
    """Unclassified, so possibly a safety case: triage treats it as one (the safety clock runs)."""
    step = DecisionStep(
        step="llm_classification",
        actor=f"operator:{asked.requested_by}",
        observed={},
        decision="skipped",
        reason="sent to human triage while the LLM pool was unavailable: an agent picks the category",
        at=now,
    )
    return _to_people(step)


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
    return _to_people(step)


def _to_people(step: DecisionStep) -> RoutingDecision:
    """Human triage without a model verdict: treated as possibly safety until an agent decides."""
    return RoutingDecision(
        category=Category.safety_compliance,
        confidence=0.0,
        route=Route.human_triage,
        decision_path=[step],
        next_step=NEXT_STEPS[Route.human_triage],
    )
