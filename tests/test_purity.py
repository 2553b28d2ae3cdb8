"""The pure core reads no clock, no environment and no files: checked over the source, not hoped for.

(import-linter keeps frameworks and I/O modules out of ``fairdun.domain`` and ``fairdun.policy``; this test
catches what an import contract cannot: calls into the standard library's clock, environment and files.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src" / "fairdun"
PURE = sorted([*SRC.joinpath("domain").rglob("*.py"), *SRC.joinpath("policy").rglob("*.py")])
# (owner, attribute) pairs: the clock and the environment, however the module was imported.
FORBIDDEN_ATTRIBUTE_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "perf_counter"),
    ("os", "getenv"),
    ("Path", "read_text"),
}
FORBIDDEN_BARE_CALLS = {"open", "input"}
FORBIDDEN_NAMES = {"environ"}


def _owner(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def offences(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and (_owner(func.value), func.attr) in FORBIDDEN_ATTRIBUTE_CALLS:
                found.append(f"{path.name}:{node.lineno} calls {func.attr}()")
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_BARE_CALLS:
                found.append(f"{path.name}:{node.lineno} calls {func.id}()")
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
            found.append(f"{path.name}:{node.lineno} reads {node.attr}")
    return found


def test_there_is_a_pure_core_to_check() -> None:
    assert len(PURE) >= 10


@pytest.mark.parametrize("path", PURE, ids=[p.name for p in PURE])
def test_pure_modules_read_no_clock_environment_or_file(path: Path) -> None:
    assert offences(path) == []


def test_the_checker_catches_a_clock_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import datetime\nx = datetime.datetime.now()\nimport os\ny = os.environ\n")
    assert offences(bad) == ["bad.py:2 calls now()", "bad.py:4 reads environ"]
