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

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self

from fairdun.application.channels import DeliveryResult, OutboundMessage
from fairdun.application.complaints import ComplaintRepository
from fairdun.application.retention import SubjectRepository
from fairdun.domain.access import Credential, LoginSession, User
from fairdun.domain.agency import Agency, Contract, Evaluation, PlacementNotice, Training
from fairdun.domain.cases import CaseEvent
from fairdun.domain.contact import Channel, ContactEvent, Outcome, Role
from fairdun.domain.ledger import LoanEvent
from fairdun.domain.loans import Installment, Product
from fairdun.domain.templates import Template, TemplateStatus

if TYPE_CHECKING:  # the consent ledger's port lives with its use cases, which import this module
    from fairdun.application.consent import ConsentRepository

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


@dataclass(frozen=True, slots=True)
class Party:
    """Someone the cycle may address about a borrower's debts: the borrower (``role`` debtor, ``borrower`` its own
    id) or a person the borrower designated (an emergency contact, ``relationship`` saying who they are).

    ``tz`` is the IANA zone the gate reads local time in; ``risk_tier`` is the borrower's tier in the strategy's
    terms (``low``, ``medium``, ``high``). No name, ID number or other identifying field is kept here."""

    id: str
    borrower: str
    role: Role
    tz: str
    relationship: str | None = None
    risk_tier: str | None = None


@dataclass(frozen=True, slots=True)
class PartyIdentity:
    """Who a party is (``fairdun.application.identity`` validates it; the repository seals every field with the
    party's data key). ``erased``: the party's data key was shredded (PIPL Art. 47), so every field reads None."""

    party: str
    name: str | None
    resident_id: str | None = None
    bank_account: str | None = None
    postal_address: str | None = None
    erased: bool = False


@dataclass(frozen=True, slots=True)
class ContactPoint:
    """One way to reach a party: ``address`` (a phone number, an e-mail address, a postal address) under the
    opaque reference ``ref`` that the contact history and the gate use instead; ``channels`` it takes; parties
    with several are tried in ``position`` order."""

    ref: str
    party: str
    address: str
    channels: frozenset[Channel]
    position: int = 0


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """A party's consent to a purpose (``contact_relay``: to be asked to pass a message on), when it was given,
    when withdrawn (None: in force), and the evidence of how it was given."""

    party: str
    purpose: str
    granted_at: datetime
    withdrawn_at: datetime | None = None
    evidence: str = ""
    # The consent ledger (fairdun.application.consent, migration 0008): the privacy notice version it was given
    # under (None: stored before notices were versioned), the channel it came through (``unrecorded`` before
    # 0008), how it was withdrawn, and its row id once stored.
    notice_version: str | None = None
    channel: str = "unrecorded"
    withdrawal_channel: str | None = None
    withdrawal_evidence: str | None = None
    id: int | None = None


class RunStatus(StrEnum):
    RUNNING = "running"
    """Started and not finished: a crash, or a run still going. Running the day again completes it."""
    DONE = "done"


@dataclass(frozen=True, slots=True)
class CycleRun:
    """One day of the daily cycle: the local date it ran for, the strategy, the mode and the pack it ran with,
    and, once done, its counts (``summary``: name -> number)."""

    run_on: date
    strategy: str
    mode: str
    pack: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None = None
    summary: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlannedRecord:
    """One planned contact and the gate's decision on it, as the cycle recorded it.

    ``key`` is the outbox key the contact has (or would have had) when allowed; ``effect`` is ``allow``, ``deny``
    or ``indeterminate``; ``rules`` the rule ids that denied it; ``replan_at`` when waiting can cure a denial;
    ``replanned_from`` the key of the denied contact this one re-plans; ``mode`` the cycle's mode."""

    key: str
    run_on: date
    debt: str
    party: str
    address_ref: str
    channel: Channel
    purpose: str
    template: str
    planned_at: datetime
    arm: str
    segment: str
    treatment: str
    effect: str
    rules: tuple[str, ...]
    mode: str
    replan_at: datetime | None = None
    replanned_from: str | None = None


@dataclass(frozen=True, slots=True)
class RestatementRecord:
    """What a late-learned loan event changed: the loan's DPD differed from ``since`` on ``days`` days (buckets on
    ``bucket_days``), learned by the cycle of ``learned_on``; ``contacts`` collection contacts had been made on
    days the loan is now known to have been current, and ``detail`` says which days changed how."""

    loan_id: str
    learned_on: date
    since: date
    days: int
    bucket_days: int
    contacts: int
    detail: str


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

    def all(self) -> tuple[Loan, ...]:
        """Every loan, by id."""

    def add_many(self, loans: Sequence[Loan]) -> None:
        """Stores many loans and their schedules at once (an import); :class:`ConflictError` as for ``add``."""


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

    def append_many(self, events: Sequence[tuple[str, LoanEvent]], *, recorded_at: datetime) -> None:
        """Records many ``(loan_id, event)`` pairs in the order given, in one statement."""

    def all(self, *, after_seq: int = 0) -> tuple[RecordedLoanEvent, ...]:
        """Every loan's events in recorded order; with ``after_seq``, only those recorded after that one."""


