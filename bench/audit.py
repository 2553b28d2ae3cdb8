"""Benchmark: the compliance audit of a month of contacts with the full ``cn`` pack.

Generates a fictional log (default 10,000,000 events over 500,000 debtors and 30 days) and fact tables with
DuckDB (vectorised, from hashes of the row number: the same data on every run), then, each in a fresh process so
that its peak memory is its own:

* ``audit``: ``DuckDBAuditEngine`` (what ``fairdun audit run`` runs), loading, checking, auditing and writing;
* ``naive``: the same cn rules as a DuckDB query written the obvious way (correlated subqueries for the caps,
  ``timezone()`` for local time), checked to find the same violations;
* ``spark``: the Spark engine on a local session over a smaller log (default 1,000,000 events).

    .venv/bin/python bench/audit.py                    # the full run (a few minutes)
    .venv/bin/python bench/audit.py --events 1000000 --debtors 50000 --spark-events 200000
    .venv/bin/python bench/audit.py --personal --skip-naive --skip-spark   # messages nearly all distinct
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from machine import cpu_model

HERE = Path(__file__).resolve()
START = "2026-11-01"  # local dates of the log: START and the days after it
ZONES = ("Asia/Shanghai", "Asia/Shanghai", "Asia/Shanghai", "Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong")
TEMPLATES = (
    "您好，您的借款已逾期，请及时还款。",
    "张先生您好，您本期账单已逾期3天，请尽快处理。",
    "温馨提示：您的还款日已过，如已还款请忽略。",
    "您好，我们有要事联系借款人，烦请转告其回电，谢谢。",
    "如对账单有疑问，请致电客服热线。",
    "您的逾期记录将依法报送征信系统，请按时还款。",
    "再不还钱，小心你家人的安全。",
    "三天内不还就爆你通讯录。",
    "你这个老赖，赶紧还钱。",
    "交500元手续费就停催。",
    "这里是派出所，你涉嫌诈骗，马上还款。",
    "您的朋友欠我司5000元逾期未还，请转告他。",
)


def u(i: str, salt: int) -> str:
    """A uniform number in [0, 1) from the row number: deterministic, vectorised, no random state."""
    return f"((hash({i}, {salt}) % 1000003) / 1000003.0)"


# Fictional names for ``--personal`` messages.
NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强")


def generate(directory: Path, events: int, debtors: int, days: int, personal: bool = False) -> dict[str, float]:
    """The log and the fact tables as Parquet in ``directory``; returns timings. With ``personal`` each message
    carries a name, the last digits of the number and an amount, as a real log's do: nearly every one distinct."""
    import duckdb  # noqa: PLC0415

    directory.mkdir(parents=True, exist_ok=True)
    facts = directory / "facts"
    facts.mkdir(exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # the benchmark prints its own lines
    started = time.perf_counter()
    zones = "[" + ", ".join(f"'{z}'" for z in ZONES) + "]"
    templates = "[" + ", ".join(f"'{t}'" for t in TEMPLATES) + "]"
    template = f"list_extract({templates}, CAST(floor(r_content * {len(TEMPLATES)}) AS INTEGER) + 1)"
    names = "[" + ", ".join(f"'{n}'" for n in NAMES) + "]"
    personalised = (
        f"list_extract({names}, CAST(d % {len(NAMES)} AS INTEGER) + 1) || '：' || {template} || '（尾号' || "
        f"lpad(CAST(d % 10000 AS VARCHAR), 4, '0') || '，应还' || CAST(100 + hash(i, 12) % 50000 AS VARCHAR) || '元）'"
        if personal
        else template
    )
    # Debtor by a skewed draw (a few are called far too often), role, channel, outcome and local time of day.
    con.execute(
        f"""
        CREATE TEMP TABLE draws AS
        SELECT i,
          CAST(floor({debtors} * pow({u("i", 1)}, 1.6)) AS BIGINT) AS d,
          {u("i", 2)} AS r_role, {u("i", 3)} AS r_channel, {u("i", 4)} AS r_outcome,
          CAST(floor({days} * {u("i", 5)}) AS BIGINT) AS day,
          CASE WHEN {u("i", 6)} < 0.03 THEN CAST(floor(8 * 3600 * {u("i", 7)}) AS BIGINT)
               ELSE CAST(8 * 3600 + floor(14 * 3600 * {u("i", 7)}) AS BIGINT) END AS local_s,
          {u("i", 8)} AS r_dir, {u("i", 9)} AS r_content, {u("i", 10)} AS r_phone, {u("i", 11)} AS r_op
        FROM range({events}) t(i)
        """
    )
    con.execute(
        f"""
        COPY (
          WITH e AS (
            SELECT i, d, day, local_s, r_dir, r_content, r_phone, r_op, r_outcome,
              CASE WHEN r_role < 0.92 THEN 'debtor' WHEN r_role < 0.97 THEN 'contact'
                   WHEN r_role < 0.98 THEN 'guarantor' ELSE 'third_party' END AS role,
              CASE WHEN r_channel < 0.55 THEN 'call' WHEN r_channel < 0.70 THEN 'ai_call'
                   WHEN r_channel < 0.95 THEN 'sms' WHEN r_channel < 0.98 THEN 'im'
                   WHEN r_channel < 0.99 THEN 'email' ELSE 'visit' END AS channel,
              list_extract({zones}, CAST(hash(d, 99) % {len(ZONES)} AS INTEGER) + 1) AS tz
            FROM draws)
          SELECT
            'E' || lpad(CAST(i AS VARCHAR), 9, '0') AS id,
            (TIMESTAMP '{START}' + to_days(CAST(day AS INTEGER)) + to_seconds(local_s)) AT TIME ZONE tz AS at,
            'L' || d AS debt, 'B' || d AS debtor,
            CASE role WHEN 'debtor' THEN 'B' WHEN 'contact' THEN 'C' WHEN 'guarantor' THEN 'G' ELSE 'T' END || d
              AS party,
            role,
            '+86138' || lpad(CAST((d * 4 + CASE role WHEN 'debtor' THEN (CASE WHEN r_phone < 0.8 THEN 0 ELSE 1 END)
              WHEN 'contact' THEN 2 ELSE 3 END) % 100000000 AS VARCHAR), 8, '0') AS address,
            tz, channel,
            CASE WHEN role = 'contact' AND r_phone < 0.8 THEN 'locate' ELSE 'collect' END AS purpose,
            CASE WHEN r_dir < 0.93 THEN 'outbound' ELSE 'inbound' END AS direction,
            CASE WHEN channel IN ('call', 'ai_call') THEN
                   CASE WHEN r_outcome < 0.45 THEN 'no_answer' WHEN r_outcome < 0.70 THEN 'conversation'
                        WHEN r_outcome < 0.85 THEN 'failed' ELSE 'voicemail' END
                 WHEN channel = 'visit' THEN 'conversation'
                 ELSE CASE WHEN r_outcome < 0.95 THEN 'delivered' ELSE 'bounced' END END AS outcome,
            CASE WHEN channel IN ('sms', 'im', 'email')
                 THEN {personalised} END
              AS content,
            'op-' || CAST(floor(r_op * 2000) AS BIGINT) AS operator,
            CASE WHEN r_op < 0.3 THEN 'lender' ELSE 'agency-' || CAST(floor(r_op * 2000) AS BIGINT) % 20 END AS org
          FROM e ORDER BY i
        ) TO '{directory / "log.parquet"}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
        """
    )
    log_seconds = time.perf_counter() - started
    day0 = f"TIMESTAMPTZ '{START} 00:00:00+08:00'"
    fact_sql = {
        # 80 % of emergency contacts consented before the month; a tenth of those withdraw during it.
        "consents": f"""SELECT 'C' || d AS party, 'contact_relay' AS purpose, {day0} - INTERVAL 10 DAY AS granted_at,
            CASE WHEN {u("d", 21)} < 0.1 THEN {day0} + to_days(CAST(floor({days} * {u("d", 22)}) AS INTEGER))
            END AS withdrawn_at FROM range({debtors}) t(d) WHERE {u("d", 20)} < 0.8""",
        "refusals": f"""SELECT 'C' || d AS party, {day0} + to_days(CAST(floor({days} * {u("d", 31)}) AS INTEGER))
            AS at FROM range({debtors}) t(d) WHERE {u("d", 30)} < 0.02""",
        "unreachable": f"""SELECT 'B' || d AS debtor, {day0} - INTERVAL 5 DAY AS since, NULL::TIMESTAMPTZ AS until
            FROM range({debtors}) t(d) WHERE {u("d", 40)} < 0.3""",
        "guarantors": f"""SELECT 'L' || d AS debt, 'G' || d AS party FROM range({debtors}) t(d)
            WHERE {u("d", 50)} < 0.5""",
        "agreed_windows": f"""SELECT 'B' || d AS party, '07:00' AS start, '08:00' AS "end" FROM range({debtors}) t(d)
            WHERE {u("d", 60)} < 0.01""",
    }
    for name, sql in fact_sql.items():
        con.execute(f"COPY ({sql}) TO '{facts / (name + '.parquet')}' (FORMAT parquet)")
    con.close()
    return {"log_seconds": log_seconds, "total_seconds": time.perf_counter() - started}


NAIVE_SQL = """
WITH l AS (
  SELECT *, timezone(tz, "at") AS local_at, CAST(timezone(tz, "at") AS DATE) AS local_date FROM log
),
o AS (SELECT * FROM l WHERE direction = 'outbound')
SELECT id, 'CN-TIME' AS rule FROM o
WHERE channel <> 'letter'
  AND NOT (hour(local_at) >= 8 AND hour(local_at) < 22)
  AND NOT EXISTS (
    SELECT 1 FROM agreed w WHERE w.party = o.party
      AND ((w."start" < w."end" AND CAST(o.local_at AS TIME) >= w."start" AND CAST(o.local_at AS TIME) < w."end")
        OR (w."start" >= w."end" AND (CAST(o.local_at AS TIME) >= w."start" OR CAST(o.local_at AS TIME) < w."end"))))
UNION ALL
SELECT id, 'CN-CONV-DAY' FROM o
WHERE channel IN ('call', 'ai_call')
  AND (SELECT count(*) FROM l h
       WHERE h.party = o.party AND h.local_date = o.local_date AND h.channel IN ('call', 'ai_call')
         AND h.direction = 'outbound' AND h.outcome = 'conversation'
         AND (h."at" < o."at" OR (h."at" = o."at" AND h.id < o.id))) >= 3
UNION ALL
SELECT id, 'CN-DIAL-DAY' FROM o
WHERE channel IN ('call', 'ai_call')
  AND (SELECT count(*) FROM l h
       WHERE h.address = o.address AND h.local_date = o.local_date AND h.channel IN ('call', 'ai_call')
         AND h.direction = 'outbound'
         AND (h."at" < o."at" OR (h."at" = o."at" AND h.id < o.id))) >= 6
UNION ALL
SELECT id, 'CN-PARTY' FROM o
WHERE role NOT IN ('debtor', 'co_borrower', 'attorney', 'guarantor', 'contact')
   OR (role = 'guarantor' AND NOT EXISTS (SELECT 1 FROM guarantors g WHERE g.debt = o.debt AND g.party = o.party))
   OR (role = 'contact' AND (purpose <> 'locate'
       OR NOT EXISTS (SELECT 1 FROM unreachable u WHERE u.debtor = o.debtor AND u.since <= o."at"
                      AND (u.until IS NULL OR o."at" < u.until))
       OR EXISTS (SELECT 1 FROM refusals r WHERE r.party = o.party AND r."at" <= o."at")))
UNION ALL
SELECT id, 'CN-CONSENT' FROM o
WHERE role = 'contact'
  AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.party = o.party AND c.purpose = 'contact_relay'
                  AND c.granted_at <= o."at" AND (c.withdrawn_at IS NULL OR o."at" < c.withdrawn_at))
UNION ALL
SELECT o.id, 'CN-CONTENT' FROM o JOIN flagged f ON f.content = o.content AND f.role = o.role
"""


def peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a
    child started by a large parent would report the parent's size."""
    try:
        with open("/proc/self/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_audit(directory: Path, threads: int, memory_limit: str | None) -> dict[str, Any]:
    from fairdun.adapters.audit.duckdb_engine import DuckDBAuditEngine  # noqa: PLC0415
    from fairdun.application.audit import AuditJob  # noqa: PLC0415
    from fairdun.config.packs import PackLoader  # noqa: PLC0415

    pack = PackLoader().load("cn")
    started = time.perf_counter()
    job = AuditJob(pack, directory / "log.parquet", directory / "facts", directory / "out")
    summary = DuckDBAuditEngine(threads=threads, memory_limit=memory_limit).run(job)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "rows": summary.rows,
        "attempts": summary.attempts,
        "violations": summary.violations,
        "by_rule": dict(summary.by_rule),
        "phases": {k: round(v, 2) for k, v in summary.phases.items()},
    }


def step_naive(directory: Path, threads: int) -> dict[str, Any]:
    import duckdb  # noqa: PLC0415

    from fairdun.adapters.audit.compile import compile_pack, content_flags  # noqa: PLC0415
    from fairdun.config.packs import PackLoader  # noqa: PLC0415

    pack = PackLoader().load("cn")
    con = duckdb.connect(config={"threads": threads})
    started = time.perf_counter()
    facts = directory / "facts"
    con.execute(f"CREATE VIEW log AS SELECT * FROM read_parquet('{directory / 'log.parquet'}')")
    for name in ("consents", "refusals", "unreachable", "guarantors"):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{facts / (name + '.parquet')}')")
    con.execute(
        f"""CREATE VIEW agreed AS SELECT party, CAST("start" AS TIME) AS "start", CAST("end" AS TIME) AS "end"
        FROM read_parquet('{facts / "agreed_windows.parquet"}')"""
    )
    # Content is screened by the same Python screener once per distinct (content, role), as the audit does:
    # the comparison is about the rules over history, not about the screener.
    checks = compile_pack(pack, []).content_checks
    pairs = con.execute(
        "SELECT DISTINCT content, role FROM log WHERE direction = 'outbound' AND content IS NOT NULL"
    ).fetchall()
    rows = [r for r in content_flags(checks, [(str(c), str(r)) for c, r in pairs]) if r[2] == 1]
    con.execute("CREATE TEMP TABLE flagged (content VARCHAR, role VARCHAR)")
    if rows:
        con.executemany("INSERT INTO flagged VALUES (?, ?)", [(r[0], r[1]) for r in rows])
    # Like the audit, it writes its rows (attempt, rule) to a file; then they are counted.
    target = str(directory / "naive.parquet").replace("'", "''")
    con.execute(f"COPY ({NAIVE_SQL}) TO '{target}' (FORMAT parquet)")
    seconds = time.perf_counter() - started
    counts = dict(con.execute(f"SELECT rule, count(*) FROM read_parquet('{target}') GROUP BY rule").fetchall())
    return {"seconds": seconds, "peak_mb": peak_mb(), "by_rule": {str(k): int(v) for k, v in counts.items()}}


def step_spark(directory: Path) -> dict[str, Any]:
    from fairdun.adapters.audit.spark_engine import SparkAuditEngine, local_session  # noqa: PLC0415
    from fairdun.application.audit import AuditJob  # noqa: PLC0415
    from fairdun.config.packs import PackLoader  # noqa: PLC0415

    pack = PackLoader().load("cn")
    t0 = time.perf_counter()
    session = local_session("local[2]", shuffle_partitions=8)
    session.sparkContext.setLogLevel("ERROR")
    started = time.perf_counter()
    job = AuditJob(pack, directory / "log.parquet", directory / "facts", directory / "out-spark")
    summary = SparkAuditEngine(session=session).run(job)
    seconds = time.perf_counter() - started
    session.stop()
    return {
        "seconds": seconds,
        "session_start_seconds": started - t0,
        "rows": summary.rows,
        "violations": summary.violations,
        "by_rule": dict(summary.by_rule),
    }


def run_step(
    step: str, directory: Path, threads: int, timeout: float, memory_limit: str | None = None
) -> dict[str, Any]:
    command = [sys.executable, str(HERE), "--step", step, "--dir", str(directory), "--threads", str(threads)]
    if memory_limit:
        command += ["--memory-limit", memory_limit]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--debtors", type=int, default=500_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--spark-events", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default=None, help="DuckDB's memory_limit for the audit, e.g. 2GB.")
    parser.add_argument("--naive-timeout", type=float, default=900.0)
    parser.add_argument(
        "--repeat", type=int, default=1, help="Run the audit and the naive SQL alternately this many times."
    )
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--dir", type=Path, default=None, help="Where the data goes (default: a temporary dir).")
    parser.add_argument(
        "--personal",
        action="store_true",
        help="Messages with a name, number and amount filled in (nearly all distinct), as in a real log.",
    )
    parser.add_argument("--step", choices=("audit", "naive", "spark"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        if args.step == "audit":
            result = step_audit(args.dir, args.threads, args.memory_limit)
        elif args.step == "naive":
            result = step_naive(args.dir, args.threads)
        else:
            result = step_spark(args.dir)
        print(json.dumps(result))
        return 0

    with tempfile.TemporaryDirectory(prefix="fairdun-audit-bench-") as tmp:
        root = args.dir or Path(tmp)
        print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
        print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average {os.getloadavg()}")
        gen = generate(root / "big", args.events, args.debtors, args.days, args.personal)
        size = (root / "big" / "log.parquet").stat().st_size / 1e6
        print(
            f"generated {args.events:,} events over {args.debtors:,} debtors and {args.days} days in "
            f"{gen['log_seconds']:.1f} s (+ facts: {gen['total_seconds']:.1f} s); log.parquet {size:,.0f} MB"
        )
        # On a shared machine one run says little: with --repeat the two alternate, each in a fresh process.
        pairs: list[tuple[float, float]] = []
        for _ in range(max(1, args.repeat)):
            audit = run_step("audit", root / "big", args.threads, 3600, args.memory_limit)
            print("audit (DuckDB engine):", json.dumps(audit, ensure_ascii=False))
            if args.skip_naive:
                continue
            naive = run_step("naive", root / "big", args.threads, args.naive_timeout)
            print("naive SQL:", json.dumps(naive, ensure_ascii=False))
            if "error" not in naive and "error" not in audit:
                same = naive["by_rule"] == audit["by_rule"]
                print(f"same violations per rule: {same}; speed-up {naive['seconds'] / audit['seconds']:.1f}x")
                pairs.append((audit["seconds"], naive["seconds"]))
        if len(pairs) > 1:
            audits, naives = sorted(a for a, _ in pairs), sorted(n for _, n in pairs)
            print(
                f"{len(pairs)} pairs: audit {audits[0]:.1f}-{audits[-1]:.1f} s (median "
                f"{audits[len(audits) // 2]:.1f}), naive {naives[0]:.1f}-{naives[-1]:.1f} s, speed-up per pair "
                + ", ".join(f"{n / a:.1f}x" for a, n in pairs)
            )
        if not args.skip_spark:
            gen = generate(
                root / "small",
                args.spark_events,
                max(1, args.debtors * args.spark_events // args.events),
                args.days,
                args.personal,
            )
            spark = run_step("spark", root / "small", args.threads, 3600)
            print(f"spark on {args.spark_events:,} events:", json.dumps(spark, ensure_ascii=False))
            small = run_step("audit", root / "small", args.threads, 3600)
            print(f"audit (DuckDB engine) on {args.spark_events:,} events:", json.dumps(small, ensure_ascii=False))
            if "error" not in spark and "error" not in small:
                print(f"spark and duckdb agree per rule: {spark['by_rule'] == small['by_rule']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
