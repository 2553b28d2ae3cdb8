"""Stop keywords as properties: any spelling of a keyword that differs only in width, case, spaces or trailing
punctuation stops; a text that does not normalise to a keyword (or begin with one before punctuation) does not."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from fairdun.application.consent import STOP_KEYWORDS, normalize_text, stop_keyword

_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, str]:
    keyword = draw(st.sampled_from(STOP_KEYWORDS))
    chars = []
    for original in keyword:
        ch = original.lower() if draw(st.booleans()) else original
        chars.append(_FULL_WIDTH.get(ch, ch) if draw(st.booleans()) else ch)
    padding = draw(st.sampled_from(["", " ", "\u3000", "  "]))
    ending = draw(st.sampled_from(["", "!", "。", "！", "~", ".."]))
    return keyword, padding + "".join(chars) + padding + ending


@given(spellings())
def test_every_spelling_of_a_keyword_stops(case: tuple[str, str]) -> None:
    keyword, text = case
    assert stop_keyword(text) == keyword


@given(st.text(min_size=0, max_size=12))
def test_a_text_stops_only_if_it_normalises_to_a_keyword_or_begins_with_one(text: str) -> None:
    found = stop_keyword(text)
    words = {normalize_text(k): k for k in STOP_KEYWORDS}
    if normalize_text(text) in words:
        assert found is not None
    elif found is not None:
        first = unicodedata.normalize("NFKC", text).upper().split()[0] if text.split() else ""
        assert normalize_text(first).startswith(normalize_text(found))
