"""Strict reading of parsed TOML/JSON tables: every wrong, missing or unknown field is named by its path."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, time
from enum import StrEnum
from typing import TypeVar

from fairdun.policy.errors import FieldError

E = TypeVar("E", bound=StrEnum)

_MISSING = object()
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)(?::([0-5]\d))?$")


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def type_name(value: object) -> str:
    names = {
        str: "a string",
        bool: "true/false",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)


class Reader:
    """Reads one table; call :meth:`finish` to reject keys nobody asked for (a typo is an error, not a no-op)."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping):
            raise FieldError(path, f"expected a table, got {type_name(data)}")
        self.data: Mapping[str, object] = data
        self.path = path
        self.seen: set[str] = set()

    def at(self, key: str) -> str:
        return join(self.path, key)

    def raw(self, key: str, default: object = _MISSING) -> object:
        self.seen.add(key)
        if key not in self.data:
            if default is _MISSING:
                raise FieldError(self.at(key), "is required")
            return default
        return self.data[key]

    def has(self, key: str) -> bool:
        return key in self.data

    def string(self, key: str, default: str | object | None = _MISSING) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str) or not value.strip():
            raise FieldError(self.at(key), f"expected a non-empty string, got {type_name(value)}")
        return value

    def optional_string(self, key: str) -> str | None:
        value = self.raw(key, None)
        if value is None:
            return None
        if not isinstance(value, str):
            raise FieldError(self.at(key), f"expected a string, got {type_name(value)}")
        return value

    def boolean(self, key: str, default: bool | object = _MISSING) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise FieldError(self.at(key), f"expected true or false, got {type_name(value)}")
        return value

    def integer(self, key: str, *, minimum: int | None = None, default: int | object = _MISSING) -> int:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError(self.at(key), f"expected an integer, got {type_name(value)}")
        if minimum is not None and value < minimum:
            raise FieldError(self.at(key), f"must be at least {minimum}, got {value}")
        return value

    def day(self, key: str) -> date:
        value = self.raw(key)
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise FieldError(self.at(key), f"expected a date (YYYY-MM-DD), got {value!r}")

    def sequence(self, key: str, default: Sequence[object] | object = _MISSING) -> Sequence[object]:
        value = self.raw(key, default)
        if not isinstance(value, list | tuple):
            raise FieldError(self.at(key), f"expected a list, got {type_name(value)}")
        return value

    def strings(self, key: str, default: Sequence[str] | object = _MISSING) -> tuple[str, ...]:
        items = self.sequence(key, default)
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item:
                raise FieldError(join(self.at(key), i), f"expected a non-empty string, got {type_name(item)}")
            out.append(item)
        return tuple(out)

    def enums(self, key: str, enum: type[E], default: Sequence[str] | object = _MISSING) -> frozenset[E]:
        items = self.strings(key, default)
        return frozenset(parse_enum(enum, item, join(self.at(key), i)) for i, item in enumerate(items))

    def table(self, key: str, default: Mapping[str, object] | object = _MISSING) -> Reader:
        return Reader(self.raw(key, default), self.at(key))

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            known = ", ".join(sorted(self.seen)) or "nothing"
            raise FieldError(self.at(unknown[0]), f"unknown field (this table takes: {known})")


def parse_enum(enum: type[E], value: object, path: str) -> E:
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    choices = "|".join(m.value for m in enum)
    raise FieldError(path, f"unknown value {value!r}; expected one of {choices}")


def parse_clock(value: object, path: str, *, allow_24: bool = False) -> int:
    """'HH:MM' or 'HH:MM:SS' as seconds after midnight; '24:00' only where it ends a day."""
    if isinstance(value, time):
        return value.hour * 3600 + value.minute * 60 + value.second
    if isinstance(value, str):
        m = _HHMM.match(value)
        if m:
            hours, minutes, seconds = int(m[1]), int(m[2]), int(m[3] or 0)
            total = hours * 3600 + minutes * 60 + seconds
            if total < 86_400 or (allow_24 and total == 86_400):
                return total
    hint = "HH:MM, 00:00-24:00" if allow_24 else "HH:MM, 00:00-23:59"
    raise FieldError(path, f"{value!r} is not a time of day ({hint})")
