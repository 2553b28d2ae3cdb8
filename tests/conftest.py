from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from fairdun.config.packs import PackLoader

settings.register_profile(
    "fairdun", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("fairdun")


@pytest.fixture(scope="session")
def loader() -> PackLoader:
    return PackLoader()