class ContactHistoryRepository(Protocol):
    """Past contacts and attempts: the history the gate reads."""

    def add(self, record: ContactRecord, *, audit_seq: int | None = None) -> None:
        """Stores ``record``, vouched for by the audit entry ``audit_seq``; :class:`ConflictError` if the id is
        taken."""

    def add_many(self, records: Sequence[ContactRecord], *, audit_seq: int | None = None) -> None:
        """Stores many records in one statement; :class:`ConflictError` if an id is taken."""

    def vouched(self) -> Iterator[tuple[int, list[ContactRecord]]]:
        """Every record an audit entry vouches for, grouped by that entry's ``seq``, in ``seq`` order."""
        ...

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
        the same key at once: re-running a day's cycle is how it is meant to be used. A message with
        ``not_before`` is not due (see :meth:`pending`) before that instant."""

    def enqueue_many(self, items: Sequence[tuple[OutboundMessage, str, str, datetime]]) -> int:
        """:meth:`enqueue` for many ``(message, arm, rule_pack, decided_at)`` at once; how many were new."""

    def claim_many(self, keys: Sequence[str], worker: str, at: datetime) -> tuple[OutboxEntry, ...]:
        """:meth:`claim` for many keys at once: the entries this worker now holds, in the order of ``keys``
        (a key not pending is left out, as ``claim`` would answer None)."""

    def finish_many(
        self, worker: str, endings: Sequence[tuple[str, DeliveryResult, OutboxStatus, datetime | None, datetime]]
    ) -> None:
        """Records many results at once: ``(key, result, status, retry_at, at)`` with ``status`` sent, failed or
        pending (a retry at ``retry_at``). :class:`ConflictError`, and nothing changed, if any entry is not
        claimed by ``worker``."""

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


class IdentityRepository(Protocol):
    """Parties' names, resident ID numbers, bank accounts and postal addresses, sealed at rest; and the slots of
    a borrower's designated contacts (``parties.slot``: 1 to 5, the database refuses a sixth)."""

    def add_many(self, identities: Sequence[PartyIdentity]) -> None:
        """Stores each party's identity (the parties exist); :class:`ConflictError` if one already has one."""

    def get(self, party: str) -> PartyIdentity | None:
        """The party's identity, opened; None if none is held; ``erased`` (fields None) if its key was shredded."""

    def find_by_resident_id(self, value: str) -> tuple[str, ...]:
        """The parties whose resident ID number is ``value`` (by keyed blind index, never by plaintext)."""

    def correct(self, party: str, field: str, value: str | None) -> None:
        """Replaces one field (``name``, ``resident_id``, ``bank_account``, ``postal_address``; None clears an
        optional one) with an already validated value, sealed again; :class:`KeyError` if the party has none."""

    def contact_slots(self, borrower: str) -> dict[str, int]:
        """The borrower's designated contacts and their slots, by party id."""


class PartyRepository(Protocol):
    """Borrowers and the people they designated, how to reach them, and their consents."""

    def add(self, party: Party) -> None:
        """Stores ``party``; :class:`ConflictError` if the id is taken."""

    def add_contact_point(self, point: ContactPoint) -> None:
        """Stores ``point``; :class:`ConflictError` if the ref is taken or the party unknown."""

    def add_consent(self, consent: ConsentRecord) -> None:
        """Records a consent (history is kept: a new grant is a new record)."""

    def add_many(
        self, parties: Sequence[Party], points: Sequence[ContactPoint], consents: Sequence[ConsentRecord]
    ) -> None:
        """Stores many parties, their contact points and consents at once (an import)."""

    def withdraw_consent(self, party: str, purpose: str, at: datetime) -> int:
        """Marks every consent of ``party`` to ``purpose`` in force at ``at`` as withdrawn then; how many."""

    def get(self, party_id: str) -> Party | None: ...

    def all(self) -> tuple[Party, ...]:
        """Every party, by id."""

    def contact_points(self, *, opened: bool = True) -> tuple[ContactPoint, ...]:
        """Every contact point, by party then position; ``opened=False`` leaves the addresses sealed (``address``
        is empty), for a caller that needs only refs and channels."""

    def addresses(self, refs: Collection[str]) -> dict[str, str]:
        """The addresses of the contact points ``refs``, opened, by ref (unknown refs left out)."""
        ...

    def consents(self) -> tuple[ConsentRecord, ...]:
        """Every consent record, oldest grant first."""

    def find_contact_points(self, address: str) -> tuple[ContactPoint, ...]:
        """The contact points whose address is ``address`` (found by blind index, never by plaintext)."""
        ...

    def points_of(self, party: str) -> tuple[ContactPoint, ...]:
        """The contact points of one party, by position (a read of personal data: see ``personal_data``)."""
        ...


