"""Personal data at rest: a data key per party (wrapped under a master key kept outside the database); contact
points' and the outbox's addresses sealed (AES-256-GCM), contact points with a blind index for exact-match lookup.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Plain SQLAlchemy types only, as in 0001. Addresses stored in clear cannot be sealed here (a migration has no
master key): the upgrade refuses a database that holds contact points or outbox rows, and says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)
KEY = sa.String(200)
INSTANT = sa.DateTime(timezone=True)


def _refuse_rows(action: str) -> None:
    if context.is_offline_mode():  # writing SQL for a DBA: nothing to count
        return
    connection = op.get_bind()
    for table in ("contact_points", "outbox"):
        count = connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
        if count:
            raise RuntimeError(
                f"migration 0004 cannot {action} the {count} address(es) already in {table}: load the book again"
                " into a new database (see docs/privacy.md)"
            )


def _contact_points(sealed: bool) -> None:
    address = (
        [
            sa.Column("address_ciphertext", sa.LargeBinary(), nullable=False),
            sa.Column("address_index", sa.String(64), nullable=False),
        ]
        if sealed
        else [sa.Column("address", sa.String(320), nullable=False)]
    )
    op.create_table(
        "contact_points",
        sa.Column("ref", sa.String(128), nullable=False),
        sa.Column("party", ID, nullable=False),
        *address,
        sa.Column("channels", sa.String(128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["party"], ["parties.id"], name=op.f("fk_contact_points_party_parties")),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_contact_points")),
    )
    op.create_index(op.f("ix_contact_points_party"), "contact_points", ["party"])
    if sealed:
        op.create_index(op.f("ix_contact_points_address_index"), "contact_points", ["address_index"])


def _outbox(sealed: bool) -> None:
    address = (
        sa.Column("address_ciphertext", sa.LargeBinary(), nullable=False)
        if sealed
        else sa.Column("address", sa.String(320), nullable=False)
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        address,
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
        sa.Column("address_ref", sa.String(128), nullable=True),
        sa.Column("not_before", INSTANT, nullable=True),
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


def upgrade() -> None:
    _refuse_rows("seal")
    op.create_table(
        "data_keys",
        sa.Column("party", ID, nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("master_key_id", sa.String(16), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("shredded_at", INSTANT, nullable=True),
        sa.CheckConstraint(
            "(shredded_at IS NULL AND wrapped_key IS NOT NULL) OR (shredded_at IS NOT NULL AND wrapped_key IS NULL)",
            name=op.f("ck_data_keys_shredded"),
        ),
        sa.PrimaryKeyConstraint("party", name=op.f("pk_data_keys")),
    )
    op.create_index(op.f("ix_data_keys_master_key_id"), "data_keys", ["master_key_id"])
    # Both tables are empty (checked above), so each is rebuilt in its new shape: the same on every database,
    # and writable as SQL for a DBA (SQLite cannot add a NOT NULL column in place).
    op.drop_table("contact_points")
    _contact_points(sealed=True)
    op.drop_table("outbox")
    _outbox(sealed=True)


def downgrade() -> None:
    _refuse_rows("unseal")
    op.drop_table("outbox")
    _outbox(sealed=False)
    op.drop_table("contact_points")
    _contact_points(sealed=False)
    op.drop_table("data_keys")
