"""Logins: each account's password (a salted scrypt hash, never the password) and the sessions it was given.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

Plain SQLAlchemy types only, as in 0001. ``credentials`` holds one row per account that can log in: the hash, when
it was set, whether it is a one-time password that must be changed at the first login, and the failed attempts
that lock it (``fairdun.application.authentication``). ``sessions`` holds a SHA-256 of each session token (the
token itself is only ever with the user), who it is for, when it was issued, when it expires and when it was
ended. Accounts made before this revision have no password: an admin gives them one (``fairdun user reset``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)
INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("set_at", INSTANT, nullable=False),
        sa.Column("set_by", ID, nullable=False),
        sa.Column("must_change", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", INSTANT, nullable=True),
        sa.CheckConstraint("failed_attempts >= 0", name=op.f("ck_credentials_failed_attempts")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_credentials_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_credentials")),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("issued_at", INSTANT, nullable=False),
        sa.Column("expires_at", INSTANT, nullable=False),
        sa.Column("ended_at", INSTANT, nullable=True),
        sa.CheckConstraint("expires_at > issued_at", name=op.f("ck_sessions_period")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_user_id"), "sessions", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sessions_user_id"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_table("credentials")
