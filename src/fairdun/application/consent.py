"""The consent ledger: versioned privacy notices, consents per purpose, permanent refusals and channel opt-outs.

PIPL asks for consent that is informed (Art. 14: re-consent when the purpose changes), may be withdrawn conveniently
and without undoing what was lawfully done before (Art. 15), and is *separate* where data goes to another handler
(Art. 23) or is sensitive (Art. 29). GB/T 45251-2025 adds that a designated contact who refuses further contact
must not be contacted again. So:

- a **privacy notice** is published once per version and never edited; every consent names the version it was
  given under (its text's SHA-256 is kept, so the words can be shown later);
- a **consent** is one row per grant with its channel and evidence; a withdrawal fills that row's withdrawal
  fields once, and a new grant is a new row. Nothing is overwritten (the database refuses it too, migration 0008);
- a **refusal** by a designated contact is permanent (one per party) and withdraws their consents in force;
- a debtor's stop keyword is an **opt-out of that channel**, not a licence to stop collecting: the debt is still
  owed and the lender may still write or call within the rules (docs/consent.md).

Every change appends an audit entry in the same transaction, with ids, purposes, channels and versions only.
The daily cycle reads the ledger through :class:`LedgerFacts`; :func:`withhold_revoked` re-checks it just before
each dispatch, so a withdrawal or refusal recorded after the day was planned stops the very next message.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from fairdun.application.channels import DeliveryResult
from fairdun.application.ports import AccessAction, AccessRecord, ConsentRecord, OutboxEntry, Party, UnitOfWork
from fairdun.domain.contact import Channel, Consent, OptOut, Outcome, Role
from fairdun.policy import Pack
from fairdun.policy.checks import ConsentNeeded, OptOutHonoured, Recipients

# --- the vocabulary -----------------------------------------------------------------------------------------


class ConsentPurpose(StrEnum):
    """What a consent is for. The values are stored and read by rule packs (``contact_relay`` by ``CN-CONSENT``)."""

    COLLECTION_CONTACT = "collection_contact"
    """To be contacted about the debt on the channels given (PIPL Arts. 13-14)."""
    CONTACT_RELAY = "contact_relay"
    """A designated contact's own consent to be asked to relay a message (the cn pack's ``CN-CONSENT``)."""
    AGENCY_SHARING = "agency_sharing"
    """Separate consent to provide the data to another handler, e.g. an outside collection agency (PIPL Art. 23)."""
    SENSITIVE_INFO = "sensitive_info"
    """Separate consent to process sensitive personal information, e.g. financial accounts (PIPL Arts. 28-29)."""


class ConsentChannel(StrEnum):
    """How a consent, or its withdrawal, reached the lender. ``unrecorded`` marks rows stored before migration 0008
    only: a new grant or withdrawal must say how it came."""

    APP = "app"
    WEB = "web"
    PAPER = "paper"
    RECORDED_CALL = "recorded_call"
    PORTAL = "portal"
    SMS = "sms"
    EMAIL = "email"
    IN_PERSON = "in_person"
    INBOUND_KEYWORD = "inbound_keyword"
    COLLECTOR = "collector"
    UNRECORDED = "unrecorded"


class RefusalChannel(StrEnum):
    """How a refusal (or an opt-out) reached the lender."""

    PORTAL = "portal"
    """The borrower portal (not built yet: it will call :func:`refuse_contact`)."""
    INBOUND_KEYWORD = "inbound_keyword"
    """A stop keyword in an inbound SMS (:func:`inbound_sms`)."""
    COLLECTOR = "collector"
    """A collector recording what the person said (``fairdun contact refuse``)."""


STOP_KEYWORDS: tuple[str, ...] = ("退订", "TD", "T", "停止联系", "不要再联系我", "别再打了", "STOP", "UNSUBSCRIBE")
"""Texts that mean "stop", compared after :func:`normalize_text` (full-width to half-width, upper case, no spaces
or punctuation). Kept as data: a lender adds its own. A whole message must be one of them, or start with one
followed by punctuation, so 「T」 and 「退订」 stop but a sentence that merely contains a T does not."""

NOTICE_ADDED = "consent.notice_published"
GRANTED = "consent.granted"
WITHDRAWN = "consent.withdrawn"
REFUSED = "contact.refused"
OPTED_OUT = "contact.opted_out"
WITHHELD = "outbox.withheld"
"""Audit actions written here."""

_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_ID_LENGTH = 64


# --- records ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrivacyNotice:
    """One version of the privacy notice, as published. ``sha256`` is the hex digest of ``text`` in UTF-8."""

    version: str
    language: str
    text: str
    sha256: str
    published_at: datetime
    published_by: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """A designated contact's permanent refusal of further contact."""

    party: str
    at: datetime
    channel: RefusalChannel
    evidence: str
    recorded_by: str


