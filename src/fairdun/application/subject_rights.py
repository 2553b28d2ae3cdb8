"""Data-subject rights (PIPL Arts. 44-47): access and export of everything held about a person, correction, and
erasure by crypto-shredding with legal holds and an explanation of what was kept and why.

- **Export** (Arts. 44-45): :func:`export_subject` gathers every record held under the person's id into one
  JSON-able document with a documented shape (``format``, ``version``; docs/subject-rights.md). A borrower's
  designated contacts appear only as facts (their relationship and slot): their numbers are another data
  subject's personal information. A designated contact's export holds their own records, not the borrower's debt.
  The export is logged as an access (``access_log``, action ``export``) and audited (``subject.exported``) in the
  same transaction.
- **Correction** (Art. 46): :func:`correct` validates the new value, seals it again under the person's data key
  and audits the field and who asked (``subject.corrected``), never the values.
- **Erasure** (Art. 47): :func:`erase` destroys the person's data key, so every field sealed under it (contact
  points, identity fields, addresses of messages) is unreadable everywhere at once, backups included; cancels the
  messages not yet sent to them and blanks the bodies of those sent. A borrower's erasure takes the people they
  designated with it: their data was held only for the borrower's file. It refuses while a hold applies and says
  why: an outstanding balance (processing still necessary to perform the contract, Art. 13(2); Art. 47's
  "retention period not expired"), an open dispute, a legal hold. What is kept (the ledger, the collection
  records, which refer to opaque ids only) is listed with the reason and until when.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fairdun.application.access_control import load_user
from fairdun.application.ports import AccessAction, AccessRecord, Loan, Party, UnitOfWork
from fairdun.application.retention import RecordType, RetentionPolicy, RetentionSchedule, years_before
from fairdun.domain.access import AccessDeniedError, Permission, User, UserRole, require
from fairdun.domain.cases import DisputeOpened, DisputeResolved
from fairdun.domain.contact import Role
from fairdun.domain.ledger import loan_state

EXPORT_FORMAT = "fairdun.subject-export"
EXPORT_VERSION = 1
"""Bumped whenever a key of the export document changes meaning or goes away (adding a key does not)."""

ADDRESS_FIELDS = {"phone": "phone", "email": "email"}
"""Correctable fields held as contact points, and the contact point kind each corrects."""
IDENTITY_FIELDS = ("name", "resident_id", "postal_address", "bank_account")
"""Correctable fields held in the identity record (``uow.identities``)."""
FIELDS = (*ADDRESS_FIELDS, *IDENTITY_FIELDS)


class SubjectError(Exception):
    """A data-subject request that cannot be done as asked; the message names the field."""


Validator = Callable[[str, str], str]
"""``(field, value) -> canonical value``; raises ``ValueError`` naming the field (never echoing the value)."""


# --- export -------------------------------------------------------------------------------------------------


def _party(uow: UnitOfWork, party_id: str) -> Party:
    party = uow.parties.get(party_id)
    if party is None:
        raise SubjectError(f"party: no party {party_id!r}")
    return party


def authorise(uow: UnitOfWork, actor: str, party: Party | None, *, own: bool) -> User:
    """The active account ``actor``, if it may answer a data-subject request about ``party``: staff holding
    ``SUBJECT_REQUESTS`` (the compliance officer); with ``own``, also a borrower account for its own party
    (``OWN_DATA``: a borrower exports or corrects their own data). Otherwise ``AccessDeniedError``."""
    user = load_user(uow, actor)
    if own and user.role is UserRole.BORROWER:
        require(user, Permission.OWN_DATA)
        if party is None or user.party != party.id:
            raise AccessDeniedError(f"user {user.id!r} (borrower) may only ask about their own data")
        return user
    require(user, Permission.SUBJECT_REQUESTS)
    return user


def _plain(value: Any) -> Any:
    """A domain value as JSON: dataclasses as objects, dates and instants in ISO 8601, amounts as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "kind": type(value).__name__,
            **{f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "value") and isinstance(value.value, str):  # an enum member
        return value.value
    return value


def _loans(uow: UnitOfWork, loans: Sequence[Loan], on: date) -> list[dict[str, Any]]:
    out = []
    for loan in loans:
        product = uow.products.get(loan.product)
        events = uow.loan_events.for_loan(loan.id)
        state = None if product is None else loan_state(product, loan.schedule, [e.event for e in events], on)
        out.append(
            {
                "id": loan.id,
                "product": loan.product,
                "principal": str(loan.principal),
                "disbursed_on": loan.disbursed_on.isoformat(),
                "schedule": _plain(list(loan.schedule)),
                "events": [
                    {"seq": e.seq, "recorded_at": e.recorded_at.isoformat(), "event": _plain(e.event)} for e in events
                ],
                "state": None
                if state is None
                else {"as_of": on.isoformat(), "dpd": state.dpd, "payoff": str(state.payoff), "settled": state.settled},
            }
        )
    return out


