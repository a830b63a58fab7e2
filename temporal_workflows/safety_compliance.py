"""SafetyComplianceWorkflow: open the adverse-event report and hold it for a human decision.

The pharmacovigilance assessment (minimum criteria, seriousness, regulatory due date) runs in an
activity; this workflow only keeps the clock: a reminder to the safety team, escalation to a
supervisor when the review deadline passes, and nothing is submitted without a reviewer's
`confirm`. Decisions arrive through the `decide` update, whose validator rejects stale rounds and
duplicates, so the API can answer 409 instead of silently dropping them.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta, timezone

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.models import (
        AdverseEventIntake,
        AdverseEventReport,
        AdverseEventStatus,
        CaseRef,
        CaseSnapshot,
        CaseStatus,
        Category,
        Route,
        SafetyDecision,
        SafetyDecisionRecord,
        SafetySubmission,
        SafetySubmissionReceipt,
    )
    from core.names import (
        OPEN_ADVERSE_EVENT_REPORT_ACTIVITY,
        RECORD_SAFETY_DECISION_ACTIVITY,
        SUBMIT_TO_SAFETY_DATABASE_ACTIVITY,
        rerouted_workflow_id,
    )
    from temporal_workflows.case_trail import CaseTrail, run_case_activity
    from temporal_workflows.informational import InformationalWorkflow
    from temporal_workflows.safety_clock import ReviewClock, review_deadline, set_priority
    from temporal_workflows.service_action import ServiceActionWorkflow

REROUTE_WORKFLOWS: dict[Category, type] = {
    Category.informational: InformationalWorkflow,
    Category.service_action: ServiceActionWorkflow,
}

# Reminders and a supervisor deadline in every review round; priority and due date in the queue.
SAFETY_CLOCK_PATCH = "safety-review-clock-every-round"

REPORT_STATUS_FOR_DECISION: dict[str, AdverseEventStatus] = {
    "confirm": "confirmed",
    "escalate": "escalated",
    "not_a_safety_case": "rejected",
}


class DecisionRejectedError(ValueError):
    """A decision that does not fit the review's current state (stale, duplicate, incomplete)."""


