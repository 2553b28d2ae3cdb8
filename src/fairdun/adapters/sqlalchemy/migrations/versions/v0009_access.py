"""Access control: users and roles, training, agencies with evaluations and contracts, placement notices.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Plain SQLAlchemy types only, as in 0001. ``users`` holds one row per account (role as in
``fairdun.domain.access.UserRole``); ``trainings`` every training a user passed (GB/T 45251-2025: before the first
case and yearly); ``agencies`` the outside agencies with when they were approved and revoked and which personal
fields a placement shares; ``agency_evaluations`` every yearly evaluation; ``agency_contracts`` every
entrusted-processing contract (PIPL Art. 21); ``placement_notices`` every notice telling a borrower their case may
go to an agency (CBIRC 消费者权益保护管理办法 Art. 41). The last four are only appended.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)
INSTANT = sa.DateTime(timezone=True)
ROLES = "('admin', 'compliance', 'supervisor', 'collector', 'agency_collector', 'auditor', 'borrower')"


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("approved_at", INSTANT, nullable=True),
        sa.Column("revoked_at", INSTANT, nullable=True),
        sa.Column("shared_fields", sa.String(200), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.CheckConstraint("shared_fields <> ''", name=op.f("ck_agencies_shared_fields")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
    )
    op.create_table(
        "users",
        sa.Column("id", ID, nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("agency", ID, nullable=True),
        sa.Column("party", ID, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.CheckConstraint(f"role IN {ROLES}", name=op.f("ck_users_role")),
        sa.CheckConstraint("role <> 'agency_collector' OR agency IS NOT NULL", name=op.f("ck_users_agency")),
        sa.CheckConstraint("role <> 'borrower' OR party IS NOT NULL", name=op.f("ck_users_party")),
        sa.ForeignKeyConstraint(["agency"], ["agencies.id"], name=op.f("fk_users_agency_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_table(
        "trainings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("passed_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("recorded_by", ID, nullable=False),
        sa.Column("recorded_at", INSTANT, nullable=False),
        sa.CheckConstraint("kind IN ('onboarding', 'annual')", name=op.f("ck_trainings_kind")),
        sa.CheckConstraint("valid_until >= passed_on", name=op.f("ck_trainings_valid_until")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_trainings_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trainings")),
    )
    op.create_index(op.f("ix_trainings_user_id"), "trainings", ["user_id"])
    op.create_table(
        "agency_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency", ID, nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("result", sa.String(8), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("evaluator", ID, nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("recorded_at", INSTANT, nullable=False),
        sa.CheckConstraint("result IN ('pass', 'fail')", name=op.f("ck_agency_evaluations_result")),
        sa.CheckConstraint("valid_until >= evaluated_on", name=op.f("ck_agency_evaluations_valid_until")),
        sa.ForeignKeyConstraint(["agency"], ["agencies.id"], name=op.f("fk_agency_evaluations_agency_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_evaluations")),
    )
    op.create_index(op.f("ix_agency_evaluations_agency"), "agency_evaluations", ["agency"])
    op.create_table(
        "agency_contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency", ID, nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", ID, nullable=False),
        sa.Column("recorded_at", INSTANT, nullable=False),
        sa.CheckConstraint("expires_on > signed_on", name=op.f("ck_agency_contracts_period")),
        sa.ForeignKeyConstraint(["agency"], ["agencies.id"], name=op.f("fk_agency_contracts_agency_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_contracts")),
        sa.UniqueConstraint("agency", "reference", name=op.f("uq_agency_contracts_agency_reference")),
    )
    op.create_table(
        "placement_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("borrower", ID, nullable=False),
        sa.Column("agency", ID, nullable=False),
        sa.Column("informed_at", INSTANT, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("recorded_by", ID, nullable=False),
        sa.ForeignKeyConstraint(["agency"], ["agencies.id"], name=op.f("fk_placement_notices_agency_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_notices")),
    )
    op.create_index(op.f("ix_placement_notices_agency_borrower"), "placement_notices", ["agency", "borrower"])


def downgrade() -> None:
    op.drop_index(op.f("ix_placement_notices_agency_borrower"), table_name="placement_notices")
    op.drop_table("placement_notices")
    op.drop_table("agency_contracts")
    op.drop_index(op.f("ix_agency_evaluations_agency"), table_name="agency_evaluations")
    op.drop_table("agency_evaluations")
    op.drop_index(op.f("ix_trainings_user_id"), table_name="trainings")
    op.drop_table("trainings")
    op.drop_table("users")
    op.drop_table("agencies")
