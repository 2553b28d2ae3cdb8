"""Data keys in the database (wrapped), one per party, and sealing and opening fields with them. One store per unit
of work: the keys it has looked up are remembered for the transaction, so a batch costs one query."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from fairdun.adapters.crypto.keyring import MASTER_KEY, MASTER_KEY_FILE, Keyring, KeyringError, Place, address_kind
from fairdun.adapters.sqlalchemy.audit_log import SqlAlchemyAuditLog
from fairdun.adapters.sqlalchemy.models import ContactPointRow, DataKeyRow

CHUNK = 500
ERASED = "[erased]"
"""What a sealed field of an erased party (its data key shredded) reads as where reading must go on working."""


class DataKeyStore:
    """One unit of work's view of ``data_keys``: finds, creates and unwraps the data keys its repositories seal and
    open fields with. Without a keyring it refuses, naming ``FAIRDUN_MASTER_KEY``."""

    def __init__(self, session: Session, keyring: Keyring | None) -> None:
        self._session = session
        self._keyring = keyring
        self._ciphers: dict[str, AESGCM] = {}
        self._shredded: set[str] = set()

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            raise KeyringError(
                f"{MASTER_KEY} (or {MASTER_KEY_FILE}) is not set: this unit of work was opened without a keyring,"
                " so it can neither seal nor open personal data"
            )
        return self._keyring

    def ciphers(self, owners: Iterable[str], *, create: bool) -> Mapping[str, AESGCM]:
        """The data-key ciphers of ``owners`` (party ids). With ``create``, a party without a key gets a new one,
        stored in this transaction (``ON CONFLICT DO NOTHING``: a concurrent writer's key wins and is used);
        without it, or when the key was shredded, :class:`KeyringError` names the party."""
        missing = sorted({o for o in owners if o not in self._ciphers})
        self._load(missing)
        new = [o for o in missing if o not in self._ciphers]
        if new and create:
            self.create(new)
            self._load(new)
            new = [o for o in new if o not in self._ciphers]
        if new:
            raise KeyringError(f"no data key for {new[0]!r}: its sealed fields cannot be opened")
        return self._ciphers

    def create(self, owners: Sequence[str]) -> None:
        """Stores a new data key for each of ``owners`` that has none, and nothing for the others. Writing first
        (before any read) lets a transaction wait for a concurrent one instead of failing on a stale snapshot."""
        keyring = self.keyring
        owners = [o for o in owners if o not in self._ciphers]
        if not owners:
            return
        now = datetime.now(UTC)
        rows: list[dict[str, Any]] = [
            {
                "party": owner,
                "wrapped_key": keyring.new_data_key(owner),
                "master_key_id": keyring.master_id,
                "created_at": now,
                "shredded_at": None,
            }
            for owner in owners
        ]
        module = postgresql if self._session.get_bind().dialect.name == "postgresql" else sqlite
        statement = module.insert(DataKeyRow.__table__).on_conflict_do_nothing(index_elements=["party"])
        for first in range(0, len(rows), CHUNK * 10):
            self._session.execute(statement, rows[first : first + CHUNK * 10])

    def _load(self, owners: Sequence[str], *, strict: bool = True) -> None:
        keyring = self.keyring
        shredded: list[str] = []
        for first in range(0, len(owners), CHUNK):
            chunk = owners[first : first + CHUNK]
            query = select(DataKeyRow.party, DataKeyRow.wrapped_key, DataKeyRow.master_key_id).where(
                DataKeyRow.party.in_(chunk)
            )
            for owner, wrapped, master_id in self._session.execute(query):
                if wrapped is None:
                    shredded.append(owner)
                else:
                    self._ciphers[owner] = keyring.cipher(owner, wrapped, master_id)
        self._shredded.update(shredded)
        if shredded and strict:
            raise KeyringError(f"the data key of {shredded[0]!r} was shredded: its personal data is gone for good")

    def seal_many(self, items: Sequence[tuple[str, str, Place]]) -> list[bytes]:
        """``(owner, plaintext, place)`` sealed, in order; owners without a data key get one."""
        ciphers = self.ciphers((owner for owner, _, _ in items), create=True)
        seal = Keyring.seal
        return [seal(ciphers[owner], owner, plain, place) for owner, plain, place in items]

    def open_many(self, items: Sequence[tuple[bytes, Place]], *, erased: str | None = None) -> list[str]:
        """Each sealed field's plaintext, in order. With ``erased``, a field whose owner's data key was shredded
        reads as that text instead of raising (reads that must go on working after an erasure)."""
        owner = Keyring.owner
        if erased is not None:
            self._load(sorted({owner(s) for s, _ in items} - self._ciphers.keys()), strict=False)
            return [
                erased if owner(s) in self._shredded else Keyring.open(self._ciphers[owner(s)], s, place)
                for s, place in items
            ]
        ciphers = self.ciphers((owner(sealed) for sealed, _ in items), create=False)
        unseal = Keyring.open
        return [unseal(ciphers[owner(sealed)], sealed, place) for sealed, place in items]

    def shredded(self, owners: Iterable[str]) -> set[str]:
        """Which of ``owners`` have had their data key shredded."""
        self._load(sorted(set(owners) - self._ciphers.keys() - self._shredded), strict=False)
        return self._shredded & set(owners)

    def shred(self, owners: Sequence[str], at: datetime) -> list[str]:
        """Destroys the data keys of ``owners`` (PIPL Art. 47 erasure): ``wrapped_key`` becomes NULL, so every
        field sealed under them, in this database and in every backup of it, can never be opened again. The
        parties shredded now (not those already shredded), in order. A party that has no key yet gets a shredded
        one, so nothing can ever be sealed for it again (a later import would otherwise make it a fresh key)."""
        table = cast(Table, DataKeyRow.__table__)
        done = []
        for owner in owners:
            result: Any = self._session.execute(
                update(table)
                .where(table.c.party == owner, table.c.wrapped_key.is_not(None))
                .values(wrapped_key=None, shredded_at=at)
            )
            if result.rowcount:
                done.append(owner)
            elif self._session.get(DataKeyRow, owner) is None:
                master = self._keyring.master_id if self._keyring is not None else ""
                self._session.add(
                    DataKeyRow(party=owner, wrapped_key=None, master_key_id=master, created_at=at, shredded_at=at)
                )
                self._session.flush()
                done.append(owner)
            self._ciphers.pop(owner, None)
            self._shredded.add(owner)
        return done


# --- rotation -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rotation:
    """What :func:`rotate_master_key` did: data keys re-wrapped, blind indexes recomputed, batches (each its own
    transaction), and keys still under another master key when it finished (0 unless a writer without the new key
    added some meanwhile)."""

    rewrapped: int
    indexes: int
    batches: int
    remaining: int


def rotate_master_key(
    engine: Engine,
    keyring: Keyring,
    *,
    batch: int = 500,
    progress: Callable[[int], None] | None = None,
    actor: str = "fairdun keys rotate",
) -> Rotation:
    """Re-wraps every data key not yet under ``keyring``'s current master key, ``batch`` at a time, each batch its
    own short transaction, so the daily cycle can run meanwhile. ``keyring`` must still know the old master key(s).

    The data keys themselves do not change, so no sealed field is touched. The blind indexes of the batch's
    contact points are recomputed under the new index key in the same transaction (the index key is derived from
    the master key); meanwhile a lookup tries the index under every configured key. Each batch appends an entry
    to the audit log (``keys.rewrapped``: how many, from which master key ids, the first and last party) in its
    own transaction."""
    # identity_repository opens sealed fields through this module: imported here, not at the top.
    from fairdun.adapters.sqlalchemy.identity_repository import rewrite_resident_id_indexes  # noqa: PLC0415

    if batch < 1:
        raise ValueError(f"batch: at least 1, got {batch}")
    new_id = keyring.master_id
    rewrapped = indexes = batches = 0
    after = ""
    while True:
        with Session(engine) as session, session.begin():
            query = (
                select(DataKeyRow.party, DataKeyRow.wrapped_key, DataKeyRow.master_key_id)
                .where(
                    DataKeyRow.master_key_id != new_id, DataKeyRow.wrapped_key.is_not(None), DataKeyRow.party > after
                )
                .order_by(DataKeyRow.party)
                .limit(batch)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update()  # a concurrent shredding or rotation waits
            rows = [(party, wrapped, master_id) for party, wrapped, master_id in session.execute(query) if wrapped]
            if not rows:
                break
            after = rows[-1][0]
            keys = {party: keyring.unwrap(party, wrapped, master_id) for party, wrapped, master_id in rows}
            table = cast(Table, DataKeyRow.__table__)
            session.execute(
                update(table)
                .where(table.c.party == bindparam("p"), table.c.master_key_id == bindparam("old"))
                .values(wrapped_key=bindparam("w"), master_key_id=new_id),
                [{"p": party, "old": old, "w": keyring.wrap(party, keys[party])} for party, _, old in rows],
            )
            points = session.execute(
                select(ContactPointRow.ref, ContactPointRow.party, ContactPointRow.address_ciphertext).where(
                    ContactPointRow.party.in_(list(keys))
                )
            ).all()
            if points:
                updates = []
                for ref, party, sealed in points:
                    address = Keyring.open(AESGCM(keys[party]), sealed, ("contact_points", "address", ref))
                    updates.append({"r": ref, "i": keyring.blind_index(address_kind(address), address)})
                points_table = cast(Table, ContactPointRow.__table__)
                session.execute(
                    update(points_table)
                    .where(points_table.c.ref == bindparam("r"))
                    .values(address_index=bindparam("i")),
                    updates,
                )
            ids = rewrite_resident_id_indexes(session, keyring, keys)
            SqlAlchemyAuditLog(session).append(
                actor,
                "keys.rewrapped",
                new_id,
                {"data_keys": len(rows), "from": sorted({old for _, _, old in rows}), "parties": [rows[0][0], after]},
                at=datetime.now(UTC),
            )
            rewrapped += len(rows)
            indexes += len(points) + ids
            batches += 1
        if progress is not None:
            progress(rewrapped)
    with Session(engine) as session:
        remaining = session.scalar(
            select(func.count())
            .select_from(DataKeyRow)
            .where(DataKeyRow.master_key_id != new_id, DataKeyRow.wrapped_key.is_not(None))
        )
    return Rotation(rewrapped, indexes, batches, int(remaining or 0))
