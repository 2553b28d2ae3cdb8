"""Complaints: intake, the contacts complained of, and every status change (only appended).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Plain SQLAlchemy types only, as in 0001. The complainant's words and resolution notes are sealed (``*_ciphertext``)
with a party's data key, as contact points' addresses are since 0004.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)
INSTANT = sa.DateTime(timezone=True)
CHANNELS = "('portal', 'phone', 'sms', 'email', 'letter', 'regulator_referral', 'internet_platform')"
ROLES = "('debtor', 'contact', 'third_party', 'regulator')"
CATEGORIES = (
    "('harassment', 'time_of_day', 'third_party_disclosure', 'threat_or_abuse', 'impersonation', 'privacy', "
    "'fees_or_amount', 'other')"
)
STATUSES = "('open', 'investigating', 'upheld', 'not_upheld', 'withdrawn')"


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", INSTANT, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("party", ID, nullable=True),
        sa.Column("loan_id", ID, nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("collector", ID, nullable=True),
        sa.Column("agency", ID, nullable=True),
        sa.Column("reference", sa.String(128), nullable=True),
        sa.Column("owner", ID, nullable=False),
        sa.Column("summary_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.CheckConstraint(f"channel IN {CHANNELS}", name=op.f("ck_complaints_channel")),
        sa.CheckConstraint(f"role IN {ROLES}", name=op.f("ck_complaints_role")),
        sa.CheckConstraint(f"category IN {CATEGORIES}", name=op.f("ck_complaints_category")),
        sa.CheckConstraint(f"status IN {STATUSES}", name=op.f("ck_complaints_status")),
        sa.ForeignKeyConstraint(["party"], ["parties.id"], name=op.f("fk_complaints_party_parties")),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_complaints_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
    )
    op.create_index(op.f("ix_complaints_loan_id"), "complaints", ["loan_id"])
    op.create_index(op.f("ix_complaints_status"), "complaints", ["status"])
    op.create_index(op.f("ix_complaints_received_at"), "complaints", ["received_at"])
    op.create_table(
        "complaint_contacts",
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("contact_key", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_complaint_contacts_complaint_id_complaints")
        ),
        sa.PrimaryKeyConstraint("complaint_id", "contact_key", name=op.f("pk_complaint_contacts")),
    )
    op.create_table(
        "complaint_transitions",
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", INSTANT, nullable=False),
        sa.Column("actor", ID, nullable=False),
        sa.Column("note_ciphertext", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(f"status IN {STATUSES}", name=op.f("ck_complaint_transitions_status")),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_complaint_transitions_complaint_id_complaints")
        ),
        sa.PrimaryKeyConstraint("complaint_id", "seq", name=op.f("pk_complaint_transitions")),
    )


def downgrade() -> None:
    op.drop_table("complaint_transitions")
    op.drop_table("complaint_contacts")
    op.drop_index(op.f("ix_complaints_received_at"), table_name="complaints")
    op.drop_index(op.f("ix_complaints_status"), table_name="complaints")
    op.drop_index(op.f("ix_complaints_loan_id"), table_name="complaints")
    op.drop_table("complaints")
