"""The lexicons as data: every entry says where it comes from, every safe phrase why it is safe, and every
expression the screen builds keeps the fast path (a known set of first characters)."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from fairdun.config.packs import load_screener
from fairdun.domain.contact import Role
from fairdun.policy.screen import first_chars

LEXICONS = ("zh.toml", "en.toml", "ru.toml")


def lexicon(name: str) -> dict[str, object]:
    return tomllib.loads(resources.files("fairdun").joinpath("lexicon", name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", LEXICONS)
def test_every_entry_cites_a_source_and_every_safe_phrase_says_why(name: str) -> None:
    doc = lexicon(name)
    entries = doc["entry"]
    assert isinstance(entries, list)
    assert [e["pattern"][:30] for e in entries if not e.get("source")] == []
    safe = doc.get("safe", [])
    assert isinstance(safe, list)
    assert [s["pattern"][:30] for s in safe if not s.get("note")] == []


def test_the_zh_and_en_expressions_all_have_a_known_first_character_set() -> None:
    # Without one, the regular-expression engine tries every position: the screen gets three to five times slower
    # (bench/screen.py). An entry starting with ., \w, \d or an optional part loses it for its whole category.
    expressions = [(s, c, r) for s, c, r in load_screener().expressions() if s in ("cjk", "latin")]
    assert {c for _s, c, _r in expressions} >= {"threat", "third_party_disclosure", "safe"}
    slow = [(s, c) for s, c, r in expressions if not r.pattern.startswith("(?=[")]
    assert slow == []
    assert all(first_chars(r.pattern) is not None for _s, _c, r in expressions)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("你就是个 lao lai", {"insult"}), ("sha bi，快还钱", {"insult"}), ("Laolai!", {"insult"}), ("Lao Wang", set())],
)
def test_pinyin_spellings_of_the_commonest_slurs_are_insults(text: str, expected: set[str]) -> None:
    assert {f.category for f in load_screener().screen(text, Role.DEBTOR)} == expected
