"""The access log: every read of personal data, by whom, when, which fields and why.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Plain SQLAlchemy types only, as in 0001. One row per read (a person's view or unmask, an export, a process opening
a sealed address to send a message), a refused request, or an incident query over the log. Indexed by actor and
time (PIPL Art. 57: whose data did this account read?) and by party and time (Arts. 44-45: who read mine?).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)
ACTIONS = "('view', 'unmask', 'export', 'system_read', 'denied', 'incident')"


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", ID, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("party", ID, nullable=True),
        sa.Column("borrower", ID, nullable=True),
        sa.Column("fields", sa.String(200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("loan", ID, nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.CheckConstraint(f"action IN {ACTIONS}", name=op.f("ck_access_log_action")),
        sa.CheckConstraint("action <> 'unmask' OR purpose <> ''", name=op.f("ck_access_log_reason")),
        sa.CheckConstraint("party IS NOT NULL OR action IN ('incident', 'denied')", name=op.f("ck_access_log_party")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    op.create_index(op.f("ix_access_log_actor_at"), "access_log", ["actor", "at"])
    op.create_index(op.f("ix_access_log_party_at"), "access_log", ["party", "at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_access_log_party_at"), table_name="access_log")
    op.drop_index(op.f("ix_access_log_actor_at"), table_name="access_log")
    op.drop_table("access_log")
