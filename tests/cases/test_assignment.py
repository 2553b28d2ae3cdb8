"""Assignment by load: the least-loaded eligible collector gets the next case; ineligible collectors get none."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairdun.domain.cases import assign_by_load
from fairdun.domain.errors import DomainError


def test_each_case_goes_to_the_least_loaded_eligible_collector_ties_by_id() -> None:
    loads = {"c": 0, "a": 2, "b": 1}
    assert assign_by_load(["k1", "k2", "k3", "k4"], loads, {"a", "b", "c"}) == {
        "k1": "c",
        "k2": "b",
        "k3": "c",
        "k4": "a",
    }
    assert loads == {"c": 0, "a": 2, "b": 1}  # the caller's loads are not changed


def test_a_collector_who_is_not_eligible_never_gets_a_case() -> None:
    assigned = assign_by_load([f"k{n}" for n in range(10)], {"trainee": 0, "senior": 50}, {"senior"})
    assert set(assigned.values()) == {"senior"}


def test_no_cases_need_no_collectors() -> None:
    assert assign_by_load([], {"a": 0}, set()) == {}


def test_cases_with_no_eligible_collector_are_refused() -> None:
    with pytest.raises(DomainError) as caught:
        assign_by_load(["k1"], {"trainee": 0}, set())
    assert caught.value.field == "eligible"


def test_an_eligible_collector_without_a_load_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        assign_by_load(["k1"], {"a": 0}, {"a", "ghost"})
    assert caught.value.field == "eligible"


def test_a_negative_load_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        assign_by_load(["k1"], {"a": -1}, {"a"})
    assert caught.value.field == "collectors_with_current_load['a']"


def test_a_case_listed_twice_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        assign_by_load(["k1", "k1"], {"a": 0}, {"a"})
    assert caught.value.field == "cases_needing_assignment[1]"


collector_ids = st.lists(st.text("abcdefgh", min_size=1, max_size=4), min_size=1, max_size=8, unique=True)


@given(collectors=collector_ids, data=st.data(), cases=st.integers(0, 200), start=st.integers(0, 20))
def test_after_assigning_n_cases_equal_collectors_differ_by_at_most_one(
    collectors: list[str], data: st.DataObject, cases: int, start: int
) -> None:
    eligible = set(data.draw(st.lists(st.sampled_from(collectors), min_size=1, unique=True)))
    others = {c: data.draw(st.integers(0, 50)) for c in collectors if c not in eligible}
    loads = {**dict.fromkeys(eligible, start), **others}
    assigned = assign_by_load([f"case-{n}" for n in range(cases)], loads, eligible)
    assert len(assigned) == cases
    assert set(assigned.values()) <= eligible
    after = {c: loads[c] + sum(1 for v in assigned.values() if v == c) for c in eligible}
    assert max(after.values()) - min(after.values()) <= 1
    assert sum(after.values()) == start * len(eligible) + cases


@given(
    loads=st.dictionaries(st.text("xyz", min_size=1, max_size=3), st.integers(0, 30), min_size=1),
    cases=st.integers(1, 50),
)
def test_every_case_goes_to_a_collector_with_the_least_load_at_that_moment(loads: dict[str, int], cases: int) -> None:
    assigned = assign_by_load([f"case-{n}" for n in range(cases)], loads, set(loads))
    current = dict(loads)
    for case_id in (f"case-{n}" for n in range(cases)):
        chosen = assigned[case_id]
        assert (current[chosen], chosen) == min((load, c) for c, load in current.items())
        current[chosen] += 1