@workflow.defn
class SafetyComplianceWorkflow:
    def __init__(self) -> None:
        self._trail: CaseTrail | None = None
        self._review_round = 1
        self._pending: SafetyDecision | None = None
        self._final_decision: SafetyDecision | None = None

    @workflow.run
    async def run(self, case: CaseRef) -> CaseSnapshot:
        trail = self._trail = CaseTrail(
            case.case_id, "safety_compliance", CaseStatus.awaiting_safety_review, Category.safety_compliance
        )
        report = await run_case_activity(
            OPEN_ADVERSE_EVENT_REPORT_ACTIVITY,
            AdverseEventIntake(
                case_id=case.case_id,
                redacted_text=case.message.redacted_text,
                day_zero=case.message.received_at,
                customer_id=case.message.customer_id,
            ),
            AdverseEventReport,
        )
        assessment = {
            "report_id": report.report_id,
            "day_zero": report.day_zero.isoformat(),
            "criteria_present": report.criteria_present,
            "criteria_missing": report.criteria_missing,
            "seriousness": report.seriousness,
            "serious": report.serious,
            "regulatory_due_date": report.regulatory_due_date.isoformat(),
        }
        trail.note(**assessment, review_round=self._review_round)
        await trail.audit(
            "adverse_event_assessment",
            "serious" if report.serious else "non_serious",
            "report opened; minimum criteria and seriousness assessed",
            assessment,
        )
        await trail.set_status(CaseStatus.awaiting_safety_review, f"report {report.report_id} awaits review")
        await self._announce_round(trail, report)
        if workflow.patched(SAFETY_CLOCK_PATCH):
            await self._review_on_clock(case, trail, report)
        else:
            await self._review_without_round_deadlines(case, trail, report)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return trail.snapshot

    async def _review_on_clock(self, case: CaseRef, trail: CaseTrail, report: AdverseEventReport) -> None:
        """Every review round gets reminders and a supervisor deadline; the queue shows the due date."""
        due_date = report.regulatory_due_date
        deadline_at = review_deadline(workflow.now(), case.timers.review_deadline, due_date)
        trail.note(review_deadline_at=deadline_at.isoformat())
        await set_priority(trail, due_date, deadline_at)

        async def overdue() -> None:
            await trail.set_status(CaseStatus.escalated, "review deadline passed without a decision")

        clock = ReviewClock(
            trail,
            name="safety_review",
            audience="safety_team",
            reminder_every=case.timers.review_reminder,
            deadline_at=deadline_at,
            describe=lambda: f"Report {report.report_id} (due {due_date})",
            on_deadline=overdue,
        )
        while True:
            await clock.wait(lambda: self._pending is not None)
            decision = self._pending
            assert decision is not None
            finished = await self._apply(case, trail, report, decision)
            self._pending = None
            if finished:
                return
            deadline_at = review_deadline(workflow.now(), case.timers.review_deadline, due_date)
            clock.new_round(self._review_round, deadline_at)
            trail.note(review_deadline_at=deadline_at.isoformat())
            await set_priority(trail, due_date, deadline_at)

    async def _review_without_round_deadlines(
        self, case: CaseRef, trail: CaseTrail, report: AdverseEventReport
    ) -> None:
        """Before SAFETY_CLOCK_PATCH: one deadline per case, one reminder per round (replay only)."""
        # Escalate after the review deadline, and in any case the day before the regulatory due date.
        due_eve = datetime.combine(
            report.regulatory_due_date - timedelta(days=1), time(), tzinfo=timezone.utc
        )
        deadline_at = min(workflow.now() + case.timers.review_deadline, due_eve)
        trail.note(review_deadline_at=deadline_at.isoformat())
        reminder_at = workflow.now() + case.timers.review_reminder
        reminded = deadline_passed = False
        while True:
            timers = [
                at for at, done in ((reminder_at, reminded), (deadline_at, deadline_passed)) if not done
            ]
            timeout = min(timers) - workflow.now() if timers else None
            try:
                if timeout is not None and timeout <= timedelta(0):
                    raise asyncio.TimeoutError
                await workflow.wait_condition(lambda: self._pending is not None, timeout=timeout)
            except asyncio.TimeoutError:
                now = workflow.now()
                if not reminded and now >= reminder_at:
                    reminded = True
                    await trail.notify(
                        f"review_reminder:{self._review_round}",
                        "safety_team",
                        "safety_review_reminder",
                        f"Report {report.report_id} still awaits a decision "
                        f"(due {report.regulatory_due_date}).",
                    )
                    await trail.audit("review_reminder", "reminded", "no decision within the reminder period")
                if not deadline_passed and now >= deadline_at:
                    deadline_passed = True
                    await trail.set_status(CaseStatus.escalated, "review deadline passed without a decision")
                    await trail.notify(
                        "review_deadline",
                        "supervisor",
                        "safety_review_overdue",
                        f"Report {report.report_id} passed its review deadline "
                        f"(due {report.regulatory_due_date}).",
                    )
                continue
            decision = self._pending
            assert decision is not None
            finished = await self._apply(case, trail, report, decision)
            self._pending = None
            if finished:
                break
            # A new round gets its own reminder period.
            reminder_at, reminded = workflow.now() + case.timers.review_reminder, False

    async def _announce_round(self, trail: CaseTrail, report: AdverseEventReport) -> None:
        await trail.notify(
            f"review_requested:{self._review_round}",
            "safety_team",
            "safety_review_requested",
            f"Adverse-event report {report.report_id} (round {self._review_round}) awaits review; "
            f"regulatory due date {report.regulatory_due_date}.",
        )

    async def _apply(
        self, case: CaseRef, trail: CaseTrail, report: AdverseEventReport, decision: SafetyDecision
    ) -> bool:
        """Carry out a reviewer's decision; True when the safety workflow is done."""
        await run_case_activity(
            RECORD_SAFETY_DECISION_ACTIVITY,
            SafetyDecisionRecord(
                case_id=case.case_id,
                status=REPORT_STATUS_FOR_DECISION[decision.decision],
                reviewer=decision.reviewer,
                reason=decision.reason,
            ),
            AdverseEventReport,
        )
        await trail.audit(
            "safety_decision",
            decision.decision,
            decision.reason,
            {"review_round": decision.review_round, "reroute_to": decision.reroute_to},
            actor=f"reviewer:{decision.reviewer}",
        )
        if decision.decision == "confirm":
            receipt = await run_case_activity(
                SUBMIT_TO_SAFETY_DATABASE_ACTIVITY,
                SafetySubmission(
                    case_id=case.case_id,
                    report_id=report.report_id,
                    reviewer=decision.reviewer,
                    reason=decision.reason,
                ),
                SafetySubmissionReceipt,
            )
            trail.note(safety_db_reference=receipt.reference, submitted_at=receipt.submitted_at.isoformat())
            await trail.set_status(
                CaseStatus.submitted, f"submitted to the safety database as {receipt.reference}"
            )
            await trail.set_status(CaseStatus.closed, "report submitted")
            return True
        if decision.decision == "escalate":
            self._review_round += 1
            trail.note(review_round=self._review_round)
            await trail.set_status(
                CaseStatus.escalated, f"escalated by {decision.reviewer}; new review round"
            )
            await trail.notify(
                f"review_escalated:{self._review_round}",
                "supervisor",
                "safety_review_escalated",
                f"Report {report.report_id} was escalated for review round {self._review_round}.",
            )
            await self._announce_round(trail, report)
            return False
        target = decision.reroute_to
        assert target is not None  # enforced by the validator
        child_id = rerouted_workflow_id(case.case_id, target.value)
        routing = case.decision.model_copy(update={"category": target, "route": Route(target.value)})
        await workflow.start_child_workflow(
            REROUTE_WORKFLOWS[target].__name__,
            CaseRef(case_id=case.case_id, message=case.message, decision=routing, timers=case.timers),
            id=child_id,
            result_type=CaseSnapshot,
            # The rerouted case lives on after this safety workflow has closed.
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        trail.note(next_workflow_id=child_id, rerouted_to=target.value)
        # The rerouted workflow owns the stored status from here on.
        await trail.set_status(
            CaseStatus.closed, f"not a safety case; rerouted to {target.value}", persist=False
        )
        return True

    def _check(self, decision: SafetyDecision) -> None:
        if self._final_decision is not None:
            raise DecisionRejectedError(f"the case was already decided ({self._final_decision.decision})")
        if self._pending is not None:
            raise DecisionRejectedError(
                f"a decision for round {self._review_round} is already being processed"
            )
        if decision.review_round != self._review_round:
            raise DecisionRejectedError(
                f"stale decision for review round {decision.review_round}; "
                f"the current round is {self._review_round}"
            )
        if decision.decision == "not_a_safety_case" and decision.reroute_to not in REROUTE_WORKFLOWS:
            raise DecisionRejectedError("not_a_safety_case needs reroute_to: informational or service_action")

    def _accept(self, decision: SafetyDecision) -> None:
        self._pending = decision
        if decision.decision != "escalate":
            self._final_decision = decision

    @workflow.update
    async def decide(self, decision: SafetyDecision) -> CaseSnapshot:
        """Accept a reviewer's decision; returns the case once the decision has been carried out."""
        self._accept(decision)
        await workflow.wait_condition(lambda: self._pending is not decision)
        assert self._trail is not None
        return self._trail.snapshot

    @decide.validator
    def _validate_decide(self, decision: SafetyDecision) -> None:
        self._check(decision)

    @workflow.signal
    def decision_signal(self, decision: SafetyDecision) -> None:
        """Fire-and-forget variant for callers that cannot wait; invalid decisions are dropped."""
        try:
            self._check(decision)
        except DecisionRejectedError as error:
            workflow.logger.warning("safety decision ignored: %s", error)
            return
        self._accept(decision)

    @workflow.query
    def state(self) -> CaseSnapshot | None:
        return None if self._trail is None else self._trail.snapshot
