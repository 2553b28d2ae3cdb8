"""Complaints: intake, status, and the suspension a serious complaint puts on collection at once.

A complaint is what the borrower, one of the people they designated, a stranger or a regulator (a 12378 hotline
referral, an internet complaint platform) says went wrong. fairdun takes it in for three reasons:

- **it feeds back at once.** An open complaint of harassment or excessive frequency, disclosure to a third party,
  threats or abuse, or impersonation (:data:`SUSPENDING`) stops outbound collection contact on every loan of that
  borrower: at intake, the borrower's messages still waiting in the outbox are withdrawn (in the same
  transaction), and every later cycle run holds the borrower's cases (:func:`held_loans`, read by ``Book.load``)
  until the complaint is resolved. A complaint from a designated contact about disclosure also records that
  contact's permanent refusal in the consent ledger, so the gate never lets anyone contact them again.
- **it is evidence.** Each complaint keeps its channel, who complained, the loan, the category, the collector and
  agency named, the contacts complained of (planned-contact / outbox keys), and every status it went through,
  only appended, each with an audit-log entry in the transaction that made it.
- **it is measured.** Complaints per 10,000 contacts, overall and per collector, agency and month
  (:mod:`fairdun.application.analytics`).

No personal value is stored in clear: the complainant's own words (``summary``) and a resolution ``note`` are
sealed with the data key of the party they concern (the complainant when known, else the borrower), like a
contact point's address; the audit log holds ids and categories only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from fairdun.application.channels import DeliveryResult
from fairdun.domain.cases import CaseEvent, DisputeOpened
from fairdun.domain.contact import Outcome, Role
from fairdun.domain.errors import DomainError

if TYPE_CHECKING:  # ports.py imports this module's repository protocol
    from fairdun.application.ports import Loan, UnitOfWork

__all__ = [
    "RESOLVED",
    "SUSPENDING",
    "ComplainantRole",
    "Complaint",
    "ComplaintCategory",
    "ComplaintChannel",
    "ComplaintIntake",
    "ComplaintRepository",
    "ComplaintStatus",
    "StatusChange",
    "advance_complaint",
    "held_loans",
    "receive_complaint",
]

RECEIVED = "complaint.received"
TRANSITION = "complaint.transition"
TEXT_READ = "complaint.text_read"
SEALED = "[sealed]"
"""What a summary or note reads as when it was read without opening the sealed text."""
TEXT_FIELD = "complaint_text"
"""The name the access log gives a complaint's sealed words and notes."""
WITHDRAWER = "complaint-hold"
"""The outbox worker name under which intake withdraws a suspended borrower's waiting messages."""
MAX_TEXT = 4000
MAX_ID = 64
MAX_REFERENCE = 128


class ComplaintChannel(StrEnum):
    """How the complaint reached the lender."""

    PORTAL = "portal"
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    REGULATOR_REFERRAL = "regulator_referral"
    """Passed on by a regulator: the 12378 consumer hotline (NFRA, formerly CBIRC), a local financial bureau."""
    INTERNET_PLATFORM = "internet_platform"
    """An internet complaint platform (黑猫投诉 and the like)."""


class ComplainantRole(StrEnum):
    DEBTOR = "debtor"
    CONTACT = "contact"
    """One of the people the borrower designated."""
    THIRD_PARTY = "third_party"
    """Anyone else: a colleague, a neighbour, a stranger whose number was called."""
    REGULATOR = "regulator"


class ComplaintCategory(StrEnum):
    HARASSMENT = "harassment"
    """Harassment or excessive frequency (刑法 293-1 软暴力; GB/T 45251 frequency caps)."""
    TIME_OF_DAY = "time_of_day"
    THIRD_PARTY_DISCLOSURE = "third_party_disclosure"
    """The debt told to someone other than the debtor (爆通讯录)."""
    THREAT_OR_ABUSE = "threat_or_abuse"
    IMPERSONATION = "impersonation"
    """A collector passing as police, a court, a lawyer or a government body."""
    PRIVACY = "privacy"
    FEES_OR_AMOUNT = "fees_or_amount"
    OTHER = "other"


