from __future__ import annotations

from datetime import date

import pytest

from fairdun.application.synthetic import Portfolio, generate_portfolio

START = date(2026, 11, 1)
SEED = 20261101


@pytest.fixture(scope="package")
def portfolio() -> Portfolio:
    return generate_portfolio(2_000, SEED, START)
