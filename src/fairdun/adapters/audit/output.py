"""What both engines share after the query: the rules table they join, the output's types, and writing it.

Both engines hand back the query's rows as an Arrow table; :func:`finish` gives them one schema (instants as UTC
timestamps, the recipient's local date and time beside them), so the same log gives the same file whichever
engine ran it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from fairdun.adapters.audit import parquet_glue
from fairdun.adapters.audit.compile import CODED, SECOND_US
from fairdun.policy.pack import Pack

RULES_SCHEMA = pa.schema(
    [("k", pa.int32()), ("rule", pa.string()), ("citation", pa.string()), ("message", pa.string())]
)

# Rule, effect, citation and message repeat on every row, operators and organisations on many: dictionary-encoded,
# each text is stored once.
OUTPUT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("rule", pa.dictionary(pa.int32(), pa.string())),
        ("effect", pa.dictionary(pa.int32(), pa.string())),
        ("at", pa.timestamp("us", tz="UTC")),
        ("local_date", pa.date32()),
        ("local_time", pa.string()),
        ("debt", pa.string()),
        ("debtor", pa.string()),
        ("party", pa.string()),
        ("role", pa.string()),
        ("address", pa.string()),
        ("channel", pa.string()),
        ("purpose", pa.string()),
        ("operator", pa.dictionary(pa.int32(), pa.string())),
        ("org", pa.dictionary(pa.int32(), pa.string())),
        ("citation", pa.dictionary(pa.int32(), pa.string())),
        ("message", pa.dictionary(pa.int32(), pa.string())),
    ]
)


# Query rows per output part (about 2^19 attempts: some 70 MB of output rows at a time).
PART_ROWS = 1 << 19


def rules_table(pack: Pack, lang: str) -> pa.Table:
    """(k, rule, citation, message) for every rule of the pack, ``k`` its position."""
    rows = [(k, r.id, r.citation, r.message_en if lang == "en" else r.message_zh) for k, r in enumerate(pack.rules)]
    return pa.Table.from_pylist([dict(zip(RULES_SCHEMA.names, row, strict=True)) for row in rows], RULES_SCHEMA)


def finish(raw: pa.Table, pack: Pack, lang: str, labels: pa.Table | None = None) -> pa.Table:
    """The query's rows (one per attempt, an answer ``e_k`` per rule) as one row per (attempt, rule) that did
    not allow, in the output schema, in the order of the log (its position, ``rn``) and then of the pack; each
    rule's id, citation and message looked up by position. (:func:`emit` writes the same rows a part at a
    time.)

    ``labels`` gives ``id``, ``operator`` and ``org`` by row number (row ``rn - 1``) when the query left them
    out (``loading.read_labels``)."""
    parts = list(finish_parts(raw, pack, lang, labels))
    return pa.concat_tables(parts) if parts else OUTPUT_SCHEMA.empty_table()


def finish_parts(raw: pa.Table, pack: Pack, lang: str, labels: pa.Table | None = None) -> Iterator[pa.Table]:
    """:func:`finish`'s rows as consecutive tables, each from at most ``PART_ROWS`` of the query's rows.

    The order is found on integers only: the attempts by log position, then their answers read as a matrix
    (attempt, rule) whose non-zero cells, taken row by row, are already in (position, rule) order. Every text
    column is then gathered once, the columns side by side on a small thread pool (Arrow's kernels release the
    GIL). Log order rather than the instant's: DuckDB hands the rows over in runs already in that order, which a
    stable sort (Timsort) merges in about linear time, and the gathers, of the log's labels too (which are in log
    order), then read memory nearly in order; by instant they read it at random, and sorting in the query cost
    more than the sort saved (docs/benchmarks.md)."""
    rules = rules_table(pack, lang)
    n_rules = len(pack.rules)
    if raw.num_rows == 0 or n_rules == 0:
        return
    rn = _integers(raw.column("rn"))
    order = np.arange(raw.num_rows) if bool(np.all(rn[1:] > rn[:-1])) else np.argsort(rn, kind="stable")
    effects = [_integers(raw.column(f"e_{k}")) for k in range(n_rules)]
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        for start in range(0, raw.num_rows, PART_ROWS):
            part = order[start : start + PART_ROWS]
            answers = np.empty((len(part), n_rules), dtype=np.int8)
            for k in range(n_rules):
                answers[:, k] = effects[k][part]
            rows, positions = np.nonzero(answers)
            if rows.size:
                yield _table(
                    raw, rules, pool, labels, picked=part[rows], positions=positions, answer=answers[rows, positions]
                )


def _table(
    raw: pa.Table,
    rules: pa.Table,
    pool: ThreadPoolExecutor,
    labels: pa.Table | None,
    *,
    picked: np.ndarray[tuple[int], np.dtype[np.int64]],
    positions: np.ndarray[tuple[int], np.dtype[np.int64]],
    answer: np.ndarray[tuple[int], np.dtype[np.int8]],
) -> pa.Table:
    """Output rows for the query's rows ``picked`` (in output order), rule positions and answers."""
    index = pa.array(picked)
    k = pa.chunked_array([pa.array(positions.astype(np.int32))])
    carried = [c for c in _CARRIED if labels is None or c not in _LABELS]
    taken = dict(zip(carried, pool.map(lambda name: raw.column(name).take(index), carried), strict=True))
    if labels is not None:
        rows = pc.subtract(pc.cast(taken["rn"], pa.int64()), 1)
        taken |= dict(zip(_LABELS, pool.map(lambda name: labels.column(name).take(rows), _LABELS), strict=True))
    # The local time of day as text, taken from the day's 86,400 clock readings by the second (no arithmetic or
    # formatting per row).
    seconds = pc.divide(pc.cast(taken["lus"], pa.int64()), pa.scalar(SECOND_US, pa.int64()))

    effects = pa.DictionaryArray.from_arrays(
        pa.array((answer != 1).astype(np.int32)), pa.array(["deny", "indeterminate"], pa.string())
    )
    columns = {
        "id": taken["id"],
        "rule": _coded(k, rules.column("rule")),
        "effect": effects,
        "at": pc.cast(pc.cast(taken["ts"], pa.int64()), pa.timestamp("us", tz="UTC")),
        "local_date": pc.cast(pc.cast(taken["lday"], pa.int32()), pa.date32()),
        "local_time": _clock().take(seconds),
        "citation": _coded(k, rules.column("citation")),
        "message": _coded(k, rules.column("message")),
    }
    for name in OUTPUT_SCHEMA.names[6:-2]:
        columns[name] = _decoded(taken[name], name) if name in CODED else taken[name]
    for name in ("operator", "org"):
        columns[name] = _compact(columns[name])
    return pa.table([pc.cast(columns[f.name], f.type) for f in OUTPUT_SCHEMA], schema=OUTPUT_SCHEMA)


