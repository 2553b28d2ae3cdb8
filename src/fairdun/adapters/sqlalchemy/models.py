"""The tables, as SQLAlchemy 2 typed models. Rows stay inside this adapter; repositories map them to domain values.

The migrations in ``migrations/versions`` create exactly these tables (a test compares the two). Check constraints
name the enums' values as they were when the migration was written: a new channel or outcome needs a migration.
Borrowers and parties are opaque ids, the history's addresses opaque references; the one personal field, a contact
point's address (and its copy in the outbox while a message waits), is sealed with the party's data key
(``data_keys``, migration 0004; ``docs/privacy.md``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from fairdun.adapters.sqlalchemy.column_types import Cents, Rate, UtcDateTime
from fairdun.domain.contact import Channel, Direction, Outcome, Role
from fairdun.domain.loans import AllocationOrder, Component, RepaymentMethod

ID_LENGTH = 64
"""Ids (loans, parties, debts, payments, contact records) are opaque strings of at most this many characters."""

# Deterministic constraint names, the same on every database, so migrations can name what they drop.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

EVENT_KINDS = ("payment", "reversal", "pause", "waiver")


def one_of(column: str, values: type[StrEnum] | tuple[str, ...]) -> str:
    """A CHECK expression: ``column`` holds one of ``values``."""
    names = values if isinstance(values, tuple) else tuple(v.value for v in values)
    return f"{column} IN ({', '.join(repr(v) for v in names)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ProductRow(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("term_months > 0", name="term_months"),
        CheckConstraint(one_of("method", RepaymentMethod), name="method"),
        CheckConstraint(one_of("allocation", AllocationOrder), name="allocation"),
        CheckConstraint("installment_fee_cents >= 0 AND upfront_fee_cents >= 0", name="fees"),
        CheckConstraint("grace_days >= 0", name="grace_days"),
    )

    code: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    term_months: Mapped[int]
    annual_rate: Mapped[Decimal] = mapped_column(Rate)
    method: Mapped[str] = mapped_column(String(32))
    installment_fee: Mapped[Decimal] = mapped_column("installment_fee_cents", Cents)
    upfront_fee: Mapped[Decimal] = mapped_column("upfront_fee_cents", Cents)
    penalty_daily_rate: Mapped[Decimal] = mapped_column(Rate)
    grace_days: Mapped[int]
    waterfall: Mapped[str] = mapped_column(String(64))
    """The components in order, comma-separated: ``penalty,fee,interest,principal``."""
    allocation: Mapped[str] = mapped_column(String(32))


class LoanRow(Base):
    __tablename__ = "loans"
    __table_args__ = (CheckConstraint("principal_cents > 0", name="principal"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    product_code: Mapped[str] = mapped_column(ForeignKey("products.code"))
    borrower: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    principal: Mapped[Decimal] = mapped_column("principal_cents", Cents)
    disbursed_on: Mapped[date] = mapped_column(Date)

    installments: Mapped[list[InstallmentRow]] = relationship(
        order_by="InstallmentRow.number", lazy="selectin", cascade="all, delete-orphan"
    )


class InstallmentRow(Base):
    __tablename__ = "installments"
    __table_args__ = (
        CheckConstraint("number > 0", name="number"),
        CheckConstraint("start_on < due_on", name="period"),
        CheckConstraint("principal_cents >= 0 AND interest_cents >= 0 AND fee_cents >= 0", name="amounts"),
    )

    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    start_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    principal: Mapped[Decimal] = mapped_column("principal_cents", Cents)
    interest: Mapped[Decimal] = mapped_column("interest_cents", Cents)
    fee: Mapped[Decimal] = mapped_column("fee_cents", Cents)


class LoanEventRow(Base):
    """One ledger event. ``kind`` says which of the nullable columns it uses (the ``shape`` check):

    - ``payment``: ``effective_on``, ``amount_cents``, ``payment_id``
    - ``reversal``: ``payment_id`` (the payment reversed), ``reason``
    - ``pause``: ``effective_on`` (first day), ``ends_on`` (last day)
    - ``waiver``: ``effective_on``, ``amount_cents``, ``component``, optionally ``installment``
    """

    __tablename__ = "loan_events"
    __table_args__ = (
        CheckConstraint(one_of("kind", EVENT_KINDS), name="kind"),
        CheckConstraint(
            # Every column a branch compares is tested for NULL first: a CHECK that comes out NULL passes.
            "(kind = 'payment' AND effective_on IS NOT NULL AND amount_cents IS NOT NULL AND amount_cents > 0"
            " AND payment_id IS NOT NULL)"
            " OR (kind = 'reversal' AND payment_id IS NOT NULL)"
            " OR (kind = 'pause' AND effective_on IS NOT NULL AND ends_on IS NOT NULL AND ends_on >= effective_on)"
            " OR (kind = 'waiver' AND effective_on IS NOT NULL AND amount_cents IS NOT NULL AND amount_cents > 0"
            " AND component IS NOT NULL)",
            name="shape",
        ),
        CheckConstraint(f"component IS NULL OR {one_of('component', Component)}", name="component"),
        # A payment id is unique within its loan, and a payment is reversed at most once (NULLs never clash).
        UniqueConstraint("loan_id", "kind", "payment_id"),
    )

    seq: Mapped[int] = mapped_column("id", primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    effective_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column("amount_cents", Cents)
    payment_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    component: Mapped[str | None] = mapped_column(String(16))
    installment: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ContactEventRow(Base):
    __tablename__ = "contact_events"
    __table_args__ = (
        CheckConstraint(one_of("channel", Channel), name="channel"),
        CheckConstraint(one_of("direction", Direction), name="direction"),
        CheckConstraint(one_of("outcome", Outcome), name="outcome"),
        Index(None, "party", "occurred_at"),
        Index(None, "debt", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    debt: Mapped[str] = mapped_column(String(ID_LENGTH))
    party: Mapped[str] = mapped_column(String(ID_LENGTH))
    address_ref: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    audit_seq: Mapped[int | None] = mapped_column(index=True)
    """The audit-log entry that vouches for this row (migration 0013; None for rows written before it)."""


OUTBOX_STATUSES = ("pending", "claimed", "sent", "failed")
KEY_LENGTH = 200
"""An idempotency key is 1 to 200 visible ASCII characters (``fairdun.application.channels``)."""


class OutboxRow(Base):
    """One outbound message and its delivery state; ``key`` (the idempotency key) is unique.

    ``id`` is the order messages were enqueued in, which is the order they are sent in. A claimed row names its
    worker and when it claimed (the ``claim`` check), so a stale claim can be found and handed back. Attribute names
    are the column names: the repository writes this table with plain INSERT and UPDATE statements.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(one_of("channel", Channel), name="channel"),
        CheckConstraint(one_of("status", OUTBOX_STATUSES), name="status"),
        CheckConstraint(f"outcome IS NULL OR {one_of('outcome', Outcome)}", name="outcome"),
        CheckConstraint("attempts >= 0", name="attempts"),
        CheckConstraint("status <> 'claimed' OR (claimed_by IS NOT NULL AND claimed_at IS NOT NULL)", name="claim"),
        UniqueConstraint("key"),
        Index(None, "status", "retry_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    channel: Mapped[str] = mapped_column(String(16))
    address_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    """The address, sealed with the party's data key (``docs/privacy.md``)."""
    party: Mapped[str] = mapped_column(String(ID_LENGTH))
    debt: Mapped[str] = mapped_column(String(ID_LENGTH))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    arm: Mapped[str] = mapped_column(String(ID_LENGTH))
    rule_pack: Mapped[str] = mapped_column(String(ID_LENGTH))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int]
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    provider_ref: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    address_ref: Mapped[str | None] = mapped_column(String(128))
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime)


