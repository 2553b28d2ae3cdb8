"""What the application needs from persistence: a unit of work and the repositories it opens.

A use case opens one :class:`UnitOfWork`, reads and writes through its repositories and calls ``commit()``; leaving
the ``with`` block without committing (or with an exception) rolls everything back. Repositories never commit, so
the unit of work alone decides what is kept, and a change and the record of it are kept together or not at all::

    with uow:
        uow.loan_events.append(loan_id, PaymentReceived("p7", day, amount), recorded_at=clock.now())
        uow.commit()

Repositories take and return domain values (``Product``, ``Installment``, the ledger's events, ``ContactEvent``)
and the small records below; storage rows never leave the adapter. Every instant is timezone-aware and comes back
in UTC; every amount is a ``Decimal`` in cents.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self

from fairdun.application.channels import DeliveryResult, OutboundMessage
from fairdun.domain.contact import ContactEvent, Outcome
from fairdun.domain.ledger import LoanEvent
from fairdun.domain.loans import Installment, Product

# --- records ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Loan:
    """A booked loan: ``principal`` lent to ``borrower`` (an opaque party id) under the product ``product`` (its
    code) on ``disbursed_on``, repaid by ``schedule``. Its state on any date is
    ``loan_state(product, loan.schedule, events, day)``; nothing about it is updated in place."""

    id: str
    product: str
    borrower: str
    principal: Decimal
    disbursed_on: date
    schedule: tuple[Installment, ...]


@dataclass(frozen=True, slots=True)
class RecordedLoanEvent:
    """A loan event as stored. ``seq`` is assigned by the store and grows in the order events are recorded, which
    is the order the ledger replays them in; ``recorded_at`` is when fairdun learned of it (a backdated payment
    has an effective date before it)."""

    seq: int
    loan_id: str
    event: LoanEvent
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """One contact (or attempt) in the history, under an id the caller chooses (an outbox key, an import key).

    ``event.address`` is an opaque reference to a contact point (``party-17/phone/1``), never the phone number or
    e-mail address itself: personal data is kept apart, encrypted (a later issue)."""

    id: str
    event: ContactEvent


class OutboxStatus(StrEnum):
    """Where an outbox entry is: ``pending`` (waiting to be sent, perhaps not before ``retry_at``), ``claimed`` (a
    worker is sending it), ``sent`` (a final result came back), ``failed`` (a final failure; never retried)."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One message in the outbox, with why it may be sent and what became of it so far.

    ``arm`` (the champion–challenger arm), ``rule_pack`` (the pack version that allowed it) and ``decided_at``
    (when the gate allowed it) are what the audit needs. ``attempts`` counts claims: each claim is one try at
    sending. ``outcome``, ``provider_ref`` and ``error`` are the latest result's; ``finished_at`` is set once the
    entry is ``sent`` or ``failed``.
    """

    message: OutboundMessage
    arm: str
    rule_pack: str
    decided_at: datetime
    status: OutboxStatus
    attempts: int = 0
    retry_at: datetime | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    outcome: Outcome | None = None
    provider_ref: str | None = None
    error: str | None = None
    finished_at: datetime | None = None

    @property
    def key(self) -> str:
        """The message's idempotency key, which is also the entry's identity."""
        return self.message.key


# --- errors -------------------------------------------------------------------------------------------------


class PersistenceError(Exception):
    """Base of the errors a repository or unit of work raises."""


class ConflictError(PersistenceError):
    """A write the store refused: ``entity`` ``key`` is already stored, refers to something that is not, or breaks
    a stored rule (``problem`` says which). The unit of work can then only roll back."""

    def __init__(self, entity: str, key: str, problem: str) -> None:
        super().__init__(f"{entity} {key!r}: {problem}")
        self.entity = entity
        self.key = key
        self.problem = problem


# --- repositories -------------------------------------------------------------------------------------------


class ProductRepository(Protocol):
    """Loan products by code. A product is never changed once stored (loans were priced by it): a new version
    of a product is a new code."""

    def add(self, product: Product) -> None:
        """Stores ``product``; :class:`ConflictError` if its code is taken."""

    def get(self, code: str) -> Product | None: ...

    def all(self) -> tuple[Product, ...]:
        """Every product, by code."""


class LoanRepository(Protocol):
    """Booked loans with their schedules."""

    def add(self, loan: Loan) -> None:
        """Stores ``loan`` and its schedule; :class:`ConflictError` if the id is taken or the product unknown."""

    def get(self, loan_id: str) -> Loan | None: ...

    def for_borrower(self, party: str) -> tuple[Loan, ...]:
        """The loans of one borrower, oldest disbursement first."""


class LoanEventRepository(Protocol):
    """The events of each loan (payments, reversals, pauses, waivers), kept in the order they were recorded.

    Events are only appended: a payment entered in error is undone by a ``PaymentReversed``, never deleted. A
    payment id is unique within its loan, and a payment is reversed at most once.
    """

    def append(self, loan_id: str, event: LoanEvent, *, recorded_at: datetime) -> RecordedLoanEvent:
        """Records ``event``; :class:`ConflictError` for an unknown loan or a payment (or reversal) already there."""

    def for_loan(self, loan_id: str, *, known_at: datetime | None = None) -> tuple[RecordedLoanEvent, ...]:
        """The loan's events in recorded order; with ``known_at``, only those recorded by then, so the cycle can
        compare what it knew yesterday with what it knows now (``fairdun.domain.delinquency.restate``)."""


class ContactHistoryRepository(Protocol):
    """Past contacts and attempts: the history the gate reads."""

    def add(self, record: ContactRecord) -> None:
        """Stores ``record``; :class:`ConflictError` if the id is taken."""

    def get(self, record_id: str) -> ContactRecord | None: ...

    def history(
        self,
        *,
        debts: Collection[str] = (),
        parties: Collection[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> tuple[ContactRecord, ...]:
        """Contacts about any of ``debts`` or with any of ``parties`` in [``since``, ``until``), oldest first
        (ties by id). Naming no debt and no party finds nothing."""


class OutboxRepository(Protocol):
    """Messages the gate allowed, waiting to be sent or already sent, one entry per idempotency key.

    The life of an entry: ``enqueue`` → ``pending`` → ``claim`` → ``claimed`` → ``mark_sent`` (``sent``) or
    ``mark_failed`` (back to ``pending`` with a ``retry_at``, or ``failed`` for good). A worker that dies while it
    holds a claim leaves the entry ``claimed``; ``recover`` hands it back. Each step is meant to be committed on
    its own (see :func:`fairdun.application.outbox.dispatch`).
    """

    def enqueue(self, message: OutboundMessage, *, arm: str, rule_pack: str, decided_at: datetime) -> OutboxEntry:
        """Adds ``message`` as ``pending``, or, when its key is already in the outbox (in any status), changes
        nothing and returns the entry stored. Never raises for a repeated key, even when two units of work enqueue
        the same key at once: re-running a day's cycle is how it is meant to be used."""

    def get(self, key: str) -> OutboxEntry | None: ...

    def pending(self, limit: int, *, due_at: datetime | None = None) -> tuple[OutboxEntry, ...]:
        """Up to ``limit`` pending entries, oldest enqueued first; with ``due_at``, only those whose ``retry_at``
        is not after it."""

    def claim(self, key: str, worker: str, at: datetime) -> OutboxEntry | None:
        """Marks the pending entry ``key`` as claimed by ``worker`` at ``at`` and counts an attempt. None when it
        is not pending (another worker claimed it first, or it is finished): the caller must then not send it."""

    def mark_sent(self, key: str, result: DeliveryResult, *, at: datetime | None = None) -> OutboxEntry:
        """Records the final ``result`` of the claimed entry ``key``; it is then ``sent`` (``finished_at``: ``at``,
        else ``result.at``, else the claim's time). :class:`ConflictError` if ``key`` is not claimed."""

    def mark_failed(
        self, key: str, result: DeliveryResult, retry_at: datetime | None, *, at: datetime | None = None
    ) -> OutboxEntry:
        """Records the failed ``result`` of the claimed entry ``key``: with ``retry_at`` it is pending again, not
        to be sent before then; without, it has ``failed`` for good. :class:`ConflictError` if not claimed."""

    def recover(self, stale_before: datetime) -> tuple[str, ...]:
        """Hands back every entry claimed before ``stale_before`` and never finished (its worker died) as pending,
        due at once, and returns their keys. Their next send repeats the key, so a gateway drops a duplicate."""


# --- the unit of work ---------------------------------------------------------------------------------------


class UnitOfWork(Protocol):
    """One transaction and the repositories inside it. Use it as a context manager: the repositories exist only
    inside the ``with`` block, ``commit()`` keeps what was written so far, and leaving the block rolls back the
    rest. After a :class:`ConflictError` it can only roll back."""

    @property
    def products(self) -> ProductRepository: ...

    @property
    def loans(self) -> LoanRepository: ...

    @property
    def loan_events(self) -> LoanEventRepository: ...

    @property
    def contacts(self) -> ContactHistoryRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