class CaseEventRepository(Protocol):
    """The events of each loan's collection cases that are not derived from the ledger: assignments,
    placements, promises, plans, disputes and the cures the cycle recorded. Only appended."""

    def append(self, loan_id: str, event: CaseEvent, *, recorded_at: datetime) -> None:
        """Records ``event``; :class:`ConflictError` for an unknown loan."""

    def append_many(self, events: Sequence[tuple[str, CaseEvent]], *, recorded_at: datetime) -> None:
        """Records many ``(loan_id, event)`` pairs in the order given, in one statement."""

    def all(self) -> Mapping[str, tuple[CaseEvent, ...]]:
        """Every loan's case events in recorded order, by loan id."""


class CycleRepository(Protocol):
    """The daily cycle's own records: its runs, every planned contact with its decision, restatements."""

    def start(self, run: CycleRun) -> CycleRun:
        """Records ``run`` as started, or, when that date already has a run, changes nothing and returns it."""

    def finish(self, run_on: date, summary: Mapping[str, int], at: datetime) -> None:
        """Marks the run of ``run_on`` done with its counts."""

    def get(self, run_on: date) -> CycleRun | None: ...

    def runs(self) -> tuple[CycleRun, ...]:
        """Every run, oldest date first."""

    def record_planned(
        self, records: Sequence[PlannedRecord], *, vouch: Callable[[Sequence[PlannedRecord]], int] | None = None
    ) -> int:
        """Stores the records whose keys are not stored yet (a re-run changes nothing); how many were new. With
        ``vouch``, it is called with the new records (not with none) and the audit entry it returns is stored
        with each of them."""

    def vouched_planned(self) -> Iterator[tuple[int, list[PlannedRecord]]]:
        """Every planned contact an audit entry vouches for, grouped by that entry's ``seq``, in ``seq`` order."""
        ...

    def planned(self, run_on: date) -> tuple[PlannedRecord, ...]:
        """The records of one day, in planned time order."""

    def record_restatement(self, record: RestatementRecord) -> None: ...

    def restatements(self) -> tuple[RestatementRecord, ...]:
        """Every restatement, in the order recorded."""


class TemplateRepository(Protocol):
    """Message templates, every version and every transition of each (``fairdun.domain.templates``). Nothing is
    overwritten: a version's text never changes, and :meth:`update` only appends the transitions it has gained."""

    def add(self, template: Template) -> None:
        """Stores a new version with its history; a version already stored raises :class:`ConflictError`."""
        ...

    def update(self, template: Template) -> None:
        """Stores the transitions ``template`` has beyond those stored, and its status."""
        ...

    def versions(self, template_id: str) -> tuple[Template, ...]:
        """Every version of ``template_id``, oldest first (none: unknown id)."""
        ...

    def all(self, status: TemplateStatus | None = None) -> tuple[Template, ...]:
        """Every version (or those in ``status``), by id and version."""
        ...


class AuditReceipt(Protocol):
    """An appended entry's place in the chain."""

    @property
    def seq(self) -> int: ...

    @property
    def hash(self) -> str: ...


class AuditLog(Protocol):
    """The tamper-evident audit log (adapters/sqlalchemy/audit_log.py): an entry appended here is kept with the
    unit of work's other changes or not at all. ``detail`` is JSON-able and never holds personal values."""

    def append(
        self, actor: str, action: str, subject: str, detail: Mapping[str, Any] | None = None, *, at: datetime
    ) -> AuditReceipt:
        """Chains an entry after the head, in this transaction."""
        ...

    def last_detail(self, actions: Collection[str]) -> Mapping[str, Any] | None:
        """The detail of the newest entry whose action is one of ``actions``; None when there is none."""
        ...

    def entries(self, actions: Collection[str]) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
        """``(seq, action, detail)`` of every entry whose action is one of ``actions``, in ``seq`` order."""
        ...


