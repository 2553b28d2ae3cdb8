"""``fairdun audit compare``: which past attempts each of two packs would have blocked, and the difference."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb

from fairdun.application.audit import AuditSummary, Comparison


def _source(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    return f"read_parquet('{quoted}')" if path.suffix == ".parquet" else f"read_csv('{quoted}', header = true)"


class DuckDBAuditComparer:
    """Joins the two violations files by attempt: ``compare.<fmt>`` has one row per attempt either pack blocks,
    with the rules each names (empty when it allows) and ``change``: ``first only``, ``second only`` or
    ``both``."""

    def compare(self, first: AuditSummary, second: AuditSummary, out: Path, fmt: str) -> Comparison:
        con = duckdb.connect(":memory:")
        try:
            for name, summary in (("a", first), ("b", second)):
                con.execute(
                    f'CREATE TEMP VIEW {name} AS SELECT id, min("at") AS at_, '
                    f"string_agg(CAST(rule AS VARCHAR), ' ' ORDER BY CAST(rule AS VARCHAR)) AS rules "
                    f"FROM {_source(summary.output)} GROUP BY id"
                )
            con.execute(
                """CREATE TEMP TABLE cmp AS
                SELECT COALESCE(a.id, b.id) AS id, COALESCE(a.at_, b.at_) AS "at",
                  COALESCE(a.rules, '') AS rules_first, COALESCE(b.rules, '') AS rules_second,
                  CASE WHEN b.id IS NULL THEN 'first only' WHEN a.id IS NULL THEN 'second only' ELSE 'both' END
                    AS change
                FROM a FULL OUTER JOIN b ON a.id = b.id ORDER BY "at", id"""
            )
            counts = con.execute(
                "SELECT count(*) FILTER (WHERE change <> 'second only'), count(*) FILTER (WHERE change <> "
                "'first only'), count(*) FILTER (WHERE change = 'first only'), "
                "count(*) FILTER (WHERE change = 'second only') FROM cmp"
            ).fetchone()
            assert counts is not None
            out.mkdir(parents=True, exist_ok=True)
            target = out / f"compare.{fmt}"
            fd, tmp_name = tempfile.mkstemp(dir=out, prefix=".compare.", suffix=".tmp")
            os.close(fd)
            tmp = Path(tmp_name)
            try:
                quoted = str(tmp).replace("'", "''")
                options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
                con.execute(f"COPY cmp TO '{quoted}' ({options})")
                tmp.chmod(0o644)
                tmp.replace(target)
            finally:
                tmp.unlink(missing_ok=True)
        finally:
            con.close()
        return Comparison(first, second, int(counts[0]), int(counts[1]), int(counts[2]), int(counts[3]), target)
