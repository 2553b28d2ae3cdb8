"""The gate's JSON contract: requests in, decisions out. See docs/gate.md for the fields.

Parsing is strict about what it needs and lenient about what it does not: fields beyond the contract are
welcome and ignored; a missing, mistyped or unknown value raises :class:`RequestError` naming its path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from fairdun.domain.contact import (
    AgreedWindow,
    Attempt,
    Channel,
    Consent,
    ContactEvent,
    Direction,
    OptOut,
    Outcome,
    Purpose,
    Recipient,
    Role,
)
from fairdun.policy.decision import Decision
from fairdun.policy.errors import FieldError, RequestError
from fairdun.policy.localtime import zone
from fairdun.policy.pack import Pack
from fairdun.policy.reader import Reader, join, parse_clock, parse_enum, type_name
from fairdun.policy.request import BOOLEAN_FACTS, ContactRequest, Facts

PackResolver = Callable[[str], Pack]
"""Returns the pack for a name or path; raises KeyError for one it does not know."""


def _instant(value: object, path: str) -> datetime:
    if not isinstance(value, str):
        raise FieldError(path, f"expected an RFC 3339 time string, got {type_name(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(path, f"{value!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise FieldError(path, f"{value!r} has no UTC offset; write it like 2026-11-23T21:30:00+08:00")
    return parsed


def _zone_key(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise FieldError(path, f"expected an IANA time zone name such as Asia/Shanghai, got {type_name(value)}")
    try:
        zone(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError(path, f"unknown time zone {value!r}") from None
    return value


def _optional_instant(r: Reader, key: str) -> datetime | None:
    value = r.raw(key, None)
    return None if value is None else _instant(value, r.at(key))


def _parse_attempt(data: object) -> Attempt:
    r = Reader(data, "attempt")
    rec = r.table("recipient")
    recipient = Recipient(
        party=rec.string("party"),
        role=parse_enum(Role, rec.raw("role"), rec.at("role")),
        address=rec.string("address"),
        tz=_zone_key(rec.raw("tz"), rec.at("tz")),
    )
    return Attempt(
        at=_instant(r.raw("at"), r.at("at")),
        debt=r.string("debt"),
        debtor=r.string("debtor"),
        channel=parse_enum(Channel, r.raw("channel"), r.at("channel")),
        purpose=parse_enum(Purpose, r.raw("purpose"), r.at("purpose")),
        recipient=recipient,
        content=r.optional_string("content"),
    )


_CHANNELS = {c.value: c for c in Channel}
_DIRECTIONS = {d.value: d for d in Direction}
_OUTCOMES = {o.value: o for o in Outcome}


def _parse_event(data: object, index: int) -> ContactEvent:
    # Fast path for well-formed events (histories are long); anything odd takes the strict path, which names
    # the field that is wrong.
    if type(data) is dict:
        try:
            at = datetime.fromisoformat(data["at"])
            debt, party, address = data["debt"], data["party"], data["address"]
            if (
                at.utcoffset() is not None
                and type(debt) is str
                and type(party) is str
                and type(address) is str
                and debt.strip()
                and party.strip()
                and address.strip()
            ):
                return ContactEvent(
                    at,
                    debt,
                    party,
                    address,
                    _CHANNELS[data["channel"]],
                    _DIRECTIONS[data["direction"]],
                    _OUTCOMES[data["outcome"]],
                )
        except (KeyError, TypeError, ValueError):
            pass
    r = Reader(data, join("history", index))
    return ContactEvent(
        at=_instant(r.raw("at"), r.at("at")),
        debt=r.string("debt"),
        party=r.string("party"),
        address=r.string("address"),
        channel=parse_enum(Channel, r.raw("channel"), r.at("channel")),
        direction=parse_enum(Direction, r.raw("direction"), r.at("direction")),
        outcome=parse_enum(Outcome, r.raw("outcome"), r.at("outcome")),
    )


def _list(r: Reader, key: str) -> list[object] | None:
    value = r.raw(key, None)
    if value is None:
        return None
    if not isinstance(value, list):
        raise FieldError(r.at(key), f"expected a list, got {type_name(value)}")
    return value


def _parse_facts(data: object) -> Facts:
    if data is None:
        return Facts()
    r = Reader(data, "facts")
    values: dict[str, Any] = {}
    for name in BOOLEAN_FACTS:
        raw = r.raw(name, None)
        if raw is not None and not isinstance(raw, bool):
            raise FieldError(r.at(name), f"expected true, false or null, got {type_name(raw)}")
        values[name] = raw
    refused = _list(r, "refused_parties")
    if refused is not None:
        for i, p in enumerate(refused):
            if not isinstance(p, str) or not p:
                raise FieldError(join(r.at("refused_parties"), i), "expected a party id (a string)")
        values["refused_parties"] = frozenset(str(p) for p in refused)
    opt_outs = _list(r, "opt_outs")
    if opt_outs is not None:
        parsed_opt_outs = []
        for i, item in enumerate(opt_outs):
            o = Reader(item, join(r.at("opt_outs"), i))
            parsed_opt_outs.append(
                OptOut(
                    party=o.string("party"),
                    channel=parse_enum(Channel, o.raw("channel"), o.at("channel")),
                    address=o.optional_string("address"),
                )
            )
        values["opt_outs"] = tuple(parsed_opt_outs)
    consents = _list(r, "consents")
    if consents is not None:
        parsed_consents = []
        for i, item in enumerate(consents):
            c = Reader(item, join(r.at("consents"), i))
            granted = _instant(c.raw("granted_at"), c.at("granted_at"))
            withdrawn = _optional_instant(c, "withdrawn_at")
            if withdrawn is not None and withdrawn < granted:
                raise FieldError(c.at("withdrawn_at"), "is before granted_at")
            parsed_consents.append(Consent(c.string("party"), c.string("purpose"), granted, withdrawn))
        values["consents"] = tuple(parsed_consents)
    windows = _list(r, "agreed_windows")
    if windows is not None:
        parsed_windows = []
        for i, item in enumerate(windows):
            w = Reader(item, join(r.at("agreed_windows"), i))
            start = parse_clock(w.raw("start"), w.at("start"))
            end = parse_clock(w.raw("end"), w.at("end"), allow_24=True)
            if start == end % 86_400:
                raise FieldError(w.at("end"), "equals start; an agreed window needs a length")
            parsed_windows.append(AgreedWindow(w.string("party"), _clock(start), _clock(end % 86_400)))
        values["agreed_windows"] = tuple(parsed_windows)
    return Facts(**values)


def _clock(seconds: int) -> time:
    return time(seconds // 3600, seconds % 3600 // 60, seconds % 60)


def parse_request(
    data: object, resolve: PackResolver, default_pack: str = "cn", *, override: bool = False
) -> ContactRequest:
    """A :class:`ContactRequest` from a decoded JSON object, its pack resolved by name or path.

    The request's own ``pack`` is used unless it has none or ``override`` is set; then ``default_pack`` is."""
    try:
        r = Reader(data, "")
        pack_name = r.raw("pack", None)
        if pack_name is None or override:
            pack_name = default_pack
        if not isinstance(pack_name, str) or not pack_name:
            raise FieldError("pack", f"expected a pack name or path, got {type_name(pack_name)}")
        attempt = _parse_attempt(r.raw("attempt"))
        raw_history = _list(r, "history")
        history = None if raw_history is None else tuple(_parse_event(e, i) for i, e in enumerate(raw_history))
        facts = _parse_facts(r.raw("facts", None))
    except FieldError as exc:
        raise RequestError(exc.field, exc.problem) from None
    try:
        pack = resolve(pack_name)
    except KeyError as exc:
        raise RequestError("pack", str(exc.args[0]) if exc.args else f"unknown pack {pack_name!r}") from None
    return ContactRequest(attempt, history, facts, pack)


