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


class Folder:
    """Per-character folding (NFKC, lower case, variants), learnt as characters are met and applied with
    ``str.translate``. Memoisation only: bounded, so odd input cannot grow it without end."""

    LIMIT = 65_536

    def __init__(self, variants: Mapping[str, str]) -> None:
        self.variants = variants
        self.table: dict[int, str] = {}
        self.multi: set[str] = set()  # characters that fold to more or fewer than one character
        self.separators: set[str] = set()  # folded characters that are separators

    def fold(self, ch: str) -> str:
        folded = self.table.get(ord(ch))
        if folded is None:
            folded = "".join(self.variants.get(c, c) for c in unicodedata.normalize("NFKC", ch).lower())
            if len(self.table) < self.LIMIT:
                self.table[ord(ch)] = folded
                if len(folded) != 1:
                    self.multi.add(ch)
                self.separators.update(c for c in folded if _is_separator(c))
        return folded

    def learn(self, text: str) -> bool:
        """Learn the text's characters; True when every one is known and folds to exactly one."""
        table = self.table
        unknown = [ch for ch in set(text) if ord(ch) not in table]
        for ch in unknown:
            self.fold(ch)
        return len(table) < self.LIMIT and self.multi.isdisjoint(text)


def normalise(text: str, variants: Mapping[str, str], folder: Folder | None = None) -> Normalised:
    folder = folder or Folder(variants)
    if folder.learn(text):
        folded = text.translate(folder.table)
        base: list[int] | range = range(len(text))
    else:
        pieces: list[str] = []
        base = []
        for i, raw in enumerate(text):
            f = folder.fold(raw)
            pieces.append(f)
            base.extend([i] * len(f))
        folded = "".join(pieces)
    seps = folder.separators
    positions = [i for i, c in enumerate(folded) if c in seps or (c.isspace())]
    if not positions:
        return Normalised(folded, tuple(base))
    # Drop separator runs between two CJK characters; collapse whitespace runs to one space.
    n = len(folded)
    out: list[str] = []
    origin: list[int] = []
    done = 0  # folded[:done] is handled
    k = 0
    while k < len(positions):
        i = positions[k]
        j = i + 1
        k += 1
        while k < len(positions) and positions[k] == j:
            j += 1
            k += 1
        out.append(folded[done:i])
        origin.extend(base[done:i])
        prev = folded[i - 1] if i > 0 else ""
        nxt = folded[j] if j < n else ""
        run = folded[i:j]
        if not (prev and nxt and _is_cjk(prev) and _is_cjk(nxt)):
            if run.isspace():
                if i > 0:
                    out.append(" ")
                    origin.append(base[i])
            else:
                out.append(run)
                origin.extend(base[i:j])
        done = j
    out.append(folded[done:])
    origin.extend(base[done:])
    return Normalised("".join(out), tuple(origin))


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
        self._folder = Folder(self.variants)
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
        norm = normalise(text, self.variants, self._folder)
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
