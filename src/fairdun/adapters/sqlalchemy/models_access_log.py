"""Tables of migration 0010: the access log, one row per read of personal data (see that migration's docstring)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fairdun.adapters.sqlalchemy.column_types import UtcDateTime
from fairdun.adapters.sqlalchemy.models import ID_LENGTH, Base, one_of

ACCESS_ACTIONS = ("view", "unmask", "export", "system_read", "denied", "incident")
"""What a row records: a masked ``view``, an ``unmask`` (values in clear), an ``export``, a ``system_read`` (a
process opened a sealed field to use it), a ``denied`` request, an ``incident`` query over this log itself."""

__all__ = ["ACCESS_ACTIONS", "AccessLogRow", "Base"]


class AccessLogRow(Base):
    """One read of one data subject's personal fields: who, when, what (``fields``, comma-separated), why
    (``purpose``; never empty for an unmask) and about which loan, if any. Only appended: no code path updates or
    deletes a row. ``party`` is empty only for a query over the log itself (``incident``) or its refusal."""

    __tablename__ = "access_log"
    __table_args__ = (
        CheckConstraint(one_of("action", ACCESS_ACTIONS), name="action"),
        CheckConstraint("action <> 'unmask' OR purpose <> ''", name="reason"),
        CheckConstraint("party IS NOT NULL OR action IN ('incident', 'denied')", name="party"),
        Index(None, "actor", "at"),
        Index(None, "party", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(ID_LENGTH))
    action: Mapped[str] = mapped_column(String(16))
    party: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    borrower: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    """The borrower whose file the party belongs to (the party itself for a debtor), kept so an incident report
    names it even after the party's other records are gone."""
    fields: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    loan: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    detail: Mapped[str | None] = mapped_column(Text)
    """For a ``denied`` row, why it was refused; for an ``incident`` row, the query."""
