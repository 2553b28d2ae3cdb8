"""The daily cycle: parties and how to reach them, consents, case events, cycle runs, planned contacts with their
decisions, restatements; the outbox learns an address reference and a not-before instant.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Plain SQLAlchemy types only, as in 0001: a revision must not change meaning when the models do.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)
KEY = sa.String(200)
REF = sa.String(128)
INSTANT = sa.DateTime(timezone=True)
CHANNELS = "('call', 'ai_call', 'sms', 'email', 'im', 'letter', 'visit')"


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("address_ref", REF, nullable=True))
        batch.add_column(sa.Column("not_before", INSTANT, nullable=True))
    op.create_table(
        "parties",
        sa.Column("id", ID, nullable=False),
        sa.Column("borrower", ID, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("relationship", sa.String(32), nullable=True),
        sa.Column("risk_tier", sa.String(32), nullable=True),
        sa.CheckConstraint(
            "role IN ('debtor', 'co_borrower', 'guarantor', 'contact', 'third_party', 'attorney')",
            name=op.f("ck_parties_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
    )
    op.create_index(op.f("ix_parties_borrower"), "parties", ["borrower"])
    op.create_table(
        "contact_points",
        sa.Column("ref", REF, nullable=False),
        sa.Column("party", ID, nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("channels", sa.String(128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["party"], ["parties.id"], name=op.f("fk_contact_points_party_parties")),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_contact_points")),
    )
    op.create_index(op.f("ix_contact_points_party"), "contact_points", ["party"])
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party", ID, nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("granted_at", INSTANT, nullable=False),
        sa.Column("withdrawn_at", INSTANT, nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.CheckConstraint("withdrawn_at IS NULL OR withdrawn_at >= granted_at", name=op.f("ck_consents_period")),
        sa.ForeignKeyConstraint(["party"], ["parties.id"], name=op.f("fk_consents_party_parties")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(op.f("ix_consents_party"), "consents", ["party"])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", ID, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("recorded_at", INSTANT, nullable=False),
        sa.CheckConstraint(
            "kind IN ('assigned', 'placed', 'recalled', 'promise', 'plan', 'dispute_opened', 'dispute_resolved',"
            " 'cured')",
            name=op.f("ck_case_events_kind"),
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_case_events_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    op.create_index(op.f("ix_case_events_loan_id"), "case_events", ["loan_id"])
    op.create_table(
        "cycle_runs",
        sa.Column("run_on", sa.Date(), nullable=False),
        sa.Column("strategy", ID, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("pack", ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", INSTANT, nullable=False),
        sa.Column("finished_at", INSTANT, nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('running', 'done')", name=op.f("ck_cycle_runs_status")),
        sa.PrimaryKeyConstraint("run_on", name=op.f("pk_cycle_runs")),
    )
    op.create_table(
        "planned_contacts",
        sa.Column("key", KEY, nullable=False),
        sa.Column("run_on", sa.Date(), nullable=False),
        sa.Column("debt", ID, nullable=False),
        sa.Column("party", ID, nullable=False),
        sa.Column("address_ref", REF, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("template", sa.String(128), nullable=False),
        sa.Column("planned_at", INSTANT, nullable=False),
        sa.Column("arm", ID, nullable=False),
        sa.Column("segment", ID, nullable=False),
        sa.Column("treatment", ID, nullable=False),
        sa.Column("effect", sa.String(16), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("replan_at", INSTANT, nullable=True),
        sa.Column("replanned_from", KEY, nullable=True),
        sa.CheckConstraint(f"channel IN {CHANNELS}", name=op.f("ck_planned_contacts_channel")),
        sa.CheckConstraint("effect IN ('allow', 'deny', 'indeterminate')", name=op.f("ck_planned_contacts_effect")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_planned_contacts")),
    )
    op.create_index(op.f("ix_planned_contacts_run_on_planned_at"), "planned_contacts", ["run_on", "planned_at"])
    op.create_index(op.f("ix_planned_contacts_debt"), "planned_contacts", ["debt"])
    op.create_table(
        "restatements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", ID, nullable=False),
        sa.Column("learned_on", sa.Date(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("bucket_days", sa.Integer(), nullable=False),
        sa.Column("contacts", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_restatements_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restatements")),
    )
    op.create_index(op.f("ix_restatements_loan_id"), "restatements", ["loan_id"])


def downgrade() -> None:
    for table in ("restatements", "planned_contacts", "cycle_runs", "case_events", "consents", "contact_points"):
        op.drop_table(table)
    op.drop_table("parties")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("not_before")
        batch.drop_column("address_ref")
