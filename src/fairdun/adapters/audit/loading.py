"""Reading the audit's input into DuckDB, checked before anything runs.

Every file (the log and each fact table) is read into a table as it is, then one query finds the first row with
a bad value; the error names the file, the row (1 = the first record after any header) and the column. Only
then does a view give the engines the canonical columns (instants as epoch microseconds, clocks as seconds).
Both engines load through here: Spark reads the canonical tables this module writes.

A log may also be a directory of files (a month exported a day per file, or a Spark job's partitioned output):
every ``.parquet`` file under it, or every ``.csv`` file, read as one log in the order of their paths, rows
numbered on through the files. An error then names the file and the row within it (:func:`located`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fairdun.application.audit import ENUMS, FACT_SPECS, LOG_SPEC, AuditInputError

# The log's canonical column names (SQL-safe: "operator" and "at" are words some dialects reserve).
LOG_NAMES: Mapping[str, str] = {"at": "ts", "operator": "op"}
INSTANT_TEXT = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|z|[+-]\d{2}(:?\d{2})?)$"
CLOCK_TEXT = r"^(\d{2}):([0-5]\d)(:([0-5]\d))?$"
ID_BATCH = 1 << 20  # ids compared a batch at a time when checking that they ascend
LABEL_TYPE = pa.dictionary(pa.int32(), pa.string())  # operator and org, as read and as written


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _sql_files(files: Sequence[Path]) -> str:
    """One file, or a list of them, as a DuckDB table function's first argument."""
    return _quoted(files[0]) if len(files) == 1 else "[" + ", ".join(_quoted(f) for f in files) + "]"


def files_of(path: Path) -> list[Path]:
    """The files a log is read from, in log order: ``path`` itself, or for a directory every ``.parquet`` (or
    every ``.csv``) file under it, by path. Files and directories whose names start with ``.`` or ``_`` are left
    out (a Spark job's ``_SUCCESS`` and ``_temporary``, hidden files)."""
    label = str(path)
    if path.is_file():
        if path.suffix.lower() not in (".parquet", ".csv"):
            raise AuditInputError(label, "expected a .parquet or .csv file, or a directory of them")
        return [path]
    if not path.is_dir():
        raise AuditInputError(label, "no such file or directory")
    found: dict[str, list[Path]] = {".parquet": [], ".csv": []}
    for file in path.rglob("*"):
        relative = file.relative_to(path).parts
        if file.suffix.lower() in found and file.is_file() and not any(p.startswith((".", "_")) for p in relative):
            found[file.suffix.lower()].append(file)
    parquet, csv = sorted(found[".parquet"]), sorted(found[".csv"])
    if parquet and csv:
        raise AuditInputError(
            label, f"holds both .parquet ({len(parquet)}) and .csv ({len(csv)}) files; a log is one kind"
        )
    if not parquet and not csv:
        raise AuditInputError(label, "holds no .parquet or .csv file")
    return parquet or csv


def _reader(files: Sequence[Path]) -> str:
    """The table function reading ``files`` (one kind: :func:`files_of`)."""
    if files[0].suffix.lower() == ".parquet":
        return f"read_parquet({_sql_files(files)})"
    several = ", filename = true, union_by_name = true, hive_partitioning = false" if len(files) > 1 else ""
    return f"read_csv({_sql_files(files)}, all_varchar = true, header = true{several})"


def find_file(directory: Path, name: str) -> Path | None:
    """``name.parquet`` or ``name.csv`` in ``directory`` (refusing both at once: which would be meant?)."""
    found = [p for p in (directory / f"{name}.parquet", directory / f"{name}.csv") if p.is_file()]
    if len(found) > 1:
        raise AuditInputError(str(directory), f"both {name}.parquet and {name}.csv; keep one")
    return found[0] if found else None


