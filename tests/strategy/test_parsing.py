"""Reading strategy documents and files: valid ones build, and each kind of mistake is refused with a message
naming the file, the segment or treatment, and the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fairdun.config.strategies import builtin_strategy_names, load_strategy, parse_strategy
from fairdun.domain.contact import Channel, Purpose, Role
from fairdun.policy.errors import PolicyError
from fairdun.policy.strategy import (
    CHAMPION,
    AgencyPlacement,
    AgentQueue,
    LegalReview,
    StrategyError,
    Window,
    build_strategy,
)
from tests.strategy.documents import LATER, document

Doc = dict[str, Any]


def put(*keys: str | int, value: object) -> Callable[[Doc], None]:
    """A mutation setting the value at ``keys`` (dict keys and list indexes)."""

    def apply(doc: Doc) -> None:
        target: Any = doc
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return apply


def drop(*keys: str | int) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        target: Any = doc
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return apply


def build(mutate: Callable[[Doc], None] | None = None) -> Any:
    doc = document()
    if mutate is not None:
        mutate(doc)
    return build_strategy(doc, "t.toml")


# --- valid documents ----------------------------------------------------------------------------------------------


def test_the_test_document_builds_into_segments_bands_and_treatments() -> None:
    s = build()
    assert s.label == "t@1"
    assert [b.label for b in s.bands] == ["0-1000", "1000-10000", "10000+"]
    assert s.tiers == ("low", "medium", "high")
    assert [g.label for g in s.segments] == [
        "C,M2,M3,M4,M5,M6,M6+/*/*",
        "M1/1000-10000,10000+/*",
        "M1/0-1000/low,medium",
        "M1/0-1000/high",
    ]
    calls = s.treatments["calls"]
    assert calls.repeat_every_days == 7
    assert calls.steps[0].channel is Channel.SMS
    assert calls.steps[0].window == Window(9 * 3600, 12 * 3600)  # the treatment's window
    assert calls.steps[1].window == Window(9 * 3600, 18 * 3600)  # the step's own
    assert calls.steps[1].count == 2
    assert (calls.steps[0].role, calls.steps[0].purpose) == (Role.DEBTOR, Purpose.COLLECT)
    assert calls.agent_queue == AgentQueue("agents", 15)
    letters = s.treatments["letters"]
    assert letters.repeat_every_days is None
    assert (letters.agency, letters.legal_review) == (AgencyPlacement("agency-1", 30), LegalReview(60))


def test_a_segment_with_one_treatment_has_one_champion_arm_of_100_percent() -> None:
    (arm,) = build().segments[0].arms
    assert (arm.name, arm.points, arm.percent) == (CHAMPION, 10_000, 100)


def test_percentages_may_have_two_decimals_as_numbers_or_strings() -> None:
    def three_arms(doc: Doc) -> None:
        doc["segments"][3]["arms"] = [
            {"name": "a", "percent": 12.5, "treatment": "calls"},
            {"name": "b", "percent": "54.17", "treatment": "letters"},
            {"name": "c", "percent": "33.33", "treatment": "calls"},
        ]

    arms = build(three_arms).segments[3].arms
    assert [a.points for a in arms] == [1250, 5417, 3333]


def test_risk_tiers_and_amount_bands_are_configurable() -> None:
    def custom(doc: Doc) -> None:
        doc["strategy"]["risk_tiers"] = ["A", "B"]
        doc["strategy"]["amount_bands"] = [0, "999.50"]
        doc["segments"] = [
            {"bands": ["0-999.50"], "treatment": "calls"},
            {"bands": ["999.50+"], "tiers": ["A", "B"], "treatment": "letters"},
        ]

    s = build(custom)
    assert s.tiers == ("A", "B")
    assert [b.label for b in s.bands] == ["0-999.50", "999.50+"]


def test_amount_bands_default_to_one_band_and_tiers_to_low_medium_high() -> None:
    def plain(doc: Doc) -> None:
        del doc["strategy"]["amount_bands"]
        doc["segments"] = [{"buckets": LATER, "treatment": "calls"}, {"buckets": ["M1"], "treatment": "letters"}]

    s = build(plain)
    assert [b.label for b in s.bands] == ["0+"]
    assert s.tiers == ("low", "medium", "high")


# --- every kind of error, with its message ------------------------------------------------------------------------

ERRORS = [
    # the [strategy] table
    pytest.param(drop("strategy"), "t.toml: strategy: is required", id="no-strategy-table"),
    pytest.param(put("strategie", value={}), "t.toml: strategie: unknown field", id="unknown-top-field"),
    pytest.param(put("strategy", "tier", value=["a"]), "t.toml: strategy.tier: unknown field", id="unknown-meta"),
    pytest.param(drop("strategy", "version"), "t.toml: strategy.version: is required", id="no-version"),
    pytest.param(
        put("strategy", "name", value="My Plan"),
        "t.toml: strategy.name: 'My Plan': use lower case letters, digits, '-' or '_'",
        id="bad-name",
    ),
    pytest.param(
        put("strategy", "risk_tiers", value=["low", "low"]),
        "t.toml: strategy.risk_tiers[1]: 'low' is listed twice",
        id="tier-twice",
    ),
    pytest.param(
        put("strategy", "risk_tiers", value=[]), "t.toml: strategy.risk_tiers: needs at least one name", id="no-tiers"
    ),
    pytest.param(
        put("strategy", "amount_bands", value=[100, 1000]),
        "t.toml: strategy.amount_bands[0]: the first band must start at 0, got 100",
        id="bands-not-from-0",
    ),
    pytest.param(
        put("strategy", "amount_bands", value=[0, 1000, 1000]),
        "t.toml: strategy.amount_bands[2]: edges must increase; 1000 follows 1000",
        id="bands-not-increasing",
    ),
    pytest.param(
        put("strategy", "amount_bands", value=[0, 999.5]),
        't.toml: strategy.amount_bands[1]: expected an amount (an integer or a string such as "999.50"), got a number',
        id="band-float",
    ),
    pytest.param(
        put("strategy", "amount_bands", value=[0, "10.005"]),
        "t.toml: strategy.amount_bands[1]: has a fraction of a cent: '10.005'",
        id="band-sub-cent",
    ),
    pytest.param(
        put("strategy", "amount_bands", value=[]),
        "t.toml: strategy.amount_bands: needs at least the edge 0",
        id="no-bands",
    ),
    # treatments
    pytest.param(put("treatments", value={}), "t.toml: treatments: a strategy needs at least one treatment", id="none"),
    pytest.param(
        put("treatments", "calls", "steps", 0, "chanel", value="sms"),
        "t.toml: treatment calls: steps[0].chanel: unknown field",
        id="step-typo",
    ),
    pytest.param(
        put("treatments", "calls", "cadence", value=7),
        "t.toml: treatment calls: cadence: unknown field (this table takes: agency, agent_queue, legal_review, "
        "repeat_every_days, steps, window)",
        id="treatment-typo",
    ),
    pytest.param(drop("treatments", "calls", "steps"), "t.toml: treatment calls: steps: is required", id="no-steps"),
    pytest.param(
        put("treatments", "calls", "steps", 0, "channel", value="fax"),
        "t.toml: treatment calls: steps[0].channel: unknown value 'fax'; expected one of call|ai_call|sms|",
        id="bad-channel",
    ),
    pytest.param(
        put("treatments", "calls", "steps", 0, "role", value="neighbour"),
        "t.toml: treatment calls: steps[0].role: unknown value 'neighbour'; expected one of debtor|",
        id="bad-role",
    ),
    pytest.param(
        put("treatments", "calls", "steps", 0, "purpose", value="threaten"),
        "t.toml: treatment calls: steps[0].purpose: unknown value 'threaten'; expected one of collect|",
        id="bad-purpose",
    ),
    pytest.param(
        put("treatments", "calls", "steps", 1, "day", value=8),
        "t.toml: treatment calls: steps[1].day: day 8 is past the end of the cadence (repeat_every_days = 7)",
        id="day-past-cadence",
    ),
    pytest.param(
        put("treatments", "calls", "steps", 0, "day", value=0),
        "t.toml: treatment calls: steps[0].day: must be at least 1, got 0",
        id="day-0",
    ),
    pytest.param(
        put("treatments", "calls", "repeat_every_days", value=0),
        "t.toml: treatment calls: repeat_every_days: must be at least 1, got 0",
        id="repeat-0",
    ),
    pytest.param(
        put("treatments", "calls", "steps", 0, "window", value="09:00-25:00"),
        "t.toml: treatment calls: steps[0].window: '25:00' is not a time of day (HH:MM, 00:00-24:00)",
        id="hour-past-24",
    ),
    pytest.param(
        put("treatments", "calls", "window", value="24:00-24:00"),
        "t.toml: treatment calls: window: '24:00' is not a time of day (HH:MM, 00:00-23:59)",
        id="start-at-24",
    ),
    pytest.param(
        put("treatments", "calls", "steps", 0, "window", value="22:00-02:00"),
        "t.toml: treatment calls: steps[0].window: '22:00-02:00': start must be before end; a window cannot wrap "
        "past midnight (use two steps)",
        id="window-wraps",
    ),
    pytest.param(
        put("treatments", "calls", "steps", 0, "window", value="9 to 12"),
        't.toml: treatment calls: steps[0].window: expected local hours as "HH:MM-HH:MM" (00:00-24:00), '
        "got '9 to 12'",
        id="window-format",
    ),
    pytest.param(
        drop("treatments", "calls", "window"),
        "t.toml: treatment calls: steps[0].window: is required (here or as the treatment's window)",
        id="no-window",
    ),
    pytest.param(
        put("treatments", "calls", "steps", 0, "count", value=200),
        "t.toml: treatment calls: steps[0].count: 200 attempts leave less than a minute each in 09:00-12:00",
        id="too-many-attempts",
    ),
    pytest.param(
        put("treatments", "calls", "steps", 0, "template", value="S 1"),
        "t.toml: treatment calls: steps[0].template: 'S 1': use letters, digits, '.', '_' or '-' (no spaces)",
        id="bad-template",
    ),
    pytest.param(
        drop("treatments", "calls", "steps", 0, "template"),
        "t.toml: treatment calls: steps[0].template: is required",
        id="no-template",
    ),
    pytest.param(
        drop("treatments", "calls", "agent_queue", "from_day"),
        "t.toml: treatment calls: agent_queue.from_day: is required",
        id="queue-no-day",
    ),
    pytest.param(
        put("treatments", "letters", "agency", "after", value=3),
        "t.toml: treatment letters: agency.after: unknown field",
        id="agency-typo",
    ),
    pytest.param(
        put("treatments", "letters", "legal_review", "from_day", value="60"),
        "t.toml: treatment letters: legal_review.from_day: expected an integer, got a string",
        id="legal-day-string",
    ),
    pytest.param(
        put("treatments", "Calls", value={"steps": []}),
        "t.toml: treatment Calls: 'Calls' is not a treatment name",
        id="treatment-name",
    ),
    pytest.param(
        put("treatments", "spare", value={"steps": []}),
        "t.toml: treatment spare: is not used by any segment",
        id="unused-treatment",
    ),
    # segments
    pytest.param(put("segments", value=[]), "t.toml: segments: a strategy needs at least one segment", id="none"),
    pytest.param(
        put("segments", 1, "buckets", value=["M1", "M7"]),
        "t.toml: segments[1].buckets[1]: unknown bucket 'M7'; expected one of C, M1, M2, M3, M4, M5, M6, M6+",
        id="unknown-bucket",
    ),
    pytest.param(
        put("segments", 1, "bands", value=["1000-9999"]),
        "t.toml: segments[1].bands[0]: unknown band '1000-9999'; expected one of 0-1000, 1000-10000, 10000+",
        id="unknown-band",
    ),
    pytest.param(
        put("segments", 2, "tiers", value=["low", "mid"]),
        "t.toml: segments[2].tiers[1]: unknown risk tier 'mid'; expected one of low, medium, high",
        id="unknown-tier",
    ),
    pytest.param(
        put("segments", 2, "tiers", value=[]), "t.toml: segments[2].tiers: needs at least one name", id="empty-tiers"
    ),
    pytest.param(
        put("segments", 2, "buckets", value=["M1", "M1"]),
        "t.toml: segments[2].buckets[1]: 'M1' is listed twice",
        id="bucket-twice",
    ),
    pytest.param(put("segments", 2, value="calls"), "t.toml: segments[2]: expected a table, got a string", id="str"),
    pytest.param(
        put("segments", 2, "tier", value=["low"]),
        "t.toml: segments[2].tier: unknown field (this table takes: arms, bands, buckets, tiers, treatment)",
        id="segment-typo",
    ),
    pytest.param(
        drop("segments", 2, "treatment"),
        "t.toml: segment M1/0-1000/low,medium: give either a treatment or a list of arms",
        id="no-treatment",
    ),
    pytest.param(
        put("segments", 3, "treatment", value="calls"),
        "t.toml: segment M1/0-1000/high: give either a treatment or a list of arms",
        id="treatment-and-arms",
    ),
    pytest.param(
        put("segments", 2, "treatment", value="call"),
        "t.toml: segment M1/0-1000/low,medium: treatment: unknown treatment 'call'; the treatments are calls, letters",
        id="unknown-treatment",
    ),
    pytest.param(
        put("segments", 3, "arms", 1, "percent", value=10),
        "t.toml: segment M1/0-1000/high: arms[1].percent: arms add up to 90, not 100",
        id="arms-under-100",
    ),
    pytest.param(
        put("segments", 3, "arms", 1, "percent", value="20.5"),
        "t.toml: segment M1/0-1000/high: arms[1].percent: arms add up to 100.5, not 100",
        id="arms-over-100",
    ),
    pytest.param(
        put("segments", 3, "arms", 1, "percent", value=0),
        "t.toml: segment M1/0-1000/high: arms[1].percent: must be more than 0 and at most 100, got 0",
        id="arm-0",
    ),
    pytest.param(
        put("segments", 3, "arms", 1, "percent", value="12.345"),
        "t.toml: segment M1/0-1000/high: arms[1].percent: '12.345': a percentage has at most two decimal places",
        id="arm-3-decimals",
    ),
    pytest.param(
        put("segments", 3, "arms", 1, "percent", value=True),
        "t.toml: segment M1/0-1000/high: arms[1].percent: expected a percentage such as 20 or 12.5, got true/false",
        id="arm-bool",
    ),
    pytest.param(
        put("segments", 3, "arms", 1, "percent", value="a fifth"),
        "t.toml: segment M1/0-1000/high: arms[1].percent: expected a percentage such as 20 or 12.5, got 'a fifth'",
        id="arm-text",
    ),
    pytest.param(
        put("segments", 3, "arms", 1, "name", value="champion"),
        "t.toml: segment M1/0-1000/high: arms[1].name: 'champion' is used twice in this segment",
        id="arm-twice",
    ),
    pytest.param(
        put("segments", 3, "arms", 1, "name", value="Challenger B"),
        "t.toml: segment M1/0-1000/high: arms[1].name: 'Challenger B': use lower case letters, digits, '-' or '_'",
        id="arm-name",
    ),
    pytest.param(
        put("segments", 3, "arms", 1, "share", value=20),
        "t.toml: segment M1/0-1000/high: arms[1].share: unknown field",
        id="arm-typo",
    ),
    pytest.param(
        put("segments", 3, "arms", value=[]),
        "t.toml: segment M1/0-1000/high: arms: needs at least one arm",
        id="no-arms",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), ERRORS)
def test_a_mistake_is_refused_naming_file_segment_and_field(mutate: Callable[[Doc], None], message: str) -> None:
    with pytest.raises(StrategyError) as caught:
        build(mutate)
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_strategy_error_carries_its_parts_and_is_a_policy_error() -> None:
    with pytest.raises(StrategyError) as caught:
        build(put("segments", 3, "arms", 1, "percent", value=10))
    error = caught.value
    assert isinstance(error, PolicyError)
    assert (error.source, error.segment, error.treatment) == ("t.toml", "M1/0-1000/high", None)
    assert (error.field, error.problem) == ("arms[1].percent", "arms add up to 90, not 100")


# --- files ------------------------------------------------------------------------------------------------------

ARMS_AT_90 = """
[strategy]
name = "aggressive"
version = "1"
title = "Short of a hundred"

