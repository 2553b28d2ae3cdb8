"""Tables of migration 0008: privacy notices, permanent refusals by designated contacts, and channel opt-outs (see
that migration's docstring). The consents themselves are ``consents`` (``ConsentRow`` in ``models.py``, migration
0003, given its notice, channel and withdrawal columns by 0008).

Every table here is only appended to: a notice's text is never edited (a new text is a new version), a refusal is
permanent, and the database itself refuses an UPDATE or DELETE (triggers created by 0008).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fairdun.adapters.sqlalchemy.column_types import UtcDateTime
from fairdun.adapters.sqlalchemy.models import ID_LENGTH, Base, one_of
from fairdun.application.consent import RefusalChannel
from fairdun.domain.contact import Channel

__all__ = ["Base", "OptOutRow", "PrivacyNoticeRow", "RefusalRow"]


class PrivacyNoticeRow(Base):
    """One version of the privacy notice (告知), exactly as published; ``sha256`` is the hex digest of ``text``
    (UTF-8), so a consent can show which words it was given under."""

    __tablename__ = "privacy_notices"
    __table_args__ = (CheckConstraint("length(sha256) = 64", name="sha256"),)

    version: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    language: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_by: Mapped[str] = mapped_column(String(ID_LENGTH))


class RefusalRow(Base):
    """A designated contact's refusal of any further contact (GB/T 45251-2025: stop when the contact refuses). One
    per party, permanent: ``channel`` is how it reached the lender (``portal``, ``inbound_keyword``,
    ``collector``), ``evidence`` a reference to it (never the message text or a number)."""

    __tablename__ = "refusals"
    __table_args__ = (CheckConstraint(one_of("channel", RefusalChannel), name="channel"),)

    party: Mapped[str] = mapped_column(ForeignKey("parties.id"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    channel: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(ID_LENGTH))


class OptOutRow(Base):
    """A party's request not to be contacted on one channel (at one contact point, ``address_ref``, or at any when
    it is empty): the gate's ``opt_out`` check reads these. A debtor's stop keyword is an opt-out of that channel,
    not a licence to stop collecting (docs/consent.md)."""

    __tablename__ = "opt_outs"
    __table_args__ = (
        CheckConstraint(one_of("channel", Channel), name="channel"),
        CheckConstraint(one_of("source", RefusalChannel), name="source"),
        Index(None, "party"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    party: Mapped[str] = mapped_column(ForeignKey("parties.id"))
    channel: Mapped[str] = mapped_column(String(16))
    address_ref: Mapped[str | None] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(ID_LENGTH))
