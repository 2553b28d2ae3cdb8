"""docs/strategies.md: its full example builds, its example errors are the real ones, and every field is there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fairdun.config.strategies import builtin_strategy_names, parse_strategy
from fairdun.domain.contact import Channel
from fairdun.policy.strategy import StrategyError

DOC = (Path(__file__).parent.parent.parent / "docs" / "strategies.md").read_text(encoding="utf-8")
FIELDS = [
    # [strategy]
    "name", "version", "title", "description", "risk_tiers", "amount_bands",
    # treatments and steps
    "steps", "repeat_every_days", "window", "agent_queue", "agency", "legal_review", "from_day", "id",
    "day", "channel", "template", "count", "role", "purpose",
    # segments and arms
    "buckets", "bands", "tiers", "treatment", "arms", "percent",
]  # fmt: skip


def example() -> str:
    match = re.search(r"## A full example\n\n```toml\n(.*?)```", DOC, re.DOTALL)
    assert match is not None
    return match[1]


def test_the_full_example_builds() -> None:
    strategy = parse_strategy(example(), "acme.toml")
    assert strategy.label == "acme@2026.2.0"
    assert [s.label for s in strategy.segments] == [
        "C/*/*",
        "M1,M2/*/low",
        "M1,M2/*/medium,high",
        "M3,M4,M5,M6,M6+/0-1000,1000-10000,10000+/*",
    ]


@pytest.mark.parametrize("field", FIELDS)
def test_every_field_is_documented(field: str) -> None:
    assert f"`{field}`" in DOC or f"{field} =" in example()


def test_every_channel_and_builtin_strategy_is_documented() -> None:
    assert [c.value for c in Channel if f"`{c.value}`" not in DOC] == []
    assert [n for n in builtin_strategy_names() if f"`{n}`" not in DOC] == []


def _break(old: str, new: str) -> str:
    text = example()
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    "broken",
    [
        _break('count = 2, window = "09:00-18:00"', 'count = 2, window = "09:00-25:00"'),
        _break(
            '{ day = 1, channel = "sms", template = "EARLY-SMS-1" },\n  { day = 2',
            '{ day = 1, chanel = "sms", template = "EARLY-SMS-1" },\n  { day = 2',
        ),
        _break('buckets = ["M3", "M4"', 'buckets = ["M7", "M4"'),
        _break('tiers = ["low"]\ntreatment = "early"', 'tiers = ["low"]\ntreatment = "eraly"'),
        _break("[[segments]]", "[treatments.spare]\nsteps = []\n\n[[segments]]"),
        _break("percent = 20", "percent = 10"),
        _break('bands = ["0-1000", "1000-10000", "10000+"]', 'bands = ["0-1000", "1000-10000"]'),
        _break('tiers = ["low"]', 'tiers = ["low", "high"]'),
    ],
)
def test_the_documented_errors_are_the_real_ones(broken: str) -> None:
    with pytest.raises(StrategyError) as caught:
        parse_strategy(broken, "acme.toml")
    assert str(caught.value) in DOC