def _problems(column: str, kind: str, sql_type: str, label: str) -> tuple[str | None, str]:
    """(SQL that is true on a bad row, canonical SQL expression) for one column."""
    c = f'"{column}"'
    text = f"CAST({c} AS VARCHAR)"
    # trim() only where the text starts with a space: it allocates, and this runs on every row.
    empty = f"({c} IS NULL OR {text} = '' OR ({text} LIKE ' %' AND trim({text}) = ''))"
    optional = kind.endswith("?")
    base = kind.rstrip("?")
    if base == "text":
        return (None if optional else empty), f"NULLIF({text}, '')" if optional else text
    if base == "instant":
        if sql_type.startswith("TIMESTAMP WITH TIME ZONE"):
            bad = None if optional else f"{c} IS NULL"
            return bad, f"epoch_us({c})"
        if sql_type != "VARCHAR":
            raise AuditInputError(
                label,
                f"is {sql_type}; expected instants with a UTC offset (TIMESTAMP WITH TIME ZONE, or text "
                "like 2026-11-23T21:30:00+08:00)",
                column=column,
            )
        shape = f"(NOT regexp_matches(trim({c}), '{INSTANT_TEXT}') OR TRY_CAST(trim({c}) AS TIMESTAMPTZ) IS NULL)"
        bad = f"({c} IS NOT NULL AND trim({c}) <> '' AND {shape})" if optional else f"({empty} OR {shape})"
        return bad, f"epoch_us(CAST(NULLIF(trim({c}), '') AS TIMESTAMPTZ))"
    if base == "clock":
        bad = f"({empty} OR NOT regexp_matches(trim({text}), '{CLOCK_TEXT}') OR {_clock_seconds(c)} > 86400)"
        return bad, f"CAST({_clock_seconds(c)} % 86400 AS BIGINT)"
    if base == "zone":
        return empty, text
    values = ENUMS[base]
    listed = ", ".join(f"'{v}'" for v in values)
    return f"({empty} OR {text} NOT IN ({listed}))", text


def _clock_seconds(c: str) -> str:
    t = f"trim(CAST({c} AS VARCHAR))"
    return (
        f"(TRY_CAST(regexp_extract({t}, '{CLOCK_TEXT}', 1) AS INTEGER) * 3600 "
        f"+ TRY_CAST(regexp_extract({t}, '{CLOCK_TEXT}', 2) AS INTEGER) * 60 "
        f"+ COALESCE(TRY_CAST(NULLIF(regexp_extract({t}, '{CLOCK_TEXT}', 4), '') AS INTEGER), 0))"
    )


def _explain(kind: str, value: object) -> str:
    base = kind.rstrip("?")
    shown = repr(value) if value is not None else "nothing"
    if value is None or (isinstance(value, str | bytes) and not value.strip()):
        return "empty; a value is required"
    if base == "instant":
        return f"{shown} is not an RFC 3339 instant with a UTC offset (like 2026-11-23T21:30:00+08:00)"
    if base == "clock":
        return f"{shown} is not a time of day (HH:MM or HH:MM:SS, 00:00-24:00)"
    if base in ENUMS:
        return f"unknown value {shown}; expected one of {'|'.join(ENUMS[base])}"
    return f"{shown} is not valid"


