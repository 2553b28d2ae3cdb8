"""plan_steps on cadence boundaries: which steps are due on a day in the bucket, in which slot of their window."""

from __future__ import annotations

from datetime import date

import pytest

from fairdun.config.strategies import load_strategy
from fairdun.domain.contact import VOICE_CHANNELS, Channel, Role
from fairdun.policy.errors import FieldError
from fairdun.policy.strategy import (
    AgencyPlacement,
    AgentQueue,
    LegalReview,
    PlannedStep,
    Step,
    Treatment,
    Window,
    days_in_bucket,
    plan_steps,
)

H = 3600
ON = date(2026, 3, 2)


def step(day: int, channel: Channel, start: int, end: int, count: int = 1) -> Step:
    return Step(day, channel, f"T{day}", Window(start * H, end * H), count)


WEEKLY = Treatment(
    "weekly",
    (
        step(1, Channel.SMS, 10, 12),
        step(3, Channel.CALL, 9, 18, count=2),
        step(7, Channel.EMAIL, 9, 10),
        step(3, Channel.SMS, 8, 9),
    ),
    repeat_every_days=7,
    agent_queue=AgentQueue("agents", 15),
    agency=AgencyPlacement("agency-1", 31),
    legal_review=LegalReview(61),
)
ONCE = Treatment("once", (step(2, Channel.SMS, 9, 12), step(5, Channel.LETTER, 9, 17)))


def summary(planned: list[PlannedStep]) -> list[tuple[int, str, str]]:
    return [(p.day, p.channel.value, p.window.label) for p in planned]


@pytest.mark.parametrize(
    ("days", "cadence_day"), [(1, 1), (2, 2), (6, 6), (7, 7), (8, 1), (9, 2), (14, 7), (15, 1), (701, 1)]
)
def test_a_repeating_cadence_wraps_after_its_last_day(days: int, cadence_day: int) -> None:
    assert WEEKLY.cadence_day(days) == cadence_day


def test_day_1_is_the_day_of_entry_and_plans_the_day_1_steps() -> None:
    assert summary(plan_steps(WEEKLY, 1, ON)) == [(1, "sms", "10:00-12:00")]


def test_day_8_plans_what_day_1_did() -> None:
    assert summary(plan_steps(WEEKLY, 8, ON)) == summary(plan_steps(WEEKLY, 1, ON))


def test_the_last_day_of_the_cadence_is_planned_and_the_next_starts_over() -> None:
    assert summary(plan_steps(WEEKLY, 7, ON)) == [(7, "email", "09:00-10:00")]
    assert summary(plan_steps(WEEKLY, 14, ON)) == [(7, "email", "09:00-10:00")]
    assert summary(plan_steps(WEEKLY, 15, ON)) == [(1, "sms", "10:00-12:00")]


def test_a_day_without_steps_plans_nothing() -> None:
    assert plan_steps(WEEKLY, 2, ON) == []
    assert plan_steps(WEEKLY, 9, ON) == []


def test_attempts_share_the_window_in_equal_slots_and_all_are_ordered_by_start() -> None:
    planned = plan_steps(WEEKLY, 3, ON)
    assert summary(planned) == [(3, "sms", "08:00-09:00"), (3, "call", "09:00-13:30"), (3, "call", "13:30-18:00")]
    assert [(p.step, p.attempt) for p in planned] == [(3, 1), (1, 1), (1, 2)]
    assert {p.on for p in planned} == {ON}
    assert {p.template for p in planned} == {"T3"}


def test_a_slot_that_does_not_divide_evenly_gives_the_last_attempt_the_rest() -> None:
    t = Treatment("t", (Step(1, Channel.CALL, "C", Window(9 * H, 9 * H + 600), 3),))
    assert [p.window.label for p in plan_steps(t, 1, ON)] == ["09:00-09:03:20", "09:03:20-09:06:40", "09:06:40-09:10"]
    t = Treatment("t", (Step(1, Channel.CALL, "C", Window(0, 7 * 60 + 1), 2),))
    assert [(p.window.start, p.window.end) for p in plan_steps(t, 1, ON)] == [(0, 210), (210, 421)]


def test_a_window_may_end_at_midnight() -> None:
    t = Treatment("t", (Step(1, Channel.CALL, "C", Window(22 * H, 24 * H), 2),))
    assert [p.window.label for p in plan_steps(t, 1, ON)] == ["22:00-23:00", "23:00-24:00"]