[treatments.a]
steps = [{ day = 1, channel = "call", template = "A", window = "08:00-10:00" }]

[treatments.b]
steps = [{ day = 1, channel = "sms", template = "B", window = "08:00-10:00" }]

[[segments]]
buckets = ["M1"]
bands = ["0+"]
tiers = ["high"]
arms = [
  { name = "champion", percent = 70, treatment = "a" },
  { name = "challenger", percent = 20, treatment = "b" },
]
"""


def test_a_file_error_names_the_file_the_segment_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "aggressive.toml"
    path.write_text(ARMS_AT_90, encoding="utf-8")
    with pytest.raises(StrategyError) as caught:
        load_strategy(path)
    assert str(caught.value) == f"{path}: segment M1/0+/high: arms[1].percent: arms add up to 90, not 100"


def test_a_strategy_file_loads_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(load_strategy_text("default"), encoding="utf-8")
    strategy = load_strategy(str(path))
    assert strategy.source == str(path)
    assert strategy.label == load_strategy("default").label


def load_strategy_text(name: str) -> str:
    root = Path(__file__).parent.parent.parent / "src" / "fairdun" / "strategies"
    return (root / f"{name}.toml").read_text(encoding="utf-8")


def test_invalid_toml_is_refused_naming_the_file() -> None:
    with pytest.raises(StrategyError, match=r"^x\.toml: not valid TOML: "):
        parse_strategy("[strategy\n", "x.toml")


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "gone.toml"
    with pytest.raises(StrategyError) as caught:
        load_strategy(path)
    assert str(caught.value) == f"{path}: no such file"


def test_an_unknown_builtin_name_lists_the_builtins() -> None:
    with pytest.raises(StrategyError) as caught:
        load_strategy("gentle")
    assert str(caught.value) == (
        "gentle: unknown strategy; built-in strategies: default, aggressive; or give a path to a .toml file"
    )


# --- the built-ins ------------------------------------------------------------------------------------------------


def test_the_builtins_are_default_first_then_aggressive() -> None:
    assert builtin_strategy_names() == ("default", "aggressive")


@pytest.mark.parametrize("name", ["default", "aggressive"])
def test_each_builtin_strategy_loads_and_names_itself(name: str) -> None:
    strategy = load_strategy(name)
    assert strategy.name == name
    assert strategy.source == f"{name}.toml (built-in)"


def test_the_default_strategy_is_what_load_strategy_gives_without_a_name() -> None:
    assert load_strategy().name == "default"
