"""Loads golden scenario files (tests/golden/*.json): data, not code.

A file holds one pack's cases::

    {"pack": "cn", "base": {<a request without "pack">},
     "cases": [{"name": "...", "patch": {...}, "expect": {"decision": "deny", "rules": ["CN-TIME"],
                                                         "next_allowed_at": "2026-11-24T08:00:00+08:00"}}]}

``patch`` is merged into ``base`` (tables merge key by key, anything else replaces). ``expect.rules`` is the
exact list of rule ids that denied or were indeterminate, in pack order; ``next_allowed_at`` is compared as an
instant when present (null: waiting cannot help).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).parent / "golden"


def merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(patch)


def load_cases() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(id, pack, request, expect) for every case of every golden file."""
    out = []
    for path in sorted(GOLDEN.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        names = set()
        for case in doc["cases"]:
            assert case["name"] not in names, f"{path.name}: duplicate case name {case['name']!r}"
            names.add(case["name"])
            request = merge(doc["base"], case.get("patch", {}))
            request["pack"] = doc["pack"]
            out.append((f"{path.stem}: {case['name']}", doc["pack"], request, case["expect"]))
    return out
