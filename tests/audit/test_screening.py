"""The log's messages screened for the audit by worker processes: the same flags as in process, and failures
named (``fairdun.adapters.audit.screening``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fairdun.adapters.audit import screening
from fairdun.adapters.audit.compile import compile_pack, content_flags
from fairdun.adapters.audit.duckdb_engine import DuckDBAuditEngine
from fairdun.application.audit import AuditEngineError, AuditJob
from fairdun.config.packs import PackLoader
from fairdun.domain.contact import Role
from tests.audit.data import TEXTS, seeded_log, write_facts, write_log_parquet

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("张伟", "王芳", "李娜", "刘洋", "Sam Lee", "Ana Cruz")


def personal(i: int) -> str:
    """A message as a real log holds them: a template with a name, a number and an amount filled in."""
    template = TEXTS[i % len(TEXTS)]
    return f"{NAMES[i % len(NAMES)]}：{template}（尾号{i % 10_000:04d}，应还{100 + i * 7}元）"


def pairs(n: int) -> tuple[pa.Array, pa.Array]:
    roles = [Role.DEBTOR, Role.CONTACT, Role.THIRD_PARTY, Role.GUARANTOR]
    return (
        pa.array([personal(i) for i in range(n)], pa.string()),
        pa.array([roles[i % len(roles)].value for i in range(n)], pa.string()),
    )


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers from the first pair, in chunks of a few: several chunks per worker even in a small test."""
    monkeypatch.setattr(screening, "PARALLEL_FROM", 1)
    monkeypatch.setattr(screening, "CHUNK", 37)
    monkeypatch.setattr(screening, "SMALLEST_CHUNK", 1)


def flags_of(table: pa.Table, contents: pa.Array, roles: pa.Array, column: str) -> list[int]:
    """A flag column for every pair given: 0 for a pair the table leaves out (as the query reads it)."""
    codes = [list(Role).index(Role(r)) + 1 for r in roles.to_pylist()]
    present = dict(
        zip(
            zip(table.column("content").to_pylist(), table.column("role").to_pylist(), strict=True),
            table.column(column).to_pylist(),
            strict=True,
        )
    )
    return [present.get((c, r), 0) for c, r in zip(contents.to_pylist(), codes, strict=True)]


def test_workers_give_the_flags_screened_in_process(small_chunks: None) -> None:
    for pack in ("cn", "us"):  # cn screens; us also has a pattern the content must hold
        checks = compile_pack(PackLoader().load(pack), [], "duckdb").content_checks
        assert checks
        contents, roles = pairs(500)
        alone = screening.flag_table(checks, contents, roles, workers=1)
        shared = screening.flag_table(checks, contents, roles, workers=2)
        assert shared.equals(alone)
        # As the row-at-a-time function the gate's tests check, and with findings in both directions.
        expected = content_flags(checks, zip(contents.to_pylist(), roles.to_pylist(), strict=True))
        for j, check in enumerate(checks):
            column = flags_of(alone, contents, roles, check.column)
            assert column == [row[2 + j] for row in expected]
            assert 0 < sum(column) < len(column)
        # Only the pairs with a finding are kept: the query reads the others as all 0.
        assert 0 < alone.num_rows == sum(any(row[2:]) for row in expected) < len(expected)


def test_the_role_is_coded_as_the_query_codes_it(small_chunks: None) -> None:
    checks = compile_pack(PackLoader().load("cn"), [], "duckdb").content_checks
    contents, roles = pairs(40)
    table = screening.flag_table(checks, contents, roles, workers=2)
    assert table.num_rows > 0
    given = dict(zip(contents.to_pylist(), roles.to_pylist(), strict=True))
    for content, role in zip(table.column("content").to_pylist(), table.column("role").to_pylist(), strict=True):
        assert role == list(Role).index(Role(given[content])) + 1


def test_a_worker_that_dies_is_named_and_nothing_is_returned(
    small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = "import sys; sys.stdin.buffer.read(10); sys.stderr.write('out of memory\\n'); sys.exit(3)"
    monkeypatch.setattr(screening, "_WORKER", [sys.executable, "-c", script])
    checks = compile_pack(PackLoader().load("cn"), [], "duckdb").content_checks
    with pytest.raises(AuditEngineError, match=r"ended with status 3: out of memory"):
        screening.flag_table(checks, *pairs(200), workers=2)


def test_a_worker_that_dies_after_answering_stops_the_others_and_is_named(
    small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker that answers its first chunk and then dies, as one killed for its memory would.
    script = textwrap.dedent(
        """
        import pickle, sys
        from fairdun.adapters.audit import screen_worker
        source, sink = sys.stdin.buffer, sys.stdout.buffer
        checks = pickle.load(source)
        texts, roles = pickle.load(source)
        pickle.dump(screen_worker.flags(checks, texts, roles), sink)
        sink.flush()
        try:
            pickle.load(source)
        except EOFError:  # the audit stopped handing out chunks: end as a worker does
            sys.exit(0)
        sys.stderr.write("Killed\\n")
        sys.exit(137)
        """
    )
    monkeypatch.setattr(screening, "_WORKER", [sys.executable, "-c", script])
    checks = compile_pack(PackLoader().load("cn"), [], "duckdb").content_checks
    with pytest.raises(AuditEngineError, match=r"ended with status 137: Killed"):
        screening.flag_table(checks, *pairs(500), workers=2)


def test_a_script_without_a_main_guard_is_not_run_again_by_the_workers(tmp_path: Path) -> None:
    # multiprocessing would import the caller's main module in each worker, running this script again.
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path[:0] = [{str(ROOT / "src")!r}, {str(ROOT)!r}]
            from fairdun.adapters.audit import screening
            from fairdun.adapters.audit.compile import compile_pack
            from fairdun.config.packs import PackLoader
            from tests.audit.test_screening import pairs
            screening.PARALLEL_FROM = 1
            checks = compile_pack(PackLoader().load("cn"), [], "duckdb").content_checks
            table = screening.flag_table(checks, *pairs(300), workers=2)
            print("screened", table.num_rows, sum(table.column("cf_0").to_pylist()))
            """
        ),
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()  # printed once: the script ran once
    _, kept, flagged = line.split()
    assert 0 < int(kept) == int(flagged) < 300  # the pairs with a finding (cn has one content check)


def test_an_audit_of_many_distinct_messages_writes_the_same_file_either_way(tmp_path: Path, small_chunks: None) -> None:
    rows, tables = seeded_log(600, 5)
    rows = [replace(r, content=personal(i) if r.content else r.content) for i, r in enumerate(rows)]
    log = write_log_parquet(rows, tmp_path / "log.parquet")
    facts = write_facts(tables, tmp_path / "facts")
    pack = PackLoader().load("cn")
    alone = DuckDBAuditEngine(threads=1).run(AuditJob(pack, log, facts, tmp_path / "alone"))
    shared = DuckDBAuditEngine(threads=2).run(AuditJob(pack, log, facts, tmp_path / "shared"))
    assert alone.by_rule.get("CN-CONTENT", 0) > 10
    assert pq.read_table(shared.output).equals(pq.read_table(alone.output))
