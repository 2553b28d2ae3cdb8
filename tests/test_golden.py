"""Every golden scenario (tests/golden/*.json) decides exactly as written down."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from fairdun.application.gate import GateService
from fairdun.config.packs import PackLoader, builtin_pack_names
from tests.golden_runner import load_cases

CASES = load_cases()


@pytest.fixture(scope="module")
def gate() -> GateService:
    return GateService(PackLoader())


@pytest.mark.parametrize(("pack", "request_doc", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_golden_scenario(gate: GateService, pack: str, request_doc: dict[str, Any], expect: dict[str, Any]) -> None:
    decision = gate.check(request_doc)
    assert decision.effect.value == expect["decision"], decision.reasons
    assert list(decision.rules) == expect["rules"]
    if "next_allowed_at" in expect:
        want = expect["next_allowed_at"]
        got = decision.next_allowed_at
        if want is None:
            assert got is None
        else:
            assert got is not None
            assert got == datetime.fromisoformat(want)
            assert got.utcoffset() == datetime.fromisoformat(want).utcoffset()


def test_every_rule_of_every_builtin_pack_has_a_golden_case_that_fires_it() -> None:
    fired = {rule for _, _, _, expect in CASES for rule in expect["rules"]}
    loader = PackLoader()
    missing = [r.id for name in builtin_pack_names() for r in loader.load(name).rules if r.id not in fired]
    assert missing == []
