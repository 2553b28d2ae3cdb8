"""Identity: sealed names, resident ID numbers, bank accounts and postal addresses (party_profiles); the
designated-contact limit in the schema (parties.slot).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Plain SQLAlchemy types only, as in 0001.

``party_profiles`` holds one row per party, each personal field sealed (AES-256-GCM) with the party's data key
(``data_keys``, 0004); the resident ID number also has a keyed blind index for exact-match lookup. No plaintext
column.

``parties.slot`` numbers a borrower's designated contacts 1 to 5: a CHECK keeps a slot on contacts only and
within 1..5, a unique index on (borrower, slot) keeps two contacts out of one slot, so the database itself can
never hold a sixth designated contact. A contact inserted without a slot is given the borrower's lowest free one
by a trigger (BEFORE INSERT on PostgreSQL; AFTER INSERT on SQLite, which cannot change a row before it is
written) or 6 when none is free, which the CHECK refuses: whoever writes, the ceiling holds. The upgrade numbers
the contacts already stored, in id order, and refuses a database where some borrower has more than five.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)
CEILING = 5
SLOT_CHECK = f"slot IS NULL OR (role = 'contact' AND slot BETWEEN 1 AND {CEILING})"

# The lowest slot of 1..5 the borrower's contacts do not take, or 6 (refused by the CHECK) when all are taken.
_FREE_SLOT = """COALESCE((SELECT MIN(s.n) FROM (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3
    UNION ALL SELECT 4 UNION ALL SELECT 5) AS s
    WHERE s.n NOT IN (SELECT p.slot FROM parties AS p WHERE p.borrower = NEW.borrower AND p.slot IS NOT NULL)), 6)"""

_POSTGRES = [
    f"""CREATE FUNCTION fairdun_contact_slot() RETURNS trigger AS $$
BEGIN
    IF NEW.role = 'contact' AND NEW.slot IS NULL THEN
        NEW.slot := {_FREE_SLOT};
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER tr_parties_contact_slot BEFORE INSERT OR UPDATE OF role, slot ON parties
    FOR EACH ROW EXECUTE FUNCTION fairdun_contact_slot()""",
]
_SQLITE = [
    f"""CREATE TRIGGER tr_parties_contact_slot AFTER INSERT ON parties
    FOR EACH ROW WHEN NEW.role = 'contact' AND NEW.slot IS NULL
BEGIN
    UPDATE parties SET slot = {_FREE_SLOT} WHERE id = NEW.id;
END""",
    """CREATE TRIGGER tr_parties_contact_slot_kept BEFORE UPDATE OF role, slot ON parties
    FOR EACH ROW WHEN NEW.role = 'contact' AND NEW.slot IS NULL
BEGIN
    SELECT RAISE(ABORT, 'parties.slot: a designated contact keeps its slot (1 to 5)');
END""",
]


def _number_existing_contacts() -> None:
    if context.is_offline_mode():  # writing SQL for a DBA: nothing to count
        return
    connection = op.get_bind()
    crowded = connection.execute(
        sa.text(
            "SELECT borrower, COUNT(*) FROM parties WHERE role = 'contact' GROUP BY borrower"
            f" HAVING COUNT(*) > {CEILING} ORDER BY borrower"
        )
    ).first()
    if crowded is not None:
        raise RuntimeError(
            f"migration 0007: borrower {crowded[0]} has {crowded[1]} designated contacts, more than the ceiling of"
            f" {CEILING} (PIPL Art. 6, minimum necessary); remove the excess before upgrading (docs/identity.md)"
        )
    contacts = connection.execute(
        sa.text("SELECT id, borrower FROM parties WHERE role = 'contact' ORDER BY borrower, id")
    ).all()
    slots: dict[str, int] = {}
    rows = []
    for party, borrower in contacts:
        slots[borrower] = slots.get(borrower, 0) + 1
        rows.append({"p": party, "s": slots[borrower]})
    if rows:
        connection.execute(sa.text("UPDATE parties SET slot = :s WHERE id = :p"), rows)


def _sqlite() -> bool:
    return context.get_context().dialect.name == "sqlite"


def upgrade() -> None:
    sqlite = _sqlite()
    if sqlite:
        # In place (no copy of the table, which others refer to): SQLite lets ADD COLUMN carry a CHECK.
        op.execute(f"ALTER TABLE parties ADD COLUMN slot INTEGER CONSTRAINT ck_parties_slot CHECK ({SLOT_CHECK})")
    else:
        op.add_column("parties", sa.Column("slot", sa.Integer(), nullable=True))
        op.create_check_constraint(op.f("ck_parties_slot"), "parties", SLOT_CHECK)
    _number_existing_contacts()
    op.create_index(op.f("ix_parties_borrower_slot"), "parties", ["borrower", "slot"], unique=True)
    for statement in _SQLITE if sqlite else _POSTGRES:
        op.execute(statement)
    op.create_table(
        "party_profiles",
        sa.Column("party", ID, nullable=False),
        sa.Column("name_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("resident_id_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("resident_id_index", sa.String(64), nullable=True),
        sa.Column("bank_account_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("postal_address_ciphertext", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(
            "(resident_id_ciphertext IS NULL) = (resident_id_index IS NULL)", name=op.f("ck_party_profiles_resident_id")
        ),
        sa.ForeignKeyConstraint(["party"], ["parties.id"], name=op.f("fk_party_profiles_party_parties")),
        sa.PrimaryKeyConstraint("party", name=op.f("pk_party_profiles")),
    )
    op.create_index(op.f("ix_party_profiles_resident_id_index"), "party_profiles", ["resident_id_index"])


def downgrade() -> None:
    op.drop_index(op.f("ix_party_profiles_resident_id_index"), table_name="party_profiles")
    op.drop_table("party_profiles")
    if _sqlite():
        op.execute("DROP TRIGGER tr_parties_contact_slot_kept")
        op.execute("DROP TRIGGER tr_parties_contact_slot")
        op.drop_index(op.f("ix_parties_borrower_slot"), table_name="parties")
        op.execute("ALTER TABLE parties DROP COLUMN slot")  # the CHECK is the column's own, so it goes with it
        return
    op.execute("DROP TRIGGER tr_parties_contact_slot ON parties")
    op.execute("DROP FUNCTION fairdun_contact_slot()")
    op.drop_index(op.f("ix_parties_borrower_slot"), table_name="parties")
    op.drop_constraint(op.f("ck_parties_slot"), "parties", type_="check")
    op.drop_column("parties", "slot")
