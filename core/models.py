"""Payload models shared by the API, the workflows and the activities.

Everything that crosses a Temporal boundary (workflow input/output, activity input/output,
signals, updates, queries) is defined here, so the wire format has one source of truth.
Only redacted text ever appears in these models: raw customer text stops at the API.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator


class StrEnum(str, Enum):
    """`enum.StrEnum` exists only from 3.11; the project supports 3.10."""

    def __str__(self) -> str:
        return str(self.value)


class Channel(StrEnum):
    chat = "chat"
    email = "email"
    voice = "voice"


class Category(StrEnum):
    informational = "informational"
    service_action = "service_action"
    safety_compliance = "safety_compliance"


class Route(StrEnum):
    """Where the orchestrator sends a message after the acceptance policy."""

    informational = "informational"
    service_action = "service_action"
    safety_compliance = "safety_compliance"
    human_triage = "human_triage"


class CaseStatus(StrEnum):
    received = "received"
    classified = "classified"
    answered = "answered"
    awaiting_agent = "awaiting_agent"
    awaiting_triage = "awaiting_triage"
    awaiting_safety_review = "awaiting_safety_review"
    escalated = "escalated"
    submitted = "submitted"
    closed = "closed"
    failed = "failed"
    # The LLM pool is down or saturated: the case waits durably and is classified when it returns.
    awaiting_classification = "awaiting_classification"
    # A system of record refused a write that no retry can fix: an operator must look at it.
    needs_attention = "needs_attention"


class FrozenModel(BaseModel):
    # Payloads cross workflow histories that live for days: a worker of the previous release must
    # accept fields a newer release added (forward compatible). Request bodies stay strict (ApiBody).
    model_config = ConfigDict(frozen=True, extra="ignore")


# PostgreSQL text cannot hold NUL and UTF-8 cannot encode a lone surrogate (JSON "\ud800"): text
# with either would be accepted and then fail in the case store, so the API refuses it (422).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def reject_unstorable_text(value: object) -> object:
    texts = value if isinstance(value, list) else [value]
    if any(isinstance(text, str) and _UNSTORABLE.search(text) for text in texts):
        raise ValueError("text must not contain NUL or unpaired surrogate characters")
    return value


class ApiBody(FrozenModel):
    """A request body taken from the HTTP API: unknown fields are the client's mistake, rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_validator("*")
    @classmethod
    def _storable(cls, value: object) -> object:
        return reject_unstorable_text(value)


# --------------------------------------------------------------------------- classification


class LabelProbabilities(FrozenModel):
    """Renormalised probabilities over the three labels, from the label token's log-probs."""

    informational: float = Field(ge=0.0, le=1.0)
    service_action: float = Field(ge=0.0, le=1.0)
    safety_compliance: float = Field(ge=0.0, le=1.0)

    def of(self, category: Category) -> float:
        return float(getattr(self, category.value))

    def ranked(self) -> list[tuple[Category, float]]:
        return sorted(((c, self.of(c)) for c in Category), key=lambda kv: kv[1], reverse=True)


class ClassifyInput(FrozenModel):
    case_id: str
    redacted_text: str
    channel: Channel


class ClassificationResult(FrozenModel):
    """What the single LLM call said, plus enough provenance to audit it."""

    label: Category
    probabilities: LabelProbabilities
    # Probability mass of the top-K tokens that mapped to a label (before renormalising):
    # low coverage means the model wanted to say something else.
    label_mass: float = Field(ge=0.0, le=1.0)
    backend: str
    model: str
    prompt_version: str
    latency_ms: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class GuardFinding(FrozenModel):
    """One deterministic safety signal found in the (redacted) text."""

    signal: str
    language: str
    evidence: str


