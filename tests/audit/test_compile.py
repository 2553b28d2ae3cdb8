"""The compiled query's zones: each row's UTC offset and zone class are constants written into the query from
``zoneinfo`` (no table of offsets to join), so they must give zoneinfo's offset on every instant, on both sides
of every transition in the log's span."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pytest

from fairdun.adapters.audit.compile import _zones, zone_classes, zone_segments

US = 1_000_000


def micros(moment: datetime) -> int:
    return int(moment.timestamp()) * US


def offsets(rows: list[tuple[int, str]]) -> list[tuple[int, int]]:
    """(offset in microseconds, class) per (instant, zone), as the compiled SQL gives them on DuckDB."""
    lo, hi = min(ts for ts, _ in rows), max(ts for ts, _ in rows)
    segments = zone_segments({z for _, z in rows}, lo, hi)
    zone, offset, kind = _zones(segments, zone_classes(segments), "duckdb")
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE audit_log (i INTEGER, ts BIGINT, tz VARCHAR)")
        con.executemany("INSERT INTO audit_log VALUES (?, ?, ?)", [(i, ts, z) for i, (ts, z) in enumerate(rows)])
        found = con.execute(
            f"SELECT {offset}, {kind} FROM (SELECT i, ts, {zone} AS zx FROM audit_log) a ORDER BY i"
        ).fetchall()
    finally:
        con.close()
    return [(int(o), int(c)) for o, c in found]


def test_offsets_are_zoneinfos_on_both_sides_of_each_transition() -> None:
    # London and New York change offset on different days of March and of October-November 2026; Kolkata is
    # +05:30 throughout; Shanghai and Hong Kong agree throughout (one class).
    zones = ["Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Shanghai", "Asia/Hong_Kong"]
    transitions = [
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York springs forward
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # London springs forward
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # London falls back
        datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York falls back
    ]
    instants = [micros(t) + d for t in transitions for d in (-1, 0, 1)]
    instants += [micros(datetime(2026, 1, 15, tzinfo=UTC)), micros(datetime(2026, 7, 1, 12, tzinfo=UTC))]
    rows = [(ts, z) for ts in instants for z in zones]
    found = offsets(rows)
    for (ts, z), (offset, _) in zip(rows, found, strict=True):
        moment = datetime.fromtimestamp(ts // US, UTC) + timedelta(microseconds=ts % US)
        expected = moment.astimezone(ZoneInfo(z)).utcoffset()
        assert expected is not None
        assert offset == int(expected.total_seconds()) * US, (moment, z)
    by_zone = {z: c for (_, z), (_, c) in zip(rows, found, strict=True)}
    assert by_zone["Asia/Shanghai"] == by_zone["Asia/Hong_Kong"]
    assert len(set(by_zone.values())) == 4


def test_a_zone_name_that_would_need_quoting_is_refused() -> None:
    with pytest.raises(ValueError, match="not a zone name"):
        _zones([("Asia/Shanghai'; --", 0, 1, 0)], {"Asia/Shanghai'; --": 0}, "duckdb")


def test_the_spark_dialect_lists_the_zones_as_an_array() -> None:
    zone, _, _ = _zones([("Asia/Shanghai", 0, 1, 8 * 3600 * US)], {"Asia/Shanghai": 0}, "spark")
    assert "array('Asia/Shanghai')" in zone
    assert "[" not in zone