SUSPENDING: frozenset[ComplaintCategory] = frozenset(
    {
        ComplaintCategory.HARASSMENT,
        ComplaintCategory.THIRD_PARTY_DISCLOSURE,
        ComplaintCategory.THREAT_OR_ABUSE,
        ComplaintCategory.IMPERSONATION,
    }
)
"""Categories whose open complaint suspends outbound collection contact with the borrower until resolved: each
alleges conduct that must not go on while it is looked into."""


class ComplaintStatus(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    UPHELD = "upheld"
    NOT_UPHELD = "not_upheld"
    WITHDRAWN = "withdrawn"


RESOLVED: frozenset[ComplaintStatus] = frozenset(
    {ComplaintStatus.UPHELD, ComplaintStatus.NOT_UPHELD, ComplaintStatus.WITHDRAWN}
)
_NEXT: Mapping[ComplaintStatus, frozenset[ComplaintStatus]] = {
    ComplaintStatus.OPEN: frozenset({ComplaintStatus.INVESTIGATING, *RESOLVED}),
    ComplaintStatus.INVESTIGATING: RESOLVED,
}


@dataclass(frozen=True, slots=True)
class ComplaintIntake:
    """A complaint as received. ``party`` is the complainant's party id (None for someone fairdun does not know;
    a debtor's complaint defaults to the loan's borrower); ``contacts`` are the planned-contact / outbox keys of the
    contacts complained of, when known; ``reference`` the ticket number a regulator or platform gave it (no
    personal data); ``summary`` the complainant's words, sealed at rest."""

    received_at: datetime
    channel: ComplaintChannel
    role: ComplainantRole
    loan: str
    category: ComplaintCategory
    party: str | None = None
    collector: str | None = None
    agency: str | None = None
    contacts: tuple[str, ...] = ()
    reference: str | None = None
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One step of a complaint's life: the status reached, when, by whom, and a note (sealed at rest)."""

    status: ComplaintStatus
    at: datetime
    by: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Complaint:
    id: int
    intake: ComplaintIntake
    history: tuple[StatusChange, ...]

    @property
    def status(self) -> ComplaintStatus:
        return self.history[-1].status

    @property
    def is_open(self) -> bool:
        return self.status not in RESOLVED

    @property
    def suspends(self) -> bool:
        """True while it holds the borrower's collection contact."""
        return self.is_open and self.intake.category in SUSPENDING


class ComplaintRepository(Protocol):
    """Complaints and their status changes, only appended (a complaint's intake is never edited)."""

    def add(self, intake: ComplaintIntake, first: StatusChange, *, owner: str) -> int:
        """Stores a complaint with its first status; its new id. ``owner`` is the party whose data key seals the
        summary and notes."""
        ...

    def append(self, complaint_id: int, change: StatusChange, *, owner: str) -> None:
        """Appends a status change (``ConflictError`` if the complaint is unknown)."""
        ...

    def get(self, complaint_id: int, *, text: bool = False) -> Complaint | None:
        """The complaint with its history; with ``text``, its summary and notes opened (needs the keyring)."""
        ...

    def all(self, *, status: ComplaintStatus | None = None, text: bool = False) -> tuple[Complaint, ...]:
        """Every complaint (with ``status``, only those now in it), oldest first. Without ``text`` a summary or note
        reads :data:`SEALED` (None when there is none): listing and analytics need no personal data and no
        keyring."""
        ...


def _actor(by: str) -> None:
    if not by.strip() or len(by) > MAX_ID:
        raise DomainError("by", f"who records it: a user id of 1 to {MAX_ID} characters, got {by!r}")


def _text(field: str, value: str | None, limit: int) -> None:
    if value is None:
        return
    if not value.strip():
        raise DomainError(field, "must not be empty; leave it out instead")
    if len(value) > limit:
        raise DomainError(field, f"at most {limit} characters, got {len(value)}")


def _check(uow: UnitOfWork, intake: ComplaintIntake) -> ComplaintIntake:
    """The intake validated against the book (its loan, party and contacts exist and belong together); a
    debtor's complaint without a party is the borrower's."""
    if intake.received_at.tzinfo is None:
        raise DomainError("received_at", "must carry a UTC offset")
    loan = uow.loans.get(intake.loan)
    if loan is None:
        raise DomainError("loan", f"no loan {intake.loan!r}")
    party = intake.party
    if intake.role is ComplainantRole.DEBTOR:
        if party is not None and party != loan.borrower:
            raise DomainError("party", f"a debtor's complaint about {loan.id} is from {loan.borrower}, not {party}")
        party = loan.borrower
    elif party is not None:
        stored = uow.parties.get(party)
        if stored is None:
            raise DomainError("party", f"no party {party!r}")
        if intake.role is ComplainantRole.CONTACT and (
            stored.borrower != loan.borrower or stored.role is not Role.CONTACT
        ):
            raise DomainError("party", f"{party} is not a contact designated by {loan.borrower}")
    elif intake.role is ComplainantRole.CONTACT:
        raise DomainError("party", "a contact's complaint names the contact's party id")
    for name in ("collector", "agency"):
        value = getattr(intake, name)
        if value is not None and (not value.strip() or len(value) > MAX_ID):
            raise DomainError(name, f"an id of 1 to {MAX_ID} characters, got {value!r}")
    _text("reference", intake.reference, MAX_REFERENCE)
    _text("summary", intake.summary, MAX_TEXT)
    for k, key in enumerate(intake.contacts):
        entry = uow.outbox.get(key)
        if entry is None:
            raise DomainError(f"contacts[{k}]", f"no contact {key!r} in the outbox")
        if entry.message.debt != loan.id:
            raise DomainError(f"contacts[{k}]", f"{key} was about {entry.message.debt}, not {loan.id}")
    if len(set(intake.contacts)) != len(intake.contacts):
        raise DomainError("contacts", "a contact is named twice")
    return ComplaintIntake(
        intake.received_at,
        intake.channel,
        intake.role,
        intake.loan,
        intake.category,
        party,
        intake.collector,
        intake.agency,
        intake.contacts,
        intake.reference,
        intake.summary,
    )


def receive_complaint(
    uow: UnitOfWork, intake: ComplaintIntake, *, by: str, at: datetime
) -> tuple[Complaint, tuple[str, ...]]:
    """Takes in a complaint, in the caller's transaction: stores it (status ``open``), and when its category
    suspends (:data:`SUSPENDING`) withdraws the borrower's messages waiting in the outbox; a contact's disclosure
    complaint also records the contact's permanent refusal (the consent ledger's,
    :func:`fairdun.application.consent.refuse_contact`). One audit entry records all of it.
    The complaint and the outbox keys withdrawn. Bad input raises :class:`DomainError` naming
    the field, before anything is written."""
    _actor(by)
    intake = _check(uow, intake)
    if intake.received_at > at:
        raise DomainError("received_at", f"{intake.received_at.isoformat()} is after it is recorded ({at.isoformat()})")
    loan = uow.loans.get(intake.loan)
    assert loan is not None  # _check found it
    owner = intake.party or loan.borrower
    first = StatusChange(ComplaintStatus.OPEN, at, by)
    complaint_id = uow.complaints.add(intake, first, owner=owner)
    suspends = intake.category in SUSPENDING
    withdrawn = _withdraw(uow, loan.borrower, complaint_id, at) if suspends else ()
    refused = _refusal(uow, intake, complaint_id, by=by, at=at)
    uow.audit.append(
        by,
        RECEIVED,
        f"complaint/{complaint_id}",
        {
            "id": complaint_id,
            "loan": intake.loan,
            "borrower": loan.borrower,
            "party": intake.party,
            "role": intake.role.value,
            "channel": intake.channel.value,
            "category": intake.category.value,
            "received_at": intake.received_at.isoformat(),
            "collector": intake.collector,
            "agency": intake.agency,
            "contacts": list(intake.contacts),
            "suspends": suspends,
            "withdrawn": list(withdrawn),
            "refusal": refused,
        },
        at=at,
    )
    return Complaint(complaint_id, intake, (first,)), withdrawn


def _refusal(uow: UnitOfWork, intake: ComplaintIntake, complaint_id: int, *, by: str, at: datetime) -> bool:
    """A designated contact who complains that the debt was disclosed to them has refused further contact
    (GB/T 45251-2025: stop when the contact refuses): recorded in the consent ledger unless it is already. Whether
    a refusal was recorded now."""
    from fairdun.application.consent import RefusalChannel, refuse_contact  # noqa: PLC0415 (consent imports ports, which imports this module)

    if (
        intake.role is not ComplainantRole.CONTACT
        or intake.category is not ComplaintCategory.THIRD_PARTY_DISCLOSURE
        or intake.party is None
        or uow.consents.refusal(intake.party) is not None
    ):
        return False
    channel = RefusalChannel.PORTAL if intake.channel is ComplaintChannel.PORTAL else RefusalChannel.COLLECTOR
    refuse_contact(uow, party=intake.party, channel=channel, evidence=f"complaint {complaint_id}", actor=by, at=at)
    return True


def _withdraw(uow: UnitOfWork, borrower: str, complaint_id: int, at: datetime) -> tuple[str, ...]:
    """Fails, unsent, every message about one of ``borrower``'s loans still waiting in the outbox (as
    :func:`fairdun.application.outbox.expire` does for late ones): the gate allowed them before the complaint."""
    debts = {loan.id for loan in uow.loans.for_borrower(borrower)}
    why = f"withdrawn: complaint {complaint_id} suspends collection contact with {borrower}"
    withdrawn = []
    for entry in uow.outbox.pending(1_000_000):
        if entry.message.debt not in debts:  # a retry waiting after a failed try is withdrawn too
            continue
        if uow.outbox.claim(entry.key, WITHDRAWER, at) is None:
            continue
        result = DeliveryResult(entry.key, Outcome.FAILED, attempts=0, error=why)
        uow.outbox.mark_failed(entry.key, result, None, at=at)
        withdrawn.append(entry.key)
    return tuple(withdrawn)


def advance_complaint(
    uow: UnitOfWork, complaint_id: int, status: ComplaintStatus, *, by: str, at: datetime, note: str | None = None
) -> Complaint:
    """Moves a complaint on (``open`` → ``investigating`` → ``upheld`` / ``not_upheld`` / ``withdrawn``), with an
    audit entry in the caller's transaction. A resolution needs a note; a resolved complaint does not move again.
    Resolving the last suspending complaint of a borrower lifts the hold from the next cycle run on."""
    _actor(by)
    repository = uow.complaints
    complaint = repository.get(complaint_id)
    if complaint is None:
        raise DomainError("id", f"no complaint {complaint_id}")
    allowed = _NEXT.get(complaint.status, frozenset())
    if status not in allowed:
        raise DomainError(
            "status",
            f"complaint {complaint_id} is {complaint.status.value}; it can go to "
            f"{', '.join(sorted(s.value for s in allowed)) or 'nothing (it is resolved)'}, not {status.value}",
        )
    if status in RESOLVED and note is None:
        raise DomainError("note", "a resolution says what was found and done")
    _text("note", note, MAX_TEXT)
    if at < complaint.history[-1].at:
        raise DomainError("at", f"must not be before the complaint's last change at {complaint.history[-1].at}")
    loan = uow.loans.get(complaint.intake.loan)
    owner = complaint.intake.party or (loan.borrower if loan is not None else complaint.intake.loan)
    change = StatusChange(status, at, by, note)
    repository.append(complaint_id, change, owner=owner)
    uow.audit.append(
        by,
        TRANSITION,
        f"complaint/{complaint_id}",
        {"id": complaint_id, "from": complaint.status.value, "to": status.value, "lifts": status in RESOLVED},
        at=at,
    )
    return Complaint(complaint_id, complaint.intake, (*complaint.history, change))


def held_loans(uow: UnitOfWork, loans: Iterable[tuple[str, str]]) -> dict[str, tuple[int, ComplaintCategory]]:
    """For each ``(loan id, borrower)`` whose borrower has an open suspending complaint: the loan mapped to that
    complaint (the oldest) and its category. The daily cycle holds those loans' cases."""
    still_open = (ComplaintStatus.OPEN, ComplaintStatus.INVESTIGATING)
    complaints = [c for status in still_open for c in uow.complaints.all(status=status) if c.suspends]
    complaints.sort(key=lambda c: c.id)
    if not complaints:
        return {}
    loan_borrower = dict(loans)
    by_borrower: dict[str, tuple[int, ComplaintCategory]] = {}
    for complaint in complaints:
        borrower = loan_borrower.get(complaint.intake.loan)
        if borrower is not None:
            by_borrower.setdefault(borrower, (complaint.id, complaint.intake.category))
    return {loan: by_borrower[b] for loan, b in loan_borrower.items() if b in by_borrower}


def hold_cases(uow: UnitOfWork, loans: Mapping[str, Loan], case_events: dict[str, list[CaseEvent]], on: date) -> int:
    """Called by the cycle's ``Book.load``: adds to ``case_events`` (in memory, never stored) a hold from ``on`` on
    every loan :func:`held_loans` finds, so the day plans no collection contact for it and counts it ``held``. The
    hold is carried as an open dispute whose reason names the complaint, the one hold the cases know that lasts
    until lifted; a loan already in dispute is held already. How many loans were held."""
    held = held_loans(uow, ((loan.id, loan.borrower) for loan in loans.values()))
    for loan_id, (complaint_id, category) in held.items():
        reason = f"complaint {complaint_id} ({category.value}) is open"
        case_events.setdefault(loan_id, []).append(DisputeOpened(on, reason))
    return len(held)


def read_complaint(uow: UnitOfWork, complaint_id: int, *, user_id: str, reason: str, at: datetime) -> Complaint:
    """The complaint with its sealed words and notes opened for ``user_id``, in the caller's transaction: the
    account must hold ``UNMASK``, see the loan's case (``fairdun.domain.access.sees_case``) and state a reason. The
    read is written to the access log and the audit log (ids and the reason, never the text). A refusal is written
    to the access log and committed, then raised as ``AccessDeniedError``, as ``personal_data.view_party`` does."""
    # Imported here: both import ports.py, which imports this module.
    from fairdun.application.access_control import load_user  # noqa: PLC0415
    from fairdun.application.personal_data import case_holders  # noqa: PLC0415
    from fairdun.application.ports import AccessAction, AccessRecord  # noqa: PLC0415
    from fairdun.domain.access import AccessDeniedError, Permission, allowed, sees_case  # noqa: PLC0415

    why = " ".join(reason.split())
    complaint = uow.complaints.get(complaint_id)
    if complaint is None:
        raise DomainError("id", f"no complaint {complaint_id}")
    loan = uow.loans.get(complaint.intake.loan)
    borrower = loan.borrower if loan is not None else None
    party = complaint.intake.party or borrower
    user = load_user(uow, user_id)
    assignee, agency = (
        case_holders(uow, borrower).get(complaint.intake.loan, (None, None)) if borrower else (None, None)
    )
    problem = None
    if not allowed(user, Permission.UNMASK):
        problem = f"user {user.id!r} ({user.role}) may not read a complaint's words"
    elif not sees_case(user, assignee=assignee, agency=agency, borrower=borrower):
        problem = f"user {user.id!r} may not see the case of {complaint.intake.loan}"
    elif not why:
        problem = "reading a complaint's words needs a stated reason (--reason)"
    action = AccessAction.UNMASK if problem is None else AccessAction.DENIED
    record = AccessRecord(
        at, user.id, action, party, (TEXT_FIELD,), why, borrower, complaint.intake.loan, f"complaint {complaint_id}"
    )
    uow.access_log.record_many([record])
    if problem is not None:
        uow.commit()
        raise AccessDeniedError(problem)
    uow.audit.append(
        user.id,
        TEXT_READ,
        f"complaint/{complaint_id}",
        {"id": complaint_id, "party": party, "loan": complaint.intake.loan, "reason": why},
        at=at,
    )
    opened = uow.complaints.get(complaint_id, text=True)
    assert opened is not None  # read above, in this transaction
    return opened
