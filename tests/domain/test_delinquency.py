"""Buckets, bucket histories, roll and cure rates, and restatements after backdated events."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from fairdun.domain.delinquency import (
    DEFAULT_BUCKETS,
    Bucket,
    BucketTable,
    DayRestated,
    Spell,
    bucket_history,
    bucket_on,
    cure_rate,
    loan_bucket_history,
    restate,
    roll_rates,
)
from fairdun.domain.errors import DomainError
from fairdun.domain.ledger import PauseGranted, PaymentReceived, PaymentReversed
from fairdun.domain.loans import Product, RepaymentMethod, build_schedule

D = Decimal
PRODUCT = Product("EP3", 3, D("0.12"), RepaymentMethod.EQUAL_PRINCIPAL, penalty_daily_rate=D("0.0005"))
SCHEDULE = build_schedule(PRODUCT, D("3000.00"), date(2024, 1, 10))
FEB10, MAR10 = date(2024, 2, 10), date(2024, 3, 10)


def day(d: date, n: int) -> date:
    return d + timedelta(days=n)


# --- tables -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dpd", "name"),
    [(0, "C"), (1, "M1"), (30, "M1"), (31, "M2"), (150, "M5"), (180, "M6"), (181, "M6+"), (9999, "M6+")],
)
def test_the_default_table_puts_days_past_due_in_monthly_buckets(dpd: int, name: str) -> None:
    assert DEFAULT_BUCKETS.bucket_for(dpd).name == name


def test_only_the_last_default_bucket_is_written_off() -> None:
    assert DEFAULT_BUCKETS.names == ("C", "M1", "M2", "M3", "M4", "M5", "M6", "M6+")
    assert [b.name for b in DEFAULT_BUCKETS.buckets if b.write_off] == ["M6+"]


def test_a_table_can_be_configured_with_other_bounds() -> None:
    table = BucketTable((Bucket("current", 0, 3), Bucket("early", 4, 15), Bucket("late", 16, None, write_off=True)))
    assert table.bucket_for(3).name == "current"
    assert table.bucket_for(16).write_off


@pytest.mark.parametrize(
    ("buckets", "message"),
    [
        ((), "buckets: must be a non-empty tuple"),
        ((Bucket("C", 1, None),), r"buckets\[0\]\.low: must start at 0; got 1"),
        (
            (Bucket("C", 0, 0), Bucket("M1", 2, None)),
            r"buckets\[1\]\.low: must start at 1, the day after C; got 2 \(a gap\)",
        ),
        ((Bucket("C", 0, 5), Bucket("M1", 3, None)), r"buckets\[1\]\.low: .* got 3 \(an overlap\)"),
        ((Bucket("C", 0, None), Bucket("M1", 1, None)), r"buckets\[0\]\.high: only the last bucket may be open-ended"),
        ((Bucket("C", 0, 0), Bucket("M1", 1, 30)), r"buckets\[1\]\.high: the last bucket must be open-ended"),
        ((Bucket("C", 0, 0), Bucket("C", 1, None)), r"buckets\[1\]\.name: 'C' is used twice"),
        ((Bucket("C", 0, 0), Bucket("M1", 1, 0)), r"buckets\[1\]\.high: must be at least low \(1\), got 0"),
        ((Bucket(" ", 0, None),), r"buckets\[0\]\.name: must be a non-empty string"),
    ],
)
def test_a_bad_table_is_refused_with_the_bucket_named(buckets: tuple[Bucket, ...], message: str) -> None:
    with pytest.raises(DomainError, match=message):
        BucketTable(buckets)


def test_a_negative_dpd_has_no_bucket() -> None:
    with pytest.raises(DomainError, match="dpd: must not be negative"):
        DEFAULT_BUCKETS.bucket_for(-1)


# --- histories ----------------------------------------------------------------------------------------------


def series(start: date, dpds: list[int]) -> list[tuple[date, int]]:
    return [(day(start, k), dpd) for k, dpd in enumerate(dpds)]


def test_a_bucket_history_records_when_each_bucket_was_entered_and_left() -> None:
    start = date(2024, 5, 1)
    history = bucket_history(series(start, [0, 0, 30, 31, 32, 0]))
    assert history == (
        Spell("C", start, day(start, 2)),
        Spell("M1", day(start, 2), day(start, 3)),
        Spell("M2", day(start, 3), day(start, 5)),
        Spell("C", day(start, 5), None),
    )
    assert bucket_on(history, day(start, 4)) == "M2"
    assert bucket_on(history, day(start, 99)) == "C"
    assert bucket_on(history, day(start, -1)) is None


def test_a_bucket_history_needs_consecutive_days() -> None:
    with pytest.raises(DomainError, match="days must be consecutive; 2024-05-03 follows 2024-05-01"):
        bucket_history([(date(2024, 5, 1), 0), (date(2024, 5, 3), 0)])


def test_a_loan_paid_a_month_late_enters_m1_and_m2_and_cures() -> None:
    events = [PaymentReceived("p1", day(FEB10, 35), D("2100.00"))]
    history = loan_bucket_history(PRODUCT, SCHEDULE, events, date(2024, 2, 1), date(2024, 3, 31))
    assert history == (
        Spell("C", date(2024, 2, 1), day(FEB10, 1)),
        Spell("M1", day(FEB10, 1), day(FEB10, 31)),
        Spell("M2", day(FEB10, 31), day(FEB10, 35)),
        Spell("C", day(FEB10, 35), None),
    )


# --- roll and cure rates ------------------------------------------------------------------------------------

MAY1, JUN1 = date(2024, 5, 1), date(2024, 6, 1)


def spells(*pairs: tuple[str, date]) -> tuple[Spell, ...]:
    """A history from (bucket, entered) pairs; each spell ends where the next begins."""
    return tuple(
        Spell(name, entered, pairs[k + 1][1] if k + 1 < len(pairs) else None) for k, (name, entered) in enumerate(pairs)
    )


PORTFOLIO = [
    spells(("C", date(2024, 4, 1))),  # current throughout
    spells(("C", date(2024, 4, 1)), ("M1", date(2024, 5, 20))),  # rolls C -> M1
    spells(("M1", date(2024, 4, 20)), ("M2", date(2024, 5, 20))),  # rolls M1 -> M2
    spells(("M1", date(2024, 4, 25)), ("C", date(2024, 5, 10))),  # cures from M1
    spells(("M2", date(2024, 4, 1)), ("M3", date(2024, 5, 1)), ("C", date(2024, 5, 30))),  # cures from M3
    spells(("C", date(2024, 5, 15))),  # disbursed after 1 May: not counted
]


def test_a_roll_rate_matrix_counts_where_each_buckets_loans_went() -> None:
    rates = roll_rates(PORTFOLIO, MAY1, JUN1)
    assert rates.count("C", "C") == 1
    assert rates.count("C", "M1") == 1
    assert rates.count("M1", "M2") == 1
    assert rates.count("M1", "C") == 1
    assert rates.count("M3", "C") == 1
    assert sum(map(sum, rates.counts)) == 5
    assert rates.rate("M1", "M2") == Fraction(1, 2)
    assert rates.rate("M4", "M5") is None
    assert rates.leaving("C") == 2


def test_a_roll_rate_for_an_unknown_bucket_names_the_buckets() -> None:
    with pytest.raises(DomainError, match="no bucket 'M9'; the buckets are C, M1"):
        roll_rates(PORTFOLIO, MAY1, JUN1).rate("M9", "C")


def test_roll_rates_need_an_end_after_the_start() -> None:
    with pytest.raises(DomainError, match="end: must be after start"):
        roll_rates(PORTFOLIO, JUN1, MAY1)


def test_the_cure_rate_is_the_share_of_delinquent_loans_current_again() -> None:
    assert cure_rate(PORTFOLIO, MAY1, JUN1) == Fraction(2, 3)
    assert cure_rate(PORTFOLIO, MAY1, JUN1, from_buckets=["M1"]) == Fraction(1, 2)
    assert cure_rate(PORTFOLIO[:1], MAY1, JUN1) is None


# --- restatements -------------------------------------------------------------------------------------------


def test_a_payment_learned_two_days_late_restates_dpd_from_its_effective_date() -> None:
    paid = PaymentReceived("p1", day(FEB10, 3), D("1031.50"))  # the installment and three days' penalty
    change = restate(PRODUCT, SCHEDULE, [], [paid], start=FEB10, end=day(FEB10, 5))
    assert change.since == day(FEB10, 3)
    assert change.days == (
        DayRestated(day(FEB10, 3), 3, 0, "M1", "C"),
        DayRestated(day(FEB10, 4), 4, 0, "M1", "C"),
        DayRestated(day(FEB10, 5), 5, 0, "M1", "C"),
    )
    assert change.buckets_changed == change.days


def test_a_backdated_pause_restates_dpd_without_changing_the_bucket() -> None:
    pause = PauseGranted(day(FEB10, 2), day(FEB10, 10))
    change = restate(PRODUCT, SCHEDULE, [], [pause], start=FEB10, end=day(FEB10, 12))
    assert change.since == day(FEB10, 2)
    assert [(d.dpd_before, d.dpd_after) for d in change.days][:2] == [(2, 1), (3, 1)]
    assert change.days[-1] == DayRestated(day(FEB10, 12), 12, 3, "M1", "M1")
    assert change.buckets_changed == ()


def test_a_reversal_restates_from_the_day_of_the_reversed_payment() -> None:
    paid = PaymentReceived("p1", day(FEB10, 1), D("1030.50"))
    change = restate(PRODUCT, SCHEDULE, [paid], [paid, PaymentReversed("p1")], start=FEB10, end=MAR10)
    assert change.since == day(FEB10, 1)
    assert change.days[-1] == DayRestated(MAR10, 0, 29, "C", "M1")


def test_events_that_change_nothing_restate_nothing() -> None:
    early = PaymentReceived("p1", day(FEB10, -2), D("1030.00"))
    same = PaymentReceived("p1", day(FEB10, -1), D("1030.00"))
    change = restate(PRODUCT, SCHEDULE, [early], [same], start=FEB10, end=MAR10)
    assert not change
    assert change.since is None
