"""The log's messages screened for the audit: the ``cflags`` table the compiled query joins.

The content checks are the gate's own (its screener and patterns, ``compile.content_findings``), asked once per
distinct (content, role) of the log's attempts. A log of a dozen templates has a dozen to ask; a real one, whose
messages carry the debtor's name, number and amount, has nearly one per message, at tens of microseconds each in
Python. From :data:`PARALLEL_FROM` pairs on, worker processes screen them, one per core, a chunk at a time
(``screen_worker``; each holds its own copy of the checks): the same flags in a fraction of the time. Below it,
starting the processes would cost more than it saves.

The workers are plain ``python -m`` processes fed through pipes, not ``multiprocessing``'s: that would import the
caller's main module again in each of them, and a script without a ``__main__`` guard would then run twice.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from subprocess import PIPE
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import fairdun
from fairdun.adapters.audit import screen_worker
from fairdun.adapters.audit.compile import CODED, ContentCheck
from fairdun.application.audit import AuditEngineError

PARALLEL_FROM = 20_000
"""Distinct (content, role) pairs from which worker processes screen them: two workers start in about 0.4 s and
overtake one process between 10,000 and 20,000 pairs (measured: docs/benchmarks.md)."""

CHUNK = 4_000
"""Most pairs per message to a worker: enough to make handing them over cheap beside screening them (a tenth to a
fifth of a second of work); fewer when there are fewer pairs, so that every worker stays busy to the end."""
SMALLEST_CHUNK = 500

_WORKER = [sys.executable, "-m", "fairdun.adapters.audit.screen_worker"]


def workers_available() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def flag_table(
    checks: Sequence[ContentCheck], contents: pa.Array, roles: pa.Array, *, workers: int | None = None
) -> pa.Table:
    """``cflags``: per (content, role) pair given (text columns of the same length) with a finding, the role as
    the query codes it and one 0/1 column per check (1 where its finding holds); a pair left out has none.
    ``workers`` processes screen them when there are at least :data:`PARALLEL_FROM` pairs (default: one per core;
    1 keeps it in this process)."""
    texts = _strings(contents)
    kinds = _strings(roles, few=True)
    count = workers if workers is not None else workers_available()
    if count > 1 and len(texts) >= PARALLEL_FROM:
        found = in_workers(checks, texts, kinds, count)
    else:
        found = screen_worker.flags(checks, texts, kinds)
    matrix = np.frombuffer(found, dtype=np.int8).reshape(len(texts), len(checks))
    # Only pairs with a finding: the query reads a pair it does not find as all 0 (``COALESCE``), so a log of
    # mostly lawful messages joins a small table, not one as large as its distinct messages.
    kept = pa.array(np.flatnonzero(matrix.any(axis=1)))
    codes = pc.add(pc.index_in(roles, value_set=pa.array(CODED["role"], pa.string())), 1)
    columns = {
        "content": pc.cast(contents, pa.string()).take(kept),
        "role": pc.cast(codes, pa.int8()).take(kept),
        **{c.column: pa.array(np.ascontiguousarray(matrix[:, j])).take(kept) for j, c in enumerate(checks)},
    }
    return pa.table(columns)


def _strings(column: pa.Array, *, few: bool = False) -> list[str]:
    """A text column without nulls as Python strings, through NumPy (a third of ``to_pylist``'s time); with
    ``few`` distinct values (the roles), each made once."""
    if few:
        encoded = pc.dictionary_encode(column)
        values = encoded.dictionary.to_numpy(zero_copy_only=False)
        return list(values[encoded.indices.to_numpy(zero_copy_only=False)].tolist())
    return list(column.to_numpy(zero_copy_only=False).tolist())


def in_workers(checks: Sequence[ContentCheck], texts: Sequence[str], roles: Sequence[str], count: int) -> bytes:
    """``screen_worker.flags`` of every (text, role), worked out by ``count`` worker processes: a thread here per
    worker hands it the next chunk as it answers the last (the pipes' I/O lets go of the GIL)."""
    size = max(SMALLEST_CHUNK, min(CHUNK, -(-len(texts) // (count * 8))))  # at least eight chunks a worker, when it can
    starts = list(range(0, len(texts), size))
    answers: list[bytes] = [b""] * len(starts)
    lock = threading.Lock()
    pending = iter(range(len(starts)))
    stop = threading.Event()  # a worker failed, or the caller was interrupted: the others hand out no more
    # The worker imports fairdun as this process did, wherever that was found.
    root = str(Path(fairdun.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    procs: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []

    def drive(proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None
        assert proc.stdout is not None
        pickle.dump(tuple(checks), proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        while not stop.is_set():
            with lock:
                k = next(pending, None)
            if k is None:
                break
            s = starts[k]
            pickle.dump((list(texts[s : s + size]), list(roles[s : s + size])), proc.stdin, protocol=5)
            proc.stdin.flush()
            answer = pickle.load(proc.stdout)
            if not isinstance(answer, bytes) or len(answer) != len(texts[s : s + size]) * len(checks):
                raise pickle.UnpicklingError("a worker's answer has the wrong length")
            answers[k] = answer
        proc.stdin.close()

    with contextlib.ExitStack() as stack:
        try:
            for _ in range(count):
                errors = stack.enter_context(tempfile.TemporaryFile())
                procs.append((subprocess.Popen(_WORKER, stdin=PIPE, stdout=PIPE, stderr=errors, env=env), errors))
            with ThreadPoolExecutor(count) as pool:
                driving = [pool.submit(drive, proc) for proc, _ in procs]
                try:
                    wait(driving, return_when=FIRST_EXCEPTION)
                finally:
                    if not all(d.done() and d.exception() is None for d in driving):
                        stop.set()  # the others end after their chunk, not after every chunk left
                for done in driving:
                    done.result()
        except (OSError, EOFError, pickle.UnpicklingError) as exc:  # a worker that died (out of memory, killed)
            raise AuditEngineError(f"screening the log's messages failed: {_why(procs, exc)}") from exc
        finally:
            for proc, _ in procs:
                _end(proc)
    return b"".join(answers)


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Let a worker end (at the end of its input), or end it, and close its pipes."""
    if proc.stdin is not None and not proc.stdin.closed:
        with contextlib.suppress(OSError):  # a worker gone already
            proc.stdin.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def _why(procs: Sequence[tuple[subprocess.Popen[bytes], IO[bytes]]], exc: BaseException) -> str:
    """What a failed worker said last (its standard error's last line), else the exception. The workers are let
    end first (a healthy one ends at the end of its input), so that the one that failed is told by its status."""
    for proc, _ in procs:
        _end(proc)
    for proc, errors in procs:
        errors.seek(0)
        lines = errors.read().decode("utf-8", "replace").strip().splitlines()
        if proc.returncode != 0:
            return f"a worker process ended with status {proc.returncode}" + (f": {lines[-1][:200]}" if lines else "")
    return str(exc) or type(exc).__name__