class GuardResult(FrozenModel):
    raise_to_safety: bool
    findings: list[GuardFinding] = Field(default_factory=list)
    # Negations/benign context that suppressed a candidate signal (kept for auditability).
    suppressed: list[GuardFinding] = Field(default_factory=list)
    # Set by guard-2026-12-01.1 and later when something was suppressed: the policy then sends
    # the message to a human instead of auto-routing it. Defaulted so older histories replay.
    suppressed_needs_human: bool = False


class ClassificationOutcome(FrozenModel):
    """What the classification activity returns: the LLM's verdict, the guard's, and the policy
    in force, so the workflow's routing decision is reproducible from history alone."""

    classification: ClassificationResult
    guard: GuardResult
    guard_version: str
    thresholds: AcceptanceThresholds
    # Instruction-to-the-classifier forms found in the text: such a message is never auto-routed.
    # Defaulted so histories recorded before the detector existed still replay.
    injection_signals: list[str] = Field(default_factory=list)
    injection_version: str | None = None


class DecisionStep(FrozenModel):
    """One auditable step: what ran, what it saw, what it decided and why."""

    step: str
    actor: str
    observed: dict[str, Any] = Field(default_factory=dict)
    decision: str
    reason: str
    at: datetime


class RoutingDecision(FrozenModel):
    category: Category
    confidence: float = Field(ge=0.0, le=1.0)
    route: Route
    decision_path: list[DecisionStep]
    next_step: str


class AcceptanceThresholds(FrozenModel):
    """Per-label minimum probability to auto-route, an ambiguity gap and the safety floor."""

    min_probability: dict[Category, float]
    min_gap: float = Field(ge=0.0, le=1.0)
    # Any P(safety) at or above this is never auto-routed elsewhere.
    safety_floor: float = Field(ge=0.0, le=1.0)
    # At or above this P(safety), auto-route to safety review (below: human triage).
    safety_accept: float = Field(ge=0.0, le=1.0)
    version: str = "unversioned"


# --------------------------------------------------------------------------- message workflow


ClassificationOutcome.model_rebuild()


class InboundMessage(FrozenModel):
    """Workflow input. `redacted_text` has had PII replaced by typed placeholders."""

    case_id: str
    message_id: str
    channel: Channel
    redacted_text: str
    customer_id: str | None = None
    locale: str | None = None
    received_at: datetime
    redaction_counts: dict[str, int] = Field(default_factory=dict)


class MessageWorkflowInput(FrozenModel):
    message: InboundMessage
    # Task queue of the LLM worker pool (scaled separately from the workflow workers).
    llm_task_queue: str


class MessageOutcome(FrozenModel):
    """Result returned by the classification update and kept as workflow state."""

    case_id: str
    workflow_id: str
    category: Category
    confidence: float
    route: Route
    decision_path: list[DecisionStep]
    next_step: str
    status: CaseStatus
    child_workflow_id: str | None = None


class CaseTimers(FrozenModel):
    """Service levels of the category workflows; defaults are policy, tests pass shorter ones."""

    # An agent must pick up a service ticket within this, or a supervisor is told.
    service_sla: timedelta = timedelta(hours=4)
    # A pending safety review is re-announced to the safety team after this.
    review_reminder: timedelta = timedelta(hours=24)
    # A supervisor is pulled in after this (or earlier, the day before the regulatory due date).
    review_deadline: timedelta = timedelta(hours=72)
    # Minimum knowledge-base score for answering without a human (adapters.knowledge_base).
    kb_min_score: float = Field(default=0.35, ge=0.0, le=1.0)
    # A possible safety case waiting in human triage: reminder, then a supervisor (every round).
    triage_reminder: timedelta = timedelta(hours=1)
    triage_deadline: timedelta = timedelta(hours=4)


class CaseRef(FrozenModel):
    """Input every category child workflow receives."""

    case_id: str
    message: InboundMessage
    decision: RoutingDecision
    timers: CaseTimers = Field(default_factory=CaseTimers)


class CaseSnapshot(FrozenModel):
    """Live state a workflow exposes through its `state` query."""

    case_id: str
    workflow: str
    status: CaseStatus
    category: Category | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


