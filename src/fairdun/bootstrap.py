"""Builds what the entrypoints use, from settings. Nothing here runs at import time."""

from __future__ import annotations

from dataclasses import dataclass

from fairdun.application.gate import GateService
from fairdun.config.packs import PackLoader
from fairdun.config.settings import Settings, load_settings


@dataclass
class App:
    settings: Settings
    packs: PackLoader
    gate: GateService


def bootstrap(settings: Settings | None = None) -> App:
    settings = settings or load_settings()
    packs = PackLoader()
    return App(settings, packs, GateService(packs, settings.pack))
