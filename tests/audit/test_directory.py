"""A log split over a directory of files (a day per file, a Spark job's partitions) is audited as the one file
it would make: the same rows, in the files' order, and an error names the file and its own row."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from fairdun.adapters.audit import loading
from fairdun.adapters.audit.duckdb_engine import DuckDBAuditEngine
from fairdun.application.audit import AuditInputError, AuditJob, LogRow
from fairdun.cli.main import app
from fairdun.config.packs import PackLoader
from tests.audit.data import seeded_log, write_facts, write_log_csv, write_log_parquet

SPLITS = (0, 150, 150, 290)  # the files' first rows: the second file is empty


def split(rows: Sequence[LogRow], directory: Path, kind: str) -> Path:
    """``rows`` over four files in ``day=NN/`` directories (as a partitioned export writes them), with what a
    reader must pass over beside them: a Spark job's ``_SUCCESS``, its ``_temporary`` directory and a hidden
    file (neither of them a readable log)."""
    write = write_log_parquet if kind == "parquet" else write_log_csv
    ends = (*SPLITS[1:], len(rows))
    for day, (start, end) in enumerate(zip(SPLITS, ends, strict=True)):
        (directory / f"day={day:02d}").mkdir(parents=True)
        write(rows[start:end], directory / f"day={day:02d}" / f"part-0.{kind}")
    (directory / "_SUCCESS").write_text("", encoding="utf-8")
    (directory / "_temporary").mkdir()
    (directory / "_temporary" / f"part-9.{kind}").write_text("not a log", encoding="utf-8")
    (directory / f".part-0.{kind}").write_text("not a log", encoding="utf-8")
    return directory


def audit(log: Path, facts: Path | None, out: Path) -> pq.ParquetFile:
    summary = DuckDBAuditEngine().run(AuditJob(PackLoader().load("cn"), log, facts, out))
    return pq.ParquetFile(summary.output)


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_a_directory_of_files_is_audited_as_the_one_file(tmp_path: Path, kind: str) -> None:
    rows, tables = seeded_log(400, 2)
    rows = [replace(r, content=r.content or None) for r in rows]  # CSV cannot tell empty from missing
    facts = write_facts(tables, tmp_path / "facts")
    whole = (write_log_parquet if kind == "parquet" else write_log_csv)(rows, tmp_path / f"log.{kind}")
    parts = split(rows, tmp_path / "log", kind)
    one = audit(whole, facts, tmp_path / "one").read()
    many = audit(parts, facts, tmp_path / "many").read()
    assert one.num_rows > 50
    assert len(set(one["rule"].to_pylist())) >= 4
    assert many.equals(one)
    # Ids are joined back by row number through the files (Parquet: read beside the query with Arrow).
    if kind == "parquet":
        by_file, by_directory = loading.read_labels([whole]), loading.read_labels(loading.files_of(parts))
        assert by_file is not None
        assert by_directory is not None
        assert by_directory.equals(by_file)


def records(kind: str, n: int, **changes: str) -> list[dict[str, str]]:
    """``n`` clean rows of a day (ids ``<kind>-<i>``), Shanghai, a message a minute from 09:00 local; ``changes``
    to the last."""
    rows = []
    for i in range(n):
        row = {
            "id": f"{kind}-{i:03d}",
            "at": f"2026-11-23T{9 + i // 60:02d}:{i % 60:02d}:00+08:00",
            "debt": f"L{i}",
            "debtor": f"B{i}",
            "party": f"B{i}",
            "role": "debtor",
            "address": f"+1202555{i:04d}",
            "tz": "Asia/Shanghai",
            "channel": "sms",
            "purpose": "collect",
            "direction": "outbound",
            "outcome": "delivered",
        }
        rows.append(row)
    rows[-1].update(changes)
    return rows


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        import pyarrow as pa  # noqa: PLC0415

        pq.write_table(pa.table({k: [r[k] for r in rows] for k in rows[0]}), path, row_group_size=4)
    return path


def refused(log: Path, tmp_path: Path) -> str:
    with pytest.raises(AuditInputError) as raised:
        audit(log, None, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    return str(raised.value)


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_a_bad_row_is_named_by_its_file_and_its_row_there(tmp_path: Path, kind: str) -> None:
    log = tmp_path / "log"
    write(log / f"a.{kind}", records("a", 7))
    write(log / f"b.{kind}", records("b", 9, channel="fax"))  # the ninth row of the second file
    alone = tmp_path / "alone"
    write(alone / "day=02" / f"b.{kind}", records("b", 9, channel="fax"))  # one file: still named
    assert refused(alone, tmp_path).startswith(f"{alone / 'day=02' / f'b.{kind}'}: row 9: column channel:")
    assert refused(log, tmp_path) == (
        f"{log / f'b.{kind}'}: row 9: column channel: unknown value 'fax'; expected "
        "one of call|ai_call|sms|email|im|letter|visit"
    )


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_an_id_in_two_files_names_both(tmp_path: Path, kind: str) -> None:
    log = tmp_path / "log"
    write(log / f"a.{kind}", records("a", 7))
    write(log / f"b.{kind}", records("b", 5, id="a-002"))
    assert refused(log, tmp_path) == (
        f"{log / f'b.{kind}'}: row 5: column id: 'a-002' is also on {log / f'a.{kind}'} row 3; ids must be unique"
    )


def test_a_party_in_two_zones_across_files_is_named_where_it_changes(tmp_path: Path) -> None:
    log = tmp_path / "log"
    write(log / "a.parquet", records("a", 7))
    moved = records("b", 6)
    moved[3] |= {"party": "B2", "address": "+12025550002", "tz": "Asia/Urumqi"}  # B2 is in Shanghai in a.parquet
    write(log / "b.parquet", moved)
    assert refused(log, tmp_path).startswith(f"{log / 'b.parquet'}: row 4: column tz: party 'B2' appears in zones")


def test_what_a_directory_cannot_be(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "day=01").mkdir(parents=True)
    assert refused(empty, tmp_path) == f"{empty}: holds no .parquet or .csv file"
    mixed = tmp_path / "mixed"
    write(mixed / "a.parquet", records("a", 3))
    write(mixed / "b.csv", records("b", 3))
    assert refused(mixed, tmp_path) == f"{mixed}: holds both .parquet (1) and .csv (1) files; a log is one kind"
    short = tmp_path / "short"
    write(short / "a.parquet", records("a", 3))
    write(short / "b.parquet", [{k: v for k, v in r.items() if k != "party"} for r in records("b", 3)])
    assert refused(short, tmp_path).startswith(f"{short / 'b.parquet'}: column party: column 'party' is missing")
    broken = tmp_path / "broken"
    write(broken / "a.parquet", records("a", 3))
    (broken / "b.parquet").write_bytes(b"PAR1 not really")
    assert refused(broken, tmp_path).startswith(f"{broken / 'b.parquet'}: cannot be read")
    assert refused(tmp_path / "none", tmp_path) == f"{tmp_path / 'none'}: no such file or directory"


def test_the_cli_takes_a_directory(tmp_path: Path) -> None:
    log = tmp_path / "log"
    write(log / "a.csv", records("a", 3))
    write(log / "b.csv", records("b", 2, at="2026-11-23T23:30:00+08:00"))  # a message at night
    result = CliRunner().invoke(app, ["audit", "run", "--log", str(log), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.stderr
    found = pq.read_table(tmp_path / "out" / "violations.parquet")
    assert (found["id"].to_pylist(), found["rule"].to_pylist()) == (["b-001"], ["CN-TIME"])
    help_text = CliRunner().invoke(app, ["audit", "run", "--help"], terminal_width=200).stdout
    assert "or a directory of them" in help_text


def test_files_may_differ_in_their_optional_columns(tmp_path: Path) -> None:
    # The first file has no content, operator or org; the second has them, with a threat in one message.
    plain = records("a", 3)
    labelled = [r | {"content": "", "operator": "op-7", "org": "agency-b"} for r in records("b", 3)]
    labelled[1]["content"] = "再不还钱，小心你家人的安全。"
    log = tmp_path / "log"
    write(log / "a.parquet", plain)
    write(log / "b.parquet", labelled)
    whole = write(
        tmp_path / "whole.parquet", [r | {"content": "", "operator": "", "org": ""} for r in plain] + labelled
    )
    many, one = audit(log, None, tmp_path / "many").read(), audit(whole, None, tmp_path / "one").read()
    assert many.equals(one)
    assert (many["id"].to_pylist(), many["rule"].to_pylist()) == (["b-001"], ["CN-CONTENT"])
    assert many["operator"].to_pylist() == ["op-7"]
