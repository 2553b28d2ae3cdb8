"""docs/access.md's permissions table is ``GRANTS``: a role gaining or losing a permission must change the page."""

from __future__ import annotations

from pathlib import Path

from fairdun.domain.access import GRANTS, Permission, UserRole

PAGE = Path(__file__).resolve().parents[2] / "docs" / "access.md"


def documented() -> dict[UserRole, frozenset[Permission]]:
    lines = [line for line in PAGE.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    header = next(line for line in lines if line.startswith("| permission |"))
    roles = [UserRole(cell.strip()) for cell in header.strip("|").split("|")[1:]]
    grants: dict[UserRole, set[Permission]] = {role: set() for role in roles}
    for line in lines:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if not (cells[0].startswith("`") and cells[0].strip("`") in set(Permission)):
            continue
        for role, cell in zip(roles, cells[1:], strict=True):
            if cell == "yes":
                grants[role].add(Permission(cells[0].strip("`")))
    return {role: frozenset(held) for role, held in grants.items()}


def test_the_permissions_table_in_docs_access_md_is_grants() -> None:
    assert documented() == GRANTS
