"""Tables of migration 0007: see that migration's docstring. (Its other half, ``parties.slot``, is on
``PartyRow`` in ``models.py``.)"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from fairdun.adapters.sqlalchemy.models import Base

__all__ = ["Base", "PartyProfileRow"]


class PartyProfileRow(Base):
    """Who a party is, every field sealed with the party's data key (the place of each is
    ``("party_profiles", <field>, party)``): the name (always), the resident ID number with its keyed blind index
    (``resident_id_index``, for exact-match lookup), a bank account and a postal address. No plaintext column:
    once the party's data key is shredded, the row says nothing."""

    __tablename__ = "party_profiles"
    __table_args__ = (
        CheckConstraint("(resident_id_ciphertext IS NULL) = (resident_id_index IS NULL)", name="resident_id"),
    )

    party: Mapped[str] = mapped_column(ForeignKey("parties.id"), primary_key=True)
    name_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    resident_id_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    resident_id_index: Mapped[str | None] = mapped_column(String(64), index=True)
    bank_account_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    postal_address_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
