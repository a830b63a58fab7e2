"""In-memory stand-ins for `activities.cases.CaseActivities`, registered under the same names.

They take and return the same payload models, so a workflow test exercises the real wire format,
and they record every call so tests can assert what the workflow asked the outside world to do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

from temporalio import activity

from core.models import (
    AdverseEventIntake,
    AdverseEventReport,
    AuditEntry,
    CaseIntake,
    CasePriorityChange,
    CaseStatus,
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
)

FIXED_NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


class FakeCaseActivities:
    def __init__(self, kb_score: float = 0.7, serious: bool = True) -> None:
        self.kb_score = kb_score
        self.serious = serious
        self.calls: list[tuple[str, Any]] = []
        self.statuses: list[CaseStatus] = []
        self.notifications: list[Notification] = []
        self.ticket_changes: list[TicketChange] = []
        self.audit: list[AuditEntry] = []
        self.priorities: list[CasePriorityChange] = []
        self.notified_at: list[datetime] = []
        # Raise this (e.g. a non-retryable ApplicationError) from the next create_ticket call.
        self.ticket_error: BaseException | None = None

    def definitions(self) -> list[Callable[..., Any]]:
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

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def templates(self) -> list[str]:
        return [n.template for n in self.notifications]

    @activity.defn(name=RECORD_CASE_ACTIVITY)
    async def record_case(self, intake: CaseIntake) -> int:
        self.calls.append((RECORD_CASE_ACTIVITY, intake))
        return len(intake.decision_path)

    @activity.defn(name=APPEND_AUDIT_ACTIVITY)
    async def append_audit(self, entry: AuditEntry) -> bool:
        self.calls.append((APPEND_AUDIT_ACTIVITY, entry))
        self.audit.append(entry)
        return True

    @activity.defn(name=SET_CASE_STATUS_ACTIVITY)
    async def set_case_status(self, change: CaseStatusChange) -> None:
        self.calls.append((SET_CASE_STATUS_ACTIVITY, change))
        self.statuses.append(change.status)

    @activity.defn(name=SET_CASE_PRIORITY_ACTIVITY)
    async def set_case_priority(self, change: CasePriorityChange) -> None:
        self.calls.append((SET_CASE_PRIORITY_ACTIVITY, change))
        self.priorities.append(change)

    @activity.defn(name=ANSWER_FROM_KB_ACTIVITY)
    async def answer_from_knowledge_base(self, query: KnowledgeQuery) -> KnowledgeAnswer:
        self.calls.append((ANSWER_FROM_KB_ACTIVITY, query))
        return KnowledgeAnswer(
            article_id="kb-shipping-times",
            article_version=3,
            title="Shipping times",
            score=self.kb_score,
            answer="Orders ship within 2 working days.",
            knowledge_base_version="test",
        )

    @activity.defn(name=EXTRACT_SERVICE_REQUEST_ACTIVITY)
    async def extract_service_request(self, query: ServiceRequestQuery) -> ServiceRequestDetails:
        self.calls.append((EXTRACT_SERVICE_REQUEST_ACTIVITY, query))
        return ServiceRequestDetails(kind="cancel_order", order_numbers=["12345"], evidence="cancel order")

    @activity.defn(name=CREATE_TICKET_ACTIVITY)
    async def create_ticket(self, request: TicketRequest) -> Ticket:
        self.calls.append((CREATE_TICKET_ACTIVITY, request))
        if self.ticket_error is not None:
            raise self.ticket_error
        return Ticket(
            ticket_id="TCK-TEST",
            case_id=request.case_id,
            kind=request.kind,
            status="open",
            priority=request.priority,
            assignee=None,
            order_numbers=request.order_numbers,
            sla_due_at=request.sla_due_at,
            created_at=FIXED_NOW,
            updated_at=FIXED_NOW,
        )

    @activity.defn(name=APPLY_TICKET_CHANGE_ACTIVITY)
    async def apply_ticket_change(self, change: TicketChange) -> Ticket:
        self.calls.append((APPLY_TICKET_CHANGE_ACTIVITY, change))
        self.ticket_changes.append(change)
        return Ticket(
            ticket_id="TCK-TEST",
            case_id=change.case_id,
            kind="cancel_order",
            status=change.status or "open",
            priority="normal",
            assignee=change.assignee,
            order_numbers=[],
            sla_due_at=FIXED_NOW,
            created_at=FIXED_NOW,
            updated_at=FIXED_NOW,
        )

    @activity.defn(name=OPEN_ADVERSE_EVENT_REPORT_ACTIVITY)
    async def open_adverse_event_report(self, intake: AdverseEventIntake) -> AdverseEventReport:
        self.calls.append((OPEN_ADVERSE_EVENT_REPORT_ACTIVITY, intake))
        days = 15 if self.serious else 90
        return AdverseEventReport(
            report_id="AER-TEST",
            case_id=intake.case_id,
            day_zero=intake.day_zero,
            criteria_present=["identifiable_patient", "suspect_product", "adverse_event"],
            criteria_missing=["identifiable_reporter"],
            seriousness=["hospitalisation"] if self.serious else [],
            serious=self.serious,
            regulatory_due_date=intake.day_zero.date() + timedelta(days=days),
        )

    @activity.defn(name=RECORD_SAFETY_DECISION_ACTIVITY)
    async def record_safety_decision(self, record: SafetyDecisionRecord) -> AdverseEventReport:
        self.calls.append((RECORD_SAFETY_DECISION_ACTIVITY, record))
        return AdverseEventReport(
            report_id="AER-TEST",
            case_id=record.case_id,
            day_zero=FIXED_NOW,
            serious=True,
            regulatory_due_date=date(2026, 12, 10),
            status=record.status,
            reviewer=record.reviewer,
            decision_reason=record.reason,
        )

    @activity.defn(name=SUBMIT_TO_SAFETY_DATABASE_ACTIVITY)
    async def submit_to_safety_database(self, submission: SafetySubmission) -> SafetySubmissionReceipt:
        self.calls.append((SUBMIT_TO_SAFETY_DATABASE_ACTIVITY, submission))
        return SafetySubmissionReceipt(reference="SDB-TEST", submitted_at=FIXED_NOW)

    @activity.defn(name=NOTIFY_ACTIVITY)
    async def notify(self, notification: Notification) -> NotificationReceipt:
        self.calls.append((NOTIFY_ACTIVITY, notification))
        self.notifications.append(notification)
        # Server time of the request (virtual on the time-skipping server): when a human was told.
        self.notified_at.append(activity.info().current_attempt_scheduled_time)
        return NotificationReceipt(
            notification_id=f"NTF-{len(self.notifications)}", created_at=FIXED_NOW, duplicate=False
        )
