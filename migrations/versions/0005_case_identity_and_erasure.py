"""Case identity per channel; erasure and retention markers on cases.

A message id is unique per channel, not globally: the same id on chat and on voice belongs to
two customers' cases. `personal_data_erased_at` / `erasure_reason` record when and why a
case's personal data was erased (data-subject request) or purged (retention period).

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("uq_cases_message_id", type_="unique")
        batch.create_unique_constraint("uq_cases_channel_message_id", ["channel", "message_id"])
        batch.add_column(sa.Column("personal_data_erased_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("erasure_reason", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("erasure_reason")
        batch.drop_column("personal_data_erased_at")
        batch.drop_constraint("uq_cases_channel_message_id", type_="unique")
        batch.create_unique_constraint("uq_cases_message_id", ["message_id"])