# --------------------------------------------------------------------------- HTTP API

MAX_MESSAGE_CHARS = 4000


class MessageRequest(BaseModel):
    """Body of POST /v1/messages. Strict: wrong types are rejected, not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: StrictStr = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    channel: Channel
    message_id: StrictStr | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$"
    )
    customer_id: StrictStr | None = Field(default=None, min_length=1, max_length=128)
    # 35 = what the case store keeps (BCP 47's practical maximum); found by the schemathesis run.
    locale: StrictStr | None = Field(
        default=None, max_length=35, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"
    )

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must contain non-whitespace characters")
        return value

    @field_validator("*")
    @classmethod
    def _storable(cls, value: object) -> object:
        return reject_unstorable_text(value)

    @field_validator("channel", mode="before")
    @classmethod
    def _channel_from_json(cls, value: object) -> object:
        # Strict mode would refuse a JSON string for an enum; accept exactly the enum values.
        return Channel(value) if isinstance(value, str) and value in Channel._value2member_map_ else value


class PublicDecisionStep(BaseModel):
    """A decision step as the intake caller sees it: no thresholds, probabilities or evidence."""

    step: str
    decision: str
    reason: str
    at: datetime


class MessageResponse(BaseModel):
    case_id: str
    workflow_id: str
    category: Category | None
    confidence: float | None
    decision_path: list[PublicDecisionStep]
    next_step: str
    status: CaseStatus
    route: Route | None = None


class CaseView(BaseModel):
    case_id: str
    workflow_id: str
    status: CaseStatus
    category: Category | None
    confidence: float | None
    route: Route | None
    next_step: str | None
    decision_path: list[DecisionStep]
    child: CaseSnapshot | None = None
    # From the case store: the durable audit trail and the stored case row.
    timeline: list[AuditEntry] = Field(default_factory=list)
    record: CaseSummary | None = None
    # From the systems of record (ticketing, safety database) when the case has one there.
    ticket: Ticket | None = None
    adverse_event_report: AdverseEventReport | None = None


class CaseMessage(BaseModel):
    """The case's message as stored: redacted before it was ever written (and empty once erased)."""

    case_id: str
    channel: Channel
    locale: str | None
    received_at: datetime
    redacted_text: str


# --------------------------------------------------------------------------- agent actions


SafetyVerdict = Literal["confirm", "escalate", "not_a_safety_case"]


# The workflow payloads (SafetyDecision, TriageDecision, TicketUpdate) name the acting person; the
# API builds them from a request body WITHOUT that field and the caller's verified token subject.


class SafetyDecision(FrozenModel):
    decision: SafetyVerdict
    reviewer: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)
    # The review round the reviewer saw; decisions for an older round are stale.
    review_round: int = Field(ge=1)
    # Required with `not_a_safety_case`: where the case goes instead.
    reroute_to: Category | None = None


class TriageDecision(FrozenModel):
    category: Category
    agent: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


class TicketUpdate(FrozenModel):
    action: Literal["pick_up", "comment", "resolve"]
    agent: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=2000)
    # Client idempotency key: a retried POST with the same id is applied once.
    request_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")


class SafetyDecisionRequest(ApiBody):
    """Body of POST /v1/cases/{id}/decision; the reviewer is the token's subject."""

    decision: SafetyVerdict
    reason: str = Field(min_length=1, max_length=2000)
    review_round: int = Field(ge=1)
    reroute_to: Category | None = None


class TriageDecisionRequest(ApiBody):
    """Body of POST /v1/cases/{id}/triage; the agent is the token's subject."""

    category: Category
    reason: str = Field(min_length=1, max_length=2000)


class TicketUpdateRequest(ApiBody):
    """Body of POST /v1/cases/{id}/ticket; the agent is the token's subject."""

    action: Literal["pick_up", "comment", "resolve"]
    note: str = Field(default="", max_length=2000)
    request_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")


