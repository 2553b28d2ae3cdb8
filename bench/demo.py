"""``make demo``'s main job, timed: wall clock, CPU time of every process, and the largest process's peak memory.

    .venv/bin/python bench/demo.py                        # the default demo: 5,000 borrowers, 60 days
    .venv/bin/python bench/demo.py --borrowers 1000 --days 20 --workers 1

It runs ``fairdun demo`` as ``make demo`` does, in a child process, into a temporary directory, and reads the
CPU time the demo reports for its pieces (each worker measures its own user + system time and peak memory:
the workers are forked from a fork server, so they are not this process's children). The target (issue 3) is
60 s on 2 cores.

This is a benchmark, not a test: it reports figures and asserts no time.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from machine import cpu_model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--borrowers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    fairdun = Path(sys.executable).with_name("fairdun")
    with tempfile.TemporaryDirectory(prefix="fairdun-demo-bench-") as tmp:
        command = [str(fairdun), "demo", "--borrowers", str(args.borrowers), "--days", str(args.days)]
        command += ["--seed", str(args.seed), "--out", tmp]
        if args.workers is not None:
            command += ["--workers", str(args.workers)]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        report = Path(tmp) / "index.html"
        size = report.stat().st_size if report.exists() else 0
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return done.returncode
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"command: fairdun demo --borrowers {args.borrowers} --days {args.days} --seed {args.seed}"
          + (f" --workers {args.workers}" if args.workers is not None else ""))  # fmt: skip
    print(f"wall: {wall:.1f} s (target: 60 s on 2 cores)")
    cpu_line = next((line for line in done.stdout.splitlines() if line.startswith("CPU:")), "CPU: not reported")
    print(f"demo's own account: {cpu_line}")
    print(f"cpu of the demo process and its direct children: {usage.ru_utime + usage.ru_stime:.1f} s")
    print(f"report: {size / 1024:.0f} KB")
    load = os.getloadavg()
    print(f"load average when it ended: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