def export_subject(uow: UnitOfWork, party_id: str, *, actor: str, at: datetime, on: date) -> dict[str, Any]:
    """Everything held about ``party_id`` as one JSON-able document (docs/subject-rights.md has its shape), logged
    as an access and audited in the same transaction, which this commits."""
    with uow:
        party = _party(uow, party_id)
        authorise(uow, actor, party, own=True)
        erased = uow.subjects.is_shredded(party.id)
        records = uow.subjects.records_of(party.id)
        debtor = party.role is Role.DEBTOR
        loans = uow.loans.for_borrower(party.id) if debtor else ()
        loan_ids = {loan.id for loan in loans}
        case_events = uow.subjects.case_events_of(loan_ids)
        designated = uow.subjects.designated(party.id)
        slots = uow.identities.contact_slots(party.id)
        document: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "party": party.id,
            "generated_at": at.isoformat(),
            "generated_by": actor,
            "erasure": uow.subjects.erasure(party.id) if erased else None,
            "party_record": {
                "id": party.id,
                "borrower": party.borrower,
                "role": party.role.value,
                "tz": party.tz,
                "relationship": party.relationship,
                "risk_tier": party.risk_tier,
            },
            "contact_points": records["contact_points"],
            "identity": _identity(uow, party.id),
            "consents": _plain(list(uow.consents.history(party.id))),
            "refusals": _plain([r for r in [uow.consents.refusal(party.id)] if r is not None]),
            "opt_outs": _plain(list(uow.consents.opt_outs([party.id]))),
            "designated_contacts": [
                {"slot": slots.get(p.id), "party": p.id, "relationship": p.relationship, "role": p.role.value}
                for p in designated
            ],
            "loans": _loans(uow, loans, on),
            "cases": [
                {"loan": loan_id, "events": _plain(list(events))}
                for loan_id, events in sorted(case_events.items())
                if loan_id in loan_ids
            ],
            "contact_history": records["contact_history"],
            "planned_contacts": records["planned_contacts"],
            "outbox": records["outbox"],
            "access_log": [
                {k: v for k, v in _plain(r).items() if k not in ("kind", "party", "borrower")}
                for r in uow.access_log.for_party(party.id)
            ],
            "not_included": _not_included(party, designated),
        }
        uow.access_log.record_many(
            [
                AccessRecord(
                    at,
                    actor,
                    AccessAction.EXPORT,
                    party.id,
                    ("contact_points", "identity", "consents", "loans", "history", "outbox"),
                    "data-subject access request (PIPL Arts. 44-45)",
                    borrower=party.borrower,
                )
            ]
        )
        uow.audit.append(
            actor,
            "subject.exported",
            party.id,
            {k: len(v) for k, v in document.items() if isinstance(v, list) and k != "not_included"},
            at=at,
        )
        uow.commit()
    return document


def _identity(uow: UnitOfWork, party: str) -> dict[str, Any] | None:
    """The sealed identity record, opened (None when there is none; every field None once erased)."""
    identity = uow.identities.get(party)
    if identity is None:
        return None
    fields = {k: v for k, v in _plain(identity).items() if k not in ("kind", "party")}
    return {k: ("[erased]" if identity.erased and k != "erased" else v) for k, v in fields.items()}


def _not_included(party: Party, designated: Sequence[Party]) -> list[str]:
    notes = []
    if designated:
        notes.append(
            "The phone numbers and other personal details of the people this borrower designated are theirs, not"
            " this borrower's (PIPL Art. 4): only the fact of each designation is shown."
            " 指定联系人的个人信息属于其本人，此处仅列出指定关系。"
        )
    if party.role is not Role.DEBTOR:
        notes.append(
            "The loans and collection records of the borrower who designated this person are that borrower's"
            " personal information and are not included; contacts with this person are. 借款人的借款及催收记录属于"
            "借款人本人的个人信息，不在此列出。"
        )
    return notes


# --- correction ---------------------------------------------------------------------------------------------