def test_a_cadence_that_does_not_repeat_runs_once_and_then_plans_nothing() -> None:
    assert plan_steps(ONCE, 1, ON) == []
    assert summary(plan_steps(ONCE, 2, ON)) == [(2, "sms", "09:00-12:00")]
    assert summary(plan_steps(ONCE, 5, ON)) == [(5, "letter", "09:00-17:00")]
    assert ONCE.cadence_day(5) == 5
    assert ONCE.cadence_day(6) is None
    assert plan_steps(ONCE, 6, ON) == []
    assert plan_steps(ONCE, 9, ON) == []  # not 2 again: nothing repeats


def test_a_treatment_without_steps_plans_nothing_on_any_day() -> None:
    none = Treatment("none", ())
    assert [plan_steps(none, d, ON) for d in (1, 2, 100)] == [[], [], []]


@pytest.mark.parametrize(
    ("days", "names"),
    [
        (1, []),
        (14, []),
        (15, ["agents"]),
        (30, ["agents"]),
        (31, ["agents", "agency-1"]),
        (60, ["agents", "agency-1"]),
        (61, ["agents", "agency-1", "legal"]),
    ],
)
def test_escalations_are_in_effect_from_their_day(days: int, names: list[str]) -> None:
    found = []
    for e in WEEKLY.escalations(days):
        found.append(e.name if isinstance(e, AgentQueue) else e.agency if isinstance(e, AgencyPlacement) else "legal")
    assert found == names


@pytest.mark.parametrize("days", [0, -1, True])
def test_days_in_bucket_count_from_1(days: int) -> None:
    with pytest.raises(FieldError, match=r"^days_in_bucket: must be an integer of at least 1"):
        plan_steps(WEEKLY, days, ON)


def test_days_in_bucket_is_1_on_the_day_of_entry() -> None:
    assert days_in_bucket(date(2026, 3, 1), date(2026, 3, 1)) == 1
    assert days_in_bucket(date(2026, 2, 28), date(2026, 3, 1)) == 2
    assert days_in_bucket(date(2026, 1, 1), date(2026, 1, 31)) == 31
    with pytest.raises(FieldError, match=r"^on: 2026-02-28 is before the day the bucket was entered"):
        days_in_bucket(date(2026, 3, 1), date(2026, 2, 28))


# --- the built-ins, as plans (the gate's verdict on them is the daily cycle's business) ---------------------------


def all_plans(name: str, days: int = 28) -> list[PlannedStep]:
    strategy = load_strategy(name)
    return [p for t in strategy.treatments.values() for d in range(1, days + 1) for p in plan_steps(t, d, ON)]


def test_the_default_strategy_plans_daytime_contacts_a_few_times_a_week() -> None:
    strategy = load_strategy("default")
    assert all(p.window.start >= 9 * H and p.window.end <= 20 * H for p in all_plans("default"))
    for treatment in strategy.treatments.values():
        week = [plan_steps(treatment, d, ON) for d in range(1, 8)]
        assert sum(len(day) for day in week) <= 4, treatment.name
        assert all(sum(p.channel in VOICE_CHANNELS for p in day) <= 2 for day in week), treatment.name
        assert all(p.role is Role.DEBTOR for day in week for p in day)


def test_the_aggressive_strategy_plans_ten_calls_a_day_at_night_and_to_contacts() -> None:
    strategy = load_strategy("aggressive")
    day = plan_steps(strategy.treatment_for("M1", 500, "low", "LN-000001").treatment, 1, ON)
    calls = [p for p in day if p.channel is Channel.CALL]
    assert len(calls) >= 10
    assert any(p.window.end > 22 * H or p.window.start < 8 * H for p in calls)
    assert any(p.role is Role.CONTACT for p in calls)
    hourly = [p.window.label for p in calls if p.role is Role.DEBTOR and 8 * H <= p.window.start < 18 * H]
    assert hourly == [f"{h:02d}:00-{h + 1:02d}:00" for h in range(8, 15)]
    assert len([p for p in calls if p.role is Role.DEBTOR]) == 10
    assert plan_steps(strategy.treatment_for("M1", 500, "low", "LN-000001").treatment, 2, ON) != []
