"""Loading a Parquet log: the checks that are proven from the file's statistics and dictionaries instead of row
by row must still find every bad value, on the row the row-by-row check names, in any row group."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fairdun.adapters.audit import loading
from fairdun.application.audit import LOG_SPEC, AuditInputError
from tests.audit.data import log_row


def record(n: int, **changes: Any) -> dict[str, Any]:
    """The test log's row ``n`` with ``at`` as an instant (a Parquet timestamp with a zone); ids sort as numbers."""
    base: dict[str, Any] = {**log_row(n, id=f"C{n:03d}"), "at": datetime(2026, 11, 23, 1 + n, 0, tzinfo=UTC)}
    base["content"] = None
    base.update(changes)
    return base


def parquet(path: Path, records: list[dict[str, Any]], row_group_size: int = 2) -> Path:
    columns: dict[str, pa.Array] = {}
    for name in LOG_SPEC:
        values = [r[name] for r in records]
        kind = pa.timestamp("us", tz="UTC") if name == "at" else pa.string()
        columns[name] = pa.array(values, kind)
    pq.write_table(pa.table(columns), path, row_group_size=row_group_size)
    return path


def load(path: Path) -> None:
    con = duckdb.connect()
    try:
        loading.load_log(con, path)
        loading.check_keys(con, path, [("party",), ("address",)])
    finally:
        con.close()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"party": None}, "row 5: column party: empty; a value is required"),
        ({"party": ""}, "row 5: column party: empty; a value is required"),
        ({"party": "   "}, "row 5: column party: empty; a value is required"),
        ({"id": None}, "row 5: column id: empty; a value is required"),
        ({"tz": ""}, "row 5: column tz: empty; a value is required"),
        ({"role": None}, "row 5: column role: empty; a value is required"),
        ({"role": "neighbour"}, "row 5: column role: unknown value 'neighbour'"),
        ({"channel": "fax"}, "row 5: column channel: unknown value 'fax'"),
        ({"direction": "sideways"}, "row 5: column direction: unknown value 'sideways'"),
        ({"at": None}, "row 5: column at: empty; a value is required"),
        ({"tz": "Asia/Shangai"}, "row 5: column tz: unknown time zone 'Asia/Shangai'"),
        ({"id": "C001"}, "row 5: column id: 'C001' is also on row 2; ids must be unique"),
    ],
)
def test_a_bad_value_in_a_later_row_group_is_named_by_its_row(
    tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    records = [record(n) for n in range(6)]
    records[4] = record(4, **change)
    path = parquet(tmp_path / "log.parquet", records)
    with pytest.raises(AuditInputError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}: {expected}")


def test_a_clean_parquet_log_needs_no_row_by_row_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[list[str]] = []
    original = loading._refuse_first_bad_row

    def spy(con: Any, label: str, table: str, spec: Any, checks: list[tuple[str, str]]) -> None:
        ran.append([column for column, _ in checks])
        original(con, label, table, spec, checks)

    monkeypatch.setattr(loading, "_refuse_first_bad_row", spy)
    load(parquet(tmp_path / "clean.parquet", [record(n) for n in range(6)]))
    assert ran == [[]]
    # A value that starts with a space is allowed, but the statistics cannot show that no value is blank: that
    # column, and only it, is checked row by row.
    ran.clear()
    load(parquet(tmp_path / "spaced.parquet", [record(n, debt=" L1" if n == 3 else "L1") for n in range(6)]))
    assert ran == [["debt"]]


def test_ids_that_ascend_are_known_unique_and_any_other_order_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loading, "ID_BATCH", 2)  # so the comparison crosses batches
    rising = parquet(tmp_path / "rising.parquet", [record(n) for n in range(7)])
    assert loading.ascending_ids([rising])
    swapped = [record(n) for n in range(7)]
    swapped[2], swapped[1] = record(2, id="C001"), record(1, id="C002")  # within a batch
    assert not loading.ascending_ids([parquet(tmp_path / "swapped.parquet", swapped)])
    across = [record(n) for n in range(7)]
    across[2] = record(2, id="C000")  # equal to an id in the batch before
    assert not loading.ascending_ids([parquet(tmp_path / "across.parquet", across)])
    assert not loading.ascending_ids([tmp_path / "log.csv"])
    # The ids as read beside the query (read_labels) are checked the same way, across batches too.
    read = loading.read_labels([tmp_path / "across.parquet"])
    assert read is not None
    assert not loading.ascending_ids([tmp_path / "across.parquet"], read.column("id"))
    assert loading.ascending_ids([rising], pa.chunked_array([["C000", "C001"], ["C002", "C003", "C004"]]))
    # Not ascending, with a repeat: the general check finds it and names both rows.
    with pytest.raises(AuditInputError, match=r"row 3: column id: 'C000' is also on row 1"):
        load(tmp_path / "across.parquet")


