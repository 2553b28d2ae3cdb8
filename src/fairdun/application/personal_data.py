"""Reading personal data: masked by default, unmasked only with the permission, a case the reader may see and a
stated reason, and every read (and every refusal) written to the access log in the transaction that reads.

Every human read of a data subject's personal fields goes through :func:`view_party`; the daily cycle and the
outbox log their own reads (:func:`open_addresses`, :func:`log_dispatch`). The log answers two questions the law asks:

* **whose data did this account read?** (:func:`affected_by`, PIPL Art. 57: a breach must be notified to the
  people it affects, so the lender has to be able to name them);
* **who read my data?** (:func:`accesses_of`, PIPL Arts. 44-45: the right to know how one's data is processed).

What a reader may see: the role must hold ``VIEW_CASE`` (``UNMASK`` to see values in clear) and the reader must
see one of the borrower's cases (``fairdun.domain.access.sees_case``: a collector the cases assigned to them, an
agency collector the cases placed with their agency, and then only the fields the placement shares). A borrower
sees their own record. Refusals raise :class:`~fairdun.domain.access.AccessDeniedError` after the refusal is
committed to the log, so an attempt is on record whatever the caller does next. An unmask also appends an entry
to the tamper-evident audit log naming the reader, the party, the fields and the reason, never the values.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from fairdun.application.ports import AccessAction, AccessRecord, OutboxEntry, Party, UnitOfWork
from fairdun.domain import identity
from fairdun.domain.access import AccessDeniedError, Permission, User, UserRole, allowed, sees_case
from fairdun.domain.cases import CaseEvent, CollectorAssigned, Cured, PlacedWithAgency, RecalledFromAgency
from fairdun.domain.identity import PersonalField

PHONE, EMAIL, POSTAL_ADDRESS = PersonalField.PHONE.value, PersonalField.EMAIL.value, PersonalField.POSTAL_ADDRESS.value
NAME, RESIDENT_ID, BANK_ACCOUNT = (
    PersonalField.NAME.value,
    PersonalField.RESIDENT_ID.value,
    PersonalField.BANK_ACCOUNT.value,
)
FIELDS = tuple(f.value for f in PersonalField)
"""The personal fields a view can show, by the names the access log uses."""

READS = frozenset({AccessAction.VIEW, AccessAction.UNMASK, AccessAction.EXPORT, AccessAction.SYSTEM_READ})
"""The actions that put personal data in front of someone or something (a refusal or an incident query does not)."""

MAX_REASON = 500
UNMASK_AUDIT = "personal_data.unmask"
INCIDENT_AUDIT = "incident.affected"
ACCESSES_AUDIT = "personal_data.accesses"


class UnknownPartyError(LookupError):
    """No party has that id."""


# --- masking ------------------------------------------------------------------------------------------------


def field_of(address: str) -> str:
    """Which personal field a contact point's address is: an e-mail address, a phone number, or else a postal
    address."""
    if "@" in address:
        return EMAIL
    digits = address.replace(" ", "").replace("-", "")
    return PHONE if digits.lstrip("+").isdigit() else POSTAL_ADDRESS


def mask(field: str, value: str) -> str:
    """``value`` masked as ``field`` (``fairdun.domain.identity.mask``: ``138****0001``, ``z***@example.com``,
    ``张*``); a value that does not look like its kind is hidden whole."""
    return identity.mask(field, value) or identity.HIDDEN


# --- the view -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldView:
    """One personal field as shown: ``value`` masked unless ``clear``; ``ref`` is where it is kept."""

    field: str
    ref: str
    value: str
    clear: bool


@dataclass(frozen=True, slots=True)
class PartyView:
    """What :func:`view_party` showed: the party, the fields (masked unless unmasked), the loan whose case let the
    reader see it (None for staff who see every case, or for the borrower themselves), and the fields held but
    not shown because the reader's agency placement does not share them."""

    party: str
    borrower: str
    role: str
    relationship: str | None
    fields: tuple[FieldView, ...]
    unmasked: bool
    loan: str | None
    withheld: tuple[str, ...] = ()


