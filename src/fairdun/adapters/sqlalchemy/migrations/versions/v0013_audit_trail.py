"""The audit trail of decisions and sends: each planned contact and each contact-history row names the audit-log
entry that vouches for it (``audit_seq``), so ``fairdun audit verify --records`` can recompute each entry's digest
from the rows it covers.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

Plain SQLAlchemy types only, as in 0001. Rows written before this revision have no entry (NULL).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("contact_events", "planned_contacts")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("audit_seq", sa.Integer(), nullable=True))
            batch.create_index(batch.f(f"ix_{table}_audit_seq"), ["audit_seq"])


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(batch.f(f"ix_{table}_audit_seq"))
            batch.drop_column("audit_seq")
