"""``output.finish``: one row per (attempt, rule) that did not allow, in log order (position, not instant) and
then pack order, whether the engine handed its rows over in order, shuffled or in runs."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from fairdun.adapters.audit import output
from fairdun.adapters.audit.compile import code
from fairdun.config.packs import PackLoader

PACK = PackLoader().load("cn")


def raw_rows(n: int) -> list[dict[str, object]]:
    draw = random.Random(7)
    rows = []
    for rn in range(1, n + 1):
        effects = [draw.choice((0, 0, 1, 2)) for _ in PACK.rules]
        effects[0] = effects[0] or 1  # every attempt here broke something
        rows.append(
            {
                "rn": rn,
                "id": f"E{rn:04d}",
                "ts": 1_800_000_000_000_000 + draw.randrange(5) * 60_000_000,  # ties on the instant
                "lday": 20_800,
                "lus": 3_600_000_000 * 9 + rn,
                "debt": "L1",
                "debtor": "B1",
                "party": "B1",
                "role": code("role", "debtor"),
                "address": "+12025550100",
                "channel": code("channel", "sms"),
                "purpose": code("purpose", "collect"),
                "operator": f"op-{rn % 3}" if rn % 5 else None,
                "org": "agency-a",
                **{f"e_{k}": e for k, e in enumerate(effects)},
            }
        )
    return rows


def test_the_rows_come_out_in_log_order_however_the_engine_handed_them_over() -> None:
    rows = raw_rows(40)  # in log order; their instants are not (a log need not be sorted by time)
    assert sorted(rows, key=lambda r: (r["ts"], r["rn"])) != rows
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    runs = rows[20:30] + rows[:10] + rows[30:] + rows[10:20]  # as DuckDB hands them over: runs in order
    by_time = sorted(rows, key=lambda r: (r["ts"], r["rn"]))
    first = output.finish(pa.Table.from_pylist(rows), PACK, "en")
    for other in (shuffled, runs, by_time):
        assert output.finish(pa.Table.from_pylist(other), PACK, "en").equals(first)
    ordered = rows
    expected = [
        (r["id"], PACK.rules[k].id, "deny" if r[f"e_{k}"] == 1 else "indeterminate")
        for r in ordered
        for k in range(len(PACK.rules))
        if r[f"e_{k}"]
    ]
    got = list(
        zip(
            first.column("id").to_pylist(),
            first.column("rule").to_pylist(),
            first.column("effect").to_pylist(),
            strict=True,
        )
    )
    assert got == expected
    assert set(first.column("role").to_pylist()) == {"debtor"}
    assert set(first.column("channel").to_pylist()) == {"sms"}
    assert first.column("local_time").to_pylist()[0].startswith("09:00:00")


def test_labels_left_out_of_the_query_are_taken_by_row_number_and_give_the_same_rows() -> None:
    # The DuckDB engine's query leaves id, operator and org out; they come from the log, row rn - 1.
    rows = raw_rows(30)
    carried = pa.Table.from_pylist(sorted(rows, key=lambda r: (r["ts"], r["rn"])))  # not in log order
    labels = pa.table(
        {
            "id": [r["id"] for r in rows],
            "operator": [r["operator"] for r in rows],
            "org": [r["org"] for r in rows],
        }
    )
    without = carried.drop_columns(["id", "operator", "org"])
    assert output.finish(without, PACK, "zh", labels).equals(output.finish(carried, PACK, "zh"))
    shifted = pa.concat_tables([labels.slice(1), labels.slice(0, 1)])  # off by one row: caught
    assert not output.finish(without, PACK, "zh", shifted).equals(output.finish(carried, PACK, "zh"))


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_written_in_parts_the_file_holds_the_same_rows_and_the_counts_add_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    raw = pa.Table.from_pylist(sorted(raw_rows(40), key=lambda r: (r["ts"], r["rn"])))
    whole = output.finish(raw, PACK, "zh")
    monkeypatch.setattr(output, "PART_ROWS", 7)  # six parts, written while the next is made
    written = output.emit(raw, PACK, "zh", tmp_path / "out", fmt)
    assert written.path == tmp_path / "out" / f"violations.{fmt}"
    assert written.rows == whole.num_rows
    expected = {r.id: n for r in PACK.rules if (n := whole.column("rule").to_pylist().count(r.id))}
    assert written.by_rule == expected
    texts = pa_csv.ConvertOptions(column_types={"local_time": pa.string()})
    back = pq.read_table(written.path) if fmt == "parquet" else pa_csv.read_csv(written.path, convert_options=texts)
    assert back.column("id").to_pylist() == whole.column("id").to_pylist()
    assert back.column("rule").to_pylist() == whole.column("rule").to_pylist()
    assert back.column("local_time").to_pylist() == whole.column("local_time").to_pylist()
    assert [p.name for p in (tmp_path / "out").iterdir()] == [f"violations.{fmt}"]  # no temporary file left


def test_nothing_to_report_still_writes_an_empty_file_with_the_columns(tmp_path: Path) -> None:
    raw = pa.Table.from_pylist(raw_rows(3)).slice(0, 0)
    written = output.emit(raw, PACK, "zh", tmp_path, "parquet")
    assert (written.rows, written.by_rule) == (0, {})
    assert pq.read_table(written.path).schema.names == output.OUTPUT_SCHEMA.names


def test_the_clock_readings_are_every_second_of_the_day_as_text() -> None:
    clock = output._clock()
    clock.validate(full=True)
    assert len(clock) == 86_400
    assert [clock[s].as_py() for s in (0, 59, 60, 3_599, 3_661, 45_296, 86_399)] == [
        "00:00:00",
        "00:00:59",
        "00:01:00",
        "00:59:59",
        "01:01:01",
        "12:34:56",
        "23:59:59",
    ]


def test_repeated_labels_are_written_with_the_same_dictionary_whatever_they_were_taken_from() -> None:
    # DuckDB's labels come with the log's whole dictionary, Spark's as text; the file must not tell them apart.
    whole = pa.array(["op-9", "op-1", "op-2", "op-3"]).dictionary_encode()
    taken = whole.take(pa.array([2, None, 1, 2, 3]))
    compact = output._compact(taken)
    assert compact.equals(output._compact(pa.array(["op-2", None, "op-1", "op-2", "op-3"])))
    assert compact.dictionary.to_pylist() == ["op-2", "op-1", "op-3"]
    assert compact.to_pylist() == ["op-2", None, "op-1", "op-2", "op-3"]
    nothing = pa.DictionaryArray.from_arrays(pa.nulls(3, pa.int32()), pa.array([], pa.string()))
    assert output._compact(nothing).to_pylist() == [None, None, None]
