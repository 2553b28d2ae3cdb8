"""The consent ledger: privacy notices, per-purpose consents with channel and evidence, permanent refusals.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Plain SQLAlchemy types only, as in 0001.

- ``privacy_notices``: each version of the notice as published (text and its SHA-256), never edited.
- ``consents`` (0003) gains the notice version it was given under, the channel it came through, and the channel and
  evidence of its withdrawal. Consents stored before 0008 have no notice (NULL) and channel ``unrecorded``; their
  withdrawals likewise: nothing is invented about how they were given.
- ``refusals``: a designated contact's permanent refusal of further contact, one per party.
- ``opt_outs``: a party's opt-out of one channel (a debtor's stop keyword).

History is never overwritten, and the database says so too: triggers refuse any UPDATE or DELETE of a notice, a
refusal or an opt-out, and any change to a consent except filling in its withdrawal, once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)
INSTANT = sa.DateTime(timezone=True)
SOURCES = "('portal', 'inbound_keyword', 'collector')"
CHANNELS = "('call', 'ai_call', 'sms', 'email', 'im', 'letter', 'visit')"
APPEND_ONLY = ("privacy_notices", "refusals", "opt_outs")

# A consent row may change once: from in force to withdrawn, touching nothing else.
_CONSENT_CHANGED = (
    "OLD.withdrawn_at IS NOT NULL OR NEW.withdrawn_at IS NULL OR NEW.withdrawal_channel IS NULL"
    " OR NEW.id {ne} OLD.id OR NEW.party {ne} OLD.party OR NEW.purpose {ne} OLD.purpose"
    " OR NEW.granted_at {ne} OLD.granted_at OR NEW.evidence {ne} OLD.evidence"
    " OR NEW.notice_version {ne} OLD.notice_version OR NEW.channel {ne} OLD.channel"
)


def _sqlite_triggers() -> list[str]:
    out = []
    for table in APPEND_ONLY:
        for event in ("UPDATE", "DELETE"):
            out.append(
                f"CREATE TRIGGER tr_{table}_no_{event.lower()} BEFORE {event} ON {table}"
                f" BEGIN SELECT RAISE(ABORT, '{table}: rows are only appended, never changed or deleted'); END"
            )
    out.append(
        f"CREATE TRIGGER tr_consents_history BEFORE UPDATE ON consents WHEN {_CONSENT_CHANGED.format(ne='IS NOT')}"
        " BEGIN SELECT RAISE(ABORT, 'consents: history is never overwritten; only a withdrawal is added, once'); END"
    )
    out.append(
        "CREATE TRIGGER tr_consents_no_delete BEFORE DELETE ON consents"
        " BEGIN SELECT RAISE(ABORT, 'consents: history is never deleted'); END"
    )
    return out


def _postgresql_triggers() -> list[str]:
    changed = _CONSENT_CHANGED.format(ne="IS DISTINCT FROM")
    out = [
        "CREATE FUNCTION fairdun_0008_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " RAISE EXCEPTION '%: rows are only appended, never changed or deleted', TG_TABLE_NAME"
        " USING ERRCODE = 'restrict_violation'; END $$",
        "CREATE FUNCTION fairdun_0008_consent_history() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF TG_OP = 'DELETE' OR {changed} THEN"
        " RAISE EXCEPTION 'consents: history is never overwritten; only a withdrawal is added, once'"
        " USING ERRCODE = 'restrict_violation'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER tr_consents_history BEFORE UPDATE OR DELETE ON consents"
        " FOR EACH ROW EXECUTE FUNCTION fairdun_0008_consent_history()",
    ]
    out.extend(
        f"CREATE TRIGGER tr_{table}_append_only BEFORE UPDATE OR DELETE ON {table}"
        " FOR EACH ROW EXECUTE FUNCTION fairdun_0008_append_only()"
        for table in APPEND_ONLY
    )
    return out


def _drop_triggers() -> list[str]:
    if op.get_context().dialect.name == "postgresql":
        out = [f"DROP TRIGGER tr_{table}_append_only ON {table}" for table in APPEND_ONLY]
        out += [
            "DROP TRIGGER tr_consents_history ON consents",
            "DROP FUNCTION fairdun_0008_consent_history()",
            "DROP FUNCTION fairdun_0008_append_only()",
        ]
        return out
    out = [f"DROP TRIGGER tr_{table}_no_{event}" for table in APPEND_ONLY for event in ("update", "delete")]
    return [*out, "DROP TRIGGER tr_consents_history", "DROP TRIGGER tr_consents_no_delete"]


def upgrade() -> None:
    op.create_table(
        "privacy_notices",
        sa.Column("version", ID, nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("published_at", INSTANT, nullable=False),
        sa.Column("published_by", ID, nullable=False),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_privacy_notices_sha256")),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_privacy_notices")),
    )
    # Plain ADD COLUMN (nullable, or with a default), which SQLite does in place: the table keeps its rows and
    # its 0003 constraints. Which notice a consent names is checked by the ledger (a notice is never deleted).
    op.add_column("consents", sa.Column("notice_version", ID, nullable=True))
    op.add_column("consents", sa.Column("channel", sa.String(32), nullable=False, server_default="unrecorded"))
    op.add_column("consents", sa.Column("withdrawal_channel", sa.String(32), nullable=True))
    op.add_column("consents", sa.Column("withdrawal_evidence", sa.Text(), nullable=True))
    op.execute(
        "UPDATE consents SET withdrawal_channel = 'unrecorded', withdrawal_evidence = '' WHERE withdrawn_at IS NOT NULL"
    )
    op.create_table(
        "refusals",
        sa.Column("party", ID, nullable=False),
        sa.Column("at", INSTANT, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("recorded_by", ID, nullable=False),
        sa.CheckConstraint(f"channel IN {SOURCES}", name=op.f("ck_refusals_channel")),
        sa.ForeignKeyConstraint(["party"], ["parties.id"], name=op.f("fk_refusals_party_parties")),
        sa.PrimaryKeyConstraint("party", name=op.f("pk_refusals")),
    )
    op.create_table(
        "opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party", ID, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address_ref", sa.String(128), nullable=True),
        sa.Column("at", INSTANT, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("recorded_by", ID, nullable=False),
        sa.CheckConstraint(f"channel IN {CHANNELS}", name=op.f("ck_opt_outs_channel")),
        sa.CheckConstraint(f"source IN {SOURCES}", name=op.f("ck_opt_outs_source")),
        sa.ForeignKeyConstraint(["party"], ["parties.id"], name=op.f("fk_opt_outs_party_parties")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_outs")),
    )
    op.create_index(op.f("ix_opt_outs_party"), "opt_outs", ["party"])
    postgresql = op.get_context().dialect.name == "postgresql"
    for statement in _postgresql_triggers() if postgresql else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    for statement in _drop_triggers():
        op.execute(statement)
    op.drop_index(op.f("ix_opt_outs_party"), table_name="opt_outs")
    op.drop_table("opt_outs")
    op.drop_table("refusals")
    for column in ("withdrawal_evidence", "withdrawal_channel", "channel", "notice_version"):
        op.drop_column("consents", column)
    op.drop_table("privacy_notices")
