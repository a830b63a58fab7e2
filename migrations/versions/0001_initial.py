"""Cases, audit trail, and the local ticketing / safety database / outbox tables.

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite only auto-increments an INTEGER primary key; PostgreSQL gets a BIGINT identity.
_AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=True),
        sa.Column("locale", sa.String(35), nullable=True),
        sa.Column("redacted_text", sa.Text(), nullable=False),
        _timestamp("received_at"),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("route", sa.String(32), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("case_id", name="pk_cases"),
        sa.UniqueConstraint("message_id", name="uq_cases_message_id"),
    )
    op.create_index(
        "ix_cases_status_category_created_at",
        "cases",
        ["status", "category", "created_at"],
    )

    op.create_table(
        "audit_events",
        sa.Column("id", _AUTO_ID, sa.Identity(), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("step", sa.String(100), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("decision", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("observed", sa.JSON(), nullable=False),
        _timestamp("at"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        sa.UniqueConstraint("case_id", "key", name="uq_audit_events_case_id_key"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name="fk_audit_events_case_id_cases"
        ),
    )
    op.create_index(
        "ix_audit_events_case_id_at_id", "audit_events", ["case_id", "at", "id"]
    )

    op.create_table(
        "tickets",
        sa.Column("ticket_id", sa.String(32), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("order_numbers", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        _timestamp("sla_due_at"),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_tickets"),
        sa.UniqueConstraint("case_id", name="uq_tickets_case_id"),
    )

    op.create_table(
        "ticket_events",
        sa.Column("id", _AUTO_ID, sa.Identity(), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        _timestamp("at"),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_events"),
        sa.UniqueConstraint("case_id", "key", name="uq_ticket_events_case_id_key"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["tickets.case_id"], name="fk_ticket_events_case_id_tickets"
        ),
    )

    op.create_table(
        "adverse_event_reports",
        sa.Column("report_id", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        _timestamp("day_zero"),
        sa.Column("criteria_present", sa.JSON(), nullable=False),
        sa.Column("criteria_missing", sa.JSON(), nullable=False),
        sa.Column("seriousness", sa.JSON(), nullable=False),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("regulatory_due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("safety_db_reference", sa.String(64), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("report_id", name="pk_adverse_event_reports"),
        sa.UniqueConstraint("case_id", name="uq_adverse_event_reports_case_id"),
    )

    op.create_table(
        "safety_submissions",
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("report_id", sa.String(64), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _timestamp("submitted_at"),
        sa.PrimaryKeyConstraint("reference", name="pk_safety_submissions"),
        sa.UniqueConstraint("case_id", name="uq_safety_submissions_case_id"),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["adverse_event_reports.report_id"],
            name="fk_safety_submissions_report_id_adverse_event_reports",
        ),
    )

    op.create_table(
        "notifications",
        sa.Column("notification_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("audience", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("template", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _timestamp("created_at"),
        _timestamp("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("notification_id", name="pk_notifications"),
        sa.UniqueConstraint("key", name="uq_notifications_key"),
    )
    op.create_index("ix_notifications_case_id", "notifications", ["case_id"])
    op.create_index(
        "ix_notifications_sent_at_created_at",
        "notifications",
        ["sent_at", "created_at"],
    )


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("safety_submissions")
    op.drop_table("adverse_event_reports")
    op.drop_table("ticket_events")
    op.drop_table("tickets")
    op.drop_table("audit_events")
    op.drop_table("cases")
