"""Hypothesis properties of strategies.

1. Over many debt ids, the share of debts in each arm is within a few points of the configured percentage.
2. The arm of a debt depends on the strategy's name and the debt id only: rebuilding the strategy, reordering its
   segments or changing other segments never moves a debt.
3. Every (bucket, amount, tier) resolves to exactly one segment, whose selectors hold that cell.
4. plan_steps repeats with the cadence: day d and day d + repeat_every_days plan the same steps.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fairdun.domain.contact import Channel
from fairdun.domain.delinquency import DEFAULT_BUCKETS
from fairdun.policy.strategy import SPLIT_POINTS, Step, Treatment, Window, build_strategy, plan_steps
from tests.strategy.documents import document

IDS_PER_EXAMPLE = 10_000
#: Five standard deviations of a share at 50 % over 10,000 ids is 2.5 points; a failure here is a real bias.
TOLERANCE_POINTS = 250


@st.composite
def split_of_100(draw: st.DrawFn) -> list[int]:
    """Basis points of 1 to 5 arms, each at least 1 %, adding up to 10000."""
    arms = draw(st.integers(1, 5))
    cuts = draw(st.lists(st.integers(1, 99), min_size=arms - 1, max_size=arms - 1, unique=True))
    edges = [0, *sorted(c * 100 for c in cuts), SPLIT_POINTS]
    extra = draw(st.integers(0, 99)) if arms > 1 else 0  # some hundredths, to exercise two-decimal shares
    points = [b - a for a, b in itertools.pairwise(edges)]
    if arms > 1 and points[0] > extra:
        points[0] -= extra
        points[1] += extra
    return points


def with_arms(points: list[int], name: str = "t") -> dict[str, Any]:
    """The test document with its M1/0-1000/high segment split into these arms."""
    doc = document()
    doc["strategy"]["name"] = name
    doc["segments"][3]["arms"] = [
        {"name": f"arm{i}", "percent": f"{Decimal(p) / 100:.2f}", "treatment": ("calls", "letters")[i % 2]}
        for i, p in enumerate(points)
    ]
    if len(points) == 1:  # `letters` must still be used somewhere
        doc["segments"][1]["treatment"] = "letters"
    return doc


def strategy_with_arms(points: list[int], name: str = "t") -> Any:
    return build_strategy(with_arms(points, name), "t.toml")


@settings(max_examples=40, derandomize=True)
@given(
    points=split_of_100(),
    prefix=st.text(min_size=1, max_size=12),
    name=st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
)
def test_the_observed_split_is_within_a_few_points_of_the_configured_one(
    points: list[int], prefix: str, name: str
) -> None:
    segment = strategy_with_arms(points, name).segment_for("M1", 0, "high")
    seen = Counter(segment.assign_arm(f"{prefix}{n}") for n in range(IDS_PER_EXAMPLE))
    for i, configured in enumerate(points):
        observed = seen[f"arm{i}"] * SPLIT_POINTS // IDS_PER_EXAMPLE
        assert abs(observed - configured) <= TOLERANCE_POINTS, (i, observed, configured)


@settings(max_examples=60)
@given(debt=st.text(min_size=1, max_size=40), points=split_of_100(), shuffle=st.randoms(use_true_random=False))
def test_a_debts_arm_moves_with_nothing_but_the_strategy_name_and_its_id(
    debt: str, points: list[int], shuffle: Any
) -> None:
    first = strategy_with_arms(points)
    doc = with_arms(points)
    shuffle.shuffle(doc["segments"])
    doc["treatments"]["calls"]["steps"][0]["template"] = "CHANGED"
    second = build_strategy(doc, "t.toml")
    assert first.treatment_for("M1", 1, "high", debt).arm == second.treatment_for("M1", 1, "high", debt).arm


AMOUNTS = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


@given(bucket=st.sampled_from(DEFAULT_BUCKETS.names), amount=AMOUNTS, tier=st.sampled_from(["low", "medium", "high"]))
def test_every_cell_resolves_to_one_segment_that_selects_it(bucket: str, amount: Decimal, tier: str) -> None:
    strategy = build_strategy(document(), "t.toml")
    band = strategy.band_for(amount)
    assert band.holds(amount)
    assert [b for b in strategy.bands if b.holds(amount)] == [band]
    segment = strategy.segment_for(bucket, amount, tier)
    assert (bucket, band.label, tier) in {
        (b, n, t) for b in segment.buckets for n in segment.bands for t in segment.tiers
    }
    assert sum(bucket in s.buckets and band.label in s.bands and tier in s.tiers for s in strategy.segments) == 1


STEPS = st.builds(
    lambda day, channel, start, hours, count: Step(
        day, channel, "T", Window(start * 3600, min(24, start + hours) * 3600), count
    ),
    day=st.integers(1, 10),
    channel=st.sampled_from(list(Channel)),
    start=st.integers(0, 23),
    hours=st.integers(1, 6),
    count=st.integers(1, 5),
)


@given(steps=st.lists(STEPS, max_size=6), repeat=st.integers(10, 14), day=st.integers(1, 200))
def test_plans_repeat_with_the_cadence_and_each_attempt_lies_in_its_steps_window(
    steps: list[Step], repeat: int, day: int
) -> None:
    treatment = Treatment("t", tuple(steps), repeat_every_days=repeat)
    on = date(2026, 1, 1)
    planned = plan_steps(treatment, day, on)
    again = plan_steps(treatment, day + repeat, on)
    assert planned == again
    assert len(planned) == sum(s.count for s in steps if s.day == (day - 1) % repeat + 1)
    for p in planned:
        source = steps[p.step].window
        assert source.start <= p.window.start < p.window.end <= source.end
    assert [p.window.start for p in planned] == sorted(p.window.start for p in planned)