# --------------------------------------------------------------------------- API keys


class ApiKeyRecord(FrozenModel):
    """A channel integration's API key as listed to admins: never the key or its hash."""

    key_id: str
    name: str
    channel: Channel | None = None
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None


class ApiKeyCreateRequest(ApiBody):
    name: str = Field(min_length=1, max_length=200)
    # Bind the key to one channel: it can then only post messages of that channel.
    channel: Channel | None = None


class ApiKeyCreated(BaseModel):
    record: ApiKeyRecord
    # Shown once: only its SHA-256 is stored.
    api_key: str


# --------------------------------------------------------------------------- persistence ports

TicketPriority = Literal["low", "normal", "high", "urgent"]
TicketStatus = Literal["open", "in_progress", "resolved", "escalated"]
AdverseEventStatus = Literal["open", "confirmed", "escalated", "rejected", "submitted"]
NotificationAudience = Literal["customer", "safety_team", "supervisor", "agent"]
CasePriority = Literal["safety", "normal"]


class CaseRecord(FrozenModel):
    """What the case store keeps about one inbound message; written by the intake activity."""

    case_id: str = Field(min_length=1, max_length=64)
    message_id: str = Field(min_length=1, max_length=200)
    workflow_id: str = Field(min_length=1, max_length=200)
    channel: Channel
    customer_id: str | None = Field(default=None, max_length=200)
    locale: str | None = Field(default=None, max_length=35)
    redacted_text: str
    received_at: datetime
    status: CaseStatus = CaseStatus.received
    category: Category | None = None
    route: Route | None = None
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)


class CaseSummary(FrozenModel):
    """A case as listed to agents: no message text, so listing never widens who sees content."""

    case_id: str
    message_id: str
    workflow_id: str
    channel: Channel
    customer_id: str | None
    locale: str | None
    received_at: datetime
    status: CaseStatus
    category: Category | None
    route: Route | None
    confidence: float | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    needs_safety_review: bool
    # "safety" for every possible safety case (safety review or triage with a safety signal).
    priority: CasePriority = "normal"
    # Regulatory due date (day zero = receipt) and the current review round's SLA deadline.
    regulatory_due_date: date | None = None
    review_due_at: datetime | None = None


class AuditEntry(FrozenModel):
    """One append-only audit line; `key` makes a retried activity write it only once."""

    case_id: str = Field(min_length=1, max_length=64)
    key: str = Field(min_length=1, max_length=200)
    step: str = Field(min_length=1, max_length=100)
    actor: str = Field(min_length=1, max_length=200)
    decision: str = Field(max_length=200)
    reason: str
    observed: dict[str, Any] = Field(default_factory=dict)
    at: datetime


class TicketRequest(FrozenModel):
    """Ask the ticketing system for the one ticket a case gets."""

    case_id: str = Field(min_length=1, max_length=64)
    kind: str = Field(min_length=1, max_length=64)
    order_numbers: list[str] = Field(default_factory=list)
    summary: str  # redacted
    priority: TicketPriority = "normal"
    sla_due_at: datetime


class Ticket(FrozenModel):
    ticket_id: str
    case_id: str
    kind: str
    status: TicketStatus
    priority: TicketPriority
    assignee: str | None
    order_numbers: list[str]
    sla_due_at: datetime
    created_at: datetime
    updated_at: datetime


class TicketChange(FrozenModel):
    """A status/assignee change or a note; `None` fields leave the ticket as it is."""

    case_id: str = Field(min_length=1, max_length=64)
    key: str = Field(min_length=1, max_length=200)
    status: TicketStatus | None = None
    assignee: str | None = Field(default=None, max_length=200)
    note: str = Field(default="", max_length=2000)