def correct(
    uow: UnitOfWork,
    party_id: str,
    field_name: str,
    value: str,
    *,
    actor: str,
    reason: str,
    at: datetime,
    validate: Validator,
) -> str:
    """Replaces ``field_name`` of ``party_id`` with ``value`` once ``validate`` accepts it, sealed again under the
    party's data key, with an audit entry ``subject.corrected`` (the field, the contact point, who, why; never the
    old or new value) in the same transaction. Returns what was corrected (a contact point ref or the field)."""
    if field_name not in FIELDS:
        raise SubjectError(f"field: one of {', '.join(FIELDS)}, got {field_name!r}")
    if not reason.strip():
        raise SubjectError("reason: say why the correction is made")
    try:
        canonical = validate(field_name, value)
    except ValueError as exc:
        raise SubjectError(str(exc)) from None
    with uow:
        party = _party(uow, party_id)
        authorise(uow, actor, party, own=True)
        if uow.subjects.is_shredded(party.id):
            raise SubjectError(f"party: {party.id!r} was erased; there is nothing left to correct")
        if field_name in ADDRESS_FIELDS:
            refs = [
                ref for ref, kind in uow.subjects.contact_point_refs(party.id) if kind == ADDRESS_FIELDS[field_name]
            ]
            if not refs:
                raise SubjectError(f"field {field_name}: party {party.id!r} has no {field_name} contact point")
            target = refs[0]
            uow.subjects.replace_address(target, canonical)
        else:
            if uow.identities.get(party.id) is None:
                raise SubjectError(f"field {field_name}: party {party.id!r} has no identity record to correct")
            uow.identities.correct(party.id, field_name, canonical)
            target = field_name
        uow.audit.append(
            actor, "subject.corrected", party.id, {"field": field_name, "target": target, "reason": reason}, at=at
        )
        uow.commit()
    return target


# --- erasure ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Kept:
    """A kind of record kept after an erasure: what, why, and until when."""

    record: str
    why: str
    until: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """What an erasure request did or would do: ``status`` is ``erased``, ``would_erase`` (a dry run),
    ``refused`` (``holds`` say why) or ``already_erased``."""

    party: str
    status: str
    parties: tuple[str, ...] = ()
    erased: tuple[str, ...] = ()
    kept: tuple[Kept, ...] = ()
    holds: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        return {
            "party": self.party,
            "status": self.status,
            "parties": list(self.parties),
            "erased": list(self.erased),
            "kept": [{"record": k.record, "why": k.why, "until": k.until} for k in self.kept],
            "holds": list(self.holds),
            "counts": dict(self.counts),
        }

    def to_text(self) -> str:
        lines = [f"{self.party}: {self.status}"]
        lines += [f"  hold: {h}" for h in self.holds]
        lines += [f"  erased: {e}" for e in self.erased]
        lines += [f"  kept: {k.record} (until {k.until}): {k.why}" for k in self.kept]
        return "\n".join(lines)


def _dispute_open(events: Sequence[Any], on: date) -> bool:
    open_ = False
    for event in events:
        if isinstance(event, DisputeOpened) and event.on <= on:
            open_ = True
        elif isinstance(event, DisputeResolved) and event.on <= on:
            open_ = False
    return open_


def erasure_holds(uow: UnitOfWork, party: Party, on: date) -> list[str]:
    """Why ``party`` cannot be erased on ``on`` (empty: it can). For a borrower: an outstanding balance, an open
    dispute, a legal hold on them or a loan of theirs; for a designated contact: a legal hold on them or on the
    borrower's file."""
    reasons = []
    loans = uow.loans.for_borrower(party.id) if party.role is Role.DEBTOR else ()
    case_events = uow.subjects.case_events_of([loan.id for loan in loans])
    for loan in loans:
        product = uow.products.get(loan.product)
        if product is not None:
            state = loan_state(product, loan.schedule, [e.event for e in uow.loan_events.for_loan(loan.id)], on)
            if not state.settled:
                reasons.append(
                    f"loan {loan.id}: {state.payoff} outstanding on {on.isoformat()}: processing is still necessary"
                    " to perform the contract (PIPL Art. 13(2)); erase once it is settled"
                )
        if _dispute_open(case_events.get(loan.id, ()), on):
            reasons.append(f"loan {loan.id}: a dispute is open; its records are evidence until it is resolved")
    loan_ids = {loan.id for loan in loans}
    for hold in uow.subjects.holds():
        if hold.active(on) and (hold.party in {party.id, party.borrower} or hold.loan in loan_ids):
            on_what = f"party {hold.party}" if hold.party is not None else f"loan {hold.loan}"
            reasons.append(
                f"legal hold {hold.id} on {on_what} until {hold.until.isoformat()} set by {hold.set_by}: {hold.reason}"
            )
    return reasons


def _until(policy: RetentionPolicy, on: date) -> str:
    if policy.years is None:
        return "indefinitely"
    end = years_before(on, -policy.years)
    return f"{end.isoformat()} at the latest ({policy.years} years from {policy.counted_from})"