class AccessAction(StrEnum):
    """What an access-log row records (``fairdun.application.personal_data``)."""

    VIEW = "view"
    """A person saw a data subject's fields, masked."""
    UNMASK = "unmask"
    """A person saw fields in clear, for the stated reason."""
    EXPORT = "export"
    """Fields left the system in a file or a report."""
    SYSTEM_READ = "system_read"
    """A process opened a sealed field to use it (an address to send a message to)."""
    DENIED = "denied"
    """A request that was refused: nothing was shown."""
    INCIDENT = "incident"
    """A query over the access log itself (whose data an account read)."""


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One row of the access log: ``actor`` did ``action`` on ``party``'s ``fields`` (``phone``, ``email``,
    ``name``, ...) at ``at`` for ``purpose``, about ``loan`` if one; ``borrower`` is the file the party belongs
    to. Never a value: the log says what was read, not what it said."""

    at: datetime
    actor: str
    action: AccessAction
    party: str | None
    fields: tuple[str, ...]
    purpose: str
    borrower: str | None = None
    loan: str | None = None
    detail: str | None = None


class AccessLogRepository(Protocol):
    """The access log: every read of personal data, only appended."""

    def record_many(self, records: Sequence[AccessRecord]) -> None:
        """Appends ``records`` in one statement, in this transaction."""
        ...

    def by_actor(self, actor: str, *, since: datetime, until: datetime) -> tuple[AccessRecord, ...]:
        """What ``actor`` did from ``since`` to ``until`` (both included), oldest first."""
        ...

    def for_party(self, party: str) -> tuple[AccessRecord, ...]:
        """Every row about ``party``, oldest first."""
        ...


class AccessRepository(Protocol):
    """Users, trainings, agencies, their evaluations and contracts, and placement notices (migration 0009;
    ``fairdun.application.access_control``). Trainings, evaluations, contracts and notices are only appended."""

    def add_user(self, user: User, *, at: datetime) -> None:
        """Stores a new account; :class:`ConflictError` if the id is taken or the agency not stored."""
        ...

    def user(self, user_id: str) -> User | None:
        """The account ``user_id`` (active or not); None if there is none."""
        ...

    def users(self) -> tuple[User, ...]: ...

    def any_user(self) -> bool:
        """Whether any account exists (the first admin may be added without one)."""
        ...

    def set_active(self, user_id: str, active: bool) -> None: ...

    def add_training(self, training: Training, *, at: datetime) -> None: ...

    def trainings(self, user_ids: Collection[str] | None = None) -> tuple[Training, ...]:
        """The trainings of ``user_ids`` (every user's with None), in the order recorded."""
        ...

    def add_agency(self, agency: Agency, *, at: datetime) -> None: ...

    def agency(self, agency_id: str) -> Agency | None:
        """The agency, with the personal fields a placement with it shares (``Agency.shared_fields``)."""
        ...

    def agencies(self) -> tuple[Agency, ...]: ...

    def set_listing(self, agency_id: str, *, approved_at: datetime | None, revoked_at: datetime | None) -> None: ...

    def add_evaluation(self, evaluation: Evaluation, *, at: datetime) -> None: ...

    def evaluations(self, agency_id: str | None = None) -> tuple[Evaluation, ...]: ...

    def add_contract(self, contract: Contract, *, recorded_by: str, at: datetime) -> None: ...

    def contracts(self, agency_id: str | None = None) -> tuple[Contract, ...]: ...

    def add_notices(self, notices: Sequence[PlacementNotice], *, recorded_by: str) -> None: ...

    def first_notices(self, agency_id: str, borrowers: Collection[str]) -> dict[str, PlacementNotice]:
        """Each of ``borrowers``' earliest notice about ``agency_id``; borrowers never told are absent."""
        ...

    # logins (migration 0014)

    def credential(self, user_id: str) -> Credential | None:
        """``user_id``'s password hash and lock state; None if the account has no password (cannot log in)."""
        ...

    def set_credential(self, credential: Credential) -> None:
        """Stores ``credential`` as the account's only one (a new password replaces the old)."""
        ...

    def set_login_failures(self, user_id: str, failed_attempts: int, locked_until: datetime | None) -> None: ...

    def add_session(self, session: LoginSession) -> None: ...

    def session(self, token_hash: str) -> LoginSession | None: ...

    def end_sessions(self, user_id: str, *, at: datetime, only: str | None = None, keep: str | None = None) -> int:
        """Ends ``user_id``'s live sessions: only the one whose token hash is ``only``, or all but ``keep``, or all;
        how many were ended."""
        ...


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

    @property
    def parties(self) -> PartyRepository: ...

    @property
    def case_events(self) -> CaseEventRepository: ...

    @property
    def cycle(self) -> CycleRepository: ...

    @property
    def templates(self) -> TemplateRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def consents(self) -> ConsentRepository: ...

    @property
    def access_log(self) -> AccessLogRepository: ...

    @property
    def subjects(self) -> SubjectRepository:
        """Data-subject requests and retention (``fairdun.application.retention``)."""
        ...

    @property
    def complaints(self) -> ComplaintRepository:
        """Complaints and their status changes (``fairdun.application.complaints``)."""
        ...

    @property
    def access(self) -> AccessRepository:
        """Users, trainings, agencies and placement notices (``fairdun.application.access_control``)."""
        ...

    @property
    def identities(self) -> IdentityRepository:
        """Names, resident ID numbers, bank accounts and postal addresses, sealed (``fairdun.application.identity``)."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
