"""Tables of migration 0009: users, their trainings, outside agencies with their evaluations and contracts, and
the notices telling borrowers their case may go to an agency (see that migration's docstring).

Trainings, evaluations, contracts and notices are only appended: a new evaluation supersedes an old one, it never
overwrites it. A user's ``active`` flag and an agency's ``approved_at``/``revoked_at`` change, and each change has
its entry in the audit log (``fairdun.application.access_control``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fairdun.adapters.sqlalchemy.column_types import UtcDateTime
from fairdun.adapters.sqlalchemy.models import ID_LENGTH, Base, one_of
from fairdun.domain.access import UserRole
from fairdun.domain.agency import EvaluationResult, TrainingKind

__all__ = [
    "AgencyContractRow",
    "AgencyEvaluationRow",
    "AgencyRow",
    "Base",
    "CredentialRow",
    "PlacementNoticeRow",
    "SessionRow",
    "TrainingRow",
    "UserRow",
]


class AgencyRow(Base):
    """An outside collection agency; ``shared_fields`` is comma-separated (``name,phone`` by default)."""

    __tablename__ = "agencies"
    __table_args__ = (CheckConstraint("shared_fields <> ''", name="shared_fields"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    shared_fields: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class UserRow(Base):
    """An account. An agency collector names its agency; a borrower account names its party."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(one_of("role", UserRole), name="role"),
        CheckConstraint("role <> 'agency_collector' OR agency IS NOT NULL", name="agency"),
        CheckConstraint("role <> 'borrower' OR party IS NOT NULL", name="party"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    agency: Mapped[str | None] = mapped_column(String(ID_LENGTH), ForeignKey("agencies.id"))
    party: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    active: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TrainingRow(Base):
    """A training a user passed. Only appended."""

    __tablename__ = "trainings"
    __table_args__ = (
        CheckConstraint(one_of("kind", TrainingKind), name="kind"),
        CheckConstraint("valid_until >= passed_on", name="valid_until"),
        Index(None, "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    passed_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(ID_LENGTH))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AgencyEvaluationRow(Base):
    """An evaluation of an agency. Only appended; the newest one made by a day is the one that counts."""

    __tablename__ = "agency_evaluations"
    __table_args__ = (
        CheckConstraint(one_of("result", EvaluationResult), name="result"),
        CheckConstraint("valid_until >= evaluated_on", name="valid_until"),
        Index(None, "agency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("agencies.id"))
    evaluated_on: Mapped[date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(8))
    valid_until: Mapped[date] = mapped_column(Date)
    evaluator: Mapped[str] = mapped_column(String(ID_LENGTH))
    reference: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AgencyContractRow(Base):
    """An entrusted-processing contract (PIPL Art. 21) with an agency. Only appended."""

    __tablename__ = "agency_contracts"
    __table_args__ = (
        CheckConstraint("expires_on > signed_on", name="period"),
        UniqueConstraint("agency", "reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("agencies.id"))
    reference: Mapped[str] = mapped_column(String(200))
    signed_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(ID_LENGTH))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PlacementNoticeRow(Base):
    """A borrower told that their case may go to an agency. Only appended."""

    __tablename__ = "placement_notices"
    __table_args__ = (Index(None, "agency", "borrower"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower: Mapped[str] = mapped_column(String(ID_LENGTH))
    agency: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("agencies.id"))
    informed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    channel: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(ID_LENGTH))


class CredentialRow(Base):
    """An account's password as a salted scrypt hash (migration 0014), whether it must be changed at the next
    login, and the failed attempts that lock it."""

    __tablename__ = "credentials"
    __table_args__ = (CheckConstraint("failed_attempts >= 0", name="failed_attempts"),)

    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
    set_by: Mapped[str] = mapped_column(String(ID_LENGTH))
    must_change: Mapped[bool]
    failed_attempts: Mapped[int]
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SessionRow(Base):
    """A session given at a login: the SHA-256 of its token (never the token), whose, and its lifetime."""

    __tablename__ = "sessions"
    __table_args__ = (CheckConstraint("expires_at > issued_at", name="period"), Index(None, "user_id"))

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
