"""Registering a borrower and the people they designated: every field validated before anything is stored, one
transaction, one audit entry per borrower, and no room for an address book.

A record is a JSON object (``fairdun borrower add``; the shape is in docs/identity.md). Validation is all or
nothing: the first problem is raised as a :class:`RegistrationError` naming the borrower and the field, and
nothing of the batch is stored. A borrower with more designated contacts than allowed (``FAIRDUN_MAX_CONTACTS``,
3 by default, never above 5) is refused naming PIPL Art. 6; so is any field an address book or call log would
arrive in. Each contact must come with their own consent and evidence of how it was given.

Phone numbers are checked here, not in the pure core, because only ``phonenumbers`` (libphonenumber's metadata)
knows which number ranges exist: a number is accepted when it parses with default region CN and the library says
it is *valid* (an assigned range), and is stored in E.164. The project's fictional test block
``+8613800000000``-``+8613800099999`` is in China Mobile's 138 range, which is valid, so the synthetic book
passes as it is; nothing "merely possible" is let through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from fairdun.application.ports import ConsentRecord, ContactPoint, Party, PartyIdentity, UnitOfWork
from fairdun.application.synthetic import Relationship
from fairdun.domain.contact import Channel, Role
from fairdun.domain.errors import DomainError
from fairdun.domain.identity import (
    ADDRESS_BOOK_FIELDS,
    check_contact_limit,
    mask_address,
    mask_bank_account,
    mask_email,
    mask_name,
    mask_phone,
    mask_postal_address,
    mask_resident_id,
    too_many_contacts,
    validate_bank_account,
    validate_email,
    validate_name,
    validate_postal_address,
    validate_resident_id,
)

DEFAULT_REGION = "CN"
RISK_TIERS = ("low", "medium", "high")
"""The strategy's tiers (``fairdun.policy.strategy``)."""
CONSENT_PURPOSE = "contact_relay"
"""What a designated contact consents to: being asked to pass a message on (the cn pack's ``CN-CONSENT``)."""
CONSENT_CHANNELS = ("app", "web", "paper", "recorded_call", "portal", "sms", "email")
"""How a consent may have been given (the consent ledger's channels, docs/consent.md)."""
ID_MAX = 48
"""A borrower id leaves room for a contact's ``-C<n>`` suffix within the 64 characters an id may have."""

PHONE_CHANNELS = frozenset({Channel.CALL, Channel.AI_CALL, Channel.SMS, Channel.IM})
CONTACT_CHANNELS = frozenset({Channel.CALL, Channel.SMS})
MAIL_CHANNELS = frozenset({Channel.EMAIL})

_BORROWER_FIELDS = frozenset(
    {"id", "name", "resident_id", "phones", "email", "postal_address", "bank_account", "tz", "risk_tier", "contacts"}
)
_CONTACT_FIELDS = frozenset({"id", "name", "phone", "relationship", "consent"})
_CONSENT_FIELDS = frozenset({"granted_at", "channel", "evidence"})


class RegistrationError(ValueError):
    """A record that cannot be registered; the message names the borrower and the field."""


def normalize_phone(value: str, field: str = "phone", region: str = DEFAULT_REGION) -> str:
    """``value`` in E.164 (``138 0000 4211`` -> ``+8613800004211``), or a :class:`DomainError` naming the field:
    not a phone number, or a number in no assigned range of its country."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise DomainError(field, "not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise DomainError(field, f"not a valid number in any assigned range of +{number.country_code}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- the registration, as values ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactConsent:
    """A designated contact's own consent to be asked to relay a message: when, how, and the evidence of it."""

    granted_at: datetime
    channel: str
    evidence: str


@dataclass(frozen=True, slots=True)
class DesignatedContact:
    id: str
    name: str
    phone: str
    relationship: str
    consent: ContactConsent


@dataclass(frozen=True, slots=True)
class BorrowerRecord:
    """A borrower as validated: every personal value in its canonical form (E.164, upper-case ``X``)."""

    id: str
    name: str
    resident_id: str
    phones: tuple[str, ...]
    email: str | None
    postal_address: str | None
    bank_account: str | None
    tz: str
    risk_tier: str | None
    contacts: tuple[DesignatedContact, ...]


@dataclass(frozen=True, slots=True)
class Registered:
    """What was stored for one borrower: the record, and each contact's slot (1 to 5) by contact id."""

    record: BorrowerRecord
    slots: Mapping[str, int]


# --- parsing and validation ---------------------------------------------------------------------------------


