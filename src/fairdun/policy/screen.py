"""A first content screen: lexicon patterns per category, over normalised text, with evidence spans.

The gate's content rules call :meth:`Screener.screen`. Lexicons are data (``fairdun/lexicon/*.toml``) loaded at
the edge and handed in, so compliance staff extend them without touching code and this module stays pure.

Normalisation makes evasions match: full-width forms become half-width (NFKC), letters lower-case, traditional
characters their simplified forms (from the lexicon's variant table), and spaces or punctuation wedged between
Chinese characters (``老 赖``, ``坐.牢``) disappear. Evidence spans always point into the *original* text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from fairdun.domain.contact import Role

CATEGORIES: tuple[str, ...] = (
    "threat",
    "insult",
    "impersonation",
    "false_consequence",
    "third_party_disclosure",
    "exposure_threat",
    "new_borrowing",
    "illegal_fee",
    "legal_action",
)
"""Violation categories (names are part of the interface). ``legal_action`` is not a violation by itself: a
lender may sue; it only matters where suit is barred (a time-barred debt under ``us``)."""


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """One pattern. ``roles`` limits it to messages for those recipient roles (None: every role)."""

    category: str
    pattern: str
    note: str = ""
    source: str = ""
    roles: frozenset[Role] | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    category: str
    start: int
    end: int
    text: str
    origin: str = "lexicon"


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FA1F


@lru_cache(maxsize=4096)
def _is_separator(ch: str) -> bool:
    if ch.isspace():
        return True
    cat = unicodedata.category(ch)
    return cat.startswith("P") or cat.startswith("S") or cat == "Cf"


@dataclass(frozen=True, slots=True)
class Normalised:
    text: str
    origin: tuple[int, ...]
    """``origin[i]`` is the index in the original text of normalised character ``i``."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.origin[start], self.origin[end - 1] + 1


def _fold(ch: str, table: dict[str, str], variants: Mapping[str, str]) -> str:
    folded = table.get(ch)
    if folded is None:
        folded = "".join(variants.get(c, c) for c in unicodedata.normalize("NFKC", ch).lower())
        if len(table) < 65_536:  # memoisation only; bounded so odd input cannot grow it without end
            table[ch] = folded
    return folded


def normalise(text: str, variants: Mapping[str, str], table: dict[str, str] | None = None) -> Normalised:
    table = {} if table is None else table
    chars: list[str] = []
    origin: list[int] = []
    for i, raw in enumerate(text):
        folded = table.get(raw)
        if folded is None:
            folded = _fold(raw, table, variants)
        if len(folded) == 1:
            chars.append(folded)
            origin.append(i)
        else:
            for ch in folded:
                chars.append(ch)
                origin.append(i)
    # Drop separators between two CJK characters; collapse other runs of whitespace to one space.
    out: list[str] = []
    out_origin: list[int] = []
    n = len(chars)
    i = 0
    while i < n:
        ch = chars[i]
        if _is_separator(ch):
            j = i
            while j < n and _is_separator(chars[j]):
                j += 1
            prev = out[-1] if out else ""
            nxt = chars[j] if j < n else ""
            if prev and nxt and _is_cjk(prev) and _is_cjk(nxt):
                i = j
                continue
            run = chars[i:j]
            if all(c.isspace() for c in run):
                if out and out[-1] != " ":
                    out.append(" ")
                    out_origin.append(origin[i])
            else:
                out.extend(run)
                out_origin.extend(origin[i:j])
            i = j
            continue
        out.append(ch)
        out_origin.append(origin[i])
        i += 1
    return Normalised("".join(out), tuple(out_origin))


class Screener:
    """Finds violations by category in a message, given the recipient's role."""

    def __init__(
        self,
        entries: Iterable[LexiconEntry],
        safe_patterns: Iterable[str] = (),
        variants: Mapping[str, str] | None = None,
    ) -> None:
        self.entries = tuple(entries)
        self.variants: dict[str, str] = dict(variants or {})
        self._fold: dict[str, str] = {}
        groups: dict[tuple[str, frozenset[Role] | None], list[str]] = {}
        for entry in self.entries:
            groups.setdefault((entry.category, entry.roles), []).append(entry.pattern)
        self._compiled = tuple(
            (category, roles, re.compile("|".join(f"(?:{p})" for p in patterns)))
            for (category, roles), patterns in groups.items()
        )
        safe = tuple(safe_patterns)
        self._safe = re.compile("|".join(f"(?:{p})" for p in safe)) if safe else None

    def screen(self, text: str, role: Role | None = None) -> tuple[Finding, ...]:
        norm = normalise(text, self.variants, self._fold)
        safe_spans = [m.span() for m in self._safe.finditer(norm.text)] if self._safe else []
        findings: list[Finding] = []
        for category, roles, regex in self._compiled:
            if roles is not None and (role is None or role not in roles):
                continue
            for m in regex.finditer(norm.text):
                s, e = m.span()
                if s == e or any(a <= s and e <= b for a, b in safe_spans):
                    continue
                start, end = norm.span(s, e)
                findings.append(Finding(category, start, end, text[start:end]))
        findings.sort(key=lambda f: (f.start, f.category))
        return tuple(findings)
