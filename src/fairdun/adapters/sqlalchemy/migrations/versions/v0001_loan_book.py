"""The loan book: products, loans and their installments, loan events, contact history.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Money columns are integer cents (``*_cents``), rates their exact decimal text, instants ``TIMESTAMP WITH TIME
ZONE`` in UTC (see ``column_types.py``). Plain SQLAlchemy types only: a revision must not change meaning when the
models do.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)
CENTS = sa.BigInteger()
RATE = sa.String(64)
INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("code", ID, nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("annual_rate", RATE, nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("installment_fee_cents", CENTS, nullable=False),
        sa.Column("upfront_fee_cents", CENTS, nullable=False),
        sa.Column("penalty_daily_rate", RATE, nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("waterfall", sa.String(64), nullable=False),
        sa.Column("allocation", sa.String(32), nullable=False),
        sa.CheckConstraint("term_months > 0", name=op.f("ck_products_term_months")),
        sa.CheckConstraint(
            "method IN ('equal_installment', 'equal_principal', 'interest_first')", name=op.f("ck_products_method")
        ),
        sa.CheckConstraint("allocation IN ('by_installment', 'by_component')", name=op.f("ck_products_allocation")),
        sa.CheckConstraint("installment_fee_cents >= 0 AND upfront_fee_cents >= 0", name=op.f("ck_products_fees")),
        sa.CheckConstraint("grace_days >= 0", name=op.f("ck_products_grace_days")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_products")),
    )

    op.create_table(
        "loans",
        sa.Column("id", ID, nullable=False),
        sa.Column("product_code", ID, nullable=False),
        sa.Column("borrower", ID, nullable=False),
        sa.Column("principal_cents", CENTS, nullable=False),
        sa.Column("disbursed_on", sa.Date(), nullable=False),
        sa.CheckConstraint("principal_cents > 0", name=op.f("ck_loans_principal")),
        sa.ForeignKeyConstraint(["product_code"], ["products.code"], name=op.f("fk_loans_product_code_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
    )
    op.create_index(op.f("ix_loans_borrower"), "loans", ["borrower"])

    op.create_table(
        "installments",
        sa.Column("loan_id", ID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("principal_cents", CENTS, nullable=False),
        sa.Column("interest_cents", CENTS, nullable=False),
        sa.Column("fee_cents", CENTS, nullable=False),
        sa.CheckConstraint("number > 0", name=op.f("ck_installments_number")),
        sa.CheckConstraint("start_on < due_on", name=op.f("ck_installments_period")),
        sa.CheckConstraint(
            "principal_cents >= 0 AND interest_cents >= 0 AND fee_cents >= 0", name=op.f("ck_installments_amounts")
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_installments_loan_id_loans")),
        sa.PrimaryKeyConstraint("loan_id", "number", name=op.f("pk_installments")),
    )
    op.create_index(op.f("ix_installments_due_on"), "installments", ["due_on"])

    op.create_table(
        "loan_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("amount_cents", CENTS, nullable=True),
        sa.Column("payment_id", ID, nullable=True),
        sa.Column("component", sa.String(16), nullable=True),
        sa.Column("installment", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_at", INSTANT, nullable=False),
        sa.CheckConstraint("kind IN ('payment', 'reversal', 'pause', 'waiver')", name=op.f("ck_loan_events_kind")),
        sa.CheckConstraint(
            "(kind = 'payment' AND effective_on IS NOT NULL AND amount_cents IS NOT NULL AND amount_cents > 0"
            " AND payment_id IS NOT NULL)"
            " OR (kind = 'reversal' AND payment_id IS NOT NULL)"
            " OR (kind = 'pause' AND effective_on IS NOT NULL AND ends_on IS NOT NULL AND ends_on >= effective_on)"
            " OR (kind = 'waiver' AND effective_on IS NOT NULL AND amount_cents IS NOT NULL AND amount_cents > 0"
            " AND component IS NOT NULL)",
            name=op.f("ck_loan_events_shape"),
        ),
        sa.CheckConstraint(
            "component IS NULL OR component IN ('penalty', 'fee', 'interest', 'principal')",
            name=op.f("ck_loan_events_component"),
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_loan_events_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_events")),
        sa.UniqueConstraint("loan_id", "kind", "payment_id", name=op.f("uq_loan_events_loan_id_kind_payment_id")),
    )
    op.create_index(op.f("ix_loan_events_loan_id"), "loan_events", ["loan_id"])

    op.create_table(
        "contact_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("occurred_at", INSTANT, nullable=False),
        sa.Column("debt", ID, nullable=False),
        sa.Column("party", ID, nullable=False),
        sa.Column("address_ref", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.CheckConstraint(
            "channel IN ('call', 'ai_call', 'sms', 'email', 'im', 'letter', 'visit')",
            name=op.f("ck_contact_events_channel"),
        ),
        sa.CheckConstraint("direction IN ('outbound', 'inbound')", name=op.f("ck_contact_events_direction")),
        sa.CheckConstraint(
            "outcome IN ('failed', 'no_answer', 'voicemail', 'conversation', 'delivered', 'bounced')",
            name=op.f("ck_contact_events_outcome"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_events")),
    )
    op.create_index(op.f("ix_contact_events_party_occurred_at"), "contact_events", ["party", "occurred_at"])
    op.create_index(op.f("ix_contact_events_debt_occurred_at"), "contact_events", ["debt", "occurred_at"])


def downgrade() -> None:
    # Dropping a table drops its indexes too.
    op.drop_table("contact_events")
    op.drop_table("loan_events")
    op.drop_table("installments")
    op.drop_table("loans")
    op.drop_table("products")
