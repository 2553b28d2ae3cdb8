"""Selection: bucket, then the band holding the amount (edges belong to the band above), then tier, then the one
segment covering that cell, then the arm holding the debt's split point. And arms that never move."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal

import pytest

from fairdun.config.strategies import load_strategy
from fairdun.policy.errors import FieldError
from fairdun.policy.strategy import SPLIT_POINTS, Strategy, build_strategy, split_point
from tests.strategy.documents import document


@pytest.fixture(scope="module")
def strategy() -> Strategy:
    return build_strategy(document(), "t.toml")


@pytest.mark.parametrize(
    ("amount", "band"),
    [
        (Decimal("0"), "0-1000"),
        (Decimal("0.01"), "0-1000"),
        (Decimal("999.99"), "0-1000"),
        (Decimal("1000"), "1000-10000"),
        (Decimal("1000.00"), "1000-10000"),
        (1000, "1000-10000"),
        (Decimal("9999.99"), "1000-10000"),
        (Decimal("10000"), "10000+"),
        (Decimal("123456789.12"), "10000+"),
    ],
)
def test_an_amount_on_an_edge_belongs_to_the_band_above_it(strategy: Strategy, amount: Decimal, band: str) -> None:
    assert strategy.band_for(amount).label == band


def test_the_segment_is_found_by_bucket_then_band_then_tier(strategy: Strategy) -> None:
    assert strategy.segment_for("M1", Decimal("999.99"), "low").label == "M1/0-1000/low,medium"
    assert strategy.segment_for("M1", Decimal("999.99"), "high").label == "M1/0-1000/high"
    assert strategy.segment_for("M1", Decimal("1000"), "high").label == "M1/1000-10000,10000+/*"
    assert strategy.segment_for("M2", Decimal("1000"), "high").label == "C,M2,M3,M4,M5,M6,M6+/*/*"


def test_selection_gives_the_arm_and_the_segment_with_the_treatment(strategy: Strategy) -> None:
    selection = strategy.treatment_for("M1", Decimal("1000"), "low", "LN-000001")
    assert (selection.arm, selection.treatment.name, selection.segment) == (
        "champion",
        "letters",
        "M1/1000-10000,10000+/*",
    )


def test_the_order_of_segments_in_the_file_never_changes_a_selection(strategy: Strategy) -> None:
    doc = document()
    doc["segments"].reverse()
    reordered = build_strategy(doc, "t.toml")
    for bucket in strategy.buckets:
        for amount in (Decimal("0"), Decimal("1000"), Decimal("50000")):
            for tier in strategy.tiers:
                for debt in ("LN-000001", "LN-000002", "LN-000011"):
                    a = strategy.treatment_for(bucket, amount, tier, debt)
                    b = reordered.treatment_for(bucket, amount, tier, debt)
                    assert (a.arm, a.treatment.name, a.segment) == (b.arm, b.treatment.name, b.segment)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda s: s.segment_for("M9", 1, "low"),
            "bucket: unknown bucket 'M9'; t@1 has C, M1, M2, M3, M4, M5, M6, M6+",
        ),
        (lambda s: s.segment_for("M1", 1, "mid"), "risk_tier: unknown risk tier 'mid'; t@1 has low, medium, high"),
        (lambda s: s.band_for(Decimal("-0.01")), "overdue_amount: must be a finite amount of at least 0, got -0.01"),
        (lambda s: s.band_for(Decimal("NaN")), "overdue_amount: must be a finite amount of at least 0, got NaN"),
        (lambda s: s.band_for(12.5), "overdue_amount: must be a Decimal or an int, not float"),
        (lambda s: s.band_for(True), "overdue_amount: must be a Decimal or an int, not bool"),
        (lambda s: s.treatment_for("M1", 1, "low", ""), "debt_id: must be a non-empty string, got ''"),
    ],
)
def test_a_bad_lookup_is_a_field_error(strategy: Strategy, call: Callable[[Strategy], object], message: str) -> None:
    with pytest.raises(FieldError) as caught:
        call(strategy)
    assert str(caught.value) == message


# --- stable arms --------------------------------------------------------------------------------------------------

# Fixed: if these change, every debt in a running experiment changes arm. Change them only on purpose.
SPLIT_POINTS_DEFAULT = {
    "LN-000001": 6570,
    "LN-000002": 9715,
    "LN-000003": 2025,
    "LN-000009": 104,
    "LN-000011": 8579,
    "借据-0001": 4861,
}


@pytest.mark.parametrize(("debt", "point"), SPLIT_POINTS_DEFAULT.items())
def test_the_split_point_of_a_debt_is_fixed(debt: str, point: int) -> None:
    assert split_point("default", debt) == point


def test_the_split_point_is_sha256_of_name_colon_debt_first_8_bytes_mod_10000() -> None:
    digest = hashlib.sha256(b"default:LN-000001").hexdigest()
    assert split_point("default", "LN-000001") == int(digest[:16], 16) % SPLIT_POINTS


def test_the_split_point_depends_on_the_strategy_name() -> None:
    assert split_point("t", "LN-000001") == 2666


@pytest.mark.parametrize(
    ("debt", "arm"),
    [
        ("LN-000001", "champion"),
        ("LN-000002", "challenger"),
        ("LN-000003", "champion"),
        ("LN-000009", "champion"),
        ("LN-000011", "challenger"),
        ("LN-000013", "challenger"),
        ("借据-0001", "champion"),
    ],
)
def test_the_default_strategy_puts_fixed_debts_in_fixed_arms(debt: str, arm: str) -> None:
    segment = load_strategy("default").segment_for("M1", Decimal("500"), "high")
    assert segment.label == "M1/*/medium,high"
    assert segment.assign_arm(debt) == arm


def test_arms_take_consecutive_shares_in_the_order_listed(strategy: Strategy) -> None:
    segment = strategy.segment_for("M1", 0, "high")
    # champion 80 % holds points [0, 8000), challenger [8000, 10000).
    for n in range(1, 200):
        debt = f"LN-{n:06d}"
        expected = "champion" if split_point("t", debt) < 8000 else "challenger"
        assert segment.assign_arm(debt) == expected


def test_a_debt_keeps_its_place_when_it_rolls_to_a_segment_with_the_same_split() -> None:
    doc = document()
    arms = doc["segments"][3]["arms"]
    doc["segments"][1] = {"buckets": ["M1"], "bands": ["1000-10000", "10000+"], "arms": arms}
    strategy = build_strategy(doc, "t.toml")
    for n in range(1, 200):
        debt = f"LN-{n:06d}"
        small = strategy.treatment_for("M1", 999, "high", debt)
        large = strategy.treatment_for("M1", 5000, "high", debt)
        assert small.segment != large.segment
        assert small.arm == large.arm


def test_the_arm_is_the_same_in_a_fresh_process_with_another_hash_seed() -> None:
    code = (
        "from fairdun.config.strategies import load_strategy\n"
        "s = load_strategy('default').segment_for('M1', 500, 'high')\n"
        "print(','.join(s.assign_arm(f'LN-{n:06d}') for n in range(1, 30)))\n"
    )
    runs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        runs.add(out.stdout.strip())
    segment = load_strategy("default").segment_for("M1", 500, "high")
    assert runs == {",".join(segment.assign_arm(f"LN-{n:06d}") for n in range(1, 30))}
