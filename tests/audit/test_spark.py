"""The same compiled audit on a real local Spark session gives the same output as DuckDB.

One session for the module (starting a JVM takes seconds). These tests run wherever the suite runs: no skip
when Java or PySpark is missing, so a CI without them fails loudly instead of passing quietly."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from fairdun.adapters.audit.duckdb_engine import DuckDBAuditEngine
from fairdun.adapters.audit.spark_engine import SparkAuditEngine, local_session
from fairdun.application.audit import AuditInputError, AuditJob, replay
from fairdun.config.packs import PackLoader
from fairdun.policy.pack import Pack
from tests.audit.data import seeded_log, write_facts, write_log_parquet


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = local_session("local[2]", shuffle_partitions=1, conf={"spark.sql.codegen.wholeStage": "false"})
    yield session
    session.stop()


def test_spark_and_duckdb_write_identical_violations(spark: Any, tmp_path: Path, loader: PackLoader) -> None:
    # One run covers every SQL form: the cn and us rules together (every check kind, caps of 1, 7 and all days,
    # facts of every table).
    cn, us = loader.load("cn"), loader.load("us")
    pack = Pack("cn-and-us", "1", "cn and us rules together", "", cn.rules + us.rules, "test")
    rows, tables = seeded_log(400, 2)
    log = write_log_parquet(rows, tmp_path / "log.parquet")
    facts = write_facts(tables, tmp_path / "facts")
    by_duckdb = DuckDBAuditEngine().run(AuditJob(pack, log, facts, tmp_path / "duckdb"))
    by_spark = SparkAuditEngine(session=spark).run(AuditJob(pack, log, facts, tmp_path / "spark"))
    a, b = pq.read_table(by_duckdb.output), pq.read_table(by_spark.output)
    assert a.num_rows > 50
    assert len(set(a["rule"].to_pylist())) >= 10
    assert a.equals(b)
    assert (by_duckdb.rows, by_duckdb.attempts, by_duckdb.by_rule) == (
        by_spark.rows,
        by_spark.attempts,
        by_spark.by_rule,
    )
    # ... and both are the gate's answer.
    as_read = [replace(r, content=r.content or None) for r in rows]  # empty content is no content
    expected = sorted((f.id, f.rule, f.effect.value) for f in replay(as_read, tables, pack))
    got = sorted(zip(b["id"].to_pylist(), b["rule"].to_pylist(), b["effect"].to_pylist(), strict=True))
    assert got == expected
    assert not (tmp_path / "spark" / ".work").exists()


def test_spark_reads_a_directory_of_files_as_the_one_file(spark: Any, tmp_path: Path, loader: PackLoader) -> None:
    rows, tables = seeded_log(200, 5)
    facts = write_facts(tables, tmp_path / "facts")
    whole = write_log_parquet(rows, tmp_path / "log.parquet")
    (tmp_path / "log").mkdir()
    for i, start in enumerate(range(0, len(rows), 70)):
        write_log_parquet(rows[start : start + 70], tmp_path / "log" / f"part-{i}.parquet")
    pack = loader.load("cn")
    by_duckdb = DuckDBAuditEngine().run(AuditJob(pack, whole, facts, tmp_path / "duckdb"))
    by_spark = SparkAuditEngine(session=spark).run(AuditJob(pack, tmp_path / "log", facts, tmp_path / "spark"))
    a, b = pq.read_table(by_duckdb.output), pq.read_table(by_spark.output)
    assert a.num_rows > 20
    assert a.equals(b)


def test_a_bad_log_is_refused_before_spark_runs(spark: Any, tmp_path: Path, loader: PackLoader) -> None:
    log = tmp_path / "log.csv"
    log.write_text("id,at\nA1,2026-11-23T10:00:00+08:00\n", encoding="utf-8")
    with pytest.raises(AuditInputError, match="column 'debt' is missing"):
        SparkAuditEngine(session=spark).run(AuditJob(loader.load("cn"), log, None, tmp_path / "out"))
    assert not (tmp_path / "out").exists()
