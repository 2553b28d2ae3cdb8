"""``fairdun audit run`` through Typer's CliRunner: exit 0 clean, 1 with violations, 2 on bad input with one
line naming the file, row and column, and nothing written."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from fairdun.application.audit import LOG_SPEC
from fairdun.cli.main import app
from tests.audit.data import log_row as row

runner = CliRunner()
HEADER = list(LOG_SPEC)


def write(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def audit(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["audit", "run", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_clean_log_exits_0_and_writes_an_empty_file(tmp_path: Path) -> None:
    log = write(tmp_path / "log.csv", [row(0), row(1)])
    code, out, err = audit("--log", str(log), "--out", str(tmp_path / "out"))
    assert (code, err) == (0, "")
    assert pq.read_table(tmp_path / "out" / "violations.parquet").num_rows == 0
    assert "0 violations" in out


def test_a_call_at_2230_local_time_is_indeterminate_without_agreed_windows(tmp_path: Path) -> None:
    log = write(tmp_path / "log.csv", [row(0), row(1, id="NIGHT", at="2026-11-23T22:30:00+08:00")])
    code, out, _ = audit("--log", str(log), "--out", str(tmp_path / "out"), "--format", "csv")
    table = pa_csv.read_csv(tmp_path / "out" / "violations.csv")
    assert code == 1
    assert table["effect"].to_pylist() == ["indeterminate"]
    assert "agreed_windows" in out


def test_a_call_at_2230_local_time_is_reported_with_its_citation_and_exit_1(tmp_path: Path) -> None:
    log = write(tmp_path / "log.csv", [row(0), row(1, id="NIGHT", at="2026-11-23T22:30:00+08:00")])
    facts = tmp_path / "facts"
    facts.mkdir()
    (facts / "agreed_windows.csv").write_text("party,start,end\nB9,22:00,23:00\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    args = ("--log", str(log), "--facts", str(facts), "--out", str(out_dir), "--format", "csv", "--lang", "en")
    code, out, _ = audit(*args)
    assert code == 1
    table = pa_csv.read_csv(out_dir / "violations.csv")
    assert table["id"].to_pylist() == ["NIGHT"]
    assert table["rule"].to_pylist() == ["CN-TIME"]
    assert table["effect"].to_pylist() == ["deny"]
    assert "GB/T 45251-2025" in table["citation"][0].as_py()
    assert [str(t) for t in table["local_time"].to_pylist()] == ["22:30:00"]
    assert "CN-TIME" in out
    assert (out_dir / "report.html").is_file()


def test_the_seventh_dial_to_one_number_in_a_local_day_is_reported_on_the_seventh_only(tmp_path: Path) -> None:
    rows = [row(n, at=f"2026-11-23T{9 + n:02d}:00:00+08:00") for n in range(8)]
    log = write(tmp_path / "log.csv", rows)
    code, _, _ = audit("--log", str(log), "--out", str(tmp_path / "out"), "--no-report")
    table = pq.read_table(tmp_path / "out" / "violations.parquet")
    assert code == 1
    assert table["id"].to_pylist() == ["C6", "C7"]
    assert set(table["rule"].to_pylist()) == {"CN-DIAL-DAY"}
    assert not (tmp_path / "out" / "report.html").exists()


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_zones_of_the_same_offsets_are_one_zone_to_the_caps(tmp_path: Path, engine: str) -> None:
    # A number reached in Asia/Shanghai and in Asia/Hong_Kong (both UTC+8, no daylight saving): the same local
    # dates, so the dial cap counts them together and nothing is refused, on either engine.
    zones = ("Asia/Shanghai", "Asia/Hong_Kong")
    rows = [row(n, at=f"2026-11-23T{9 + n:02d}:00:00+08:00", tz=zones[n % 2]) for n in range(8)]
    log = write(tmp_path / "log.csv", rows)
    code, _, err = audit("--log", str(log), "--out", str(tmp_path / "out"), "--no-report", "--engine", engine)
    assert (code, err) == (1, "")
    table = pq.read_table(tmp_path / "out" / "violations.parquet")
    assert table["id"].to_pylist() == ["C6", "C7"]
    assert set(table["rule"].to_pylist()) == {"CN-DIAL-DAY"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"at": "2026-11-23T10:00:00"}, "row 2: column at: '2026-11-23T10:00:00' is not an RFC 3339 instant"),
        ({"at": "yesterday"}, "row 2: column at: 'yesterday' is not an RFC 3339 instant"),
        ({"channel": "fax"}, "row 2: column channel: unknown value 'fax'; expected one of call|ai_call"),
        ({"outcome": "hung_up"}, "row 2: column outcome: unknown value 'hung_up'"),
        ({"tz": "Asia/Shangai"}, "row 2: column tz: unknown time zone 'Asia/Shangai'"),
        ({"party": " "}, "row 2: column party: empty; a value is required"),
        ({"id": "C0"}, "row 2: column id: 'C0' is also on row 1; ids must be unique"),
        ({"tz": "Asia/Tokyo"}, "row 2: column tz: party 'B1' appears in zones 'Asia/Shanghai' and 'Asia/Tokyo'"),
    ],
)
def test_a_bad_value_exits_2_naming_file_row_and_column_and_writes_nothing(
    tmp_path: Path, change: dict[str, str], expected: str
) -> None:
    log = write(tmp_path / "log.csv", [row(0), row(1, **change), row(2)])
    code, out, err = audit("--log", str(log), "--out", str(tmp_path / "out"))
    assert code == 2
    assert err.startswith(f"fairdun: error: {log}: {expected}")
    assert err.count("\n") == 1
    assert "Traceback" not in out + err
    assert not (tmp_path / "out").exists()


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    log = write(tmp_path / "log.csv", [row(0)], [h for h in HEADER if h != "tz"])
    code, _, err = audit("--log", str(log), "--out", str(tmp_path / "out"))
    assert code == 2
    assert f"{log}: column tz: column 'tz' is missing" in err
    assert not (tmp_path / "out").exists()


def test_a_bad_fact_table_is_named_with_its_row(tmp_path: Path) -> None:
    log = write(tmp_path / "log.csv", [row(0)])
    facts = tmp_path / "facts"
    facts.mkdir()
    (facts / "agreed_windows.csv").write_text("party,start,end\nB1,07:00,08:00\nB1,25:00,08:00\n", encoding="utf-8")
    code, _, err = audit("--log", str(log), "--facts", str(facts), "--out", str(tmp_path / "out"))
    assert code == 2
    assert f"{facts / 'agreed_windows.csv'}: row 2: column start: '25:00' is not a time of day" in err


def test_threads_bound_duckdb_and_the_screening_and_must_be_one_or_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fairdun.adapters.audit import screening  # noqa: PLC0415

    asked: list[int | None] = []
    flag_table = screening.flag_table

    def spy(*args: Any, workers: int | None = None) -> Any:
        asked.append(workers)
        return flag_table(*args, workers=workers)

    monkeypatch.setattr(screening, "flag_table", spy)
    log = write(tmp_path / "log.csv", [row(0, content="你这个老赖，赶紧还钱。"), row(1)])
    code, out, err = audit("--log", str(log), "--out", str(tmp_path / "out"), "--threads", "1")
    assert (code, asked) == (1, [1])
    assert "CN-CONTENT" in out
    code, _, err = audit("--log", str(log), "--out", str(tmp_path / "zero"), "--threads", "0")
    assert code == 2
    assert "--threads" in err
    assert not (tmp_path / "zero").exists()


def test_an_unknown_engine_and_a_missing_file_are_refused(tmp_path: Path) -> None:
    code, _, err = audit("--log", str(tmp_path / "none.csv"), "--engine", "oracle")
    assert code == 2
    assert "--engine: expected one of duckdb, spark" in err
    code, _, err = audit("--log", str(tmp_path / "none.csv"), "--out", str(tmp_path / "out"))
    assert code == 2
    assert "none.csv: no such file" in err


def test_a_parquet_log_is_read_in_place_and_its_bad_row_named(tmp_path: Path) -> None:
    import pyarrow as pa  # noqa: PLC0415

    records = [row(0), row(1, channel="fax"), row(2)]
    table = pa.table({name: [r[name] for r in records] for name in HEADER})
    pq.write_table(table, tmp_path / "log.parquet")
    code, _, err = audit("--log", str(tmp_path / "log.parquet"), "--out", str(tmp_path / "out"))
    assert code == 2
    assert "log.parquet: row 2: column channel: unknown value 'fax'" in err


def test_parquet_timestamps_without_a_zone_are_refused_by_column(tmp_path: Path) -> None:
    from datetime import datetime  # noqa: PLC0415

    import pyarrow as pa  # noqa: PLC0415

    records = [row(0)]
    columns = {name: [r[name] for r in records] for name in HEADER}
    columns["at"] = pa.array([datetime(2026, 11, 23, 10, 0)], pa.timestamp("us"))  # noqa: DTZ001 (the point)
    pq.write_table(pa.table(columns), tmp_path / "log.parquet")
    code, _, err = audit("--log", str(tmp_path / "log.parquet"), "--out", str(tmp_path / "out"))
    assert code == 2
    assert "column at: is TIMESTAMP; expected instants with a UTC offset" in err


def test_compare_shows_the_attempts_only_the_stricter_pack_blocks(tmp_path: Path) -> None:
    stricter = Path(__file__).parent.parent.parent / "examples" / "packs" / "cn-ningxia.toml"
    log = write(tmp_path / "log.csv", [row(0), row(1, id="LATE", at="2026-11-23T21:00:00+08:00")])
    out = tmp_path / "cmp"
    result = runner.invoke(
        app,
        ["audit", "compare", "--log", str(log), "--pack", "cn", "--pack", str(stricter), "--out", str(out)],
    )
    assert result.exit_code == 0, result.stderr
    table = pq.read_table(out / "compare.parquet")
    assert table["id"].to_pylist() == ["LATE"]
    assert table["change"].to_pylist() == ["second only"]
    assert table["rules_first"].to_pylist() == [""]
    assert "CN-TIME" in table["rules_second"][0].as_py()
    assert "blocked by this pack only" in result.stdout


def test_compare_needs_two_packs(tmp_path: Path) -> None:
    log = write(tmp_path / "log.csv", [row(0)])
    result = runner.invoke(app, ["audit", "compare", "--log", str(log), "--pack", "cn"])
    assert result.exit_code == 2
    assert "give exactly two packs" in result.stderr
