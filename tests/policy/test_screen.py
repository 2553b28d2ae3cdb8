"""The first content screen: categories, evidence spans in the original text, normalisation, safe phrases."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairdun.config.packs import load_screener
from fairdun.domain.contact import Role
from fairdun.policy.screen import Folder, LexiconEntry, Screener, first_chars, normalise, normalise_text

SCREENER = load_screener()


def categories(text: str, role: Role = Role.DEBTOR) -> set[str]:
    return {f.category for f in SCREENER.screen(text, role)}


def test_evidence_spans_point_into_the_original_text_even_after_normalisation() -> None:
    text = "你这个老 ， 赖！"
    [finding] = [f for f in SCREENER.screen(text, Role.DEBTOR) if f.category == "insult"]
    assert text[finding.start : finding.end] == finding.text == "老 ， 赖"


def test_full_width_letters_become_half_width_and_lower_case() -> None:
    assert normalise("ＡＢＣ１２３", {}).text == "abc123"


def test_spaces_between_latin_words_are_kept_but_collapsed() -> None:
    assert normalise("we   know  where", {}).text == "we know where"


@pytest.mark.parametrize(
    ("text", "role", "expected"),
    [
        ("再不还钱，小心你家人的安全", Role.DEBTOR, {"threat"}),
        ("你就是个老赖", Role.DEBTOR, {"insult"}),
        ("这里是公安局经侦大队", Role.DEBTOR, {"impersonation"}),
        ("逮捕令已经下发", Role.DEBTOR, {"impersonation"}),
        ("不还就让你坐牢", Role.DEBTOR, {"false_consequence"}),
        ("全网通缉你", Role.DEBTOR, {"false_consequence"}),
        ("明天就爆你通讯录", Role.DEBTOR, {"exposure_threat"}),
        ("去别的平台借钱先还我们", Role.DEBTOR, {"new_borrowing"}),
        ("转到我个人账户就行", Role.DEBTOR, {"illegal_fee"}),
        ("他欠我们3000元", Role.CONTACT, {"third_party_disclosure"}),
        ("他欠我们3000元", Role.DEBTOR, set()),
        ("You will be arrested today.", Role.DEBTOR, {"false_consequence"}),
        ("This is Officer Smith from the sheriff's office.", Role.DEBTOR, {"impersonation"}),
        ("Pay up, deadbeat.", Role.DEBTOR, {"insult"}),
        ("We will tell your employer.", Role.DEBTOR, {"exposure_threat"}),
        ("Sam owes $5,000.", Role.THIRD_PARTY, {"third_party_disclosure"}),
        ("We will not contact your employer.", Role.DEBTOR, set()),
        ("我们不会联系您的通讯录联系人", Role.DEBTOR, set()),
        ("如遇暴力催收请拨打110", Role.DEBTOR, set()),
        ("逾期记录将依法报送至人民银行征信系统", Role.DEBTOR, set()),
    ],
)
def test_categories(text: str, role: Role, expected: set[str]) -> None:
    assert categories(text, role) - {"legal_action"} == expected


def test_an_entry_limited_to_roles_is_skipped_for_other_roles_and_for_an_unknown_role() -> None:
    screener = Screener([LexiconEntry("third_party_disclosure", "debt", roles=frozenset({Role.CONTACT}))])
    assert [f.category for f in screener.screen("a debt", Role.CONTACT)] == ["third_party_disclosure"]
    assert screener.screen("a debt", Role.DEBTOR) == ()
    assert screener.screen("a debt", None) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我们不会联系您的家人。", set()),
        ("我们不会上门，也不会联系您的单位。", set()),
        ("我们不会上门，但会通知你的家人和同事。", {"exposure_threat"}),
        ("我们不会只打你的电话，还会打给你所有联系人。", {"exposure_threat"}),
        ("我们绝不会放过你。", {"threat"}),
        ("真不要脸，欠钱还不接电话。", {"insult"}),
        ("冒充公检法的电话都是诈骗，请勿相信。", set()),
        ("We will not contact your employer.", set()),
        ("We won't hesitate to tell your employer.", {"exposure_threat"}),
        ("If you do not pay we will tell your employer.", {"exposure_threat"}),
        ("If the balance is not paid by Friday you will be arrested.", {"false_consequence"}),
        ("If anyone claims to be a police officer collecting this debt, it is a scam.", set()),
    ],
)
def test_a_negation_or_warning_makes_only_its_own_short_scope_lawful(text: str, expected: set[str]) -> None:
    assert categories(text) - {"legal_action"} == expected


def test_a_safe_scope_group_covers_only_what_follows_the_cue_and_stops_at_the_clause_end() -> None:
    screener = Screener(
        [LexiconEntry("threat", "hurt")],
        safe_patterns=["never(?=(?P<scope>.{0,30}))", "nope(?=(?P<scope>.{0,30}))"],
    )
    assert screener.screen("we never hurt anyone", Role.DEBTOR) == ()
    assert screener.screen("nope hurt", Role.DEBTOR) == ()
    assert [f.text for f in screener.screen("we never call, we hurt", Role.DEBTOR)] == ["hurt"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("abc|d", frozenset("ad")),
        ("(?:x|y)?z", frozenset("xyz")),
        (r"\bfoo", frozenset("f")),
        ("(?<!a)[0-9]b", frozenset("0123456789")),
        (r"\d+元", None),
        (".x", None),
        ("a?", None),
        ("(?i:a)b", None),
    ],
)
def test_first_chars_are_known_only_when_every_match_must_start_with_one_of_them(
    pattern: str, expected: frozenset[str] | None
) -> None:
    assert first_chars(pattern) == expected


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(list("ab AB,.!\t\n  -")), max_size=20))
def test_the_ascii_shortcut_normalises_exactly_as_the_general_path(text: str) -> None:
    fast = normalise(text, {})
    slow_folder = Folder({"\u00e9": "e"})  # a non-CJK variant key is not ASCII: the shortcut stays on
    assert slow_folder.plain_ascii
    general = Folder({"a": "a"})  # an ASCII variant turns the shortcut off
    assert not general.plain_ascii
    slow = normalise(text, {"a": "a"}, general)
    assert fast.text == slow.text
    assert [fast.origin(i) for i in range(len(fast.text))] == [slow.origin(i) for i in range(len(slow.text))]


def test_evidence_spans_are_right_when_a_character_folds_to_two() -> None:
    text = "ﬁ ﬁ你这个老 赖ﬀ，ﬁ Pay up, deadbeat."  # ligatures: NFKC folds each to two letters
    spans = {(f.category, f.text) for f in SCREENER.screen(text, Role.DEBTOR)}
    assert spans == {("insult", "老 赖"), ("insult", "deadbeat")}
    for f in SCREENER.screen(text, Role.DEBTOR):
        assert text[f.start : f.end] == f.text


# ``clean`` and ``normalise_text``: the screen's shortcut for a message with nothing to find (the audit asks it
# first of every distinct message) must never call a message clean that ``screen`` finds something in.

CORPUS_DIR = Path(__file__).resolve().parents[1] / "screen" / "corpus"
MESSAGES = [
    json.loads(line)["text"]
    for split in ("dev", "holdout")
    for line in (CORPUS_DIR / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]
# Characters normalisation treats differently: Chinese (one a separator: a hexagram), full-width and ideographic
# spaces, marks, ligatures and circled forms that fold to several characters, a zero-width space, a traditional
# form, an astral Chinese character, Latin and Cyrillic letters.
AWKWARD = [
    *"老赖你好還錢欠款ＡＢａｂ０９　 \t\n,.，。！？（）()-_·•abcZ09дол",
    "䷀",
    "㈱",
    "ﬁ",
    "\u200b",
    "\u00a0",
    "\U00020001",
]
RAW = Screener(SCREENER.entries, (), SCREENER.variants)  # the same patterns, no safe phrase to excuse a match


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from(AWKWARD), max_size=24))
def test_the_text_alone_is_normalised_as_with_its_way_back(text: str) -> None:
    assert normalise_text(text, SCREENER.variants) == normalise(text, SCREENER.variants).text


def found(screener: Screener, text: str, role: Role | None, categories: frozenset[str] | None) -> bool:
    return any(categories is None or f.category in categories for f in screener.screen(text, role))


@pytest.mark.parametrize("categories", [None, frozenset({"threat", "insult"}), frozenset({"legal_action"})])
def test_clean_is_exactly_no_pattern_matching_over_the_corpus(categories: frozenset[str] | None) -> None:
    called_clean = 0
    for text in MESSAGES:
        for role in (None, *Role):
            clean = SCREENER.clean(text, role, categories)
            assert clean == (not found(RAW, text, role, categories)), (text, role)
            assert not (clean and found(SCREENER, text, role, categories)), (text, role)
            called_clean += clean
            assert SCREENER.finds(text, role, categories) == found(SCREENER, text, role, categories), (text, role)
    assert called_clean > len(MESSAGES)  # it does tell clean messages, for some role at least


@settings(max_examples=300)
@given(
    st.lists(st.sampled_from(MESSAGES), min_size=1, max_size=3),
    st.lists(st.sampled_from(AWKWARD), max_size=6),
    st.randoms(use_true_random=False),
    st.sampled_from([None, *Role]),
)
def test_clean_never_hides_a_finding_in_mixed_and_disguised_text(
    pieces: list[str], noise: list[str], rng: random.Random, role: Role | None
) -> None:
    text = list("".join(pieces))
    for ch in noise:  # wedged in anywhere: between Chinese characters, inside words, at either end
        text.insert(rng.randrange(len(text) + 1), ch)
    message = "".join(text)
    assert SCREENER.clean(message, role) == (not found(RAW, message, role, None))
    assert not (SCREENER.clean(message, role) and found(SCREENER, message, role, None))
    assert SCREENER.finds(message, role) == found(SCREENER, message, role, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你这个老赖", True),  # a finding, no safe phrase anywhere: told without the screen
        ("我们不会联系您的通讯录联系人", False),  # a finding a safe phrase excuses: the screen decides
        ("我们不会上门，但会通知你的家人", True),  # one excused, one not
        ("您的账单已出，请按时还款", False),
        ("We will not contact your employer.", False),
        ("We will tell your employer.", True),
    ],
)
def test_finds_is_the_screens_answer_with_and_without_safe_phrases(text: str, expected: bool) -> None:
    assert SCREENER.finds(text, Role.DEBTOR) is expected
    assert found(SCREENER, text, Role.DEBTOR, None) is expected


def test_characters_met_first_by_the_text_alone_are_known_to_the_full_normalisation() -> None:
    # ``clean`` and ``finds`` fold characters through ``translate``; ``screen`` must then still take its fast path.
    folder = Folder(SCREENER.variants)
    text = "您好，張偉：你这个老賴（尾号0001）"
    normalise_text(text, SCREENER.variants, folder)
    assert folder.learn(text)
    assert normalise(text, SCREENER.variants, folder).text == normalise_text(text, SCREENER.variants)
