"""The audit on Spark: the same compiled query, for books that outgrow one machine.

The input is checked and made canonical by the DuckDB loader (so both engines refuse the same bad rows with the
same message), written as Parquet under ``<out>/.work``, and read by Spark from there: on a cluster, ``--out``
must be on storage the executors can read (HDFS, S3, a shared mount). The violations come back to the driver as
Arrow and are written by the same code as DuckDB's.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb

from fairdun.adapters.audit import loading, output
from fairdun.adapters.audit.duckdb_engine import prepare
from fairdun.application.audit import FACT_SPECS, AuditEngineError, AuditJob, AuditSummary

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def local_session(
    master: str = "local[2]", shuffle_partitions: int = 4, conf: dict[str, str] | None = None
) -> SparkSession:
    """A Spark session for this process: no UI, few shuffle partitions (a local run has few cores); ``conf``
    adds or overrides settings."""
    from pyspark.sql import SparkSession  # noqa: PLC0415 (slow import, only when Spark is used)

    builder: Any = SparkSession.builder
    builder = (
        builder.master(master)
        .appName("fairdun-audit")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "true")
    )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    session: SparkSession = builder.getOrCreate()
    return session


@dataclass
class SparkAuditEngine:
    """Runs the compiled pack on Spark. Give ``session`` to reuse one (tests do); otherwise one is started on
    ``master`` and stopped afterwards."""

    master: str = "local[*]"
    session: Any = field(default=None, repr=False)
    shuffle_partitions: int = 8
    name: str = "spark"

    def run(self, job: AuditJob) -> AuditSummary:
        started = time.perf_counter()
        con = duckdb.connect(":memory:")
        work = job.out / ".work"
        try:
            with loading.located(con, job.log):  # a directory's row named by its file
                compiled, supplied, rows, attempts = prepare(con, job, "spark")
            work.mkdir(parents=True, exist_ok=True)
            tables = ["audit_log", "audit_rules", *(f"f_{name}" for name in supplied)]
            if compiled.content_checks:
                tables.append("cflags")
            for name in tables:
                target = str((work / f"{name}.parquet").resolve()).replace("'", "''")
                con.execute(f"COPY (SELECT * FROM {name}) TO '{target}' (FORMAT parquet)")
        finally:
            con.close()
        owned = self.session is None
        try:
            spark = self.session or local_session(self.master, self.shuffle_partitions)
        except Exception as exc:  # the edge of a JVM: anything it raises means Spark did not start
            shutil.rmtree(work, ignore_errors=True)
            raise AuditEngineError(f"Spark did not start on {self.master}: {str(exc).splitlines()[0][:200]}") from exc
        try:
            for name in tables:
                spark.read.parquet(str((work / f"{name}.parquet").resolve())).createOrReplaceTempView(name)
            try:
                raw = spark.sql(compiled.sql).toArrow()
            except Exception as exc:  # the edge of a JVM: a failed job, a lost executor, an unreadable path
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise AuditEngineError(f"the audit job failed: {first[:300]}") from exc
        finally:
            if owned:
                spark.stop()
            shutil.rmtree(work, ignore_errors=True)
        written = output.emit(raw, job.pack, job.lang, job.out, job.format)
        return AuditSummary(
            job.pack.label,
            rows,
            attempts,
            written.rows,
            written.by_rule,
            written.path,
            self.name,
            time.perf_counter() - started,
            None,
            tuple(sorted(set(FACT_SPECS) - set(supplied))),
        )
