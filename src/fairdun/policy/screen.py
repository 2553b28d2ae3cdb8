"""The content screen: lexicon patterns per category, over normalised text, with evidence spans.

The gate's content rules call :meth:`Screener.screen`. Lexicons are data (``fairdun/lexicon/*.toml``) loaded at
the edge and handed in, so compliance staff extend them without touching code and this module stays pure.

Normalisation makes evasions match: full-width forms become half-width (NFKC), letters lower-case, traditional
characters their simplified forms (from the lexicon's variant table), and spaces or punctuation wedged between
Chinese characters (``老 赖``, ``坐.牢``) disappear. Evidence spans always point into the *original* text.

Safe patterns keep lawful sentences with trigger words lawful: a finding inside a safe span is dropped. A safe
pattern's ``scope`` group, when it has one, is the part it makes safe (a negation cue's reach), and no safe span
reaches past the end of its clause in the original text. See docs/screening.md.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

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


_CJK_CLASS = "\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"  # what ``_is_cjk`` calls Chinese


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
    """Normalised text and the way back to the original: the text is a concatenation of pieces, each a contiguous
    run of the folded text (``starts[k]`` where piece ``k`` begins here, ``sources[k]`` where it was in the folded
    text), and ``base`` maps folded positions to original ones (a ``range`` when folding kept every character)."""

    text: str
    starts: tuple[int, ...]
    sources: tuple[int, ...]
    base: Sequence[int]

    def origin(self, i: int) -> int:
        """The index in the original text of normalised character ``i``."""
        k = bisect_right(self.starts, i) - 1
        return self.base[self.sources[k] + i - self.starts[k]]

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.origin(start), self.origin(end - 1) + 1


class Folder:
    """Per-character folding (NFKC, lower case, variants), learnt as characters are met and applied with
    ``str.translate``. Memoisation only: bounded, so odd input cannot grow it without end."""

    LIMIT = 65_536

    def __init__(self, variants: Mapping[str, str]) -> None:
        self.variants = variants
        self.table: dict[int, str] = _Lookup(self)  # for ``str.translate``; a character not met yet is folded
        self.multi: set[str] = set()  # characters that fold to more or fewer than one character
        self.separators: set[str] = set()  # folded characters that are separators
        self.known: set[str] = set()  # characters in the table
        # ASCII text folds by str.lower() alone unless a variant maps an ASCII character.
        self.plain_ascii = not any(k.isascii() for k in variants)
        self._runs: re.Pattern[str] | None = None
        self._runs_known = -1
        self._edits: tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]] | None = None
        self._edits_known = -1

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
        if not self.known.issuperset(text):  # the common case, a text of known characters, costs one C loop
            table = self.table
            for ch in set(text) - self.known:  # met before (by ``translate``) or not: in the table once folded
                self.fold(ch)
                if ord(ch) in table:
                    self.known.add(ch)
        return self.known.issuperset(text) and self.multi.isdisjoint(text)

    def separator_runs(self) -> re.Pattern[str]:
        """Runs of whitespace and of the separators learnt so far (recompiled only when a new one is learnt)."""
        if self._runs is None or self._runs_known != len(self.separators):
            chars = "".join(re.escape(c) for c in sorted(self.separators))
            self._runs = re.compile(f"[\\s{chars}]+")
            self._runs_known = len(self.separators)
        return self._runs

    def separator_edits(self) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
        """Expressions for what ``normalise`` does to separator runs (of the separators learnt so far): a run
        between two Chinese characters (neither itself a separator: a few symbols sit in the Chinese blocks);
        a run of whitespace alone at the start; a run of whitespace alone anywhere."""
        if self._edits is None or self._edits_known != len(self.separators):
            sep = "[\\s" + "".join(re.escape(c) for c in sorted(self.separators)) + "]"
            cjk = f"[{_CJK_CLASS}]"
            self._edits = (
                re.compile(f"(?<={cjk})(?<!{sep}){sep}+(?={cjk})(?!{sep})"),
                re.compile(f"\\A\\s+(?!{sep})"),
                re.compile(f"(?<!{sep})\\s+(?!{sep})"),
            )
            self._edits_known = len(self.separators)
        return self._edits


class _Lookup(dict[int, str]):
    """A folder's table: ``str.translate`` asks it for each character, and one not met yet comes here to be
    folded (and kept, within the folder's limit)."""

    def __init__(self, folder: Folder) -> None:
        super().__init__()
        self.folder = folder

    def __missing__(self, key: int) -> str:
        return self.folder.fold(chr(key))


_WHITESPACE = re.compile(r"\s")
# Whitespace that normalisation would change: leading, doubled, or other than a plain space.
_UNTIDY_SPACE = re.compile(r"^\s|\s\s|[^\S ]")


def normalise(text: str, variants: Mapping[str, str], folder: Folder | None = None) -> Normalised:
    folder = folder or Folder(variants)
    if folder.plain_ascii and text.isascii():
        # The common English case: lower case is the whole fold, and with tidy spaces nothing else changes.
        folded = text.lower()
        if not _UNTIDY_SPACE.search(folded):
            return Normalised(folded, (0,), (0,), range(len(text)))
    if folder.learn(text):
        folded = text.translate(folder.table)
        base: list[int] | range = range(len(text))
    else:
        parts: list[str] = []
        base = []
        for i, raw in enumerate(text):
            f = folder.fold(raw)
            parts.append(f)
            base.extend([i] * len(f))
        folded = "".join(parts)
    # Drop separator runs between two CJK characters; collapse whitespace runs to one space.
    n = len(folded)
    pieces: list[str] = []
    starts: list[int] = []
    sources: list[int] = []
    length = 0  # of the normalised text so far
    done = 0  # folded[:done] is handled
    for m in folder.separator_runs().finditer(folded):
        i, j = m.span()
        if i > done:
            starts.append(length)
            sources.append(done)
            pieces.append(folded[done:i])
            length += i - done
        if not (i > 0 and j < n and _is_cjk(folded[i - 1]) and _is_cjk(folded[j])):
            run = m.group()
            if not run.isspace():
                starts.append(length)
                sources.append(i)
                pieces.append(run)
                length += j - i
            elif i > 0:
                starts.append(length)
                sources.append(i)
                pieces.append(" ")
                length += 1
        done = j
    if not done:
        return Normalised(folded, (0,), (0,), base)
    if done < n:
        starts.append(length)
        sources.append(done)
        pieces.append(folded[done:])
    return Normalised("".join(pieces), tuple(starts), tuple(sources), base)


def normalise_text(text: str, variants: Mapping[str, str], folder: Folder | None = None) -> str:
    """``normalise(text, ...).text`` without the way back to the original, for a caller that only asks whether
    anything is found (:meth:`Screener.clean`): the same text at a third of the cost, by string methods and
    regular-expression substitutions only (no Python step per character or per separator run)."""
    folder = folder or Folder(variants)
    if folder.plain_ascii and text.isascii():
        folded = text.lower()
        if not _UNTIDY_SPACE.search(folded):
            return folded
    folded = text.translate(folder.table)  # folds a character met for the first time as it goes
    between, leading, spaces = folder.separator_edits()
    # As ``normalise`` treats each separator run: dropped between two Chinese characters; kept when it holds a
    # mark; one space for a run of whitespace, none at the start. (Runs between Chinese characters are dropped
    # whole, so the other two see the same runs as before.)
    folded = between.sub("", folded)
    if not _WHITESPACE.search(folded):  # most Chinese messages: nothing more to do
        return folded
    return spaces.sub(" ", leading.sub("", folded, count=1))


# Where a clause ends, in the original text: a safe phrase's reach stops there. A full stop or comma inside a
# number (3,000.50) is not a break.
_CLAUSE_BREAK = re.compile(r"[，。！？；：!?;:\n]|[.,](?!\d)")
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
    """One regular expression for many patterns, with a lookahead on the characters a match can start with
    when they are known: the regular-expression engine then skips other positions quickly (three to five times
    faster on the lexicons), and the matches are the same."""
    joined = "|".join(f"(?:{p})" for p in patterns)
    first = first_chars(joined)
    if first:
        joined = "(?=[" + "".join(re.escape(c) for c in sorted(first)) + "])(?:" + joined + ")"
    return re.compile(joined)


def first_chars(pattern: str) -> frozenset[str] | None:
    """The characters every match of ``pattern`` starts with, or None when that cannot be told (a match may be
    empty or start with ``.``, ``\\w``, a wide range, a negated class, ...). Read from the standard library's
    regular-expression parser; should its private interface change, this gives None and nothing is lost but
    speed."""
    try:
        parser: Any = importlib.import_module("re._parser")
        constants: Any = importlib.import_module("re._constants")
        found, nullable = _first(parser.parse(pattern).data, constants)
    except (ImportError, AttributeError, TypeError, ValueError, re.error):
        return None
    return None if found is None or nullable or not found else frozenset(found)


def _first(items: Any, c: Any) -> tuple[set[str] | None, bool]:
    """(first characters, whether the sequence can match empty) of a parsed sequence; None: unknown."""
    out: set[str] = set()
    for op, av in items:
        found, nullable = _first_op(op, av, c)
        if found is None:
            return None, False
        out |= found
        if not nullable:
            return out, False
    return out, True


def _first_op(op: Any, av: Any, c: Any) -> tuple[set[str] | None, bool]:
    if op is c.LITERAL:
        return {chr(av)}, False
    if op is c.IN:
        chars: set[str] = set()
        for o, a in av:
            if o is c.LITERAL:
                chars.add(chr(a))
            elif o is c.RANGE and a[1] - a[0] <= 256:
                chars.update(chr(x) for x in range(a[0], a[1] + 1))
            else:  # a negated class, a category such as \\d, a wide range
                return None, False
        return chars, False
    if op is c.BRANCH:
        chars = set()
        nullable = False
        for alternative in av[1]:
            found, empty = _first(alternative.data, c)
            if found is None:
                return None, False
            chars |= found
            nullable = nullable or empty
        return chars, nullable
    if op is c.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags or del_flags:  # (?i:...) and the like change what a literal matches
            return None, False
        return _first(sub.data, c)
    if op in (c.MAX_REPEAT, c.MIN_REPEAT) or op is getattr(c, "POSSESSIVE_REPEAT", None):
        low, _high, sub = av
        found, empty = _first(sub.data, c)
        return found, empty or low == 0
    if op is c.AT or op is c.ASSERT or op is c.ASSERT_NOT:  # zero width: the next item decides
        return set(), True
    return None, False


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
            group = safe_groups.setdefault(script_of(pattern), [])
            # Each pattern's `scope` group gets its own name so the patterns can share one alternation.
            group.append(pattern.replace("(?P<scope>", f"(?P<scope{len(group)}>"))
        self._safe = {script: _alternation(patterns) for script, patterns in safe_groups.items()}
        self._scopes = {
            script: tuple(n for n in regex.groupindex if n.startswith("scope")) for script, regex in self._safe.items()
        }
        # Per (role, categories) asked of ``clean``: the expressions that apply, by script.
        self._applying: dict[tuple[Role | None, frozenset[str] | None], dict[str, list[re.Pattern[str]]]] = {}

    def expressions(self) -> list[tuple[str, str, re.Pattern[str]]]:
        """(script, category or ``safe``, compiled expression): what the screen runs, for diagnostics and tests."""
        out = [(script, category, regex) for script, items in self._compiled.items() for category, _r, regex in items]
        out.extend((script, "safe", regex) for script, regex in self._safe.items())
        return out

    def clean(self, text: str, role: Role | None = None, categories: Iterable[str] | None = None) -> bool:
        """True when :meth:`screen` surely finds nothing (of ``categories``, default every one) in ``text``: no
        pattern that applies matches anywhere it would run. False means it may find something (a match a safe
        phrase would excuse included): ask :meth:`screen`. The test for the common clean message, with the same
        expressions over the same text, but without the way back to the original nor evidence spans."""
        applying = self._applying_to(role, categories)
        for script, segments in self._segments(normalise_text(text, self.variants, self._folder)).items():
            for regex in applying.get(script, ()) if segments else ():
                for _, segment in segments:
                    if regex.search(segment):
                        return False
        return True

    def finds(self, text: str, role: Role | None = None, categories: Iterable[str] | None = None) -> bool:
        """Whether :meth:`screen` finds anything of ``categories`` (default every one) in ``text``: its answer,
        worked out as :meth:`clean` works, and through :meth:`screen` itself only where a safe phrase matches in
        the same stretch of text as a finding (only then can the evidence spans change the answer)."""
        applying = self._applying_to(role, categories)
        for script, segments in self._segments(normalise_text(text, self.variants, self._folder)).items():
            safe = self._safe.get(script)
            for _, segment in segments:
                if any(m.end() > m.start() for regex in applying.get(script, ()) for m in regex.finditer(segment)):
                    if safe is None or safe.search(segment) is None:
                        return True  # a finding no safe span can reach: ``screen`` keeps it
                    wanted = None if categories is None else frozenset(categories)
                    return any(wanted is None or f.category in wanted for f in self.screen(text, role))
        return False

    def _applying_to(self, role: Role | None, categories: Iterable[str] | None) -> dict[str, list[re.Pattern[str]]]:
        """The expressions that apply to ``role`` and ``categories``, by script (kept per pair asked)."""
        key = (role, None if categories is None else frozenset(categories))
        applying = self._applying.get(key)
        if applying is None:
            applying = self._applying[key] = {
                script: [
                    regex
                    for category, roles, regex in items
                    if (key[1] is None or category in key[1])
                    and (roles is None or (role is not None and role in roles))
                ]
                for script, items in self._compiled.items()
            }
        return applying

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
            scopes = self._scopes.get(script, ())
            for offset, segment in segments:
                found: list[Finding] = []
                for category, roles, regex in compiled:
                    if roles is not None and (role is None or role not in roles):
                        continue
                    for m in regex.finditer(segment):
                        s, e = m.span()
                        if s == e:
                            continue
                        start, end = norm.span(s + offset, e + offset)
                        found.append(Finding(category, start, end, text[start:end]))
                if found and safe:  # safe phrases are looked for only where there is something to excuse
                    spans = self._safe_spans(text, norm, safe=safe, scopes=scopes, segment=segment, offset=offset)
                    found = [f for f in found if not any(a <= f.start and f.end <= b for a, b in spans)]
                findings.extend(found)
        findings.sort(key=lambda f: (f.start, f.category))
        return tuple(findings)

    @staticmethod
    def _safe_spans(
        text: str,
        norm: Normalised,
        *,
        safe: re.Pattern[str],
        scopes: tuple[str, ...],
        segment: str,
        offset: int,
    ) -> list[tuple[int, int]]:
        """Spans of the original text that safe patterns make safe: the ``scope`` group when the pattern has one
        (a negation cue's reach: ``不会`` in ``我们不会联系您的家人``), else the whole match; never past the end of
        the clause it starts in (``我们不会上门，但会通知你的家人`` keeps its second clause)."""
        spans = []
        for m in safe.finditer(segment):
            s, e = m.span()
            for name in scopes:
                if m.start(name) >= 0:
                    s, e = m.span(name)
                    break
            if s == e:
                continue
            a, b = norm.span(s + offset, e + offset)
            brk = _CLAUSE_BREAK.search(text, a, b)
            spans.append((a, brk.start() if brk else b))
        return spans