@pytest.mark.parametrize("night", [True, False], ids=["with violations", "without violations"])
def test_a_party_in_two_zones_is_refused_whether_or_not_the_query_found_violations(tmp_path: Path, night: bool) -> None:
    # The query checks one zone per cap key and says so on every row it returns; with no row, the loader
    # checks. Either way the same row is named, and nothing is written.
    from fairdun.adapters.audit.duckdb_engine import DuckDBAuditEngine  # noqa: PLC0415
    from fairdun.application.audit import AuditJob  # noqa: PLC0415
    from fairdun.config.packs import PackLoader  # noqa: PLC0415

    records = [record(n) for n in range(6)]
    if night:
        records[0] = record(0, at=datetime(2026, 11, 22, 15, 0, tzinfo=UTC))  # 23:00 in Shanghai
    records[4] = record(4, tz="Asia/Tokyo")
    path = parquet(tmp_path / "log.parquet", records)
    job = AuditJob(PackLoader().load("cn"), path, None, tmp_path / "out")
    with pytest.raises(AuditInputError) as caught:
        DuckDBAuditEngine(threads=1).run(job)
    assert str(caught.value).startswith(
        f"{path}: row 5: column tz: party 'B1' appears in zones 'Asia/Shanghai' and 'Asia/Tokyo'"
    )
    assert not (tmp_path / "out").exists()


def test_columns_of_other_types_are_checked_for_what_they_can_hold(tmp_path: Path) -> None:
    # Bytes can be empty, so a binary column is checked row by row; numbers only for nulls.
    records = [record(n) for n in range(6)]
    table = pq.read_table(parquet(tmp_path / "base.parquet", records))
    party = pa.array([b"B1", b"B1", b"B1", b"B1", b"", b"B1"], pa.binary())
    blank = tmp_path / "binary.parquet"
    pq.write_table(table.set_column(table.schema.get_field_index("party"), "party", party), blank, row_group_size=2)
    with pytest.raises(AuditInputError, match=r"row 5: column party: empty; a value is required"):
        load(blank)
    debts = pa.array([1, 2, 3, 4, None, 6], pa.int64())
    missing = tmp_path / "numbers.parquet"
    pq.write_table(table.set_column(table.schema.get_field_index("debt"), "debt", debts), missing, row_group_size=2)
    with pytest.raises(AuditInputError, match=r"row 5: column debt: empty; a value is required"):
        load(missing)
    whole = pa.array([1, 2, 3, 4, 5, 6], pa.int64())
    numbered = tmp_path / "numbered.parquet"
    pq.write_table(table.set_column(table.schema.get_field_index("debt"), "debt", whole), numbered, row_group_size=2)
    load(numbered)  # no error


@pytest.mark.parametrize(
    ("zones", "zones_first", "in_query"),
    [(1, False, False), (2, False, True), (2, True, False)],
    ids=["one zone", "two zones, checked by the query", "two zones, checked by the loader first"],
)
def test_the_zone_check_runs_once_and_not_for_a_log_of_one_zone(
    tmp_path: Path, zones: int, zones_first: bool, in_query: bool
) -> None:
    from fairdun.adapters.audit.duckdb_engine import prepare  # noqa: PLC0415
    from fairdun.application.audit import AuditJob  # noqa: PLC0415
    from fairdun.config.packs import PackLoader  # noqa: PLC0415

    records = [record(n) for n in range(4)]
    if zones == 2:
        records[3] = record(3, party="B2", address="+12025550101", tz="Asia/Tokyo")
    path = parquet(tmp_path / "log.parquet", records)
    con = duckdb.connect()
    try:
        compiled, *_ = prepare(
            con, AuditJob(PackLoader().load("cn"), path, None, tmp_path / "out"), zones_first=zones_first
        )
        assert ("min(zi) AS lo, max(zi) AS hi" in compiled.sql) is in_query
    finally:
        con.close()


def test_labels_read_from_the_file_are_the_loaders_own_by_row(tmp_path: Path) -> None:
    # read_labels (Arrow, beside the query) and labels (through DuckDB, any input) give the same table: row
    # rn - 1, a missing or empty operator or org as null (then read_labels leaves it to DuckDB).
    records = [record(n, operator=f"op-{n}", org="agency-a" if n % 2 else None) for n in range(5)]
    path = parquet(tmp_path / "log.parquet", records)
    read = loading.read_labels([path])
    assert read is not None
    con = duckdb.connect()
    try:
        loading.load_log(con, path)
        assert read.equals(loading.labels(con))
    finally:
        con.close()
    assert read.column("id").to_pylist() == [f"C{n:03d}" for n in range(5)]
    assert read.column("org").to_pylist() == [None, "agency-a", None, "agency-a", None]
    records[2]["operator"] = ""
    empty = parquet(tmp_path / "empty.parquet", records)
    assert loading.read_labels([empty]) is None
    con = duckdb.connect()
    try:
        loading.load_log(con, empty)
        assert loading.labels(con).column("operator").to_pylist()[2] is None
    finally:
        con.close()
    no_org = tmp_path / "no_org.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["org"]), no_org)
    absent = loading.read_labels([no_org])
    assert absent is not None
    assert absent.column("org").null_count == 5
    assert loading.read_labels([tmp_path / "log.csv"]) is None
    assert loading.read_labels([tmp_path / "missing.parquet"]) is None  # the loader names that, not this