class AdverseEventReport(FrozenModel):
    """A pharmacovigilance case (ICSR draft); the due date runs from day zero, not from review."""

    report_id: str = Field(min_length=1, max_length=64)
    case_id: str = Field(min_length=1, max_length=64)
    day_zero: datetime
    criteria_present: list[str] = Field(default_factory=list)
    criteria_missing: list[str] = Field(default_factory=list)
    seriousness: list[str] = Field(default_factory=list)
    serious: bool
    regulatory_due_date: date
    status: AdverseEventStatus = "open"
    reviewer: str | None = None
    decision_reason: str | None = None
    safety_db_reference: str | None = None


class SafetySubmission(FrozenModel):
    case_id: str = Field(min_length=1, max_length=64)
    report_id: str = Field(min_length=1, max_length=64)
    reviewer: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


class SafetySubmissionReceipt(FrozenModel):
    """Proof of submission; the same receipt comes back however often the submit is retried."""

    reference: str
    submitted_at: datetime


class Notification(FrozenModel):
    key: str = Field(min_length=1, max_length=200)
    case_id: str = Field(min_length=1, max_length=64)
    audience: NotificationAudience
    channel: str = Field(min_length=1, max_length=32)
    template: str = Field(min_length=1, max_length=100)
    body: str  # redacted


class NotificationReceipt(FrozenModel):
    notification_id: str
    created_at: datetime
    # True when the key was already queued: the caller must not treat it as a second send.
    duplicate: bool


# --------------------------------------------------------------------------- case activities


class CaseIntake(FrozenModel):
    """`record_case` input: the case row plus the decision path that becomes its first audit lines."""

    record: CaseRecord
    decision_path: list[DecisionStep]


class CaseStatusChange(FrozenModel):
    case_id: str = Field(min_length=1, max_length=64)
    status: CaseStatus
    category: Category | None = None
    route: Route | None = None


class CasePriorityChange(FrozenModel):
    """Where the case stands in the work queue: a possible safety case goes first, by due date."""

    case_id: str = Field(min_length=1, max_length=64)
    priority: CasePriority
    regulatory_due_date: date | None = None
    review_due_at: datetime | None = None


class GuardCheckInput(FrozenModel):
    """The safety guard alone (no LLM): what the workflow runs while the LLM pool is unavailable."""

    case_id: str
    redacted_text: str


class RouteRequest(FrozenModel):
    """`decide_route` input: the classification and the workflow time the decision is made at."""

    outcome: ClassificationOutcome
    decided_at: datetime


class GuardCheckOutcome(FrozenModel):
    guard: GuardResult
    guard_version: str


class ReclassifyRequest(FrozenModel):
    """An operator asks a case waiting for classification or triage to be classified again."""

    requested_by: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=2000)
    # The LLM pool's task queue (a triage workflow does not know it otherwise).
    llm_task_queue: str | None = None
    # Instead of a new attempt, send a case still waiting for classification to human triage now
    # (a long LLM outage). A worker of an older release ignores the field and makes an attempt.
    to_triage: bool = False


class ReclassifyBody(ApiBody):
    """Body of POST /v1/admin/reclassify."""

    case_ids: list[str] = Field(min_length=1, max_length=500)
    reason: str = Field(default="", max_length=2000)
    # Route cases still waiting for classification to human triage without the model. Strict: a
    # string such as "no" must not be read as true.
    to_triage: StrictBool = False


class ReclassifyResult(BaseModel):
    case_id: str
    # requested: sent to the workflow; not_waiting: neither classifying nor in triage; not_found.
    outcome: Literal["requested", "not_waiting", "not_found"]
    workflow_id: str | None = None


class ReclassifyResponse(BaseModel):
    results: list[ReclassifyResult]


class CaseFailure(FrozenModel):
    """A write that cannot succeed: recorded on the case so that a person sees it."""

    case_id: str = Field(min_length=1, max_length=64)
    error_type: str = Field(max_length=200)
    message: str = Field(max_length=2000)
    workflow: str = Field(max_length=200)


