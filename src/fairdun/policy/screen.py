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


_CJK_CHARS = "\u3400-\u9fff\uf900-\ufaff"
_CYRILLIC_CHARS = "\u0400-\u04ff"
_HAS_CJK = re.compile(f"[{_CJK_CHARS}]")
_HAS_CYRILLIC = re.compile(f"[{_CYRILLIC_CHARS}]")
_HAS_LATIN = re.compile("[a-z]")
# Segments a script's patterns read: runs of text free of the other scripts' letters.
_SEGMENTS = {
    "latin": (re.compile(f"[^{_CJK_CHARS}{_CYRILLIC_CHARS}]+"), _HAS_LATIN),
    "cyrillic": (re.compile(f"[^{_CJK_CHARS}a-z]+"), _HAS_CYRILLIC),
}


def script_of(pattern: str) -> str:
    """The script a pattern is written in: ``cjk`` if it holds a Chinese character, ``cyrillic`` if it holds a
    Cyrillic letter, else ``latin``."""
    if _HAS_CJK.search(pattern):
        return "cjk"
    if _HAS_CYRILLIC.search(pattern):
        return "cyrillic"
    return "latin"


def _alternation(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


class Screener:
    """Finds violations by category in a message, given the recipient's role.

    Each pattern runs only where its script appears: Chinese patterns over the whole text when it holds Chinese,
    English ones over the runs of text without Chinese or Cyrillic letters, Russian ones likewise. A Chinese SMS
    with one English word ("App") then costs the English patterns three characters, not the whole message, and
    word boundaries (``\\b``) fall where a Latin word meets Chinese text.
    """

    def __init__(
        self,
        entries: Iterable[LexiconEntry],
        safe_patterns: Iterable[str] = (),
        variants: Mapping[str, str] | None = None,
    ) -> None:
        self.entries = tuple(entries)
        self.variants: dict[str, str] = dict(variants or {})
        self._folder = Folder(self.variants)
        groups: dict[tuple[str, str, frozenset[Role] | None], list[str]] = {}
        for entry in self.entries:
            groups.setdefault((script_of(entry.pattern), entry.category, entry.roles), []).append(entry.pattern)
        self._compiled: dict[str, list[tuple[str, frozenset[Role] | None, re.Pattern[str]]]] = {}
        for (script, category, roles), patterns in groups.items():
            self._compiled.setdefault(script, []).append((category, roles, _alternation(patterns)))
        safe_groups: dict[str, list[str]] = {}
        for pattern in safe_patterns:
            safe_groups.setdefault(script_of(pattern), []).append(pattern)
        self._safe = {script: _alternation(patterns) for script, patterns in safe_groups.items()}

    def _segments(self, text: str) -> dict[str, list[tuple[int, str]]]:
        out: dict[str, list[tuple[int, str]]] = {"cjk": [(0, text)] if _HAS_CJK.search(text) else []}
        for script, (runs, letters) in _SEGMENTS.items():
            if not letters.search(text):
                out[script] = []
            elif runs.fullmatch(text):
                out[script] = [(0, text)]
            else:
                out[script] = [(m.start(), m.group()) for m in runs.finditer(text) if letters.search(m.group())]
        return out

    def screen(self, text: str, role: Role | None = None) -> tuple[Finding, ...]:
        norm = normalise(text, self.variants, self._folder)
        findings: list[Finding] = []
        for script, segments in self._segments(norm.text).items():
            compiled = self._compiled.get(script)
            if not segments or not compiled:
                continue
            safe = self._safe.get(script)
            for offset, segment in segments:
                safe_spans = [m.span() for m in safe.finditer(segment)] if safe else []
                for category, roles, regex in compiled:
                    if roles is not None and (role is None or role not in roles):
                        continue
                    for m in regex.finditer(segment):
                        s, e = m.span()
                        if s == e or any(a <= s and e <= b for a, b in safe_spans):
                            continue
                        start, end = norm.span(s + offset, e + offset)
                        findings.append(Finding(category, start, end, text[start:end]))
        findings.sort(key=lambda f: (f.start, f.category))
        return tuple(findings)