def decision_to_json(decision: Decision, lang: str = "zh") -> dict[str, Any]:
    """The response contract. ``message`` is in ``lang``; ``messages`` carries both languages."""
    return {
        "decision": decision.effect.value,
        "pack": decision.pack,
        "reasons": [
            {
                "rule": r.rule,
                "effect": r.effect.value,
                "citation": r.citation,
                "message": r.message(lang),
                "messages": {"zh": r.message("zh"), "en": r.message("en")},
                **({"missing": list(r.missing)} if r.missing else {}),
            }
            for r in decision.reasons
        ],
        "next_allowed_at": decision.next_allowed_at.isoformat() if decision.next_allowed_at else None,
        "evaluated": list(decision.evaluated),
    }


def request_to_json(request: ContactRequest) -> Mapping[str, Any]:
    """The JSON form of a request (the inverse of :func:`parse_request`, without the pack)."""
    a = request.attempt
    f = request.facts
    facts: dict[str, Any] = {name: getattr(f, name) for name in sorted(BOOLEAN_FACTS)}
    if f.refused_parties is not None:
        facts["refused_parties"] = sorted(f.refused_parties)
    if f.opt_outs is not None:
        facts["opt_outs"] = [{"party": o.party, "channel": o.channel.value, "address": o.address} for o in f.opt_outs]
    if f.consents is not None:
        facts["consents"] = [
            {
                "party": c.party,
                "purpose": c.purpose,
                "granted_at": c.granted_at.isoformat(),
                "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
            }
            for c in f.consents
        ]
    if f.agreed_windows is not None:
        facts["agreed_windows"] = [
            {"party": w.party, "start": w.start.strftime("%H:%M:%S"), "end": w.end.strftime("%H:%M:%S")}
            for w in f.agreed_windows
        ]
    out: dict[str, Any] = {
        "attempt": {
            "at": a.at.isoformat(),
            "debt": a.debt,
            "debtor": a.debtor,
            "channel": a.channel.value,
            "purpose": a.purpose.value,
            "recipient": {
                "party": a.recipient.party,
                "role": a.recipient.role.value,
                "address": a.recipient.address,
                "tz": a.recipient.tz,
            },
            "content": a.content,
        },
        "facts": {k: v for k, v in facts.items() if v is not None},
    }
    if request.pack is not None:
        out["pack"] = request.pack.name
    if request.history is not None:
        out["history"] = [
            {
                "at": e.at.isoformat(),
                "debt": e.debt,
                "party": e.party,
                "address": e.address,
                "channel": e.channel.value,
                "direction": e.direction.value,
                "outcome": e.outcome.value,
            }
            for e in request.history
        ]
    return out
