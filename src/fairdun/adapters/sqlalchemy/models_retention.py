"""Tables of migration 0011: retention holds and erasures (see that migration's docstring)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fairdun.adapters.sqlalchemy.column_types import UtcDateTime
from fairdun.adapters.sqlalchemy.models import ID_LENGTH, Base

__all__ = ["Base", "ErasureRow", "RetentionHoldRow"]


class RetentionHoldRow(Base):
    """A legal hold on a party's or a loan's records (a litigation hold, a regulator's request): while it holds
    (``until`` not passed and not released) nothing of them is erased or purged. Released, never deleted."""

    __tablename__ = "retention_holds"
    __table_args__ = (
        CheckConstraint("party IS NOT NULL OR loan IS NOT NULL", name="target"),
        CheckConstraint("reason <> ''", name="reason"),
        CheckConstraint("(released_at IS NULL) = (released_by IS NULL)", name="released"),
        Index(None, "party"),
        Index(None, "loan"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    party: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    loan: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    reason: Mapped[str] = mapped_column(Text)
    until: Mapped[date] = mapped_column(Date)
    set_by: Mapped[str] = mapped_column(String(ID_LENGTH))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
    released_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ErasureRow(Base):
    """A party erased by crypto-shredding: who asked, why, when, and the explanation given (JSON: what was
    erased, what was kept, why and until when). Holds no personal value: the party is an opaque id."""

    __tablename__ = "erasures"

    party: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    borrower: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    erased_by: Mapped[str] = mapped_column(String(ID_LENGTH))
    erased_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
