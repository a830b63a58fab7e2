"""Work-queue placement of possible safety cases: priority, regulatory due date, review deadline.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("priority", sa.String(16), nullable=False, server_default="normal"))
        batch.add_column(sa.Column("regulatory_due_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("review_due_at", sa.DateTime(timezone=True), nullable=True))
    # Cases opened before this revision: a pending safety review is a possible safety case.
    op.execute("UPDATE cases SET priority = 'safety' WHERE status = 'awaiting_safety_review'")
    op.create_index("ix_cases_priority_regulatory_due_date", "cases", ["priority", "regulatory_due_date"])


def downgrade() -> None:
    op.drop_index("ix_cases_priority_regulatory_due_date", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("review_due_at")
        batch.drop_column("regulatory_due_date")
        batch.drop_column("priority")
