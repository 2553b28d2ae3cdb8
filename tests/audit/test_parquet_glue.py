"""``parquet_glue``: Parquet parts joined into one file by copying their row groups, and the footer codec under it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairdun.adapters.audit import output, parquet_glue
from fairdun.adapters.audit.parquet_glue import GlueError

NAMES = ("Wang Fang", "Li Na", "Zhang Wei", "Liu Yang", "Chen Jing")


def table(n: int, seed: int = 0) -> pa.Table:
    """A table with what the audit writes and more: dictionaries, nulls, instants, doubles, lists, many columns."""
    rows = range(seed, seed + n)
    columns: dict[str, pa.Array] = {
        "id": pa.array([f"E{i:07d}" for i in rows]),
        "name": pa.array([NAMES[i % 5] for i in rows]).dictionary_encode(),
        "note": pa.array([None if i % 7 == 0 else f"note {i % 13}" for i in rows]),
        "at": pa.array([1_800_000_000_000_000 + i * 61_000_000 for i in rows], pa.timestamp("us", tz="UTC")),
        "amount": pa.array([i * 0.25 for i in rows], pa.float64()),
        "flags": pa.array([[i % 2 == 0, i % 3 == 0] for i in rows], pa.list_(pa.bool_())),
    }
    columns |= {f"c{k}": pa.array([(i * k) % 11 for i in rows], pa.int32()) for k in range(12)}  # > 15 fields
    return pa.table(columns)


def footer_of(path: Path) -> bytes:
    data = path.read_bytes()
    length = int.from_bytes(data[-8:-4], "little")
    return data[-8 - length : -8]


def write(t: pa.Table, path: Path, **options: object) -> Path:
    pq.write_table(t, path, **options)  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize(
    "options",
    [{}, {"write_page_index": True}, {"use_dictionary": False, "write_statistics": False}, {"row_group_size": 100}],
)
def test_a_footer_read_and_written_again_is_the_same_bytes(tmp_path: Path, options: dict[str, object]) -> None:
    footer = footer_of(write(table(500), tmp_path / "t.parquet", **options))
    assert parquet_glue.encode(parquet_glue.decode(footer)) == footer


def test_the_output_schema_footer_survives_too(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    output._parquet(output.OUTPUT_SCHEMA.empty_table(), path)
    footer = footer_of(path)
    assert parquet_glue.encode(parquet_glue.decode(footer)) == footer


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=6), small=st.booleans())
def test_joined_parts_are_the_file_one_writer_would_have_written(
    tmp_path_factory: pytest.TempPathFactory, sizes: list[int], small: bool
) -> None:
    where = tmp_path_factory.mktemp("glue")
    whole = table(sum(sizes))
    size = 64 if small else None  # several row groups to a part, or one
    parts, start = [], 0
    for i, n in enumerate(sizes):
        parts.append(write(whole.slice(start, n), where / f"p{i}.parquet", row_group_size=size))
        start += n
    rows = parquet_glue.glue(parts, where / "glued.parquet")
    with pq.ParquetWriter(where / "one.parquet", whole.schema) as writer:
        for i, n in enumerate(sizes):
            writer.write_table(whole.slice(sum(sizes[:i]), n), row_group_size=size)
    glued, one = pq.ParquetFile(where / "glued.parquet"), pq.ParquetFile(where / "one.parquet")
    assert rows == sum(sizes) == glued.metadata.num_rows
    assert glued.read().equals(one.read())
    assert glued.schema_arrow.equals(one.schema_arrow)  # Arrow's schema (dictionaries, zones) kept
    assert glued.metadata.num_row_groups == one.metadata.num_row_groups
    for g in range(glued.metadata.num_row_groups):
        for c in range(glued.metadata.num_columns):
            a, b = glued.metadata.row_group(g).column(c), one.metadata.row_group(g).column(c)
            assert (a.statistics is None) == (b.statistics is None)
            if a.statistics is not None and b.statistics is not None and a.statistics.has_min_max:
                assert (a.statistics.min, a.statistics.max) == (b.statistics.min, b.statistics.max)
    counted = duckdb.sql(f"SELECT count(*), count(note), sum(c5) FROM '{where / 'glued.parquet'}'").fetchone()
    assert counted == (
        len(whole),
        whole.column("note").length() - whole.column("note").null_count,
        sum(whole.column("c5").to_pylist()) if len(whole) else None,
    )


def test_every_offset_in_the_joined_footer_points_at_the_bytes_it_pointed_at_in_its_part(tmp_path: Path) -> None:
    parts = [
        write(table(n, seed), tmp_path / f"p{seed}.parquet", row_group_size=32)
        for seed, n in ((0, 90), (90, 40), (130, 70))
    ]
    parquet_glue.glue(parts, tmp_path / "glued.parquet")
    glued = (tmp_path / "glued.parquet").read_bytes()
    moved = parquet_glue.decode(footer_of(tmp_path / "glued.parquet"))[4][1][1]
    checked = 0
    for part in parts:
        data = part.read_bytes()
        for group in parquet_glue.decode(footer_of(part))[4][1][1]:
            new_group = moved.pop(0)
            assert glued[new_group[5][1] :][:32] == data[group[5][1] :][:32]  # the row group's own offset
            for old, new in zip(group[1][1][1], new_group[1][1][1], strict=True):
                pairs = [(old[3][1][n][1], new[3][1][n][1]) for n in (9, 10, 11, 14) if n in old[3][1]]
                pairs += [(old[2][1], new[2][1])] if old[2][1] else []  # the deprecated offset, 0 when not given
                assert (new[2][1] == 0) == (old[2][1] == 0)
                for before, after in pairs:
                    assert glued[after : after + 32] == data[before : before + 32]
                    checked += 1
    assert moved == []
    assert checked > 100


def test_what_is_not_a_parquet_file_is_named(tmp_path: Path) -> None:
    good = write(table(10), tmp_path / "good.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"id,at\nE1,2026-01-01\n")
    with pytest.raises(GlueError, match=r"bad\.parquet: not a Parquet file"):
        parquet_glue.glue([good, bad], tmp_path / "out.parquet")
    cut = tmp_path / "cut.parquet"
    data = good.read_bytes()
    cut.write_bytes(data[:4] + data[-8:])  # a footer length larger than the file
    with pytest.raises(GlueError, match=r"cut\.parquet: its footer's length"):
        parquet_glue.glue([cut], tmp_path / "out.parquet")
    with pytest.raises(GlueError, match="ends in the middle"):
        parquet_glue.decode(footer_of(good)[:-5])
    odd = tmp_path / "odd.parquet"  # a well-formed Thrift struct that is not a FileMetaData
    footer = parquet_glue.encode({1: (parquet_glue.I32, 2), 4: (parquet_glue.BINARY, b"row groups?")})
    odd.write_bytes(b"PAR1" + footer + len(footer).to_bytes(4, "little") + b"PAR1")
    with pytest.raises(GlueError, match=r"odd\.parquet: its footer is not laid out"):
        parquet_glue.glue([good, odd], tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()  # refused before anything was written
    with pytest.raises(GlueError, match="nothing to join"):
        parquet_glue.glue([], tmp_path / "out.parquet")


def test_a_part_with_a_page_index_is_refused(tmp_path: Path) -> None:
    plain = write(table(10), tmp_path / "plain.parquet")
    indexed = write(table(10), tmp_path / "indexed.parquet", write_page_index=True)
    with pytest.raises(GlueError, match=r"indexed\.parquet: has a page index"):
        parquet_glue.glue([plain, indexed], tmp_path / "out.parquet")


def test_parts_of_different_schemas_are_refused(tmp_path: Path) -> None:
    one = write(table(10), tmp_path / "one.parquet")
    other = write(table(10).drop_columns(["note"]), tmp_path / "other.parquet")
    with pytest.raises(GlueError, match=r"other\.parquet: its schema differs"):
        parquet_glue.glue([one, other], tmp_path / "out.parquet")


def test_a_failed_join_leaves_the_last_output_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "violations.parquet").write_bytes(b"last run")
    parts = [output.OUTPUT_SCHEMA.empty_table(), output.OUTPUT_SCHEMA.empty_table()]

    def broken(pieces: list[Path], target: Path) -> int:
        target.write_bytes(b"half")
        raise GlueError("disk full")

    monkeypatch.setattr(parquet_glue, "glue", broken)
    with pytest.raises(GlueError, match="disk full"):
        output._write(iter(parts), out, "parquet")
    assert [p.name for p in out.iterdir()] == ["violations.parquet"]
    assert (out / "violations.parquet").read_bytes() == b"last run"
