"""SQLAlchemy ORM tables for the case store and the local stand-ins of external systems.

Every table that a Temporal activity writes carries a unique key the activity derives from
its input, so a retried activity hits `ON CONFLICT DO NOTHING` instead of adding a row.
The ticketing, safety and outbox tables have no foreign key to `cases` on purpose: they stand
in for separate systems (Zendesk, a safety database, a sender) that could move elsewhere.
The migration in `migrations/versions` must create exactly these tables; a test compares them.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Explicit constraint names keep the ORM, the migration and every dialect in agreement.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER primary key, PostgreSQL gets a real BIGINT identity.
AutoIncrementId = BigInteger().with_variant(Integer(), "sqlite")


def utc_now() -> datetime:
    """The default clock of the stores; they take a `clock` so tests can control ordering."""
    return datetime.now(timezone.utc)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware in and out on every dialect.

    PostgreSQL keeps `timestamptz`; SQLite stores text without an offset and would hand back
    naive datetimes, so values are normalised to UTC on the way in and tagged UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timezone-aware column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class CaseRow(Base):
    """One row per case; the latest status lives here, the history in `audit_events`."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_category_created_at", "status", "category", "created_at"),
        UniqueConstraint("channel", "message_id"),
        Index("ix_cases_priority_regulatory_due_date", "priority", "regulatory_due_date"),
    )

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Unique per channel (migration 0005): message ids come from each channel's own system, and
    # a redelivered inbound message can never open a second case.
    message_id: Mapped[str] = mapped_column(String(200))
    workflow_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(35))
    redacted_text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32))
    route: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # Set when the case's personal data was erased (data-subject request) or purged (retention).
    personal_data_erased_at: Mapped[datetime | None]
    erasure_reason: Mapped[str | None] = mapped_column(String(32))
    # Work-queue placement of possible safety cases (migration 0006).
    priority: Mapped[str] = mapped_column(String(16), default="normal", server_default="normal")
    regulatory_due_date: Mapped[date | None] = mapped_column(Date)
    review_due_at: Mapped[datetime | None]


class AuditEventRow(Base):
    """Append-only: nothing in the code base updates or deletes these rows."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("case_id", "key"),
        Index("ix_audit_events_case_id_at_id", "case_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(AutoIncrementId, Identity(), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), ForeignKey("cases.case_id"))
    key: Mapped[str] = mapped_column(String(200))
    step: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    observed: Mapped[dict[str, Any]]
    at: Mapped[datetime]


class TicketRow(Base):
    __tablename__ = "tickets"

    ticket_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # One ticket per case: a retried create finds the first one.
    case_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(200))
    order_numbers: Mapped[list[str]]
    summary: Mapped[str] = mapped_column(Text)
    sla_due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TicketEventRow(Base):
    """The change history of a ticket, one row per idempotency key."""

    __tablename__ = "ticket_events"
    __table_args__ = (UniqueConstraint("case_id", "key"),)

    id: Mapped[int] = mapped_column(AutoIncrementId, Identity(), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), ForeignKey("tickets.case_id"))
    key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str | None] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class AdverseEventReportRow(Base):
    __tablename__ = "adverse_event_reports"

    report_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # One pharmacovigilance report per case.
    case_id: Mapped[str] = mapped_column(String(64), unique=True)
    day_zero: Mapped[datetime]
    criteria_present: Mapped[list[str]]
    criteria_missing: Mapped[list[str]]
    seriousness: Mapped[list[str]]
    serious: Mapped[bool] = mapped_column(Boolean)
    regulatory_due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    reviewer: Mapped[str | None] = mapped_column(String(200))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    safety_db_reference: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SafetySubmissionRow(Base):
    __tablename__ = "safety_submissions"

    reference: Mapped[str] = mapped_column(String(64), primary_key=True)
    # One submission per case: a regulator must never receive the same case twice.
    case_id: Mapped[str] = mapped_column(String(64), unique=True)
    report_id: Mapped[str] = mapped_column(String(64), ForeignKey("adverse_event_reports.report_id"))
    reviewer: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime]


class NotificationRow(Base):
    """Outbox: a sender drains rows with `sent_at IS NULL` and stamps them."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_sent_at_created_at", "sent_at", "created_at"),)

    notification_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    audience: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class ApiKeyRow(Base):
    """A channel integration's API key: only its SHA-256 is kept; revoked keys stay for the audit."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class QualityReportRow(Base):
    """One row per day from the quality workflow: agreement with agents, drift (docs/monitoring.md)."""

    __tablename__ = "quality_reports"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    figures: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
