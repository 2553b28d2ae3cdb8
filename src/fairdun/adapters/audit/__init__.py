"""The batch compliance audit's engines: DuckDB in process, Spark for clusters (see docs/audit.md)."""

from __future__ import annotations

from fairdun.application.audit import AuditEngine


def make_engine(name: str, *, spark_master: str | None = None, threads: int | None = None) -> AuditEngine:
    """The engine called ``name`` (``duckdb`` or ``spark``). Spark is imported only when asked for."""
    if name == "duckdb":
        from fairdun.adapters.audit.duckdb_engine import DuckDBAuditEngine  # noqa: PLC0415

        return DuckDBAuditEngine(threads=threads)
    if name == "spark":
        from fairdun.adapters.audit.spark_engine import SparkAuditEngine  # noqa: PLC0415

        spark: AuditEngine = SparkAuditEngine(master=spark_master or "local[*]")
        return spark
    raise ValueError(f"unknown engine {name!r}; expected duckdb or spark")
