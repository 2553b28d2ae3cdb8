"""Rule packs: data files (TOML) of rules, each with an id, its citations, messages and checks.

A pack is built from a parsed document here, purely; reading files and resolving ``extends`` happens in
``fairdun.config.packs``. A pack that extends another starts from the base's rules: a rule with a known id
replaces the fields it names (``checks`` replaces all the base's checks), a new id is added at the end.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from fairdun.domain.contact import Attempt, Channel, Purpose, Role
from fairdun.policy.checks import Check, build_check
from fairdun.policy.errors import FieldError, PackError
from fairdun.policy.reader import Reader, join
from fairdun.policy.screen import Screener

RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
PACK_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
CONFIDENCE = ("P", "S", "U")


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a rule comes from: the law, the article, when a person last checked it, and how sure we are
    (P: the text itself was seen; S: a secondary source; U: unconfirmed; see shared RULES.md)."""

    law: str
    article: str
    checked: date
    url: str | None = None
    confidence: str | None = None
    note: str | None = None

    def __str__(self) -> str:
        return f"{self.law} {self.article} (checked {self.checked.isoformat()})"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    citations: tuple[Citation, ...]
    message_zh: str
    message_en: str
    channels: frozenset[Channel]
    roles: frozenset[Role]
    purposes: frozenset[Purpose]
    checks: tuple[Check, ...]
    document: Mapping[str, Any]
    source: str
    scope: frozenset[tuple[Channel, Role, Purpose]] = frozenset()
    """Every (channel, role, purpose) the rule applies to: one set lookup per attempt."""
    citation: str = ""
    """The citations as one line (set from ``citations``; every denial carries it)."""

    def __post_init__(self) -> None:
        scope = frozenset((c, r, p) for c in self.channels for r in self.roles for p in self.purposes)
        object.__setattr__(self, "scope", scope)
        object.__setattr__(self, "citation", "; ".join(str(c) for c in self.citations))

    @property
    def time_dependent(self) -> bool:
        return any(c.time_dependent for c in self.checks)

    def applies_to(self, attempt: Attempt) -> bool:
        return (attempt.channel, attempt.recipient.role, attempt.purpose) in self.scope


@dataclass(frozen=True, slots=True)
class Pack:
    name: str
    version: str
    title: str
    description: str
    rules: tuple[Rule, ...]
    source: str
    extends: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


_ALL_CHANNELS = [c.value for c in Channel]
_ALL_ROLES = [r.value for r in Role]
_ALL_PURPOSES = [p.value for p in Purpose]


def _citations(r: Reader) -> tuple[Citation, ...]:
    raw = r.raw("citation")
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise FieldError(r.at("citation"), "needs at least one source")
    out = []
    for i, item in enumerate(items):
        c = Reader(item, join(r.at("citation"), i) if isinstance(raw, list) else r.at("citation"))
        confidence = c.optional_string("confidence")
        if confidence is not None and confidence not in CONFIDENCE:
            raise FieldError(c.at("confidence"), f"expected one of {', '.join(CONFIDENCE)}, got {confidence!r}")
        out.append(
            Citation(
                law=c.string("law"),
                article=c.string("article"),
                checked=c.day("checked"),
                url=c.optional_string("url"),
                confidence=confidence,
                note=c.optional_string("note"),
            )
        )
        c.finish()
    return tuple(out)


def build_rule(document: Mapping[str, Any], source: str, screener: Screener) -> Rule:
    r = Reader(document, "")
    rule_id = r.string("id")
    if not RULE_ID.match(rule_id):
        raise PackError(source, "rule ids are upper case words joined by '-', like CN-TIME", rule=rule_id, field="id")
    try:
        title = r.string("title")
        citations = _citations(r)
        message_zh = r.string("message_zh")
        message_en = r.string("message_en")
        channels = r.enums("channels", Channel, _ALL_CHANNELS)
        roles = r.enums("roles", Role, _ALL_ROLES)
        purposes = r.enums("purposes", Purpose, _ALL_PURPOSES)
        for key, values in (("channels", channels), ("roles", roles), ("purposes", purposes)):
            if not values:
                raise FieldError(key, "is empty, so the rule would never apply; leave it out to mean all")
        raw_checks = r.sequence("checks")
        if not raw_checks:
            raise FieldError("checks", "needs at least one check")
        checks = tuple(build_check(c, join("checks", i), screener) for i, c in enumerate(raw_checks))
        r.finish()
    except FieldError as exc:
        raise PackError(source, exc.problem, rule=rule_id, field=exc.field) from None
    return Rule(rule_id, title, citations, message_zh, message_en, channels, roles, purposes, checks, document, source)


def build_pack(document: Mapping[str, Any], source: str, screener: Screener, base: Pack | None = None) -> Pack:
    """A pack from a parsed TOML document. ``base`` is the built pack named by ``extends``, if any."""
    try:
        top = Reader(document, "")
        top.raw("extends", None)
        meta = top.table("pack")
        name = meta.string("name")
        if not PACK_NAME.match(name):
            raise FieldError("pack.name", f"{name!r}: use lower case letters, digits, '-' or '_'")
        version = meta.string("version")
        title = meta.string("title")
        description = meta.optional_string("description") or ""
        meta.finish()
        raw_rules = top.sequence("rules", [])
        top.finish()
    except FieldError as exc:
        raise PackError(source, exc.problem, field=exc.field) from None
    if base is None and not raw_rules:
        raise PackError(source, "a pack needs at least one rule", field="rules")

    rules: list[Rule] = list(base.rules) if base else []
    index = {r.id: i for i, r in enumerate(rules)}
    own: set[str] = set()
    for i, raw in enumerate(raw_rules):
        if not isinstance(raw, Mapping):
            raise PackError(source, "expected a table", field=f"rules[{i}]")
        rule_id = raw.get("id")
        if not isinstance(rule_id, str):
            raise PackError(source, "every rule needs an id (a string)", field=f"rules[{i}].id")
        if rule_id in own:
            raise PackError(source, "the same id appears twice in this file", rule=rule_id, field="id")
        own.add(rule_id)
        if rule_id in index:
            merged = {**rules[index[rule_id]].document, **raw}
            rules[index[rule_id]] = build_rule(merged, source, screener)
        else:
            index[rule_id] = len(rules)
            rules.append(build_rule(raw, source, screener))
    return Pack(name, version, title, description, tuple(rules), source, base.label if base else None)
