"""What every benchmark here reports about the machine it ran on, and how it pins itself to one core."""

from __future__ import annotations

import os
import platform


def pin_to_one_core() -> str:
    """Pin this process to CPU 0 where the OS allows it; say what happened."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity here)"
    try:
        os.sched_setaffinity(0, {0})
    except OSError as exc:
        return f"not pinned ({exc})"
    return "pinned to CPU 0"


def cpu_model() -> str:
    """The CPU's model name as /proc/cpuinfo gives it, or what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