def view_party(
    uow: UnitOfWork,
    user: User,
    party_id: str,
    *,
    at: datetime,
    reason: str = "",
    unmask: bool = False,
    fields: Collection[str] = (),
) -> PartyView:
    """``party_id``'s personal fields as ``user`` may see them (``fields``: only those; default all), masked
    unless ``unmask``. One transaction (``uow`` not yet entered): the access-log row, the audit entry of an
    unmask, and the read are kept together; a refusal is logged and committed, then raised."""
    wanted = _fields(fields)
    why = " ".join(reason.split())
    if len(why) > MAX_REASON:
        raise ValueError(f"reason: at most {MAX_REASON} characters, got {len(why)}")
    with uow:
        party = uow.parties.get(party_id)
        if party is None:
            raise UnknownPartyError(f"party {party_id!r}: no such party")
        action = AccessAction.UNMASK if unmask else AccessAction.VIEW

        def refuse(problem: str) -> AccessDeniedError:
            asked = tuple(sorted(wanted)) if wanted else ("*",)
            denied = AccessRecord(at, user.id, AccessAction.DENIED, party.id, asked, why, party.borrower, None)
            uow.access_log.record_many([_with_detail(denied, f"{action.value}: {problem}")])
            uow.commit()
            return AccessDeniedError(problem)

        loan, shared = _reach(uow, user, party, refuse)
        if unmask:
            if not allowed(user, Permission.UNMASK):
                raise refuse(f"user {user.id!r} ({user.role}) may not unmask personal data")
            if not why:
                raise refuse("unmasking needs a stated reason (--reason)")
        if shared is not None and wanted - shared:
            raise refuse(
                f"the placement with agency {user.agency!r} does not share {', '.join(sorted(wanted - shared))}"
            )
        held = _held(uow, party)
        shown = [
            (f, ref, value) for f, ref, value in held if (not wanted or f in wanted) and (shared is None or f in shared)
        ]
        withheld = sorted({f for f, _, _ in held if shared is not None and f not in shared})
        names = tuple(sorted({f for f, _, _ in shown}))
        uow.access_log.record_many([AccessRecord(at, user.id, action, party.id, names, why, party.borrower, loan)])
        if unmask:
            detail = {"party": party.id, "borrower": party.borrower, "fields": list(names), "reason": why, "loan": loan}
            uow.audit.append(user.id, UNMASK_AUDIT, f"party:{party.id}", detail, at=at)
        uow.commit()
    views = tuple(FieldView(f, ref, value if unmask else mask(f, value), unmask) for f, ref, value in shown)
    return PartyView(
        party.id, party.borrower, party.role.value, party.relationship, views, unmask, loan, tuple(withheld)
    )


def _fields(fields: Collection[str]) -> frozenset[str]:
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise ValueError(f"fields: unknown {', '.join(unknown)} (known: {', '.join(FIELDS)})")
    return frozenset(fields)


def _with_detail(record: AccessRecord, detail: str) -> AccessRecord:
    return AccessRecord(
        record.at, record.actor, record.action, record.party, record.fields, record.purpose, record.borrower,
        record.loan, detail,
    )  # fmt: skip


def _reach(
    uow: UnitOfWork, user: User, party: Party, refuse: Callable[[str], AccessDeniedError]
) -> tuple[str | None, frozenset[str] | None]:
    """Whether ``user`` may see ``party`` at all: the loan whose case lets them (None when their role sees every
    case, or it is their own record) and the fields they may see (None: all). Raises what ``refuse`` makes."""
    if not user.active:
        raise refuse(f"user {user.id!r} is not active")
    if user.role is UserRole.BORROWER:
        if allowed(user, Permission.OWN_DATA) and user.party == party.id:
            return None, None
        raise refuse(f"user {user.id!r} may see only their own record")
    if not allowed(user, Permission.VIEW_CASE):
        raise refuse(f"user {user.id!r} ({user.role}) may not view case data")
    if user.role not in (UserRole.COLLECTOR, UserRole.AGENCY_COLLECTOR):
        return None, None
    for loan_id, (assignee, agency) in case_holders(uow, party.borrower).items():
        if sees_case(user, assignee=assignee, agency=agency, borrower=party.borrower):
            return loan_id, (agency_fields(uow, agency) if agency is not None else None)
    whose = "assigned to them" if user.role is UserRole.COLLECTOR else f"placed with agency {user.agency!r}"
    raise refuse(f"user {user.id!r} may not see party {party.id!r}: no case of borrower {party.borrower!r} is {whose}")


