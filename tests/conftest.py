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


@pytest.fixture(autouse=True)
def _no_session_of_the_developer(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the session of whoever runs the tests: the session file is a fresh temporary one."""
    monkeypatch.delenv("FAIRDUN_SESSION", raising=False)
    monkeypatch.setenv("FAIRDUN_SESSION_FILE", str(tmp_path_factory.mktemp("session") / "session"))
