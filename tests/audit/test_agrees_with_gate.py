"""One source of truth: for every outbound attempt of a random log, the DuckDB audit reports a rule exactly when
the gate, given that attempt and every earlier row as history, names it (deny or indeterminate)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from unittest import mock

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings

from fairdun.adapters.audit import compile as compiler
from fairdun.adapters.audit.duckdb_engine import DuckDBAuditEngine
from fairdun.application.audit import AuditJob, FactTables, LogRow, replay
from fairdun.config.packs import PackLoader, builtin_pack_names
from tests.audit.data import fact_tables, log_rows, write_facts, write_log_csv

LOADER = PackLoader()


def audit(rows: list[LogRow], tables: FactTables, pack_name: str) -> list[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        job = AuditJob(
            LOADER.load(pack_name),
            write_log_csv(rows, root / "log.csv"),
            write_facts(tables, root / "facts"),
            root / "out",
        )
        summary = DuckDBAuditEngine(threads=1).run(job)
        table = pq.read_table(summary.output)
    return list(zip(table["id"].to_pylist(), table["rule"].to_pylist(), table["effect"].to_pylist(), strict=True))


def gate(rows: list[LogRow], tables: FactTables, pack_name: str) -> list[tuple[str, str, str]]:
    """What the gate names, attempt by attempt with every earlier row as history (``replay``). The log's empty
    content is no content (a CSV field cannot tell them apart): the gate hears it so too."""
    as_read = [replace(r, content=r.content or None) for r in rows]
    return [(f.id, f.rule, f.effect.value) for f in replay(as_read, tables, LOADER.load(pack_name))]


@pytest.mark.parametrize("pack_name", builtin_pack_names())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=log_rows(), tables=fact_tables())
def test_the_audit_reports_a_rule_exactly_when_the_gate_names_it(
    pack_name: str, rows: list[LogRow], tables: FactTables
) -> None:
    assert sorted(audit(rows, tables, pack_name)) == sorted(gate(rows, tables, pack_name))


@pytest.mark.parametrize("pack_name", builtin_pack_names())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=log_rows(), tables=fact_tables())
def test_with_a_word_per_set_of_marked_rows_the_audit_still_agrees_with_the_gate(
    pack_name: str, rows: list[LogRow], tables: FactTables
) -> None:
    # Packs mark fewer sets of rows (capped attempts, facts that hold) than the 62 bits of one word; with one bit
    # per word, the query's several words must give the same answers.
    with mock.patch.object(compiler, "WORD_BITS", 1):
        got = audit(rows, tables, pack_name)
    assert sorted(got) == sorted(gate(rows, tables, pack_name))
