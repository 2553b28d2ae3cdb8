"""The access log, written only by appending: a trigger refuses any UPDATE of its rows.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

Deletion stays possible, since the retention purge removes reads older than their period (config/retention.toml:
five years, PIPL Art. 56 asks for three); nothing else deletes from it. As with the consent ledger's triggers
(0008), this binds whoever writes through fairdun or an ordinary database account, not the database's owner, who
can drop triggers.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "access_log: reads are only appended, never changed"


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION fairdun_0015_access_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation'; END $$"
        )
        op.execute(
            "CREATE TRIGGER tr_access_log_no_update BEFORE UPDATE ON access_log"
            " FOR EACH ROW EXECUTE FUNCTION fairdun_0015_access_log_guard()"
        )
    else:
        op.execute(
            "CREATE TRIGGER tr_access_log_no_update BEFORE UPDATE ON access_log"
            f" BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER tr_access_log_no_update" + (" ON access_log" if _postgresql() else ""))
    if _postgresql():
        op.execute("DROP FUNCTION fairdun_0015_access_log_guard()")


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"