@pytest.mark.parametrize("statistics", [True, False], ids=["from statistics", "by reading the column"])
def test_the_span_of_instants_is_the_logs_first_and_last(tmp_path: Path, statistics: bool) -> None:
    records = [record(n) for n in (3, 0, 5, 1)]
    path = tmp_path / "log.parquet"
    pq.write_table(pq.read_table(parquet(path, records)), path, row_group_size=2, write_statistics=statistics)
    con = duckdb.connect()
    try:
        loading.load_log(con, path)
        first, last = records[1]["at"], records[2]["at"]
        expected = (int(first.timestamp() * 1_000_000), int(last.timestamp() * 1_000_000))
        assert loading.instant_span(con) == expected
    finally:
        con.close()


def test_the_engine_refuses_a_parquet_log_with_a_repeated_id_and_writes_nothing(tmp_path: Path) -> None:
    # The ids are checked once the labels are read (beside the query), before anything is written.
    from fairdun.adapters.audit.duckdb_engine import DuckDBAuditEngine  # noqa: PLC0415
    from fairdun.application.audit import AuditJob  # noqa: PLC0415
    from fairdun.config.packs import PackLoader  # noqa: PLC0415

    records = [record(n) for n in range(5)]
    records[3] = record(3, id="C001")
    path = parquet(tmp_path / "log.parquet", records)
    with pytest.raises(AuditInputError, match=r"row 4: column id: 'C001' is also on row 2; ids must be unique"):
        DuckDBAuditEngine().run(AuditJob(PackLoader().load("cn"), path, None, tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_zones_whose_offsets_agree_over_the_log_are_one_class() -> None:
    from fairdun.adapters.audit.compile import zone_classes, zone_segments  # noqa: PLC0415

    july = int(datetime(2026, 7, 1, tzinfo=UTC).timestamp() * 1_000_000)
    december = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp() * 1_000_000)
    zones = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Urumqi", "Europe/London", "Europe/Lisbon", "Africa/Accra"]
    classes = zone_classes(zone_segments(zones, july, december))
    assert classes["Asia/Shanghai"] == classes["Asia/Hong_Kong"]
    assert classes["Europe/London"] == classes["Europe/Lisbon"]  # the same offsets, changed at the same instants
    assert classes["Africa/Accra"] != classes["Europe/London"]  # UTC+0 in winter only
    assert len(set(classes.values())) == 4
    # Over a span without daylight saving, London and Accra agree too.
    winter = zone_classes(zone_segments(["Europe/London", "Africa/Accra"], december, december + 86_400_000_000))
    assert winter["Europe/London"] == winter["Africa/Accra"]


def test_under_a_memory_limit_the_labels_go_through_the_query_and_the_file_is_the_same(tmp_path: Path) -> None:
    from fairdun.adapters.audit.duckdb_engine import DuckDBAuditEngine  # noqa: PLC0415
    from fairdun.application.audit import AuditJob  # noqa: PLC0415
    from fairdun.config.packs import PackLoader  # noqa: PLC0415

    # Night calls, the same number dialled eight times: violations with ids, operators and organisations.
    records = [record(n, at=datetime(2026, 11, 23, 14 + n, 0, tzinfo=UTC), operator=f"op-{n % 3}") for n in range(8)]
    path = parquet(tmp_path / "log.parquet", records)
    pack = PackLoader().load("cn")
    beside = DuckDBAuditEngine().run(AuditJob(pack, path, None, tmp_path / "beside"))
    limited = DuckDBAuditEngine(memory_limit="512MB").run(AuditJob(pack, path, None, tmp_path / "limited"))
    first, second = pq.read_table(beside.output), pq.read_table(limited.output)
    assert first.num_rows > 0
    assert set(first.column("operator").to_pylist()) >= {"op-0", "op-1"}
    assert first.equals(second)


def test_the_loader_counts_the_rows_of_each_zone_it_checks(tmp_path: Path) -> None:
    # The engine takes the log's zones and its most common zone class from these counts (no second scan).
    records = [record(n, tz="Asia/Urumqi" if n in (1, 3) else "Asia/Shanghai") for n in range(5)]
    con = duckdb.connect()
    try:
        assert loading.load_log(con, parquet(tmp_path / "log.parquet", records)) == {
            "Asia/Shanghai": 3,
            "Asia/Urumqi": 2,
        }
    finally:
        con.close()
