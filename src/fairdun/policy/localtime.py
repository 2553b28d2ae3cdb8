"""Local dates and wall-clock times in a recipient's zone, as epoch seconds.

Rules compare epoch seconds (floats) rather than datetimes: a cap window becomes two numbers computed once, and
counting history is a bisection. Conversions go through ``zoneinfo`` so daylight-saving days are 23 or 25
hours long, as they are for the person being called.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DAY_SECONDS = 86_400


@lru_cache(maxsize=512)
def zone(key: str) -> ZoneInfo:
    """The zone for an IANA key. Keys are validated at the edge; an unknown key raises there, not here."""
    return ZoneInfo(key)


@lru_cache(maxsize=65_536)
def day_start(key: str, ordinal: int) -> float:
    """Epoch seconds of the first instant of local date ``ordinal`` in zone ``key``.

    Where midnight falls in a daylight-saving gap, ``fold=0`` maps it to the transition, which is the first
    instant that carries that local date.
    """
    d = date.fromordinal(ordinal)
    return datetime(d.year, d.month, d.day, tzinfo=zone(key)).timestamp()


def wall_to_epoch(key: str, ordinal: int, seconds: float) -> float:
    """Epoch seconds of local wall time ``seconds`` after midnight on local date ``ordinal``."""
    if seconds <= 0:
        return day_start(key, ordinal)
    if seconds >= DAY_SECONDS:
        return day_start(key, ordinal + 1)
    d = date.fromordinal(ordinal)
    whole = int(seconds)
    micro = round((seconds - whole) * 1_000_000)
    wall = datetime.combine(d, time(whole // 3600, whole % 3600 // 60, whole % 60, micro), tzinfo=zone(key))
    return wall.timestamp()


def local_parts(key: str, ts: float) -> tuple[int, float, int]:
    """(local date ordinal, seconds since local midnight, ISO weekday 1=Mon..7=Sun) of an instant."""
    local = datetime.fromtimestamp(ts, zone(key))
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1_000_000
    return local.toordinal(), seconds, local.isoweekday()


def local_date(key: str, ts: float) -> date:
    return datetime.fromtimestamp(ts, zone(key)).date()


def to_local(key: str, ts: float) -> datetime:
    """An aware datetime in the zone's local offset, for output."""
    return datetime.fromtimestamp(ts, zone(key))


def epoch_to_utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def seconds_of_day(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


ONE_SECOND = timedelta(seconds=1)
