"""The labelled corpus: its shape, and the screener's targets on both splits (a regression fails here).

Targets (issue 5): recall on violations >= 0.95, false-positive rate on lawful messages <= 3 %, the right
category (every category the reviewers gave) for >= 90 % of violations. ``dev`` is the split the lexicons were
tuned on; ``holdout`` was written at the same time and is only measured (tests/screen/corpus/README.md).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from fairdun.application.screening import (
    VIOLATIONS,
    Evaluation,
    LabelledMessage,
    ScreeningService,
    evaluate,
    parse_labelled,
)
from fairdun.config.packs import load_screener
from fairdun.domain.contact import Role

CORPUS = Path(__file__).parent / "corpus"
SPLITS = ("dev", "holdout")
CJK = re.compile("[\u4e00-\u9fff]")


def load(split: str) -> list[LabelledMessage]:
    lines = (CORPUS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    return [parse_labelled(json.loads(line)) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def service() -> ScreeningService:
    return ScreeningService(load_screener())


@pytest.fixture(scope="module")
def results(service: ScreeningService) -> dict[str, Evaluation]:
    return {split: evaluate(service, load(split)) for split in SPLITS}


def test_the_corpus_has_300_messages_a_third_lawful_both_languages_and_every_category_in_each_split() -> None:
    everything = [m for split in SPLITS for m in load(split)]
    assert len(everything) >= 300
    assert sum(not m.labels for m in everything) >= len(everything) / 3
    assert len({m.text for m in everything}) == len(everything), "a message appears twice"
    for split in SPLITS:
        items = load(split)
        counts = Counter(label for m in items for label in m.labels)
        assert set(counts) == set(VIOLATIONS), f"{split}: missing {set(VIOLATIONS) - set(counts)}"
        assert any(CJK.search(m.text) for m in items)
        assert any(not CJK.search(m.text) for m in items)


def test_the_corpus_has_evasions_and_lawful_messages_for_every_recipient_role() -> None:
    everything = [m for split in SPLITS for m in load(split)]
    texts = [m.text for m in everything]
    assert any("還" in t or "讓" in t for t in texts), "traditional characters"
    assert any(re.search("[\uff01-\uff5e]", t) for t in texts), "full-width forms"
    assert any(re.search(r"[\u4e00-\u9fff][ .\-，]+[\u4e00-\u9fff]", t) for t in texts), "split characters"
    lawful_roles = {m.role for m in everything if not m.labels}
    assert lawful_roles >= {Role.DEBTOR, Role.CO_BORROWER, Role.GUARANTOR, Role.CONTACT, Role.THIRD_PARTY}


def test_phone_numbers_and_e_mail_addresses_in_the_corpus_are_from_test_ranges() -> None:
    for m in (m for split in SPLITS for m in load(split)):
        for phone in re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", m.text):
            assert phone.startswith("1380000"), m.text
        for phone in re.findall(r"(?<!\d)\d{3}-\d{4}(?!\d)", m.text):
            assert phone.startswith("555-01"), m.text
        for address in re.findall(r"[\w.]+@\w+(?:\.\w+)+", m.text):
            assert address.endswith("@example.com"), m.text


@pytest.mark.parametrize("split", SPLITS)
def test_the_screener_meets_the_targets_on_the_corpus(results: dict[str, Evaluation], split: str) -> None:
    result = results[split]
    misses = "\n".join(f"{sorted(m.labels)} -> {list(m.found)}: {m.text}" for m in result.misses)
    assert (result.recall or 0.0) >= 0.95, misses
    assert (result.false_positive_rate or 0.0) <= 0.03, misses
    assert (result.category_accuracy or 0.0) >= 0.90, misses


@pytest.mark.parametrize("split", SPLITS)
def test_every_category_is_found_in_most_of_its_messages(results: dict[str, Evaluation], split: str) -> None:
    weak = {s.category: s.recall for s in results[split].per_category if s.recall is None or s.recall < 0.85}
    assert weak == {}


def test_third_party_disclosure_depends_on_the_recipient(service: ScreeningService) -> None:
    text = "您好，王小芳的借款已逾期，欠款3,000元。"
    for role in (Role.DEBTOR, Role.CO_BORROWER, Role.GUARANTOR):
        assert service.screen(text, role).verdict == "ok", role
    for role in (Role.CONTACT, Role.THIRD_PARTY):
        assert service.screen(text, role).categories == ("third_party_disclosure",), role