def case_holders(uow: UnitOfWork, borrower: str) -> dict[str, tuple[str | None, str | None]]:
    """For each loan of ``borrower``, who holds its current case: the collector assigned and the agency it is
    placed with (None: nobody). Read from the stored case events in recorded order: a cure ends the case, and
    with it the assignment and the placement (the next case starts afresh, as ``domain.cases`` replays it)."""
    loans = {loan.id for loan in uow.loans.for_borrower(borrower)}
    if not loans:
        return {}
    events = uow.case_events.all()
    return {loan_id: holders(events.get(loan_id, ())) for loan_id in sorted(loans)}


def holders(events: Iterable[CaseEvent]) -> tuple[str | None, str | None]:
    """The assignee and agency after ``events`` (one loan's stored case events, in recorded order)."""
    assignee: str | None = None
    agency: str | None = None
    for event in events:
        if isinstance(event, Cured):
            assignee = agency = None
        elif isinstance(event, CollectorAssigned):
            assignee = event.collector_id
        elif isinstance(event, PlacedWithAgency):
            agency = event.agency_id
        elif isinstance(event, RecalledFromAgency):
            agency = None
    return assignee, agency


def agency_fields(uow: UnitOfWork, agency: str) -> frozenset[str]:
    """The fields a placement with ``agency`` shares (``Agency.shared_fields``; ``name`` and ``phone`` unless the
    lender recorded more). An agency not on record shares nothing: fail closed."""
    found = uow.access.agency(agency)
    return frozenset() if found is None else frozenset(found.shared_fields)


def _held(uow: UnitOfWork, party: Party) -> list[tuple[str, str, str]]:
    """Every personal field held about ``party``: (field, where, value): its identity (name, resident ID number,
    bank account, postal address) and its contact points. An erased party holds nothing readable."""
    held: list[tuple[str, str, str]] = []
    who = uow.identities.get(party.id)
    if who is not None and not who.erased:
        for field in (NAME, RESIDENT_ID, BANK_ACCOUNT, POSTAL_ADDRESS):
            value = getattr(who, field)
            if value is not None:
                held.append((field, f"{party.id}/{field}", value))
    held.extend((field_of(p.address), p.ref, p.address) for p in uow.parties.points_of(party.id))
    return held


# --- system reads -------------------------------------------------------------------------------------------


SYSTEM_DISPATCH = "system:dispatch"


def open_addresses(
    uow: UnitOfWork, uses: Iterable[tuple[str, str, str | None, str]], *, actor: str, at: datetime
) -> dict[str, str]:
    """Opens the contact points' addresses a process is about to use, and logs one ``system_read`` row per use,
    in ``uow``'s transaction (one INSERT for them all). ``uses``: ``(ref, party, loan, purpose)``, one per
    message. The addresses, by ref; a ref that does not open (an erased party) is left out and not logged."""
    wanted = list(uses)
    opened = uow.parties.addresses({ref for ref, _, _, _ in wanted})
    rows = ((party, opened[ref], None, loan, purpose) for ref, party, loan, purpose in wanted if ref in opened)
    uow.access_log.record_many(
        [
            AccessRecord(at, actor, AccessAction.SYSTEM_READ, p, (field_of(a),), why, b, loan)
            for p, a, b, loan, why in rows
        ]
    )
    return opened


def log_dispatch(uow: UnitOfWork, entries: Iterable[OutboxEntry], *, worker: str, at: datetime) -> None:
    """Logs the addresses of claimed outbox entries, opened to be handed to a channel: one ``system_read`` row
    per message, actor :data:`SYSTEM_DISPATCH`, purpose naming the message and the worker."""
    rows = [
        AccessRecord(
            at,
            SYSTEM_DISPATCH,
            AccessAction.SYSTEM_READ,
            e.message.party,
            (field_of(e.message.address),),
            f"send {e.key} ({worker})",
            None,
            e.message.debt,
        )
        for e in entries
    ]
    if rows:
        uow.access_log.record_many(rows)


# --- incidents and the right to know ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AffectedParty:
    """A data subject whose personal data an account read in an incident's window: which fields, how many
    reads, the first and last, of which kinds, and the borrower's file it belongs to."""

    party: str
    borrower: str | None
    fields: tuple[str, ...]
    reads: int
    first: datetime
    last: datetime
    actions: tuple[str, ...]


