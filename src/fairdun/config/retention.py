"""The shipped retention policies (``fairdun/config/retention.toml``), or a lender's own file given by path, read
into :class:`fairdun.application.retention.RetentionSchedule`. Errors name the file and the field."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from fairdun.application.retention import (
    PurgeAction,
    RecordType,
    RetentionError,
    RetentionPolicy,
    RetentionSchedule,
)


def load_retention(path: str | Path | None = None) -> RetentionSchedule:
    """The schedule in ``path``, or the shipped one."""
    if path is None:
        source, text = "retention.toml", resources.files("fairdun").joinpath("config/retention.toml").read_text("utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise RetentionError(f"{source}: cannot be read: {exc.strerror}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RetentionError(f"{source}: not valid TOML: {exc}") from None
    return parse_retention(document, source)


def parse_retention(document: dict[str, Any], source: str) -> RetentionSchedule:
    policies = []
    for n, entry in enumerate(document.get("policy", []), 1):
        where = f"{source}: policy {n}"
        try:
            record = RecordType(entry["record"])
            action = PurgeAction(entry["action"])
        except KeyError as exc:
            raise RetentionError(f"{where}: {exc.args[0]} is missing") from None
        except ValueError as exc:
            raise RetentionError(f"{where}: {exc}") from None
        years = entry.get("years")
        if action is PurgeAction.DELETE and (not isinstance(years, int) or years < 1):
            raise RetentionError(f"{where} ({record}): years must be a whole number of at least 1")
        basis = str(entry.get("basis", "")).strip()
        if not basis:
            raise RetentionError(f"{where} ({record}): basis must name the law the period comes from")
        policies.append(
            RetentionPolicy(record, action, years, str(entry.get("from", "")), basis, str(entry.get("confidence", "")))
        )
    return RetentionSchedule(str(document.get("version", "")), tuple(policies))