def parse_borrower(raw: Any, *, today: date, max_contacts: int) -> BorrowerRecord:
    """The record ``raw`` (a JSON object) describes, validated; :class:`RegistrationError` otherwise."""
    if not isinstance(raw, Mapping):
        raise RegistrationError("a borrower record is a JSON object")
    borrower = raw.get("id")
    if not isinstance(borrower, str) or not borrower.strip() or len(borrower.strip()) > ID_MAX:
        raise RegistrationError(f"id: a borrower id is text of 1 to {ID_MAX} characters")
    borrower = borrower.strip()
    where = f"borrower {borrower}"
    unknown = _unknown(raw, _BORROWER_FIELDS, "")
    if unknown is not None:
        raise RegistrationError(f"{where}: {unknown}")
    contacts_raw = raw.get("contacts", [])
    if not isinstance(contacts_raw, list):
        raise RegistrationError(f"{where}: contacts: a list of designated contacts")
    refusal = too_many_contacts(borrower, len(contacts_raw), check_contact_limit(max_contacts))
    if refusal is not None:
        raise RegistrationError(refusal)
    try:
        phones = raw.get("phones", [])
        if not isinstance(phones, list) or not phones:
            raise DomainError("phones", "a list of at least one phone number")
        record = BorrowerRecord(
            id=borrower,
            name=validate_name(_text(raw, "name")),
            resident_id=validate_resident_id(_text(raw, "resident_id"), today=today),
            phones=tuple(normalize_phone(_item(p, f"phones[{i}]"), f"phones[{i}]") for i, p in enumerate(phones)),
            email=_optional(raw, "email", validate_email),
            postal_address=_optional(raw, "postal_address", validate_postal_address),
            bank_account=_optional(raw, "bank_account", validate_bank_account),
            tz=_zone(raw.get("tz", "Asia/Shanghai")),
            risk_tier=_tier(raw.get("risk_tier")),
            contacts=tuple(_contact(c, i, borrower) for i, c in enumerate(contacts_raw)),
        )
    except DomainError as exc:
        raise RegistrationError(f"{where}: {exc}") from None
    if len(set(record.phones)) != len(record.phones):
        raise RegistrationError(f"{where}: phones: the same number twice")
    ids = [c.id for c in record.contacts]
    if len(set(ids)) != len(ids) or borrower in ids:
        raise RegistrationError(f"{where}: contacts: two people with one id")
    return record


def _unknown(raw: Mapping[str, Any], known: frozenset[str], prefix: str) -> str | None:
    """The refusal of a field fairdun does not take, or None. Address-book fields are named as such: fairdun has
    nowhere to put them, and the lender should learn the data should never have been collected."""
    unknown = sorted(set(raw) - known)
    address_book = [k for k in unknown if k in ADDRESS_BOOK_FIELDS]
    if address_book:
        return (
            f"{prefix}{address_book[0]} is address-book data, which fairdun never holds: only the contacts the"
            " borrower designated, each with their own consent (PIPL Art. 6, minimum necessary)"
        )
    if unknown:
        return f"{prefix}{unknown[0]}: unknown field (known: {', '.join(sorted(known))})"
    return None


def _text(raw: Mapping[str, Any], key: str, field: str | None = None) -> str:
    if key not in raw:
        raise DomainError(field or key, "missing")
    return _item(raw[key], field or key)


