"""Evasions do not change what the screen finds: spaces wedged between Chinese characters and full-width letters
and digits give the same categories, with evidence spans that still point into the text as written."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from fairdun.application.screening import LabelledMessage, parse_labelled
from fairdun.config.packs import load_screener

SCREENER = load_screener()
CORPUS = [
    parse_labelled(json.loads(line))
    for split in ("dev", "holdout")
    for line in (Path(__file__).parent / "corpus" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
]


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@st.composite
def disguised(draw: st.DrawFn) -> tuple[LabelledMessage, str]:
    message = draw(st.sampled_from(CORPUS))
    out = []
    for i, ch in enumerate(message.text):
        wide = ch.isascii() and ch.isalnum() and draw(st.booleans())
        out.append(chr(ord(ch) + 0xFEE0) if wide else ch)  # the full-width form
        nxt = message.text[i + 1] if i + 1 < len(message.text) else ""
        if is_cjk(ch) and is_cjk(nxt):
            out.append(draw(st.sampled_from(["", "", "", " ", "  ", "\u3000"])))
    return message, "".join(out)


@settings(max_examples=300)
@given(disguised())
def test_spaces_and_full_width_forms_change_neither_categories_nor_evidence(case: tuple[LabelledMessage, str]) -> None:
    message, text = case
    plain = {f.category for f in SCREENER.screen(message.text, message.role)}
    findings = SCREENER.screen(text, message.role)
    assert {f.category for f in findings} == plain
    for f in findings:
        assert text[f.start : f.end] == f.text
        assert f.text.strip() == f.text  # a span starts and ends on a character of the evidence
