"""Data-subject rights: retention holds and erasures.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

Plain SQLAlchemy types only, as in 0001. ``retention_holds``: legal holds on a party's or a loan's records (nothing
under one is erased or purged); ``erasures``: each party erased by crypto-shredding its data key, with the
explanation of what was erased and what kept (docs/subject-rights.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)
INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "retention_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party", ID, nullable=True),
        sa.Column("loan", ID, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("set_by", ID, nullable=False),
        sa.Column("set_at", INSTANT, nullable=False),
        sa.Column("released_by", ID, nullable=True),
        sa.Column("released_at", INSTANT, nullable=True),
        sa.CheckConstraint("party IS NOT NULL OR loan IS NOT NULL", name=op.f("ck_retention_holds_target")),
        sa.CheckConstraint("reason <> ''", name=op.f("ck_retention_holds_reason")),
        sa.CheckConstraint("(released_at IS NULL) = (released_by IS NULL)", name=op.f("ck_retention_holds_released")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_holds")),
    )
    op.create_index(op.f("ix_retention_holds_party"), "retention_holds", ["party"])
    op.create_index(op.f("ix_retention_holds_loan"), "retention_holds", ["loan"])
    op.create_table(
        "erasures",
        sa.Column("party", ID, nullable=False),
        sa.Column("borrower", ID, nullable=False),
        sa.Column("erased_by", ID, nullable=False),
        sa.Column("erased_at", INSTANT, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("party", name=op.f("pk_erasures")),
    )
    op.create_index(op.f("ix_erasures_borrower"), "erasures", ["borrower"])


def downgrade() -> None:
    op.drop_index(op.f("ix_erasures_borrower"), table_name="erasures")
    op.drop_table("erasures")
    op.drop_index(op.f("ix_retention_holds_loan"), table_name="retention_holds")
    op.drop_index(op.f("ix_retention_holds_party"), table_name="retention_holds")
    op.drop_table("retention_holds")
