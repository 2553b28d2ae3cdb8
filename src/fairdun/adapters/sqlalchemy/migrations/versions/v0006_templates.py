"""Message templates: every version, and every transition of each (draft, in review, approved, retired).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

Plain SQLAlchemy types only, as in 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)
INSTANT = sa.DateTime(timezone=True)
CHANNELS = "('call', 'ai_call', 'sms', 'email', 'im', 'letter', 'visit')"
ROLES = "('debtor', 'co_borrower', 'guarantor', 'contact', 'third_party', 'attorney')"
STATUSES = "('draft', 'in_review', 'approved', 'retired')"


def upgrade() -> None:
    op.create_table(
        "templates",
        sa.Column("template_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("pack", ID, nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.CheckConstraint(f"channel IN {CHANNELS}", name=op.f("ck_templates_channel")),
        sa.CheckConstraint(f"role IN {ROLES}", name=op.f("ck_templates_role")),
        sa.CheckConstraint(f"status IN {STATUSES}", name=op.f("ck_templates_status")),
        sa.CheckConstraint("version > 0", name=op.f("ck_templates_version")),
        sa.PrimaryKeyConstraint("template_id", "version", name=op.f("pk_templates")),
    )
    op.create_index(op.f("ix_templates_status"), "templates", ["status"])
    op.create_table(
        "template_transitions",
        sa.Column("template_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("actor", ID, nullable=False),
        sa.Column("at", INSTANT, nullable=False),
        sa.CheckConstraint(f"status IN {STATUSES}", name=op.f("ck_template_transitions_status")),
        sa.ForeignKeyConstraint(
            ["template_id", "version"],
            ["templates.template_id", "templates.version"],
            name=op.f("fk_template_transitions_template_id_templates"),
        ),
        sa.PrimaryKeyConstraint("template_id", "version", "seq", name=op.f("pk_template_transitions")),
    )


def downgrade() -> None:
    op.drop_table("template_transitions")
    op.drop_index(op.f("ix_templates_status"), table_name="templates")
    op.drop_table("templates")