def load(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    spec: Mapping[str, str],
    table: str,
    names: Mapping[str, str],
    *,
    files: Sequence[Path] | None = None,
) -> dict[str, int]:
    """Read ``path`` into ``raw_<table>``, check every value against ``spec``, and create the view ``table``
    with the canonical columns (``names`` renames; ``rn`` is the 1-based row). Returns the rows per zone of the
    spec's zone column (each zone is checked, so they are counted on the way), empty when it has none. ``files``
    are ``path``'s (:func:`files_of`), when the caller listed them already."""
    label = str(path)
    files = files or files_of(path)
    parquet = files[0].suffix.lower() == ".parquet"
    required = [c for c, k in spec.items() if not k.endswith("?")]
    needed = ", ".join(required)
    _read(con, files, table, label, required)
    described = con.execute(f"DESCRIBE raw_{table}").fetchall()
    types = {str(row[0]): str(row[1]) for row in described if str(row[0]) != "_row"}
    checks: list[tuple[str, str]] = []
    selects = [f"_row + 1 AS {names.get('rn', 'rn')}"]
    for column, kind in spec.items():
        out = names.get(column, column)
        if column not in types:
            if kind.endswith("?"):
                selects.append(
                    f"CAST(NULL AS VARCHAR) AS {out}" if kind != "instant?" else f"CAST(NULL AS BIGINT) AS {out}"
                )
                continue
            raise AuditInputError(label, f"column {column!r} is missing (needed: {needed})", column=column)
        bad, expr = _problems(column, kind, types[column], label)
        if bad is not None:
            checks.append((column, bad))
        selects.append(f"{expr} AS {out}")
    if checks and parquet:
        clean = _proven_clean(con, files, table, spec, types)
        checks = [(column, bad) for column, bad in checks if column not in clean]
    _refuse_first_bad_row(con, label, table, spec, checks)
    zones: dict[str, int] = {}
    for column, kind in spec.items():
        if kind == "zone" and column in types:
            for zone_key, rowid, count in con.execute(
                f'SELECT CAST("{column}" AS VARCHAR), min(_row), count(*) FROM raw_{table} GROUP BY 1 ORDER BY 2'
            ).fetchall():
                try:
                    ZoneInfo(str(zone_key))
                except (ZoneInfoNotFoundError, ValueError):
                    raise AuditInputError(
                        label, f"unknown time zone {zone_key!r}", row=int(rowid) + 1, column=column
                    ) from None
                zones[str(zone_key)] = int(count)
    if "end" in spec and "start" in spec:
        start, end = _clock_seconds('"start"'), _clock_seconds('"end"')
        same = con.execute(
            f"SELECT min(_row) FROM (SELECT _row, {start} % 86400 AS s, {end} % 86400 AS e FROM raw_{table}) "
            "WHERE s = e"
        ).fetchone()
        if same is not None and same[0] is not None:
            raise AuditInputError(
                label, "equals start; an agreed window needs a length", row=int(same[0]) + 1, column="end"
            )
    con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT {', '.join(selects)} FROM raw_{table}")
    return zones


def _read(
    con: duckdb.DuckDBPyConnection, files: Sequence[Path], table: str, label: str, required: Sequence[str]
) -> None:
    """``files`` as the view ``raw_<table>`` (``_row`` the 0-based row, numbered on through the files), and the
    table ``files_<table>`` of each file's first row (:func:`where`). Of several Parquet files, one without a
    ``required`` column is refused by name (read with the others, its rows would be nulls there)."""
    parquet = files[0].suffix.lower() == ".parquet"
    several = len(files) > 1
    first = [0]
    try:
        if parquet:
            # Parquet is read in place (no copy): its row numbers come from the file, numbered on through the
            # files of a directory (each file's rows counted from its footer).
            row, reader = "file_row_number", _reader(files)[:-1]
            if several:  # the file's first row by its position in the list (one lookup, however many files)
                first, schemas = _footers(files)
                for file, schema in zip(files, schemas, strict=True):
                    for column in (c for c in required if c not in schema.names):
                        problem = f"column {column!r} is missing (needed: {', '.join(required)})"
                        raise AuditInputError(str(file), problem, column=column)
                row += f" + [{', '.join(map(str, first))}][CAST(file_index AS BIGINT) + 1]"
                # Files alike are bound by the first one's schema; matching them by name reads every footer
                # again each time the view is used.
                alike = all(schema.equals(schemas[0]) for schema in schemas)
                reader += ", hive_partitioning = false" + ("" if alike else ", union_by_name = true")
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW raw_{table} AS SELECT {row} AS _row, * EXCLUDE (file_row_number) "
                f"FROM {reader}, file_row_number = true)"
            )
        else:
            con.execute(f"CREATE OR REPLACE TEMP TABLE raw_{table}_rows AS SELECT * FROM {_reader(files)}")
            if several:  # each file's first row as read (the files in order, each file's rows together)
                placed = dict(con.execute(f"SELECT filename, min(rowid) FROM raw_{table}_rows GROUP BY 1").fetchall())
                first = [int(placed.get(str(f), -1)) for f in files]  # -1: a file of no rows
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW raw_{table} AS SELECT rowid AS _row, * "
                f"{'EXCLUDE (filename) ' if several else ''}FROM raw_{table}_rows"
            )
        con.execute(f"SELECT * FROM raw_{table} LIMIT 0")
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AuditInputError(label, f"cannot be read: {first_line[:300]}") from None
    known = [(str(f), n) for f, n in zip(files, first, strict=True) if n >= 0]
    con.execute(  # one statement for every file (an insert per file costs a millisecond each)
        f"CREATE OR REPLACE TEMP TABLE files_{table} AS "
        "SELECT unnest(CAST(? AS VARCHAR[])) AS file, unnest(CAST(? AS BIGINT[])) AS first",
        [[f for f, _ in known], [n for _, n in known]],
    )