@dataclass(frozen=True, slots=True)
class ChannelOptOut:
    """A party's opt-out of one channel, at one contact point (``address_ref``) or at all of them (None)."""

    party: str
    channel: Channel
    address_ref: str | None
    at: datetime
    source: RefusalChannel
    evidence: str
    recorded_by: str


class ConsentError(ValueError):
    """Bad input or a request the ledger refuses; the message names the field (``party: unknown party 'X'``)."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem


# --- the port -----------------------------------------------------------------------------------------------


class ConsentRepository(Protocol):
    """The ledger's store. Only appends, and fills a consent's withdrawal once; never commits."""

    def publish_notice(self, notice: PrivacyNotice) -> None:
        """Stores a new notice version; :class:`ConflictError` if the version exists."""
        ...

    def notice(self, version: str) -> PrivacyNotice | None: ...

    def notices(self) -> tuple[PrivacyNotice, ...]:
        """Every version, oldest first."""
        ...

    def grant(self, consent: ConsentRecord) -> ConsentRecord:
        """Stores a new consent row; the record with its ``id``."""
        ...

    def withdraw(self, consent_id: int, at: datetime, channel: str, evidence: str) -> None:
        """Fills the withdrawal of consent ``consent_id``; :class:`ConflictError` if it is already withdrawn or
        unknown. Nothing else of the row can change."""
        ...

    def history(self, party: str) -> tuple[ConsentRecord, ...]:
        """Every consent row of ``party``, oldest first (by id)."""
        ...

    def consents(self, parties: Collection[str] | None = None) -> tuple[ConsentRecord, ...]:
        """Every consent row (of ``parties``), oldest first."""
        ...

    def refuse(self, refusal: Refusal) -> None:
        """Stores a refusal; :class:`ConflictError` if the party has one."""
        ...

    def refusal(self, party: str) -> Refusal | None: ...

    def refusals(self, parties: Collection[str] | None = None) -> tuple[Refusal, ...]: ...

    def opt_out(self, opt_out: ChannelOptOut) -> None: ...

    def opt_outs(self, parties: Collection[str] | None = None) -> tuple[ChannelOptOut, ...]: ...

    def mark(self) -> tuple[int, ...]:
        """A cheap summary that changes whenever anything is granted, withdrawn, refused or opted out of."""
        ...


# --- notices ------------------------------------------------------------------------------------------------


def _text(name: str, value: str, *, limit: int | None = None) -> str:
    value = value.strip()
    if not value:
        raise ConsentError(name, "must not be empty")
    if limit is not None and len(value) > limit:
        raise ConsentError(name, f"at most {limit} characters, got {len(value)}")
    return value


def _aware(at: datetime) -> datetime:
    if at.utcoffset() is None:
        raise ConsentError("at", f"must carry a time zone, got {at.isoformat()}")
    return at


def publish_notice(
    uow: UnitOfWork, *, version: str, language: str, text: str, actor: str, at: datetime
) -> PrivacyNotice:
    """Publishes a new version of the privacy notice (uncommitted). A version is never edited or re-published:
    new words are a new version, and consents given under the old one keep naming it."""
    if not _VERSION.fullmatch(version):
        raise ConsentError("version", f"letters, digits, '.', '_' or '-', at most 64, got {version!r}")
    if not _LANGUAGE.fullmatch(language):
        raise ConsentError("language", f"a language tag such as zh-CN or en, got {language!r}")
    body = _text("text", text)
    actor = _text("by", actor, limit=_ID_LENGTH)
    if uow.consents.notice(version) is not None:
        raise ConsentError("version", f"notice {version} is already published; a new text needs a new version")
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    notice = PrivacyNotice(version, language, body, digest, _aware(at), actor)
    uow.consents.publish_notice(notice)
    detail = {"version": version, "language": language, "sha256": digest}
    uow.audit.append(actor, NOTICE_ADDED, f"notice:{version}", detail, at=at)
    return notice


# --- consents -----------------------------------------------------------------------------------------------


def _party(uow: UnitOfWork, party: str) -> Party:
    found = uow.parties.get(party)
    if found is None:
        raise ConsentError("party", f"unknown party {party!r}")
    return found


def _purpose(purpose: str) -> ConsentPurpose:
    try:
        return ConsentPurpose(purpose)
    except ValueError:
        allowed = ", ".join(p.value for p in ConsentPurpose)
        raise ConsentError("purpose", f"unknown purpose {purpose!r}; expected one of {allowed}") from None


def _channel(channel: str) -> ConsentChannel:
    try:
        found = ConsentChannel(channel)
    except ValueError:
        found = ConsentChannel.UNRECORDED
    if found is ConsentChannel.UNRECORDED:
        allowed = ", ".join(c.value for c in ConsentChannel if c is not ConsentChannel.UNRECORDED)
        raise ConsentError("channel", f"unknown channel {channel!r}; expected one of {allowed}")
    return found


def in_force(record: ConsentRecord, at: datetime) -> bool:
    """Whether ``record`` was granted by ``at`` and not withdrawn by then."""
    return record.granted_at <= at and (record.withdrawn_at is None or at < record.withdrawn_at)


def grant_consent(
    uow: UnitOfWork,
    *,
    party: str,
    purpose: str,
    notice: str,
    channel: str,
    evidence: str,
    actor: str,
    at: datetime,
) -> ConsentRecord:
    """Records a consent (uncommitted): a new row, whatever came before. Refused: an unknown party, purpose,
    channel or notice, a notice published after ``at``, ``contact_relay`` for anyone but a designated contact, a
    party who refused further contact (permanent), or the same consent already in force under the same notice."""
    _aware(at)
    who = _party(uow, party)
    what = _purpose(purpose)
    how = _channel(channel)
    proof = _text("evidence", evidence)
    actor = _text("by", actor, limit=_ID_LENGTH)
    if what is ConsentPurpose.CONTACT_RELAY and who.role is not Role.CONTACT:
        raise ConsentError("purpose", f"contact_relay is a designated contact's own consent; {who.id} is a {who.role}")
    published = uow.consents.notice(notice)
    if published is None:
        raise ConsentError("notice", f"unknown notice version {notice!r}; publish it first (fairdun notice publish)")
    if published.published_at > at:
        raise ConsentError("notice", f"notice {notice} was published at {published.published_at.isoformat()}, after")
    refusal = uow.consents.refusal(who.id)
    if refusal is not None:
        raise ConsentError("party", f"{who.id} refused further contact on {refusal.at.isoformat()}; that is permanent")
    for old in uow.consents.history(who.id):
        if old.purpose == what.value and old.notice_version == notice and in_force(old, at):
            raise ConsentError("purpose", f"{what.value} consent of {who.id} under notice {notice} is already in force")
    record = uow.consents.grant(ConsentRecord(who.id, what.value, at, None, proof, notice, how.value))
    detail = {"consent": record.id, "purpose": what.value, "channel": how.value, "notice": notice}
    uow.audit.append(actor, GRANTED, f"party:{who.id}", detail, at=at)
    return record


def withdraw_consent(
    uow: UnitOfWork, *, party: str, purpose: str, channel: str, evidence: str, actor: str, at: datetime
) -> tuple[ConsentRecord, ...]:
    """Withdraws (uncommitted) every consent of ``party`` to ``purpose`` in force at ``at``: each row's withdrawal is
    filled once. Refused when none is in force (never given, or already withdrawn: the error says when)."""
    _aware(at)
    who = _party(uow, party)
    what = _purpose(purpose)
    how = _channel(channel)
    proof = _text("evidence", evidence)
    actor = _text("by", actor, limit=_ID_LENGTH)
    mine = [c for c in uow.consents.history(who.id) if c.purpose == what.value]
    current = [c for c in mine if c.withdrawn_at is None and c.granted_at <= at]
    if not current:
        withdrawn = [c.withdrawn_at for c in mine if c.withdrawn_at is not None]
        if withdrawn:
            last = max(withdrawn)
            raise ConsentError("purpose", f"{what.value} consent of {who.id} is already withdrawn ({last.isoformat()})")
        raise ConsentError("purpose", f"{who.id} has no {what.value} consent in force at {at.isoformat()}")
    return _withdraw(uow, current, at=at, channel=how, evidence=proof, actor=actor)


def _withdraw(
    uow: UnitOfWork,
    records: Iterable[ConsentRecord],
    *,
    at: datetime,
    channel: ConsentChannel,
    evidence: str,
    actor: str,
) -> tuple[ConsentRecord, ...]:
    out = []
    for record in records:
        assert record.id is not None  # read from the store
        uow.consents.withdraw(record.id, at, channel.value, evidence)
        detail = {"consent": record.id, "purpose": record.purpose, "channel": channel.value}
        uow.audit.append(actor, WITHDRAWN, f"party:{record.party}", detail, at=at)
        out.append(replace(record, withdrawn_at=at, withdrawal_channel=channel.value, withdrawal_evidence=evidence))
    return tuple(out)


def consent_history(uow: UnitOfWork, party: str) -> tuple[ConsentRecord, ...]:
    """Every consent row of ``party``, oldest first; :class:`ConsentError` for an unknown party."""
    return uow.consents.history(_party(uow, party).id)


# --- refusals and opt-outs ----------------------------------------------------------------------------------


def refuse_contact(
    uow: UnitOfWork, *, party: str, channel: RefusalChannel, evidence: str, actor: str, at: datetime
) -> Refusal:
    """Records (uncommitted) a designated contact's permanent refusal of further contact, and withdraws their
    consents in force, in one transaction. The portal, the inbound keyword and the collector all come here.

    Only for a designated contact: a debtor's "stop" is a channel opt-out (:func:`record_opt_out`), because it does
    not end the debt; a second refusal of the same party is refused, naming the first."""
    _aware(at)
    who = _party(uow, party)
    if who.role is not Role.CONTACT:
        raise ConsentError(
            "party", f"{who.id} is a {who.role.value}, not a designated contact: record a channel opt-out instead"
        )
    proof = _text("evidence", evidence)
    actor = _text("by", actor, limit=_ID_LENGTH)
    earlier = uow.consents.refusal(who.id)
    if earlier is not None:
        raise ConsentError("party", f"{who.id} already refused further contact on {earlier.at.isoformat()}")
    refusal = Refusal(who.id, at, channel, proof, actor)
    uow.consents.refuse(refusal)
    uow.audit.append(actor, REFUSED, f"party:{who.id}", {"channel": channel.value}, at=at)
    current = [c for c in uow.consents.history(who.id) if c.withdrawn_at is None and c.granted_at <= at]
    _withdraw(uow, current, at=at, channel=ConsentChannel(channel.value), evidence=proof, actor=actor)
    return refusal


def record_opt_out(
    uow: UnitOfWork,
    *,
    party: str,
    channel: Channel,
    address_ref: str | None,
    source: RefusalChannel,
    evidence: str,
    actor: str,
    at: datetime,
) -> ChannelOptOut | None:
    """Records (uncommitted) that ``party`` opted out of ``channel`` (at ``address_ref``, or everywhere); None when
    the same opt-out is already recorded (a second STOP changes nothing)."""
    _aware(at)
    who = _party(uow, party)
    proof = _text("evidence", evidence)
    actor = _text("by", actor, limit=_ID_LENGTH)
    for old in uow.consents.opt_outs([who.id]):
        if old.channel is channel and old.address_ref in (None, address_ref):
            return None
    opt_out = ChannelOptOut(who.id, channel, address_ref, at, source, proof, actor)
    uow.consents.opt_out(opt_out)
    detail = {"channel": channel.value, "address_ref": address_ref, "source": source.value}
    uow.audit.append(actor, OPTED_OUT, f"party:{who.id}", detail, at=at)
    return opt_out


# --- inbound SMS --------------------------------------------------------------------------------------------

_SPACE_AND_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)


def normalize_text(text: str) -> str:
    """Full-width forms to half-width (NFKC), upper case, and no spaces or punctuation: 「ｓｔｏｐ！」 → ``STOP``."""
    return _SPACE_AND_PUNCTUATION.sub("", unicodedata.normalize("NFKC", text).upper())


def stop_keyword(text: str, keywords: Iterable[str] = STOP_KEYWORDS) -> str | None:
    """The stop keyword ``text`` is, or begins with before punctuation or a space; None if it is none of them."""
    whole = normalize_text(text)
    words = [normalize_text(k) for k in keywords]
    for keyword, word in zip(keywords, words, strict=True):
        if word and whole == word:
            return keyword
    first = re.split(r"[\s\W_]+", unicodedata.normalize("NFKC", text).upper().strip(), maxsplit=1)[0]
    for keyword, word in zip(keywords, words, strict=True):
        if word and len(word) > 1 and first == word:
            return keyword
    return None


def e164(sender: str) -> str:
    """A sender number as E.164: a mainland mobile number without its country code gets ``+86``."""
    digits = re.sub(r"[\s()-]", "", unicodedata.normalize("NFKC", sender))
    if re.fullmatch(r"1\d{10}", digits):
        return "+86" + digits
    if re.fullmatch(r"(00)?86\d{11}", digits):
        return "+" + digits.removeprefix("00")
    return digits


@dataclass(frozen=True, slots=True)
class InboundOutcome:
    """What an inbound SMS changed: the keyword recognised (None: none), and per party what was recorded
    (``refused``, ``opted_out``, ``already refused``, ``already opted out``). Empty ``changes``: nothing."""

    keyword: str | None
    changes: tuple[tuple[str, str], ...] = ()
    note: str = ""


def inbound_sms(uow: UnitOfWork, *, sender: str, text: str, at: datetime, actor: str) -> InboundOutcome:
    """Acts on an inbound SMS (uncommitted): a stop keyword from a designated contact's number is their permanent
    refusal; from a debtor's (or anyone else's) number, an opt-out of SMS at that number. The number is found by its
    blind index and never stored or logged; an unknown number or a text without a keyword changes nothing."""
    _aware(at)
    keyword = stop_keyword(text)
    if keyword is None:
        return InboundOutcome(None, note="no stop keyword: nothing changed")
    points = [p for p in uow.parties.find_contact_points(e164(sender)) if Channel.SMS in p.channels]
    if not points:
        return InboundOutcome(keyword, note="unknown number: nothing changed")
    changes = []
    evidence = f"inbound sms, keyword {keyword}"
    parties = [_party(uow, point.party) for point in points]
    # The lookup opened these contact points (the blind index found them): logged like any read of personal data.
    why = "inbound sms: match the sender of a stop keyword"
    uow.access_log.record_many(
        [AccessRecord(at, actor, AccessAction.SYSTEM_READ, p.id, ("phone",), why, p.borrower) for p in parties]
    )
    for point, party in zip(points, parties, strict=True):
        if party.role is Role.CONTACT:
            if uow.consents.refusal(party.id) is not None:
                changes.append((party.id, "already refused"))
                continue
            refuse_contact(
                uow, party=party.id, channel=RefusalChannel.INBOUND_KEYWORD, evidence=evidence, actor=actor, at=at
            )
            changes.append((party.id, "refused"))
        else:
            done = record_opt_out(
                uow,
                party=party.id,
                channel=Channel.SMS,
                address_ref=point.ref,
                source=RefusalChannel.INBOUND_KEYWORD,
                evidence=evidence,
                actor=actor,
                at=at,
            )
            changes.append((party.id, "opted_out" if done is not None else "already opted out"))
    return InboundOutcome(keyword, tuple(changes))


# --- what the gate reads ------------------------------------------------------------------------------------


@dataclass
class LedgerFacts:
    """The ledger as the gate's facts (``Facts.consents``, ``refused_parties``, ``opt_outs``), by party, loaded
    once and reloaded when :meth:`refresh` sees that anything changed (``mark``)."""

    consents: dict[str, list[Consent]] = field(default_factory=dict)
    refused: frozenset[str] = frozenset()
    opt_outs: dict[str, list[OptOut]] = field(default_factory=dict)
    mark: tuple[int, ...] = ()

    @classmethod
    def load(cls, uow: UnitOfWork) -> LedgerFacts:
        """The whole ledger. Opt-outs name contact points by ``ref``; the gate sees the same refs as addresses."""
        facts = cls()
        facts._read(uow)
        return facts

    def _read(self, uow: UnitOfWork) -> None:
        self.mark = uow.consents.mark()
        consents: dict[str, list[Consent]] = {}
        for c in uow.consents.consents():
            consents.setdefault(c.party, []).append(Consent(c.party, c.purpose, c.granted_at, c.withdrawn_at))
        opt_outs: dict[str, list[OptOut]] = {}
        for o in uow.consents.opt_outs():
            opt_outs.setdefault(o.party, []).append(OptOut(o.party, o.channel, o.address_ref))
        self.consents = consents
        self.refused = frozenset(r.party for r in uow.consents.refusals())
        self.opt_outs = opt_outs

    def refresh(self, uow: UnitOfWork) -> bool:
        """Reloads the ledger if anything changed since it was read; whether it did."""
        if uow.consents.mark() == self.mark:
            return False
        self._read(uow)
        return True

    def facts(self, parties: Iterable[str]) -> tuple[tuple[Consent, ...], frozenset[str], tuple[OptOut, ...]]:
        """The consents, refusals and opt-outs of ``parties``, for ``Facts``."""
        wanted = list(dict.fromkeys(parties))
        consents = tuple(c for p in wanted for c in self.consents.get(p, ()))
        opt_outs = tuple(o for p in wanted for o in self.opt_outs.get(p, ()))
        return consents, self.refused.intersection(wanted), opt_outs


# --- the dispatch-time re-check -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Withheld:
    """A queued message not sent because the ledger changed after the day was planned: the rule that now denies
    it and why."""

    key: str
    rule: str
    reason: str


def _verdict(pack: Pack, entry: OutboxEntry, role: Role, ledger: LedgerFacts) -> tuple[str, str] | None:
    """The first rule of ``pack`` whose consent, refusal or opt-out check now denies ``entry``: (rule id, why)."""
    message = entry.message
    at = message.not_before or entry.decided_at
    ts = at.timestamp()
    for rule in pack.rules:
        if not any(c is message.channel and r is role for c, r, _ in rule.scope):
            continue
        for check in rule.checks:
            if isinstance(check, ConsentNeeded):
                mine = [c for c in ledger.consents.get(message.party, ()) if c.purpose == check.purpose]
                if not any(c.valid_at(ts) for c in mine):
                    ends = [c.withdrawn_at for c in mine if c.withdrawn_at is not None]
                    when = f" at {max(ends).isoformat()}" if ends else ""
                    return rule.id, f"{check.purpose} consent of {message.party} withdrawn{when}"
            elif isinstance(check, Recipients):
                terms = check.allow.get(role)
                if terms is not None and terms.unless_refused and message.party in ledger.refused:
                    return rule.id, f"{message.party} refused further contact"
            elif isinstance(check, OptOutHonoured):
                for o in ledger.opt_outs.get(message.party, ()):
                    if o.channel is message.channel and o.address in (None, message.address_ref):
                        return rule.id, f"{message.party} opted out of {message.channel.value}"
    return None


def withhold_revoked(
    uow_factory: Callable[[], UnitOfWork],
    ledger: LedgerFacts,
    pack: Pack,
    parties: Mapping[str, Party],
    *,
    now: datetime,
    limit: int,
    worker: str = "consent-recheck",
) -> tuple[Withheld, ...]:
    """Before a dispatch at ``now``: if the ledger changed since ``ledger`` was read, reloads it and fails, without
    sending, every pending message (up to ``limit``; due now or later, each judged at its planned instant) that
    ``pack`` now denies for a withdrawn consent, a refusal or an opt-out (error ``withheld at dispatch: RULE-ID:
    ...``), with one audit entry for them. Nothing enters the contact history: nothing was sent. An unchanged
    ledger costs one small query."""
    with uow_factory() as uow:
        if not ledger.refresh(uow):
            return ()
        out = []
        for entry in uow.outbox.pending(limit):  # due now or later: each is judged at its own instant
            party = parties.get(entry.message.party) or uow.parties.get(entry.message.party)
            found = None if party is None else _verdict(pack, entry, party.role, ledger)
            if found is None or uow.outbox.claim(entry.key, worker, now) is None:
                continue
            rule, reason = found
            error = f"withheld at dispatch: {rule}: {reason} after the contact was planned"
            result = DeliveryResult(entry.key, Outcome.FAILED, attempts=0, error=error)
            uow.outbox.mark_failed(entry.key, result, None, at=now)
            out.append(Withheld(entry.key, rule, reason))
        if out:
            detail = {"keys": [w.key for w in out], "rules": sorted({w.rule for w in out})}
            uow.audit.append(f"system:{worker}", WITHHELD, f"dispatch:{now.isoformat()}", detail, at=now)
        uow.commit()
    return tuple(out)


__all__ = [
    "STOP_KEYWORDS",
    "ChannelOptOut",
    "ConsentChannel",
    "ConsentError",
    "ConsentPurpose",
    "ConsentRepository",
    "InboundOutcome",
    "LedgerFacts",
    "PrivacyNotice",
    "Refusal",
    "RefusalChannel",
    "Withheld",
]
