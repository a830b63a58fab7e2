"""Case activities: thin adapters between the category workflows and the ports.

Every write is idempotent on a key the workflow derives deterministically (case id + step +
sequence, or case id + purpose), so a retry after a worker crash never writes twice. Anything
rule-based that may change over time (knowledge-base scoring, request extraction, the
pharmacovigilance assessment) runs here rather than in workflow code, so changing it cannot
break the replay of running workflows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import activity

from activities.case_metrics import observe_agent_decision, observe_recorded_case
from adapters.knowledge_base import KnowledgeBase
from adapters.ports import (
    CaseStore,
    InvalidTransitionError,
    NotificationPort,
    SafetyDatabasePort,
    TicketingPort,
    case_scoped_id,
)
from core.logging import get_logger
from core.models import (
    AdverseEventIntake,
    AdverseEventReport,
    AuditEntry,
    CaseIntake,
    CasePriorityChange,
    CaseStatusChange,
    KnowledgeAnswer,
    KnowledgeQuery,
    Notification,
    NotificationReceipt,
    SafetyDecisionRecord,
    SafetySubmission,
    SafetySubmissionReceipt,
    ServiceRequestDetails,
    ServiceRequestQuery,
    Ticket,
    TicketChange,
    TicketRequest,
)
from core.names import (
    ANSWER_FROM_KB_ACTIVITY,
    APPEND_AUDIT_ACTIVITY,
    APPLY_TICKET_CHANGE_ACTIVITY,
    CREATE_TICKET_ACTIVITY,
    EXTRACT_SERVICE_REQUEST_ACTIVITY,
    NOTIFY_ACTIVITY,
    OPEN_ADVERSE_EVENT_REPORT_ACTIVITY,
    RECORD_CASE_ACTIVITY,
    RECORD_SAFETY_DECISION_ACTIVITY,
    SET_CASE_PRIORITY_ACTIVITY,
    SET_CASE_STATUS_ACTIVITY,
    SUBMIT_TO_SAFETY_DATABASE_ACTIVITY,
    audit_key,
)
from core.pharmacovigilance import assess_report
from core.service_requests import extract_service_request

log = get_logger(__name__)


class CaseActivities:
    def __init__(
        self,
        case_store: CaseStore,
        ticketing: TicketingPort,
        safety_db: SafetyDatabasePort,
        notifications: NotificationPort,
        knowledge_base: KnowledgeBase,
        answer_wait: timedelta = timedelta(seconds=30),
    ) -> None:
        # The API's classification wait: decides whether a recorded case was answered 200 or 202.
        self._answer_wait = answer_wait
        self._cases = case_store
        self._ticketing = ticketing
        self._safety_db = safety_db
        self._notifications = notifications
        self._knowledge_base = knowledge_base

    def definitions(self) -> list[Callable[..., Any]]:
        """Everything to register on the workflow worker."""
        return [
            self.record_case,
            self.append_audit,
            self.set_case_status,
            self.answer_from_knowledge_base,
            self.extract_service_request,
            self.create_ticket,
            self.apply_ticket_change,
            self.open_adverse_event_report,
            self.record_safety_decision,
            self.submit_to_safety_database,
            self.notify,
            self.set_case_priority,
        ]

    @activity.defn(name=RECORD_CASE_ACTIVITY)
    async def record_case(self, intake: CaseIntake) -> int:
        """Save the case and its decision path; returns how many audit lines were new."""
        record = intake.record
        await self._cases.save_case(record)
        written = 0
        for sequence, step in enumerate(intake.decision_path, start=1):
            entry = AuditEntry(
                case_id=record.case_id,
                key=audit_key(record.case_id, step.step, sequence),
                step=step.step,
                actor=step.actor,
                decision=step.decision[:200],
                reason=step.reason,
                observed=step.observed,
                at=step.at,
            )
            written += await self._cases.append_audit(entry)
        if written:  # first time this case is recorded: count it once
            observe_recorded_case(intake, self._answer_wait)
        log.info("case_recorded", case_id=record.case_id, status=record.status.value, new_audit_lines=written)
        return written

    @activity.defn(name=APPEND_AUDIT_ACTIVITY)
    async def append_audit(self, entry: AuditEntry) -> bool:
        written = await self._cases.append_audit(entry)
        if written:
            await observe_agent_decision(entry, self._cases)
        return written

    @activity.defn(name=SET_CASE_STATUS_ACTIVITY)
    async def set_case_status(self, change: CaseStatusChange) -> None:
        await self._cases.set_status(
            change.case_id, change.status, category=change.category, route=change.route
        )

    @activity.defn(name=SET_CASE_PRIORITY_ACTIVITY)
    async def set_case_priority(self, change: CasePriorityChange) -> None:
        await self._cases.set_priority(change)

    @activity.defn(name=ANSWER_FROM_KB_ACTIVITY)
    async def answer_from_knowledge_base(self, query: KnowledgeQuery) -> KnowledgeAnswer:
        matches = self._knowledge_base.search(query.redacted_text, limit=1)
        version = self._knowledge_base.version
        if not matches:
            return KnowledgeAnswer(knowledge_base_version=version)
        best = matches[0]
        return KnowledgeAnswer(
            article_id=best.article_id,
            article_version=best.article_version,
            title=best.title,
            score=best.score,
            answer=best.answer,
            knowledge_base_version=version,
        )

    @activity.defn(name=EXTRACT_SERVICE_REQUEST_ACTIVITY)
    async def extract_service_request(self, query: ServiceRequestQuery) -> ServiceRequestDetails:
        request = extract_service_request(query.redacted_text)
        return ServiceRequestDetails(
            kind=request.kind.value,
            order_numbers=list(request.order_numbers),
            prescription_numbers=list(request.prescription_numbers),
            ticket_numbers=list(request.ticket_numbers),
            evidence=request.evidence,
        )

    @activity.defn(name=CREATE_TICKET_ACTIVITY)
    async def create_ticket(self, request: TicketRequest) -> Ticket:
        return await self._ticketing.create_ticket(request)

    @activity.defn(name=APPLY_TICKET_CHANGE_ACTIVITY)
    async def apply_ticket_change(self, change: TicketChange) -> Ticket:
        return await self._ticketing.apply_change(change)

    @activity.defn(name=OPEN_ADVERSE_EVENT_REPORT_ACTIVITY)
    async def open_adverse_event_report(self, intake: AdverseEventIntake) -> AdverseEventReport:
        assessment = assess_report(
            intake.redacted_text, intake.day_zero, reporter_known=intake.customer_id is not None
        )
        report = AdverseEventReport(
            report_id=case_scoped_id("AER", intake.case_id),
            case_id=intake.case_id,
            day_zero=assessment.day_zero,
            criteria_present=assessment.criteria_present,
            criteria_missing=assessment.criteria_missing,
            seriousness=assessment.seriousness,
            serious=assessment.serious,
            regulatory_due_date=assessment.regulatory_due_date,
        )
        # A retry returns the report the first attempt opened, even if the rules changed since.
        return await self._safety_db.open_report(report)

    @activity.defn(name=RECORD_SAFETY_DECISION_ACTIVITY)
    async def record_safety_decision(self, record: SafetyDecisionRecord) -> AdverseEventReport:
        try:
            return await self._safety_db.record_decision(
                record.case_id, record.status, record.reviewer, record.reason
            )
        except InvalidTransitionError:
            # As a local activity this runs again when its workflow task is retried (a worker
            # crash, an update or signal arriving as the workflow completes), possibly after the
            # submission the confirm led to. That confirm is the decision already carried out,
            # not a new one: failing here would fail the safety workflow of a submitted case.
            current = await self._safety_db.get_report(record.case_id)
            if current is None or not _already_recorded(current, record):
                raise
            log.info("safety_decision_already_recorded", case_id=record.case_id)
            return current

    @activity.defn(name=SUBMIT_TO_SAFETY_DATABASE_ACTIVITY)
    async def submit_to_safety_database(self, submission: SafetySubmission) -> SafetySubmissionReceipt:
        return await self._safety_db.submit(submission)

    @activity.defn(name=NOTIFY_ACTIVITY)
    async def notify(self, notification: Notification) -> NotificationReceipt:
        return await self._notifications.send(notification)


def _already_recorded(report: AdverseEventReport, record: SafetyDecisionRecord) -> bool:
    """The submitted report carries exactly this confirm (same reviewer, same reason)."""
    return (
        record.status == "confirmed"
        and report.status == "submitted"
        and report.reviewer == record.reviewer
        and report.decision_reason == record.reason
    )
