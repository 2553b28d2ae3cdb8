"""Docs as tests: a rule id, a check kind, a category, a command or a setting that is not documented fails."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import typer.main

from fairdun.cli.main import app
from fairdun.config.packs import PackLoader, builtin_pack_names
from fairdun.config.settings import Settings
from fairdun.policy.checks import CHECK_KINDS
from fairdun.policy.screen import CATEGORIES

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"


def read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def commands(group: Any, prefix: str = "fairdun") -> list[str]:
    """Leaf command paths of a click-style group (typer may vendor its own click, so duck-typed)."""
    out = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if hasattr(command, "commands"):
            out.extend(commands(command, path))
        else:
            out.append(path)
    return out


def test_every_builtin_rule_id_is_documented() -> None:
    text = read("docs/packs.md")
    loader = PackLoader()
    missing = [r.id for n in builtin_pack_names() for r in loader.load(n).rules if f"`{r.id}`" not in text]
    assert missing == []


def test_every_check_kind_is_documented() -> None:
    text = read("docs/packs.md")
    assert [k for k in CHECK_KINDS if f"`{k}`" not in text] == []


def test_every_content_category_is_documented() -> None:
    text = read("docs/screening.md")
    assert [c for c in CATEGORIES if f"`{c}`" not in text] == []


def test_every_command_is_documented() -> None:
    found = commands(typer.main.get_command(app))
    assert "fairdun gate check" in found
    text = read("docs/cli.md")
    assert [c for c in found if f"`{c}" not in text] == []


def test_every_setting_is_documented() -> None:
    text = read("docs/cli.md")
    assert [f.name for f in fields(Settings) if f"FAIRDUN_{f.name.upper()}" not in text] == []


def test_the_readme_quick_start_is_make_demo_and_make_test() -> None:
    text = read("README.md")
    assert "make demo" in text
    assert "make test" in text
    for link in ("docs/gate.md", "docs/packs.md", "docs/cli.md", "docs/benchmarks.md"):
        assert (ROOT / link).exists()
        assert link in text