def affected_by(
    uow: UnitOfWork, user: User, *, actor: str, since: datetime, until: datetime, at: datetime
) -> tuple[AffectedParty, ...]:
    """Every party whose personal data ``actor`` read from ``since`` to ``until`` (both included), by party id,
    for breach notification (PIPL Art. 57). ``user`` needs ``Permission.INCIDENT``; the query is itself logged
    and audited. One transaction (``uow`` not yet entered)."""
    if since.utcoffset() is None or until.utcoffset() is None:
        raise ValueError("from/to: times need a UTC offset (2026-09-01T08:00:00+08:00)")
    if since > until:
        raise ValueError(f"from: {since.isoformat()} is after to: {until.isoformat()}")
    query = f"actor={actor} from={since.isoformat()} to={until.isoformat()}"
    with uow:
        if not allowed(user, Permission.INCIDENT):
            problem = f"user {user.id!r} ({user.role}) may not run an incident query"
            denied = AccessRecord(at, user.id, AccessAction.DENIED, None, (), "incident", None, None, problem)
            uow.access_log.record_many([_with_detail(denied, f"incident: {problem}; {query}")])
            uow.commit()
            raise AccessDeniedError(problem)
        found = _affected(r for r in uow.access_log.by_actor(actor, since=since, until=until) if r.action in READS)
        found = tuple(_with_borrower(uow, a) for a in found)
        note = f"{query} parties={len(found)}"
        incident = AccessRecord(at, user.id, AccessAction.INCIDENT, None, (), "PIPL Art. 57", None, None, note)
        uow.access_log.record_many([incident])
        detail = {
            "actor": actor,
            "from": since.isoformat(),
            "to": until.isoformat(),
            "parties": len(found),
            "reads": sum(a.reads for a in found),
        }
        uow.audit.append(user.id, INCIDENT_AUDIT, f"actor:{actor}", detail, at=at)
        uow.commit()
    return found


def _affected(records: Iterable[AccessRecord]) -> tuple[AffectedParty, ...]:
    by_party: dict[str, list[AccessRecord]] = {}
    for r in records:
        if r.party is not None:
            by_party.setdefault(r.party, []).append(r)
    return tuple(_summary(party, rows) for party, rows in sorted(by_party.items()))


def _with_borrower(uow: UnitOfWork, affected: AffectedParty) -> AffectedParty:
    """A system read names no borrower (the outbox does not know it): the party's record does."""
    if affected.borrower is not None:
        return affected
    party = uow.parties.get(affected.party)
    return affected if party is None else replace(affected, borrower=party.borrower)


def _summary(party: str, rows: Sequence[AccessRecord]) -> AffectedParty:
    borrower = next((r.borrower for r in rows if r.borrower is not None), None)
    fields = sorted({f for r in rows for f in r.fields})
    actions = sorted({r.action.value for r in rows})
    return AffectedParty(
        party, borrower, tuple(fields), len(rows), min(r.at for r in rows), max(r.at for r in rows), tuple(actions)
    )


def accesses_of(uow: UnitOfWork, user: User, party_id: str, *, at: datetime) -> tuple[AccessRecord, ...]:
    """Who read ``party_id``'s data, when, which fields and why (PIPL Arts. 44-45), oldest first: for the data
    subject themselves, or for staff answering a request or auditing (``SUBJECT_REQUESTS`` or ``READ_AUDIT``).
    The answer is audited. One transaction (``uow`` not yet entered)."""
    own = user.role is UserRole.BORROWER and allowed(user, Permission.OWN_DATA) and user.party == party_id
    if not (own or allowed(user, Permission.SUBJECT_REQUESTS) or allowed(user, Permission.READ_AUDIT)):
        raise AccessDeniedError(f"user {user.id!r} ({user.role}) may not read who accessed party {party_id!r}")
    with uow:
        if uow.parties.get(party_id) is None:
            raise UnknownPartyError(f"party {party_id!r}: no such party")
        found = uow.access_log.for_party(party_id)
        uow.audit.append(user.id, ACCESSES_AUDIT, f"party:{party_id}", {"rows": len(found)}, at=at)
        uow.commit()
    return found


def counts(records: Iterable[AccessRecord]) -> Mapping[str, int]:
    """How many rows of each action."""
    out: dict[str, int] = {}
    for r in records:
        out[r.action.value] = out.get(r.action.value, 0) + 1
    return out