def _footers(files: Sequence[Path]) -> tuple[list[int], list[pa.Schema]]:
    """Each Parquet file's first row in the log (0-based: the rows of the files before it) and its schema, from
    the footers."""
    first: list[int] = []
    schemas: list[pa.Schema] = []
    total = 0
    for file in files:
        first.append(total)
        try:
            footer = pq.read_metadata(file)
            schemas.append(footer.schema.to_arrow_schema())
        except (OSError, pa.ArrowException) as exc:
            raise AuditInputError(str(file), f"cannot be read: {str(exc).strip()[:300]}") from None
        total += footer.num_rows
    return first, schemas


@contextmanager
def located(con: duckdb.DuckDBPyConnection, path: Path, table: str = "audit_log") -> Iterator[None]:
    """An error about a row of a log read from a directory names the file the row is in and its row there
    (the loader and the checks number rows on through the files)."""
    try:
        yield
    except AuditInputError as exc:
        if exc.row is None or exc.file != str(path) or not path.is_dir():
            raise
        file, row = where(con, table, exc.row)
        raise AuditInputError(file, exc.problem, row=row, column=exc.column) from None


def where(con: duckdb.DuckDBPyConnection, table: str, row: int) -> tuple[str, int]:
    """The file and its row (1 = its first record) for the log's row ``row`` (1-based, numbered on through the
    files)."""
    found = con.execute(
        f"SELECT file, first FROM files_{table} WHERE first < ? ORDER BY first DESC LIMIT 1", [row]
    ).fetchone()
    if found is None:
        return "", row
    return str(found[0]), row - int(found[1])


def loaded_files(con: duckdb.DuckDBPyConnection, table: str = "audit_log") -> list[Path]:
    """The files :func:`load` read ``table`` from, in order (a CSV file of no rows left out): the checks after
    loading read these, not the directory listed again."""
    return [Path(str(f)) for (f,) in con.execute(f"SELECT file FROM files_{table} ORDER BY first, file").fetchall()]


def _refuse_first_bad_row(
    con: duckdb.DuckDBPyConnection, label: str, table: str, spec: Mapping[str, str], checks: list[tuple[str, str]]
) -> None:
    """One pass over the rows with every check at once; the first row with a bad value is refused, naming it."""
    if not checks:
        return
    cases = " ".join(f"WHEN {bad} THEN {i}" for i, (_, bad) in enumerate(checks))
    found = con.execute(
        f"SELECT _row, problem FROM (SELECT _row, CASE {cases} END AS problem FROM raw_{table}) "
        "WHERE problem IS NOT NULL ORDER BY _row LIMIT 1"
    ).fetchone()
    if found is not None:
        rowid, index = int(found[0]), int(found[1])
        column = checks[index][0]
        value = con.execute(f'SELECT "{column}" FROM raw_{table} WHERE _row = ?', [rowid]).fetchone()
        shown = value[0] if value else None
        raise AuditInputError(label, _explain(spec[column], shown), row=rowid + 1, column=column)