class KnowledgeQuery(FrozenModel):
    case_id: str
    redacted_text: str


class KnowledgeAnswer(FrozenModel):
    """Best knowledge-base match; `article_id` is None when nothing matched at all."""

    article_id: str | None = None
    article_version: int | None = None
    title: str | None = None
    score: float = Field(default=0.0, ge=0.0, le=1.0)
    answer: str | None = None
    knowledge_base_version: str


class ServiceRequestQuery(FrozenModel):
    case_id: str
    redacted_text: str


class ServiceRequestDetails(FrozenModel):
    """`core.service_requests.ServiceRequest` as a payload."""

    kind: str
    order_numbers: list[str] = Field(default_factory=list)
    prescription_numbers: list[str] = Field(default_factory=list)
    ticket_numbers: list[str] = Field(default_factory=list)
    evidence: str = ""


class ReportAssessment(FrozenModel):
    """Deterministic pharmacovigilance triage of a report (core.pharmacovigilance)."""

    criteria_present: list[str]
    criteria_missing: list[str]
    seriousness: list[str]
    serious: bool
    day_zero: datetime
    regulatory_due_date: date
    rules_version: str


class AdverseEventIntake(FrozenModel):
    """`open_adverse_event_report` input; day zero is when the company first received the report."""

    case_id: str = Field(min_length=1, max_length=64)
    redacted_text: str
    day_zero: datetime
    customer_id: str | None = None


class SafetyDecisionRecord(FrozenModel):
    case_id: str = Field(min_length=1, max_length=64)
    status: AdverseEventStatus
    reviewer: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


class QualityReportRequest(FrozenModel):
    """Input of the daily quality workflow; `day` defaults to the day before the scheduled run."""

    day: date | None = None


class QualityReportSummary(FrozenModel):
    """What the daily quality activity computed and where it exported the labelled cases."""

    day: date
    classified: int
    labelled: int
    agreement: float | None = None
    confidence_psi: float | None = None
    export_file: str | None = None
    stored: bool = True


class CaseListPage(BaseModel):
    """GET /v1/cases: one page of the agents' work queue."""

    items: list[CaseSummary]
    total: int
    limit: int
    offset: int


CaseView.model_rebuild()


# --------------------------------------------------------------------------- data-subject rights

ErasureMode = Literal["data_subject_request", "retention"]
ErasureOutcome = Literal["erased", "already_erased", "retained_legal_obligation", "not_found"]


class ErasureRequestBody(ApiBody):
    """POST /v1/admin/erasures: whose personal data to erase. Exactly one of the two ids."""

    customer_id: StrictStr | None = Field(default=None, min_length=1, max_length=128)
    case_id: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    # Where the request came from (ticket or letter reference); redacted before it is stored.
    reference: StrictStr = Field(min_length=1, max_length=200)


class ErasureRequest(FrozenModel):
    """Erasure workflow input: the customer is named only by pseudonym."""

    request_id: str
    customer_pseudonym: str | None = None
    case_id: str | None = None
    requested_by: str
    reference: str


class CaseErasure(FrozenModel):
    case_id: str
    outcome: ErasureOutcome
    # What was erased (table.column), or why the case was kept.
    erased: list[str] = Field(default_factory=list)
    kept_because: str | None = None


class ErasureResult(FrozenModel):
    request_id: str
    cases: list[CaseErasure]


class CaseErasureOrder(FrozenModel):
    """Activity input: erase one case's personal data."""

    case_id: str
    mode: ErasureMode
    actor: str
    request_id: str
    reference: str


class RetentionPurgeInput(FrozenModel):
    retention_days: int = Field(ge=1)
    batch_size: int = Field(default=200, ge=1, le=1000)


class RetentionBatch(FrozenModel):
    """Activity input: the next cases whose retention period ended before `cutoff`."""

    cutoff: datetime
    limit: int


class RetentionPurgeResult(FrozenModel):
    cutoff: datetime
    purged_cases: int