# --- the daily cycle (migration 0003) -----------------------------------------------------------------------


class PartyRow(Base):
    """A borrower or a person the borrower designated. No name or ID number here: those are sealed in
    ``party_profiles`` (``models_identity.py``, migration 0007).

    ``slot`` numbers a borrower's designated contacts 1 to 5 (only contacts have one; unique per borrower), so the
    database itself cannot hold a sixth; a contact written without one gets the lowest free slot from a trigger
    of migration 0007 (docs/identity.md)."""

    __tablename__ = "parties"
    __table_args__ = (
        CheckConstraint(one_of("role", Role), name="role"),
        CheckConstraint("slot IS NULL OR (role = 'contact' AND slot BETWEEN 1 AND 5)", name="slot"),
        Index(None, "borrower", "slot", unique=True),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    borrower: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    role: Mapped[str] = mapped_column(String(16))
    tz: Mapped[str] = mapped_column(String(64))
    relationship: Mapped[str | None] = mapped_column(String(32))
    risk_tier: Mapped[str | None] = mapped_column(String(32))
    slot: Mapped[int | None]


class ContactPointRow(Base):
    """A way to reach a party; everything else refers to it by ``ref``. The address is sealed with the party's
    data key; ``address_index`` is its blind index (HMAC under the index key), for exact-match lookup."""

    __tablename__ = "contact_points"

    ref: Mapped[str] = mapped_column(String(128), primary_key=True)
    party: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    address_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    address_index: Mapped[str] = mapped_column(String(64), index=True)
    channels: Mapped[str] = mapped_column(String(128))
    """The channels it takes, comma-separated."""
    position: Mapped[int]


class ConsentRow(Base):
    __tablename__ = "consents"
    __table_args__ = (CheckConstraint("withdrawn_at IS NULL OR withdrawn_at >= granted_at", name="period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    party: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    evidence: Mapped[str] = mapped_column(Text)
    # Migration 0008 (the consent ledger, models_consent.py): the notice it was given under (None before 0008),
    # the channel it came through, and how it was withdrawn. Only the withdrawal is ever filled in later, once.
    notice_version: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    channel: Mapped[str] = mapped_column(String(32), server_default="unrecorded")
    withdrawal_channel: Mapped[str | None] = mapped_column(String(32))
    withdrawal_evidence: Mapped[str | None] = mapped_column(Text)


CASE_EVENT_KINDS = (
    "assigned", "placed", "recalled", "promise", "plan", "dispute_opened", "dispute_resolved", "cured",
)  # fmt: skip


class CaseEventRow(Base):
    """A case event that is not derived from the ledger; ``data`` holds its fields as JSON."""

    __tablename__ = "case_events"
    __table_args__ = (CheckConstraint(one_of("kind", CASE_EVENT_KINDS), name="kind"),)

    seq: Mapped[int] = mapped_column("id", primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    effective_on: Mapped[date] = mapped_column(Date)
    data: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


RUN_STATUSES = ("running", "done")
EFFECTS = ("allow", "deny", "indeterminate")


class CycleRunRow(Base):
    __tablename__ = "cycle_runs"
    __table_args__ = (CheckConstraint(one_of("status", RUN_STATUSES), name="status"),)

    run_on: Mapped[date] = mapped_column(Date, primary_key=True)
    strategy: Mapped[str] = mapped_column(String(ID_LENGTH))
    mode: Mapped[str] = mapped_column(String(16))
    pack: Mapped[str] = mapped_column(String(ID_LENGTH))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    summary: Mapped[str] = mapped_column(Text)
    """Counts as a JSON object."""


class PlannedContactRow(Base):
    """Every contact the cycle planned, allowed or not, with the gate's decision."""

    __tablename__ = "planned_contacts"
    __table_args__ = (
        CheckConstraint(one_of("channel", Channel), name="channel"),
        CheckConstraint(one_of("effect", EFFECTS), name="effect"),
        Index(None, "run_on", "planned_at"),
        Index(None, "debt"),
    )

    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    run_on: Mapped[date] = mapped_column(Date)
    debt: Mapped[str] = mapped_column(String(ID_LENGTH))
    party: Mapped[str] = mapped_column(String(ID_LENGTH))
    address_ref: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(128))
    planned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    arm: Mapped[str] = mapped_column(String(ID_LENGTH))
    segment: Mapped[str] = mapped_column(String(ID_LENGTH))
    treatment: Mapped[str] = mapped_column(String(ID_LENGTH))
    effect: Mapped[str] = mapped_column(String(16))
    rules: Mapped[str] = mapped_column(Text)
    """Comma-separated rule ids."""
    mode: Mapped[str] = mapped_column(String(16))
    replan_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    replanned_from: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    audit_seq: Mapped[int | None] = mapped_column(index=True)
    """The audit-log entry that vouches for this decision (migration 0013)."""


class RestatementRow(Base):
    __tablename__ = "restatements"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"), index=True)
    learned_on: Mapped[date] = mapped_column(Date)
    since: Mapped[date] = mapped_column(Date)
    days: Mapped[int]
    bucket_days: Mapped[int]
    contacts: Mapped[int]
    detail: Mapped[str] = mapped_column(Text)


# --- personal data at rest (migration 0004) -----------------------------------------------------------------


class DataKeyRow(Base):
    """A party's data key (a borrower's, or that of a person the borrower designated: each can have their data
    deleted on their own), wrapped under a master key (``master_key_id`` is its fingerprint; the key itself is
    never stored). A shredded key keeps its row, with ``wrapped_key`` gone: what it sealed can never be read."""

    __tablename__ = "data_keys"
    __table_args__ = (
        CheckConstraint(
            "(shredded_at IS NULL AND wrapped_key IS NOT NULL) OR (shredded_at IS NOT NULL AND wrapped_key IS NULL)",
            name="shredded",
        ),
        Index(None, "master_key_id"),
    )

    party: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    master_key_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    shredded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# --- the tamper-evident audit log (migration 0005) ----------------------------------------------------------


class AuditLogRow(Base):
    """One audit entry, chained to the one before (``audit_log.py`` says how the hash is made). Only appended."""

    __tablename__ = "audit_log"
    __table_args__ = (CheckConstraint("seq > 0", name="seq"), UniqueConstraint("hash"))

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(ID_LENGTH))
    action: Mapped[str] = mapped_column(String(ID_LENGTH))
    subject: Mapped[str] = mapped_column(String(KEY_LENGTH))
    detail: Mapped[str] = mapped_column(Text)
    """Canonical JSON."""
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


# --- message templates (migration 0006) ---------------------------------------------------------------------

TEMPLATE_STATUSES = ("draft", "in_review", "approved", "retired")


class TemplateRow(Base):
    """One version of a message template. Its text never changes; ``status`` is the last of its transitions."""

    __tablename__ = "templates"
    __table_args__ = (
        CheckConstraint(one_of("channel", Channel), name="channel"),
        CheckConstraint(one_of("role", Role), name="role"),
        CheckConstraint(one_of("status", TEMPLATE_STATUSES), name="status"),
        CheckConstraint("version > 0", name="version"),
        Index(None, "status"),
    )

    template_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    channel: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    pack: Mapped[str] = mapped_column(String(ID_LENGTH))
    language: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(ID_LENGTH))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TemplateTransitionRow(Base):
    """One step of a template version's life, appended, never changed: the status reached, by whom, when."""

    __tablename__ = "template_transitions"
    __table_args__ = (
        CheckConstraint(one_of("status", TEMPLATE_STATUSES), name="status"),
        ForeignKeyConstraint(["template_id", "version"], ["templates.template_id", "templates.version"]),
    )

    template_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(ID_LENGTH))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- the tables of migrations 0007-0012, one module each (imported here so Base.metadata holds every table) ----

from fairdun.adapters.sqlalchemy import (  # noqa: E402, F401
    models_access,
    models_access_log,
    models_complaints,
    models_consent,
    models_identity,
    models_retention,
)