def _proven_clean(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[Path],
    table: str,
    spec: Mapping[str, str],
    types: Mapping[str, str],
) -> set[str]:
    """Columns of a Parquet log (one file or several) that cannot hold a bad value, shown without testing every
    row: the row-by-row check then runs only on the others (it decodes every value, and was the larger part of
    loading 10 M rows).

    * a required text or zone column: no row group has a null, and every row group's minimum (Parquet's
      ``min_value``, compared as UTF-8 bytes) starts above the space, so no value is empty or starts with one (a
      truncated minimum is a prefix of the true one and starts with the same character); a number or a date
      needs only to have no nulls (bytes are always checked row by row: they can be empty);
    * an enum column: its distinct values (one small aggregation, which DuckDB answers from dictionary pages) are
      all listed, and none is null;
    * a required instant stored as a timestamp with time zone: no nulls (answered from the statistics).

    Statistics count only where every row group of every file has the column (a file without it gives nulls).
    Anything not shown stays in the row-by-row check, which finds and names the first bad row as before."""
    clean: set[str] = set()
    stats: dict[str, list[tuple[object, object]]] = {}
    try:
        listed = con.execute(
            "SELECT path_in_schema, stats_null_count, stats_min_value, file_name, row_group_id "
            f"FROM parquet_metadata({_sql_files(files)})"
        ).fetchall()
    except duckdb.Error:
        return clean  # no statistics to go by: every row is checked
    groups_in_all = len({(row[3], row[4]) for row in listed})
    for name, nulls, low, _, _ in listed:
        stats.setdefault(str(name), []).append((nulls, low))
    stats = {name: found for name, found in stats.items() if len(found) == groups_in_all}
    enums = [c for c, k in spec.items() if k in ENUMS and c in types]
    counted = [c for c, k in spec.items() if c in types and (k in ENUMS or k == "instant")]
    # Nulls as every row group's statistics count them; counted in SQL where any row group has no count.
    found: dict[str, object] = {
        f"nulls:{c}": sum(int(str(n)) for n, _ in stats[c])
        for c in counted
        if stats.get(c) and all(isinstance(n, int) for n, _ in stats[c])
    }
    unknown = [c for c in counted if f"nulls:{c}" not in found]
    if unknown or enums:
        # Whether every distinct value is listed is answered in SQL: a column of unexpected values (a wrong
        # mapping, say) never comes to Python as a list.
        parts = [f'count(*) - count("{c}")' for c in unknown] + [
            f'list_has_all([{", ".join(repr(v) for v in ENUMS[spec[c]])}], list(DISTINCT CAST("{c}" AS VARCHAR)))'
            for c in enums
        ]
        row = con.execute(f"SELECT {', '.join(parts)} FROM raw_{table}").fetchone()
        assert row is not None
        found |= {f"nulls:{c}": row[i] for i, c in enumerate(unknown)}
        found |= {f"values:{c}": row[len(unknown) + i] for i, c in enumerate(enums)}
    for column, kind in spec.items():
        if column not in types:
            continue
        if kind in ENUMS:
            if found[f"nulls:{column}"] == 0 and found[f"values:{column}"] is True:
                clean.add(column)
        elif kind == "instant" and types[column].startswith("TIMESTAMP WITH TIME ZONE"):
            if found[f"nulls:{column}"] == 0:
                clean.add(column)
        elif kind in ("text", "zone"):
            groups = stats.get(column, [])
            if not groups or any(nulls != 0 for nulls, _ in groups):
                continue
            if types[column] == "VARCHAR":
                if all(isinstance(low, str) and low[:1] > " " for _, low in groups):
                    clean.add(column)
            elif not types[column].startswith(("BLOB", "BIT")):  # numbers, dates: never empty once not null
                clean.add(column)
    return clean


