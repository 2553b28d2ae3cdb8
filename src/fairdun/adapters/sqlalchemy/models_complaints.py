"""Tables of migration 0012: complaints, the contacts each complains of, and each complaint's status changes.

Only appended to: a complaint's intake is never edited, its status changes are rows of their own
(``complaint_transitions``), and ``complaints.status`` mirrors the last of them so a list by status needs no join.
The complainant's words and resolution notes are sealed with a party's data key (``*_ciphertext``), never in clear.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from fairdun.adapters.sqlalchemy.column_types import UtcDateTime
from fairdun.adapters.sqlalchemy.models import ID_LENGTH, Base, one_of
from fairdun.application.complaints import ComplainantRole, ComplaintCategory, ComplaintChannel, ComplaintStatus

__all__ = ["Base", "ComplaintContactRow", "ComplaintRow", "ComplaintTransitionRow"]


class ComplaintRow(Base):
    """A complaint as received. ``party`` is None for a complainant fairdun does not know; ``owner`` is the party
    whose data key seals ``summary_ciphertext`` and the notes (the complainant, else the borrower)."""

    __tablename__ = "complaints"
    __table_args__ = (
        CheckConstraint(one_of("channel", ComplaintChannel), name="channel"),
        CheckConstraint(one_of("role", ComplainantRole), name="role"),
        CheckConstraint(one_of("category", ComplaintCategory), name="category"),
        CheckConstraint(one_of("status", ComplaintStatus), name="status"),
        Index(None, "loan_id"),
        Index(None, "status"),
        Index(None, "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    channel: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    party: Mapped[str | None] = mapped_column(ForeignKey("parties.id"))
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"))
    category: Mapped[str] = mapped_column(String(32))
    collector: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    agency: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    reference: Mapped[str | None] = mapped_column(String(128))
    owner: Mapped[str] = mapped_column(String(ID_LENGTH))
    summary_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))


class ComplaintContactRow(Base):
    """A contact the complaint is about, by its planned-contact / outbox key."""

    __tablename__ = "complaint_contacts"

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    contact_key: Mapped[str] = mapped_column(String(128), primary_key=True)


class ComplaintTransitionRow(Base):
    """One status a complaint reached: when, by whom, with a note sealed like the summary."""

    __tablename__ = "complaint_transitions"
    __table_args__ = (CheckConstraint(one_of("status", ComplaintStatus), name="status"),)

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(ID_LENGTH))
    note_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
