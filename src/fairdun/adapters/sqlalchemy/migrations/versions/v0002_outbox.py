"""The outbox: messages the gate allowed, one row per idempotency key, with their delivery state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Plain SQLAlchemy types only, as in 0001: a revision must not change meaning when the models do.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)
KEY = sa.String(200)
INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("party", ID, nullable=False),
        sa.Column("debt", ID, nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("template", sa.String(128), nullable=True),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("arm", ID, nullable=False),
        sa.Column("rule_pack", ID, nullable=False),
        sa.Column("decided_at", INSTANT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retry_at", INSTANT, nullable=True),
        sa.Column("claimed_by", ID, nullable=True),
        sa.Column("claimed_at", INSTANT, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("provider_ref", KEY, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", INSTANT, nullable=True),
        sa.CheckConstraint(
            "channel IN ('call', 'ai_call', 'sms', 'email', 'im', 'letter', 'visit')", name=op.f("ck_outbox_channel")
        ),
        sa.CheckConstraint("status IN ('pending', 'claimed', 'sent', 'failed')", name=op.f("ck_outbox_status")),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('failed', 'no_answer', 'voicemail', 'conversation', 'delivered',"
            " 'bounced')",
            name=op.f("ck_outbox_outcome"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_attempts")),
        sa.CheckConstraint(
            "status <> 'claimed' OR (claimed_by IS NOT NULL AND claimed_at IS NOT NULL)", name=op.f("ck_outbox_claim")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    op.create_index(op.f("ix_outbox_status_retry_at"), "outbox", ["status", "retry_at"])


def downgrade() -> None:
    op.drop_table("outbox")