_WORKERS = 4


@cache
def _clock() -> pa.Array:
    """Every second of a day as ``HH:MM:SS``, by its number."""
    s = np.arange(86_400)
    h, m, c = s // 3600, s // 60 % 60, s % 60
    colon = np.full(86_400, ord(":"))
    digits = [h // 10, h % 10, colon, m // 10, m % 10, colon, c // 10, c % 10]
    text = (np.stack(digits, axis=1) + np.array([48, 48, 0, 48, 48, 0, 48, 48])).astype(np.uint8)
    offsets = np.arange(0, 8 * 86_401, 8, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), 86_400, [None, pa.py_buffer(offsets), pa.py_buffer(text.tobytes())])


def _integers(column: pa.ChunkedArray) -> np.ndarray[tuple[int], np.dtype[np.int64]]:
    """An integer column as one NumPy int64 array (answers are never NULL: the query coalesces them)."""
    return np.asarray(pc.cast(column, pa.int64()).combine_chunks().to_numpy(zero_copy_only=False), dtype=np.int64)


def _compact(column: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """Repeated text as a dictionary of only the values its rows use, in the order they first appear (what
    ``dictionary_encode`` makes of the values): the same whether the rows were taken from the log's whole
    dictionary (``loading.read_labels``) or came as text from the query, so both engines write the same file."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not pa.types.is_dictionary(column.type):
        return pc.dictionary_encode(pc.cast(column, pa.string()))
    codes = pc.fill_null(pc.cast(column.indices, pa.int64()), -1).to_numpy()
    present = codes >= 0
    order = pc.unique(pc.drop_null(column.indices)).to_numpy()  # in the order of first appearance
    position = np.zeros(max(1, len(column.dictionary)), dtype=np.int32)  # (0 stands in under a null)
    position[order] = np.arange(len(order), dtype=np.int32)
    indices = pa.array(position[np.where(present, codes, 0)], pa.int32(), mask=~present)
    return pa.DictionaryArray.from_arrays(indices, pc.cast(column.dictionary.take(pa.array(order)), pa.string()))


def _decoded(codes: pa.ChunkedArray, column: str) -> pa.ChunkedArray:
    """An enum column the query carried as codes (``compile.code``: positions in ``compile.CODED`` from 1), as
    its values."""
    dictionary = pa.array(CODED[column], pa.string())
    return pa.chunked_array(
        [
            pa.DictionaryArray.from_arrays(
                pc.subtract(pc.cast(chunk, pa.int32()), pa.scalar(1, pa.int32())), dictionary
            )
            for chunk in codes.chunks
        ],
        pa.dictionary(pa.int32(), pa.string()),
    )


def _coded(k: pa.ChunkedArray, values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Rule positions as a dictionary array over the rules' texts: no text is copied per row."""
    dictionary = values.combine_chunks()
    return pa.chunked_array([pa.DictionaryArray.from_arrays(chunk, dictionary) for chunk in k.chunks])


_LABELS = ("id", "operator", "org")  # by row number from ``labels`` when the query left them out
_CARRIED = (
    "rn",
    "id",
    "ts",
    "lday",
    "lus",
    "debt",
    "debtor",
    "party",
    "role",
    "address",
    "channel",
    "purpose",
    "operator",
    "org",
)


# Parquet dictionary pages pay only where values repeat; ids, parties and addresses are nearly unique, and
# encoding them was a third of the write (measured: docs/benchmarks.md). Min/max statistics are kept where a
# reader narrows a month down (instant, date, rule): not on the near-unique texts (another fifth of the write),
# nor on the few-valued columns, where every row group holds nearly every value anyway.
_REPEATED = ("rule", "effect", "citation", "message", "role", "channel", "purpose", "operator", "org", "local_date")
_SUMMARISED = ("rule", "at", "local_date")


@dataclass(frozen=True, slots=True)
class Written:
    """What :func:`emit` wrote: the file, its rows, and the rows per rule (pack order, rules with none left
    out)."""

    path: Path
    rows: int
    by_rule: dict[str, int]


def emit(raw: pa.Table, pack: Pack, lang: str, out: Path, fmt: str, *, labels: pa.Table | None = None) -> Written:
    """:func:`finish` and :func:`_write` at once, overlapped: the parts are written by other threads while the next
    is built, so the file is ready soon after the last part (the rows and the file are the same)."""
    counted = np.zeros(len(pack.rules), dtype=np.int64)

    def count(part: pa.Table) -> pa.Table:
        indices = pc.cast(part.column("rule").combine_chunks().indices, pa.int64()).to_numpy()
        counted[:] += np.bincount(indices, minlength=len(pack.rules))
        return part

    path, rows = _write((count(part) for part in finish_parts(raw, pack, lang, labels)), out, fmt)
    return Written(path, rows, {r.id: int(n) for r, n in zip(pack.rules, counted, strict=True) if n})


WRITERS = 2  # Parquet parts written at once (each on its own thread, to its own file)


def _write(parts: Iterable[pa.Table], out: Path, fmt: str, writers: int = WRITERS) -> tuple[Path, int]:
    """The parts into ``out/violations.<fmt>`` through a temporary file renamed at the end, written by other
    threads while the iterator makes the next part (at most ``writers`` parts wait for them).

    CSV is written part after part by one thread. Parquet parts are written side by side, each to a temporary
    file of its own, and then joined into one file by copying their row groups as encoded
    (:mod:`~fairdun.adapters.audit.parquet_glue`): PyArrow's writer encodes one column after another on one
    thread, and was the output's longest step. Whatever fails, no temporary file is left behind."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"violations.{fmt}"
    tmp = _temporary(out, "")
    pieces: list[Path] = []
    rows = 0
    try:
        if fmt == "csv":
            plain = pa.schema([pa.field(f.name, _plain(f.type)) for f in OUTPUT_SCHEMA])
            with pa_csv.CSVWriter(tmp, plain) as writer, ThreadPoolExecutor(max_workers=1) as pool:
                pending: Future[None] | None = None
                for part in parts:
                    rows += part.num_rows
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(_csv, writer, part)
                if pending is not None:
                    pending.result()
        else:
            with ThreadPoolExecutor(max_workers=writers) as pool:
                written: list[Future[None]] = []
                for part in parts:
                    rows += part.num_rows
                    pieces.append(_temporary(out, f".{len(pieces)}"))
                    written.append(pool.submit(_parquet, part, pieces[-1]))
                    for earlier in written[: max(0, len(written) - writers)]:
                        earlier.result()  # no more than ``writers`` parts held waiting
                for piece in written:
                    piece.result()
            if len(pieces) == 1:
                pieces[0].replace(tmp)
            elif pieces:
                parquet_glue.glue(pieces, tmp)
            else:
                _parquet(OUTPUT_SCHEMA.empty_table(), tmp)
        tmp.chmod(0o644)
        tmp.replace(target)
    finally:
        for leftover in (tmp, *pieces):
            leftover.unlink(missing_ok=True)
    return target, rows


def _temporary(out: Path, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(dir=out, prefix=".violations.", suffix=f"{suffix}.tmp")
    os.close(fd)
    return Path(name)


def _csv(writer: pa_csv.CSVWriter, part: pa.Table) -> None:
    # The dictionaries cast to text on the writer's thread, beside the next part being built.
    writer.write_table(pa.table([pc.cast(c, _plain(c.type)) for c in part.columns], names=part.column_names))


def _parquet(part: pa.Table, path: Path) -> None:
    with pq.ParquetWriter(
        path, OUTPUT_SCHEMA, use_dictionary=list(_REPEATED), write_statistics=list(_SUMMARISED)
    ) as writer:
        writer.write_table(part)


def _plain(kind: pa.DataType) -> pa.DataType:
    return pa.string() if pa.types.is_dictionary(kind) else kind


def counts(values: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in values.items())
