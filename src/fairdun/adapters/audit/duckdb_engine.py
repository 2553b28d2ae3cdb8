"""The audit on DuckDB, in process: the default engine."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from fairdun.adapters.audit import loading, output, screening
from fairdun.adapters.audit.compile import (
    CompiledAudit,
    compile_pack,
    zone_classes,
    zone_segments,
)
from fairdun.application.audit import FACT_SPECS, AuditEngineError, AuditJob, AuditSummary


def prepare(
    con: duckdb.DuckDBPyConnection,
    job: AuditJob,
    dialect: str = "duckdb",
    *,
    zones_first: bool = True,
    labels: Future[tuple[pa.Table | None, bool]] | None = None,
    files: Sequence[Path] | None = None,
    workers: int | None = None,
) -> tuple[CompiledAudit, list[str], int, int]:
    """Load and check the input, and register what the compiled query reads besides it. With ``zones_first``
    false the one-zone-per-cap-key check is left to the query (``zones_mixed``), which the caller must read;
    either way it runs once, and not at all for a log of one zone. With ``labels`` (the log's labels being read
    beside, ``loading.read_labels``) the query leaves them out, and the caller checks the ids (``check_keys``)
    with the ids read there. ``files`` are the log's (``loading.files_of``) when the caller listed them already
    (for the labels: both must read the same files). ``workers`` processes screen the log's messages when it
    has many distinct ones (``screening.flag_table``; default one per core).

    Returns the compiled query, the fact tables supplied, the number of rows and of attempts (outbound rows)."""
    per_zone = loading.load_log(con, job.log, files)  # rows per zone, counted as the loader checked them
    supplied = loading.load_facts(con, job.facts)
    compiled = compile_pack(job.pack, supplied, dialect)
    # What the query needs around it: the rows and zones (from the loader's counts), the span of instants (for
    # the zones' offsets; from a Parquet file's statistics when it has them), and the attempts and distinct
    # (content, role) pairs the content checks screen (one scan).
    rows, zones = sum(per_zone.values()), sorted(per_zone)
    pairs_sql = (
        "list(DISTINCT {'content': content, 'role': role}) FILTER (WHERE content IS NOT NULL)"
        if compiled.content_checks
        else "NULL"
    )
    outbound = con.sql(f"SELECT count(*) AS n, {pairs_sql} AS pairs FROM audit_log WHERE direction = 'outbound'")
    counted = outbound.to_arrow_table()  # the pairs as Arrow columns: no Python object per pair
    attempts = int(counted.column("n")[0].as_py())
    span = loading.instant_span(con) if rows else (0, 0)
    segments = zone_segments(zones, *span)
    classes = zone_classes(segments)  # zones of the same offsets throughout are one zone to the caps
    # Given labels being read, the ids are checked once they are there (by the caller, after the query).
    loading.check_keys(con, job.log, compiled.zone_keys if zones_first else (), ids=labels is None, classes=classes)
    common = 0
    several = len(set(classes.values())) > 1
    if several and not zones_first:
        # The class most rows are in (any class gives the check's same answer; this one the fastest).
        in_class: dict[int, int] = {}
        for zone, n in per_zone.items():
            in_class[classes[zone]] = in_class.get(classes[zone], 0) + n
        common = max(sorted(in_class), key=in_class.__getitem__)
    compiled = compile_pack(
        job.pack,
        supplied,
        dialect,
        check_zones=not zones_first and several,
        common_zone=common,
        labels=labels is None,
        classes=classes,
        segments=segments,
    )
    if compiled.content_checks:
        pairs = counted.column("pairs").combine_chunks().flatten()  # (content, role) structs; none for a NULL
        flags = screening.flag_table(
            compiled.content_checks, pairs.field("content"), pairs.field("role"), workers=workers
        )
        con.register("cflags_arrow", flags)
        con.execute("CREATE OR REPLACE TEMP TABLE cflags AS SELECT * FROM cflags_arrow")
        con.unregister("cflags_arrow")
    con.register("audit_rules_arrow", output.rules_table(job.pack, job.lang))
    con.execute("CREATE OR REPLACE TEMP TABLE audit_rules AS SELECT * FROM audit_rules_arrow")
    return compiled, supplied, rows, attempts


def _labels(files: Sequence[Path]) -> tuple[pa.Table | None, bool]:
    """The log's labels read from its files (``loading.read_labels``), and whether its ids ascend there (which
    makes them unique): both beside the query."""
    labels = loading.read_labels(files)
    return labels, labels is not None and loading.ascending_ids(files, labels.column("id"))


@dataclass
class DuckDBAuditEngine:
    """Runs the compiled pack on an in-process DuckDB. ``threads`` and ``memory_limit`` pass to DuckDB (``threads``
    also caps the processes that screen a log of many distinct messages); with a ``memory_limit`` the log's labels
    stay in the query, where DuckDB can spill them, rather than read beside it."""

    threads: int | None = None
    memory_limit: str | None = None
    temp_directory: Path | None = None
    name: str = "duckdb"

    def connect(self) -> duckdb.DuckDBPyConnection:
        config: dict[str, str | bool | int | float | list[str]] = {}
        if self.threads:
            config["threads"] = self.threads
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        if self.temp_directory:
            config["temp_directory"] = str(self.temp_directory)
        con = duckdb.connect(":memory:", config=config)
        con.execute("SET enable_progress_bar = false")  # a terminal gets the CLI's own output only
        return con

    def run(self, job: AuditJob) -> AuditSummary:
        started = time.perf_counter()
        con = self.connect()
        try:
            # The labels (id, operator, org: no rule reads them) are read from the file beside the loading and
            # the query, and joined to the violations by row number at the end; under a memory limit they go
            # through the query instead, where DuckDB can spill them (Arrow's copy could not).
            with loading.located(con, job.log):  # a directory's row named by its file
                files = loading.files_of(job.log)  # listed once: the labels and the loader read the same files
                with ThreadPoolExecutor(max_workers=1) as reader:
                    reading = reader.submit(_labels, files) if self.memory_limit is None else None
                    compiled, supplied, rows, attempts = prepare(
                        con, job, zones_first=False, labels=reading, files=files, workers=self.threads
                    )
                    loaded = time.perf_counter()
                    try:
                        raw = con.sql(compiled.sql).to_arrow_table()
                    except duckdb.Error as exc:  # checked input, so this is the machine: memory, disk, interruption
                        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                        raise AuditEngineError(f"the audit query failed: {first[:300]}") from exc
                    labels, ascending = reading.result() if reading is not None else (None, True)
                if reading is not None:
                    if labels is None:  # not Parquet, or not text there: through DuckDB, as the loader made them
                        labels = loading.labels(con)
                    loading.check_keys(con, job.log, (), ids=not ascending)  # ids that ascend are unique
                # The query checked one zone per cap key as it went; with no row to tell, the loader checks.
                if raw.num_rows == 0:
                    loading.check_keys(con, job.log, compiled.zone_keys, ids=False, classes=compiled.zone_classes)
                elif raw.column("zones_mixed")[0].as_py():
                    loading.check_zones(con, job.log, compiled.zone_keys, compiled.zone_classes)
            ruled = time.perf_counter()
        except BaseException:
            con.close()
            raise
        # Closing hands a few GB back to the system (a quarter of a second), with the GIL released: beside the
        # output rather than before it.
        with ThreadPoolExecutor(max_workers=1) as closer:
            closer.submit(con.close)
            written = output.emit(raw, job.pack, job.lang, job.out, job.format, labels=labels)
        done = time.perf_counter()
        phases = {"load and check": loaded - started, "rules": ruled - loaded, "output": done - ruled}
        return AuditSummary(
            job.pack.label,
            rows,
            attempts,
            written.rows,
            written.by_rule,
            written.path,
            self.name,
            done - started,
            None,
            tuple(sorted(set(FACT_SPECS) - set(supplied))),
            phases,
        )