def _item(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise DomainError(field, "expected text")
    return value


def _optional(raw: Mapping[str, Any], field: str, validate: Callable[[str, str], str]) -> str | None:
    value = raw.get(field)
    return None if value is None else validate(_item(value, field), field)


def _zone(value: Any) -> str:
    name = _item(value, "tz")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DomainError("tz", "not an IANA time zone (e.g. Asia/Shanghai)") from None
    return name


def _tier(value: Any) -> str | None:
    if value is None:
        return None
    if value not in RISK_TIERS:
        raise DomainError("risk_tier", f"one of {', '.join(RISK_TIERS)}")
    return str(value)


def _contact(raw: Any, index: int, borrower: str) -> DesignatedContact:
    field = f"contacts[{index}]"
    if not isinstance(raw, Mapping):
        raise DomainError(field, "a designated contact is a JSON object")
    unknown = _unknown(raw, _CONTACT_FIELDS, f"{field}.")
    if unknown is not None:
        raise DomainError("", unknown)
    party = raw.get("id", f"{borrower}-C{index + 1}")
    if not isinstance(party, str) or not party.strip() or len(party) > 64:
        raise DomainError(f"{field}.id", "text of 1 to 64 characters")
    relationship = raw.get("relationship")
    if relationship not in {r.value for r in Relationship}:
        raise DomainError(f"{field}.relationship", f"one of {', '.join(r.value for r in Relationship)}")
    return DesignatedContact(
        id=party.strip(),
        name=validate_name(_text(raw, "name", f"{field}.name"), f"{field}.name"),
        phone=normalize_phone(_item(raw.get("phone"), f"{field}.phone"), f"{field}.phone"),
        relationship=str(relationship),
        consent=_consent(raw.get("consent"), f"{field}.consent"),
    )


def _consent(raw: Any, field: str) -> ContactConsent:
    """A designated contact's consent: without evidence of how it was given, the contact is refused, since the
    borrower's contract is no lawful basis for processing someone else's number (PIPL Arts. 13-14)."""
    if not isinstance(raw, Mapping):
        raise DomainError(field, "missing: a designated contact needs their own consent, with evidence")
    unknown = sorted(set(raw) - _CONSENT_FIELDS)
    if unknown:
        raise DomainError(f"{field}.{unknown[0]}", f"unknown field (known: {', '.join(sorted(_CONSENT_FIELDS))})")
    evidence = raw.get("evidence")
    if not isinstance(evidence, str) or not evidence.strip():
        raise DomainError(f"{field}.evidence", "missing: say how the consent was given (a reference to its record)")
    channel = raw.get("channel")
    if channel not in CONSENT_CHANNELS:
        raise DomainError(f"{field}.channel", f"one of {', '.join(CONSENT_CHANNELS)}")
    granted = raw.get("granted_at")
    try:
        at = datetime.fromisoformat(_item(granted, f"{field}.granted_at"))
    except ValueError:
        raise DomainError(f"{field}.granted_at", "not an ISO 8601 instant") from None
    if at.utcoffset() is None:
        raise DomainError(f"{field}.granted_at", "needs a UTC offset (e.g. +08:00)")
    return ContactConsent(at, str(channel), evidence.strip())


def parse_batch(records: Sequence[Any], *, today: date, max_contacts: int) -> tuple[BorrowerRecord, ...]:
    """Every record validated, or the first problem (prefixed with its line when there are several)."""
    parsed = []
    for line, raw in enumerate(records, start=1):
        try:
            parsed.append(parse_borrower(raw, today=today, max_contacts=max_contacts))
        except RegistrationError as exc:
            raise RegistrationError(f"line {line}: {exc}" if len(records) > 1 else str(exc)) from None
    ids = [r.id for r in parsed] + [c.id for r in parsed for c in r.contacts]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise RegistrationError(f"{duplicate}: the same id twice in one batch")
    return tuple(parsed)


# --- storing ------------------------------------------------------------------------------------------------


def register_borrowers(
    uow: UnitOfWork, records: Sequence[BorrowerRecord], *, actor: str, at: datetime
) -> tuple[Registered, ...]:
    """Stores ``records`` (validated by :func:`parse_batch`) in the unit of work's transaction and commits: the
    parties (each contact given a slot by the database), contact points, contacts' consents, sealed identities,
    and a ``borrower.registered`` audit entry per borrower, with counts and slots but no personal value. A
    conflict (an id already stored) raises :class:`fairdun.application.ports.ConflictError` and stores nothing."""
    parties: list[Party] = []
    points: list[ContactPoint] = []
    consents: list[ConsentRecord] = []
    identities: list[PartyIdentity] = []
    for r in records:
        parties.append(Party(r.id, r.id, Role.DEBTOR, r.tz, None, r.risk_tier))
        identities.append(PartyIdentity(r.id, r.name, r.resident_id, r.bank_account, r.postal_address))
        points.extend(
            ContactPoint(f"{r.id}/phone{i or ''}", r.id, phone, PHONE_CHANNELS, i) for i, phone in enumerate(r.phones)
        )
        if r.email is not None:
            points.append(ContactPoint(f"{r.id}/email", r.id, r.email, MAIL_CHANNELS, len(r.phones)))
        for c in r.contacts:
            parties.append(Party(c.id, r.id, Role.CONTACT, r.tz, c.relationship))
            identities.append(PartyIdentity(c.id, c.name))
            points.append(ContactPoint(f"{c.id}/phone", c.id, c.phone, CONTACT_CHANNELS, 0))
            consents.append(
                ConsentRecord(
                    c.id, CONSENT_PURPOSE, c.consent.granted_at, evidence=c.consent.evidence, channel=c.consent.channel
                )
            )
    uow.parties.add_many(parties, points, consents)
    uow.identities.add_many(identities)
    done = []
    for r in records:
        slots = uow.identities.contact_slots(r.id)
        uow.audit.append(
            actor,
            "borrower.registered",
            r.id,
            {
                "contacts": [{"party": c.id, "slot": slots[c.id], "relationship": c.relationship} for c in r.contacts],
                "phones": len(r.phones),
                "fields": sorted(f for f in ("email", "postal_address", "bank_account") if getattr(r, f) is not None),
            },
            at=at,
        )
        done.append(Registered(r, slots))
    uow.commit()
    return tuple(done)


def masked(registered: Registered) -> dict[str, Any]:
    """What was registered, every personal value masked, for display."""
    r = registered.record
    return {
        "id": r.id,
        "name": mask_name(r.name),
        "resident_id": mask_resident_id(r.resident_id),
        "phones": [mask_phone(p) for p in r.phones],
        "email": None if r.email is None else mask_email(r.email),
        "postal_address": None if r.postal_address is None else mask_postal_address(r.postal_address),
        "bank_account": None if r.bank_account is None else mask_bank_account(r.bank_account),
        "tz": r.tz,
        "risk_tier": r.risk_tier,
        "contacts": [
            {
                "id": c.id,
                "slot": registered.slots[c.id],
                "name": mask_name(c.name),
                "phone": mask_address(c.phone),
                "relationship": c.relationship,
                "consent": {"granted_at": c.consent.granted_at.isoformat(), "channel": c.consent.channel},
            }
            for c in r.contacts
        ],
    }


__all__ = [
    "BorrowerRecord",
    "ContactConsent",
    "DesignatedContact",
    "Registered",
    "RegistrationError",
    "masked",
    "normalize_phone",
    "parse_batch",
    "parse_borrower",
    "register_borrowers",
]
