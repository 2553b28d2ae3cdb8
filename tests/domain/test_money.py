"""Money: the one rounding rule, exact parsing, and splits that add up."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairdun.domain.errors import DomainError
from fairdun.domain.money import ROUNDING, ZERO, quantize, split, to_money, total

D = Decimal
cents = st.integers(min_value=0, max_value=10**12).map(lambda c: D(c).scaleb(-2))


def test_the_rounding_rule_is_half_up() -> None:
    assert ROUNDING == "ROUND_HALF_UP"
    assert quantize(D("0.005")) == D("0.01")
    assert quantize(D("0.004999")) == D("0.00")
    assert quantize(D("2.675")) == D("2.68")  # the classic float trap: float(2.675) rounds to 2.67


def test_negative_halves_round_away_from_zero() -> None:
    assert quantize(D("-0.005")) == D("-0.01")


def test_quantize_always_gives_two_places() -> None:
    assert str(quantize(7)) == "7.00"
    assert str(quantize(D("1E+3"))) == "1000.00"


def test_quantize_refuses_a_float() -> None:
    with pytest.raises(DomainError, match="must be a Decimal or an int, not float"):
        quantize(0.1)  # type: ignore[arg-type]


def test_quantize_refuses_infinity_and_nan() -> None:
    with pytest.raises(DomainError, match="finite"):
        quantize(D("Infinity"))
    with pytest.raises(DomainError, match="finite"):
        quantize(D("NaN"))


def test_to_money_reads_strings_ints_and_decimals_exactly() -> None:
    assert to_money("1234.5") == D("1234.50")
    assert to_money(" 12 ") == D("12.00")
    assert to_money(3) == D("3.00")
    assert to_money(D("0.10")) == D("0.10")
    assert str(to_money("5")) == "5.00"


def test_to_money_refuses_a_float_and_says_how_to_fix_it() -> None:
    with pytest.raises(DomainError, match=r"payment\.amount: floats are not money \(0\.1\); pass a string"):
        to_money(0.1, field="payment.amount")  # type: ignore[arg-type]


def test_to_money_refuses_a_fraction_of_a_cent_rather_than_rounding_it() -> None:
    with pytest.raises(DomainError, match="fraction of a cent"):
        to_money("10.005")


@pytest.mark.parametrize("bad", ["", "ten", "1,000.00", "NaN", "-Infinity"])
def test_to_money_refuses_text_that_is_not_an_amount(bad: str) -> None:
    with pytest.raises(DomainError, match="amount"):
        to_money(bad)


def test_to_money_refuses_a_bool() -> None:
    with pytest.raises(DomainError, match="not bool"):
        to_money(True)  # type: ignore[arg-type]


def test_total_of_nothing_is_zero_cents() -> None:
    assert str(total([])) == "0.00"
    assert total([D("0.10"), D("0.20")]) == D("0.30")


def test_split_gives_the_last_part_what_is_left() -> None:
    assert split(D("100.00"), 6) == (D("16.66"),) * 5 + (D("16.70"),)
    assert split(D("10000.00"), 3) == (D("3333.33"), D("3333.33"), D("3333.34"))
    assert split(D("0.05"), 7) == (ZERO,) * 6 + (D("0.05"),)
    assert split(D("9.99"), 1) == (D("9.99"),)


@pytest.mark.parametrize(("amount", "parts"), [(D("-1.00"), 2), (D("1.005"), 2), (D("1.00"), 0)])
def test_split_refuses_negative_amounts_fractions_of_cents_and_no_parts(amount: Decimal, parts: int) -> None:
    with pytest.raises(DomainError):
        split(amount, parts)


@settings(deadline=None)
@given(amount=cents, parts=st.integers(min_value=1, max_value=600))
def test_a_split_adds_up_exactly_and_no_part_is_negative_or_above_an_even_share_but_the_last(
    amount: Decimal, parts: int
) -> None:
    pieces = split(amount, parts)
    assert len(pieces) == parts
    assert sum(pieces) == amount
    assert all(p >= 0 and p == quantize(p) for p in pieces)
    assert all(p * parts <= amount for p in pieces[:-1])
    assert pieces[-1] - pieces[0] < D("0.01") * parts
