"""Phone numbers through ``phonenumbers``: normalised to E.164 with default region CN; the project's fictional
test block passes; numbers in no assigned range are refused, never let through."""

from __future__ import annotations

import pytest

from fairdun.application.identity import normalize_phone
from fairdun.application.synthetic import PHONE_BLOCK, PHONE_FIRST
from fairdun.domain.errors import DomainError


@pytest.mark.parametrize(
    ("value", "e164"),
    [
        ("+8613800000001", "+8613800000001"),
        ("138 0000 4211", "+8613800004211"),
        ("+86 138-0000-4211", "+8613800004211"),
        ("(010) 6552 9988", "+861065529988"),
        ("+1 415 555 0123", "+14155550123"),
    ],
)
def test_numbers_are_normalised_to_e164_with_default_region_cn(value: str, e164: str) -> None:
    assert normalize_phone(value) == e164


def test_the_whole_fictional_test_block_is_accepted() -> None:
    for number in (PHONE_FIRST, PHONE_FIRST + 4211, PHONE_FIRST + PHONE_BLOCK - 1):
        assert normalize_phone(f"+{number}") == f"+{number}"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("not a number", "phones\\[0\\]: not a phone number"),
        ("+8612345678901", "phones\\[0\\]: not a valid number in any assigned range of \\+86"),
        ("1380000", "phones\\[0\\]: not a valid number"),
        ("", "phones\\[0\\]: not a phone number"),
    ],
)
def test_garbage_and_unassigned_ranges_are_refused(value: str, problem: str) -> None:
    with pytest.raises(DomainError, match=problem):
        normalize_phone(value, "phones[0]")
