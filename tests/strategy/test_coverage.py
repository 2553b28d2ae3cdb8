"""Every (bucket, band, tier) cell is covered by exactly one segment; a gap or an overlap is refused, naming it."""

from __future__ import annotations

from typing import Any

import pytest

from fairdun.config.strategies import builtin_strategy_names, load_strategy
from fairdun.domain.delinquency import Bucket, BucketTable
from fairdun.policy.strategy import StrategyError, build_strategy
from tests.strategy.documents import LATER, document


def refuse(doc: dict[str, Any]) -> str:
    with pytest.raises(StrategyError) as caught:
        build_strategy(doc, "t.toml")
    return str(caught.value)


def test_a_cell_no_segment_covers_is_refused_naming_it() -> None:
    doc = document()
    doc["segments"][2]["tiers"] = ["low"]  # M1/0-1000/medium is left out
    assert refuse(doc) == "t.toml: segments: no segment covers M1/0-1000/medium"


def test_several_gaps_are_counted_and_the_first_few_named() -> None:
    doc = document()
    del doc["segments"][1]  # M1/1000-10000/* and M1/10000+/*: six cells
    assert refuse(doc) == (
        "t.toml: segments: no segment covers M1/1000-10000/low (and 5 more: M1/1000-10000/medium, "
        "M1/1000-10000/high, M1/10000+/low, ...)"
    )


def test_a_cell_covered_twice_is_refused_naming_it_and_both_segments() -> None:
    doc = document()
    doc["segments"][2]["tiers"] = ["low", "medium", "high"]  # M1/0-1000/high is also the arms segment's
    assert refuse(doc) == (
        "t.toml: segment M1/0-1000/high: covers M1/0-1000/high, which segment M1/0-1000/low,medium,high already covers"
    )


def test_an_omitted_selector_covers_the_whole_axis_so_it_overlaps_any_other() -> None:
    doc = document()
    doc["segments"].append({"buckets": ["C"], "tiers": ["high"], "treatment": "letters"})
    assert refuse(doc) == (
        "t.toml: segment C/*/high: covers C/0-1000/high, which segment C,M2,M3,M4,M5,M6,M6+/*/* already covers"
    )


def test_the_order_of_segments_does_not_matter_for_coverage() -> None:
    doc = document()
    doc["segments"].reverse()
    strategy = build_strategy(doc, "t.toml")
    assert len(strategy.cells) == 8 * 3 * 3


def test_a_strategy_covers_the_buckets_of_the_table_it_is_built_for() -> None:
    table = BucketTable((Bucket("current", 0, 0), Bucket("early", 1, 60), Bucket("late", 61, None, write_off=True)))
    doc = document()
    doc["segments"] = [{"treatment": "calls"}, {"buckets": ["late"], "treatment": "letters"}]
    # Under the default table, 'late' is no bucket; under this one, the first segment overlaps it.
    assert refuse(doc).startswith("t.toml: segments[1].buckets[0]: unknown bucket 'late'; expected one of C, M1")
    with pytest.raises(StrategyError, match="segment late/\\*/\\*: covers late/0-1000/low, which segment \\*/\\*/\\*"):
        build_strategy(doc, "t.toml", table)
    doc["segments"][0]["buckets"] = ["current", "early"]
    strategy = build_strategy(doc, "t.toml", table)
    assert strategy.buckets == ("current", "early", "late")
    assert strategy.segment_for("late", 5, "low").label == "late/*/*"


@pytest.mark.parametrize("name", builtin_strategy_names())
def test_each_builtin_covers_every_cell_once(name: str) -> None:
    strategy = load_strategy(name)
    cells = [(b, n.label, t) for b in strategy.buckets for n in strategy.bands for t in strategy.tiers]
    assert sorted(strategy.cells) == sorted(cells)
    covered = sum(len(s.buckets) * len(s.bands) * len(s.tiers) for s in strategy.segments)
    assert covered == len(cells)


def test_the_test_document_covers_later_buckets_with_one_segment() -> None:
    strategy = build_strategy(document(), "t.toml")
    assert {strategy.segment_for(b, 0, "low").label for b in LATER} == {"C,M2,M3,M4,M5,M6,M6+/*/*"}
