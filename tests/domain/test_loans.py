"""Products and schedules: validation, month-end due dates, and amounts checked against independent formulas."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairdun.domain.errors import DomainError
from fairdun.domain.loans import (
    AllocationOrder,
    Component,
    Installment,
    Product,
    RepaymentMethod,
    add_months,
    build_schedule,
    due_dates,
    level_payment,
    monthly_interest,
    parse_product,
)

D = Decimal
EI = RepaymentMethod.EQUAL_INSTALLMENT
EP = RepaymentMethod.EQUAL_PRINCIPAL
IF = RepaymentMethod.INTEREST_FIRST
CENT = D("0.01")


def product(method: RepaymentMethod = EI, term: int = 12, rate: str = "0.12", **kw: object) -> Product:
    return Product("T", term, D(rate), method, **kw)  # type: ignore[arg-type]


def rows(schedule: tuple[Installment, ...]) -> list[tuple[str, str, str]]:
    return [(str(i.principal), str(i.interest), str(i.fee)) for i in schedule]


def half_up_cents(value: Fraction) -> int:
    """Round a non-negative number of cents half up, with integers only (independent of Decimal)."""
    return int(value + Fraction(1, 2))


# --- hand-worked examples -----------------------------------------------------------------------------------


def test_equal_installments_of_10000_at_12_percent_over_a_year_match_the_worked_example() -> None:
    # 10000 * 0.01 / (1 - 1.01^-12) = 888.4878...  ->  888.49 a month.
    # Month 1: interest 10000 * 1% = 100.00, principal 788.49; month 2: 9211.51 * 1% = 92.1151 -> 92.12.
    schedule = build_schedule(product(EI), D("10000.00"), date(2024, 1, 15))
    assert rows(schedule)[:2] == [("788.49", "100.00", "0.00"), ("796.37", "92.12", "0.00")]
    assert all(i.total == D("888.49") for i in schedule[:-1])
    # The last installment takes the remaining 879.67 and its interest 8.7967 -> 8.80: 888.47, two cents less.
    assert rows(schedule)[-1] == ("879.67", "8.80", "0.00")
    assert sum(i.principal for i in schedule) == D("10000.00")


def test_equal_principal_of_12000_at_12_percent_pays_1000_a_month_and_falling_interest() -> None:
    schedule = build_schedule(product(EP), D("12000.00"), date(2024, 1, 15))
    assert [i.principal for i in schedule] == [D("1000.00")] * 12
    assert [i.interest for i in schedule] == [D(120 - 10 * k) for k in range(12)]


def test_interest_first_pays_interest_monthly_and_all_the_principal_with_the_last() -> None:
    schedule = build_schedule(product(IF, term=6), D("10000.00"), date(2024, 1, 15))
    assert [i.interest for i in schedule] == [D("100.00")] * 6
    assert [i.principal for i in schedule] == [D("0.00")] * 5 + [D("10000.00")]


def test_fees_come_with_every_installment_and_the_upfront_fee_with_the_first() -> None:
    p = product(EP, term=3, installment_fee=D("5.00"), upfront_fee=D("50.00"))
    schedule = build_schedule(p, D("3000.00"), date(2024, 1, 15))
    assert [i.fee for i in schedule] == [D("55.00"), D("5.00"), D("5.00")]


def test_a_months_interest_multiplies_before_it_divides_so_a_half_cent_rounds_up() -> None:
    # 18.75 x 1.6 % / 12 = 0.025 exactly; dividing the rate first would give 0.02499... and round down.
    assert monthly_interest(D("18.75"), D("0.016")) == D("0.03")


def test_a_zero_rate_loan_splits_the_principal_and_charges_no_interest() -> None:
    schedule = build_schedule(product(EI, term=6, rate="0"), D("100.00"), date(2024, 1, 15))
    assert [i.principal for i in schedule] == [D("16.66")] * 5 + [D("16.70")]
    assert all(i.interest == 0 for i in schedule)


def test_a_tiny_loan_over_a_long_term_never_repays_more_principal_than_it_owes() -> None:
    schedule = build_schedule(product(EI, term=360, rate="0.012"), D("2.00"), date(2024, 1, 15))
    assert sum(i.principal for i in schedule) == D("2.00")
    assert all(i.principal >= 0 and i.interest >= 0 for i in schedule)


# --- due dates ----------------------------------------------------------------------------------------------


def test_due_dates_anchor_to_the_31st_through_february_in_a_leap_year() -> None:
    schedule = build_schedule(product(term=4), D("1000.00"), date(2024, 1, 31))
    assert [i.due for i in schedule] == [date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30), date(2024, 5, 31)]


def test_due_dates_anchor_to_the_31st_through_february_in_a_common_year() -> None:
    assert due_dates(date(2023, 1, 31), 3) == (date(2023, 1, 31), date(2023, 2, 28), date(2023, 3, 31))


def test_a_given_first_due_date_sets_the_day_of_the_month() -> None:
    schedule = build_schedule(product(term=3), D("1000.00"), date(2024, 1, 5), first_due=date(2024, 2, 20))
    assert [i.due for i in schedule] == [date(2024, 2, 20), date(2024, 3, 20), date(2024, 4, 20)]
    assert [i.start for i in schedule] == [date(2024, 1, 5), date(2024, 2, 20), date(2024, 3, 20)]


def test_months_roll_over_the_year_end() -> None:
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)


def test_a_first_due_date_on_or_before_the_disbursement_is_refused() -> None:
    with pytest.raises(DomainError, match="first_due: must be after the disbursement date 2024-01-05"):
        build_schedule(product(), D("1000.00"), date(2024, 1, 5), first_due=date(2024, 1, 5))


@pytest.mark.parametrize("amount", [D("0.00"), D("-5.00"), D("10.001")])
def test_a_principal_that_is_not_a_positive_amount_in_cents_is_refused(amount: Decimal) -> None:
    with pytest.raises(DomainError, match="principal: must be a positive Decimal in whole cents"):
        build_schedule(product(), amount, date(2024, 1, 5))


# --- against independent formulas ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "rate", "term"),
    [("10000.00", "0.12", 12), ("5000.00", "0.24", 6), ("300000.00", "0.049", 360), ("1234.56", "0.0725", 36)],
)
def test_equal_installments_match_numpy_financial_pmt_to_the_cent(amount: str, rate: str, term: int) -> None:
    schedule = build_schedule(product(EI, term=term, rate=rate), D(amount), date(2024, 1, 15))
    expected = -npf.pmt(float(rate) / 12, term, float(amount))
    for installment in schedule[:-1]:
        assert abs(float(installment.principal + installment.interest) - expected) <= 0.01
    assert level_payment(D(amount), D(rate) / 12, term) == installment.principal + installment.interest


methods = st.sampled_from(list(RepaymentMethod))
amounts = st.integers(min_value=1, max_value=10**9).map(lambda c: D(c).scaleb(-2))
rates = st.integers(min_value=0, max_value=9999).map(lambda bp: D(bp).scaleb(-4))
terms = st.integers(min_value=1, max_value=360)


@settings(deadline=None, max_examples=200)
@given(method=methods, amount=amounts, rate=rates, term=terms)
def test_schedule_principal_always_sums_to_the_loan_amount(
    method: RepaymentMethod, amount: Decimal, rate: Decimal, term: int
) -> None:
    schedule = build_schedule(Product("P", term, rate, method), amount, date(2024, 1, 31))
    assert sum(i.principal for i in schedule) == amount
    assert len(schedule) == term
    assert all(i.principal >= 0 and i.interest >= 0 for i in schedule)
    assert all(a.due < b.due and b.start == a.due for a, b in itertools.pairwise(schedule))


@settings(deadline=None, max_examples=100)
@given(
    amount=st.integers(min_value=100_000, max_value=10**9),
    rate=st.integers(min_value=0, max_value=3600).map(lambda bp: D(bp).scaleb(-4)),
    term=st.integers(1, 120),
)
def test_equal_installments_are_within_a_cent_of_pmt_for_every_installment_but_the_last(
    amount: int, rate: Decimal, term: int
) -> None:
    # Realistic consumer loans: at most 36 % a year, ten years, 1000.00. The payment's rounding (under half a
    # cent) compounds at the loan's rate; here it stays below one payment, so the last installment absorbs it.
    # 100.00 at 99 % over six years would repay early and leave the 71st installment short (see docs/loans.md).
    principal = D(amount).scaleb(-2)
    schedule = build_schedule(Product("P", term, rate, EI), principal, date(2024, 1, 15))
    expected = -npf.pmt(float(rate) / 12, term, float(principal)) if rate else float(principal) / term
    for installment in schedule[:-1]:
        assert abs(float(installment.principal + installment.interest) - expected) <= 0.0100001


@settings(deadline=None, max_examples=100)
@given(amount=st.integers(min_value=1, max_value=10**9), rate=rates, term=terms)
def test_equal_principal_matches_an_integer_cents_formula(amount: int, rate: Decimal, term: int) -> None:
    schedule = build_schedule(Product("P", term, rate, EP), D(amount).scaleb(-2), date(2024, 1, 15))
    monthly = Fraction(rate) / 12
    share = amount // term
    for k, installment in enumerate(schedule):
        balance = amount - share * k
        assert installment.interest == D(half_up_cents(balance * monthly)).scaleb(-2)
        assert installment.principal == D(share if k < term - 1 else balance).scaleb(-2)


@settings(deadline=None, max_examples=100)
@given(amount=st.integers(min_value=1, max_value=10**9), rate=rates, term=terms)
def test_interest_first_matches_an_integer_cents_formula(amount: int, rate: Decimal, term: int) -> None:
    schedule = build_schedule(Product("P", term, rate, IF), D(amount).scaleb(-2), date(2024, 1, 15))
    interest = D(half_up_cents(amount * Fraction(rate) / 12)).scaleb(-2)
    assert all(i.interest == interest for i in schedule)
    assert [i.principal for i in schedule] == [D(0)] * (term - 1) + [D(amount).scaleb(-2)]


# --- products -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"code": ""}, "product.code: must be a non-empty string"),
        ({"term_months": 0}, "product.term_months: must be from 1 to 600, got 0"),
        ({"term_months": True}, "product.term_months: must be an int, not bool"),
        ({"annual_rate": 0.18}, r"product.annual_rate: must be a Decimal, not float"),
        ({"annual_rate": D("18")}, r"product.annual_rate: must be a fraction from 0 up to \(not including\) 1"),
        ({"annual_rate": D("-0.01")}, "product.annual_rate: must be a fraction"),
        ({"method": "equal_installment"}, "product.method: must be one of equal_installment"),
        ({"installment_fee": D("-1.00")}, "product.installment_fee: must be a non-negative amount"),
        ({"upfront_fee": D("0.001")}, "product.upfront_fee: must be a non-negative amount in whole cents"),
        ({"penalty_daily_rate": D("NaN")}, "product.penalty_daily_rate: must be a fraction"),
        ({"grace_days": -1}, "product.grace_days: must be from 0 to 365, got -1"),
        ({"waterfall": (Component.PENALTY, Component.PENALTY)}, "product.waterfall: must name each of penalty"),
        ({"waterfall": ("penalty", "fee", "interest", "principal")}, "product.waterfall: must be a tuple of Comp"),
        ({"allocation": "oldest"}, "product.allocation: must be one of by_installment, by_component"),
    ],
)
def test_an_invalid_product_is_refused_with_the_field_named(change: dict[str, object], message: str) -> None:
    with pytest.raises(DomainError, match=message):
        replace(product(), **change)  # type: ignore[arg-type]


def test_a_product_parses_from_plain_data_with_rates_as_strings() -> None:
    parsed = parse_product(
        {
            "code": "CASH-12",
            "term_months": 12,
            "annual_rate": "0.18",
            "method": "equal_principal",
            "installment_fee": "5",
            "penalty_daily_rate": "0.0005",
            "grace_days": 3,
            "waterfall": ["interest", "principal", "fee", "penalty"],
            "allocation": "by_component",
        }
    )
    assert parsed == Product(
        "CASH-12",
        12,
        D("0.18"),
        EP,
        installment_fee=D("5.00"),
        penalty_daily_rate=D("0.0005"),
        grace_days=3,
        waterfall=(Component.INTEREST, Component.PRINCIPAL, Component.FEE, Component.PENALTY),
        allocation=AllocationOrder.BY_COMPONENT,
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"annual_rate": 0.18}, r'product.annual_rate: floats are not exact \(0.18\); write it as a string: "0.18"'),
        ({"annual_rate": "eighteen"}, "product.annual_rate: not a number: 'eighteen'"),
        ({"method": "balloon"}, "product.method: must be one of equal_installment, equal_principal, interest_first"),
        ({"waterfall": ["penalty", "tax"]}, r"product.waterfall\[1\]: must be one of penalty"),
        ({"upfront_fee": 9.5}, "product.upfront_fee: must be a string"),
        ({"colour": "red"}, "product.colour: unknown key"),
    ],
)
def test_parsing_a_bad_product_names_the_key(data: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"code": "X", "term_months": 6, "annual_rate": "0.1", "method": "interest_first"}
    with pytest.raises(DomainError, match=message):
        parse_product(base | data)


def test_parsing_a_product_without_a_required_key_names_it() -> None:
    with pytest.raises(DomainError, match=r"product\.method: is required"):
        parse_product({"code": "X", "term_months": 6, "annual_rate": "0.1"})