def instant_span(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """The first and last instant of the loaded log (epoch microseconds): from a Parquet log's row-group
    statistics when every row group has them for a TIMESTAMP WITH TIME ZONE column (exact for 64-bit
    integers), else by reading the column."""
    files = loaded_files(con)
    if files and files[0].suffix.lower() == ".parquet":
        typed = con.execute(
            "SELECT data_type FROM duckdb_columns() WHERE table_name = 'raw_audit_log' AND column_name = 'at'"
        ).fetchone()
        if typed is not None and str(typed[0]).startswith("TIMESTAMP WITH TIME ZONE"):
            try:
                found = con.execute(
                    "SELECT count(*) = count(stats_min_value) AND count(*) = count(stats_max_value), "
                    "min(epoch_us(CAST(stats_min_value AS TIMESTAMPTZ))), "
                    "max(epoch_us(CAST(stats_max_value AS TIMESTAMPTZ))) "
                    f"FROM parquet_metadata({_sql_files(files)}) WHERE path_in_schema = 'at'"
                ).fetchone()
            except duckdb.Error:
                found = None  # statistics in a form not read here: the column is
            if found is not None and found[0] and found[1] is not None and found[2] is not None:
                return int(found[1]), int(found[2])
    span = con.execute("SELECT min(ts), max(ts) FROM audit_log").fetchone()
    assert span is not None
    return (int(span[0]), int(span[1])) if span[0] is not None else (0, 0)


def load_log(con: duckdb.DuckDBPyConnection, path: Path, files: Sequence[Path] | None = None) -> dict[str, int]:
    """The log as ``audit_log`` (ids are checked to be unique by :func:`check_keys`); returns its rows per zone."""
    return load(con, path, LOG_SPEC, "audit_log", LOG_NAMES, files=files)


def check_ids(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Ids are unique (the exact check, run when the hashed one in :func:`check_keys` found a repeat)."""
    dup = con.execute(
        "SELECT id, min(rn), max(rn) FROM audit_log GROUP BY id HAVING count(*) > 1 ORDER BY 3 LIMIT 1"
    ).fetchone()
    if dup is not None:
        file, row = where(con, "audit_log", int(dup[1]))
        also = f"row {row}" if file in ("", str(path)) else f"{file} row {row}"
        raise AuditInputError(
            str(path), f"{dup[0]!r} is also on {also}; ids must be unique", row=int(dup[2]), column="id"
        )


def load_facts(con: duckdb.DuckDBPyConnection, directory: Path | None) -> list[str]:
    """Every fact table found in ``directory`` as ``f_<name>`` (columns ``c_<column>``); their names."""
    if directory is None:
        return []
    if not directory.is_dir():
        raise AuditInputError(str(directory), "no such directory (--facts names a directory of fact tables)")
    supplied = []
    for name, spec in FACT_SPECS.items():
        path = find_file(directory, name)
        if path is None:
            continue
        load(con, path, spec, f"f_{name}", {c: f"c_{c}" for c in spec} | {"rn": "c_rn"})
        supplied.append(name)
    return supplied


def read_labels(files: Sequence[Path]) -> pa.Table | None:
    """The log's labels (``id``, ``operator``, ``org``: what the output shows of an attempt and no rule reads),
    row ``i`` of the table for log row ``rn = i + 1``, read straight from a Parquet log's ``files`` (:func:`files_of`,
    the list the loader is given) with Arrow (cheaper than carrying them through the query, and it runs beside
    it), as the loader makes them (a missing ``operator`` or ``org`` is null).

    None when Arrow cannot give them as the loader would (not Parquet, not text columns, an unreadable file):
    :func:`labels` then reads them through DuckDB. It runs before the log is checked, so it never raises: the
    loader names what is wrong with the file. (An empty ``operator`` or ``org`` also leaves it to
    :func:`labels`.)"""
    if not files or files[0].suffix.lower() != ".parquet":
        return None
    try:
        schemas = [pq.read_schema(f) for f in files]
        schema = schemas[0]
        names = [n for n in ("id", "operator", "org") if n in schema.names]
        if "id" not in names or not all(
            pa.types.is_string(t) or pa.types.is_large_string(t) for t in (schema.field(n).type for n in names)
        ):
            return None
        kinds = [(n, schema.field(n).type) for n in names]
        if any([(n, s.field(n).type) for n in ("id", "operator", "org") if n in s.names] != kinds for s in schemas):
            return None  # files that differ in their labels: the loader makes them one
        # Operators and organisations repeat: read as dictionaries (their Parquet encoding), they cost a tenth of
        # decoding every value, and the output keeps them so.
        repeated = [n for n in names if n != "id"]
        read = pa.concat_tables(
            [pq.read_table(f, columns=names, read_dictionary=repeated) for f in files]
        ).unify_dictionaries()
        columns = {"id": pc.cast(read.column("id"), pa.string()).combine_chunks()}
        for name in ("operator", "org"):
            if name not in names:
                columns[name] = pa.DictionaryArray.from_arrays(
                    pa.nulls(read.num_rows, pa.int32()), pa.array([], pa.string())
                )
                continue
            column = pc.cast(read.column(name), LABEL_TYPE).combine_chunks()
            if pc.any(pc.equal(column.dictionary, "")).as_py():
                return None  # empty means none to the loader: DuckDB makes them null as it does
            columns[name] = column
        # One chunk each: the output takes rows from them at random, which costs several times more across the
        # Parquet pages' many chunks.
        return pa.table(columns)
    except (OSError, pa.ArrowException, ValueError):
        return None


def labels(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The labels of :func:`read_labels` through DuckDB, from the loaded ``audit_log`` (any input)."""
    read = con.sql("SELECT rn, id, op AS operator, org FROM audit_log").to_arrow_table()
    rn = read.column("rn").to_numpy()
    if len(rn) and not (rn[0] == 1 and bool((rn[1:] - rn[:-1] == 1).all())):
        read = read.take(pc.sort_indices(read.column("rn")))  # a scan keeps the order; if one ever does not
    return pa.table(
        {
            "id": read.column("id").combine_chunks(),
            **{n: pc.dictionary_encode(read.column(n)).combine_chunks() for n in ("operator", "org")},
        }
    )


def check_keys(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    key_sets: Sequence[tuple[str, ...]],
    *,
    ids: bool = True,
    classes: Mapping[str, int] | None = None,
) -> None:
    """Unique ids (unless ``ids`` is false), and one zone per cap key, over hashed keys (grouping by a hash is
    much cheaper than by the text, and one aggregation per key set is cheaper than grouping sets over all of them
    at once); only when a hash finds something are the exact checks run, to name the row. ``classes``
    (``compile.zone_classes``) makes zones of the same offsets throughout one zone; without it every zone is its
    own."""
    if ids and not ascending_ids(loaded_files(con)):
        repeats = con.execute("SELECT count(*) - count(DISTINCT hash(id)) FROM audit_log").fetchone()
        if repeats is not None and repeats[0]:
            check_ids(con, path)  # a repeated hash: a repeated id, or (rarely) two ids that hash alike
    if not key_sets:
        return
    if classes is None:  # every zone its own
        found = con.execute("SELECT list(DISTINCT tz) FROM audit_log").fetchone()
        classes = {str(z): i for i, z in enumerate(sorted(found[0] or []))} if found is not None else {}
    if len(set(classes.values())) <= 1:
        return
    zone = _zone_class(classes)
    for keys in key_sets:
        mixed = con.execute(
            f"SELECT 1 FROM audit_log GROUP BY hash({', '.join(keys)}) HAVING min({zone}) <> max({zone}) LIMIT 1"
        ).fetchone()
        if mixed is not None:
            check_zones(con, path, [keys], classes)


def _zone_class(classes: Mapping[str, int]) -> str:
    """SQL for the class of the row's zone (``classes`` lists every zone of the log: the engine made it from
    them)."""
    whens = " ".join(f"WHEN '{z.replace(chr(39), chr(39) * 2)}' THEN {c}" for z, c in sorted(classes.items()))
    return f"(CASE tz {whens} ELSE -1 END)"


def ascending_ids(files: Sequence[Path], read: pa.ChunkedArray | None = None) -> bool:
    """True when a Parquet log's ids strictly ascend in file order, which makes them unique: one comparison per
    row instead of a hash aggregation over every id (exports by primary key or by time often come this way). Read
    a batch at a time (or given, as :func:`read_labels` read them), it stops at the first id that does not
    ascend; False for CSV and for any other order, which then takes the general check."""
    if not files or files[0].suffix.lower() != ".parquet":
        return False
    try:
        batches: Iterable[pa.Array | pa.ChunkedArray] = (
            (b.column(0) for f in files for b in pq.ParquetFile(f).iter_batches(batch_size=ID_BATCH, columns=["id"]))
            if read is None
            else (read.slice(start, ID_BATCH) for start in range(0, len(read), ID_BATCH))
        )
        last: pa.Scalar | None = None
        for ids in batches:
            if len(ids) == 0:
                continue
            if ids.null_count or (last is not None and not pc.greater(ids[0], last).as_py()):
                return False
            if len(ids) > 1 and not pc.all(pc.greater(ids.slice(1), ids.slice(0, len(ids) - 1))).as_py():
                return False
            last = ids[len(ids) - 1]
    except (OSError, pa.ArrowException):
        return False  # the general check reads it the way the rest of the audit does
    return True


def check_zones(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    key_sets: Sequence[tuple[str, ...]],
    classes: Mapping[str, int] | None = None,
) -> None:
    """One zone per cap key: a party (address, debt) whose rows sit in two zones cannot be placed on local
    dates the way the gate would place them. With ``classes``, zones of the same offsets throughout the log are
    one zone (:func:`check_keys`)."""
    zone = _zone_class(classes) if classes is not None else "tz"
    for keys in key_sets:
        cols = ", ".join(keys)
        mixed = f"SELECT {cols} FROM audit_log GROUP BY {cols} HAVING min({zone}) <> max({zone})"
        if con.execute(f"SELECT count(*) FROM ({mixed})").fetchone() == (0,):
            continue
        # Only for the keys in two zones: the first row whose zone differs from its key's first row's.
        found = con.execute(
            f"SELECT {cols}, first_zone, tz, rn FROM (SELECT {cols}, tz, rn, {zone} AS zc, "
            f"first_value(tz) OVER w AS first_zone, first_value({zone}) OVER w AS first_zc "
            f"FROM audit_log SEMI JOIN ({mixed}) m USING ({cols}) WINDOW w AS (PARTITION BY {cols} ORDER BY rn)) "
            "WHERE zc <> first_zc ORDER BY rn LIMIT 1"
        ).fetchone()
        assert found is not None
        who = " ".join(f"{k} {v!r}" for k, v in zip(keys, found, strict=False))
        first, other, row = found[len(keys)], found[len(keys) + 1], found[len(keys) + 2]
        raise AuditInputError(
            str(path),
            f"{who} appears in zones {first!r} and {other!r}; the audit needs one zone per {'+'.join(keys)} "
            "(caps count the recipient's local dates; zones with the same offsets throughout count as one)",
            row=int(row),
            column="tz",
        )
