"""The first content screen: categories, evidence spans in the original text, normalisation, safe phrases."""

from __future__ import annotations

import pytest

from fairdun.config.packs import load_screener
from fairdun.domain.contact import Role
from fairdun.policy.screen import LexiconEntry, Screener, normalise

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