def _kept(schedule: RetentionSchedule, on: date) -> tuple[Kept, ...]:
    why = {
        RecordType.LOAN_EVENTS: "the loan, its schedule and its ledger are the lender's books; they name the"
        " borrower by an opaque id only",
        RecordType.CASE_EVENTS: "collection records (assignments, promises, disputes), kept as non-personal locked"
        " records under an opaque id",
        RecordType.CONTACT_HISTORY: "collection records: when, on which channel and with what outcome contact was"
        " made, under opaque ids (never the number)",
        RecordType.PLANNED_CONTACTS: "the gate's decisions on each planned contact, evidence that collection was"
        " lawful, under opaque ids",
        RecordType.OUTBOX: "delivery records of messages sent; the address is sealed under the shredded key (now"
        " unreadable) and the body blanked",
        RecordType.CONSENTS: "evidence of the consents given and withdrawn, showing processing was lawful",
        RecordType.ACCESS_LOG: "who read this person's data and when, kept for breach notification (PIPL Art. 57)",
        RecordType.AUDIT_LOG: "the tamper-evident audit log; its entries hold no personal values and its hash chain"
        " is never cut",
    }
    kept = [Kept(p.record.value, f"{why[p.record]}. Basis: {p.basis}", _until(p, on)) for p in schedule.policies]
    kept.append(
        Kept(
            "parties",
            "the party's opaque id, role, time zone and relationship, so the records above stay consistent; no"
            " name, number or ID",
            "as long as the records above",
        )
    )
    return tuple(kept)


def erase(
    uow: UnitOfWork,
    party_id: str,
    *,
    actor: str,
    reason: str,
    at: datetime,
    on: date,
    schedule: RetentionSchedule,
    dry_run: bool = False,
) -> Explanation:
    """Erases ``party_id`` by crypto-shredding (see the module docstring), or, with ``dry_run``, says what it would
    do. A refusal is audited (``subject.erasure_refused``, with the holds) like an erasure (``subject.erased``)."""
    if not reason.strip():
        raise SubjectError("reason: say why the erasure is made (the request, its date, its channel)")
    with uow:
        party = _party(uow, party_id)
        authorise(uow, actor, party, own=False)
        if uow.subjects.is_shredded(party.id):
            stored = uow.subjects.erasure(party.id)
            counts = {"erased_before": 1} if stored is not None else {}
            return Explanation(party.id, "already_erased", (party.id,), counts=counts)
        holds = erasure_holds(uow, party, on)
        if holds:
            if not dry_run:
                uow.audit.append(actor, "subject.erasure_refused", party.id, {"reason": reason, "holds": holds}, at=at)
                uow.commit()
            return Explanation(party.id, "refused", holds=tuple(holds))
        parties = [party.id]
        if party.role is Role.DEBTOR:
            parties += [p.id for p in uow.subjects.designated(party.id)]
        points = sum(len(uow.subjects.records_of(p)["contact_points"]) for p in parties)
        erased = [
            f"{points} contact point address(es) (phone, e-mail, postal): sealed under the shredded key(s)",
            "identity fields (name, resident ID number, bank account, postal address), if held: sealed under the"
            " same key(s)",
            "the addresses of every message sent or waiting: sealed under the same key(s)",
            "messages not yet sent: cancelled, their subject and body blanked; bodies of messages sent: blanked",
        ]
        if len(parties) > 1:
            erased.append(
                f"the {len(parties) - 1} people this borrower designated: their data was held only for this"
                " borrower's file (PIPL Art. 47(1))"
            )
        if dry_run:
            return Explanation(
                party.id, "would_erase", tuple(parties), tuple(erased), _kept(schedule, on), counts={"points": points}
            )
        shredded = uow.subjects.shred(parties, at)
        cancelled, blanked = uow.subjects.cancel_messages(parties, at)
        counts = {"keys_shredded": len(shredded), "points": points, "cancelled": cancelled, "blanked": blanked}
        explanation = Explanation(party.id, "erased", tuple(parties), tuple(erased), _kept(schedule, on), counts=counts)
        for p in parties:
            uow.subjects.record_erasure(
                p,
                borrower=party.borrower,
                by=actor,
                at=at,
                reason=reason,
                detail=explanation.to_document() if p == party.id else {"with": party.id},
            )
        uow.audit.append(actor, "subject.erased", party.id, {"reason": reason, "parties": parties, **counts}, at=at)
        uow.commit()
    return explanation


def settled_loans(uow: UnitOfWork, on: date) -> set[str]:
    """The loans paid off on ``on`` (the purge removes case events of these only)."""
    products = {p.code: p for p in uow.products.all()}
    events: dict[str, list[Any]] = {}
    for recorded in uow.loan_events.all():
        events.setdefault(recorded.loan_id, []).append(recorded.event)
    return {
        loan.id
        for loan in uow.loans.all()
        if loan_state(products[loan.product], loan.schedule, events.get(loan.id, ()), on).settled
    }


def dumps(document: Mapping[str, Any]) -> str:
    """The export as JSON text: UTF-8, sorted keys, indented."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True)
