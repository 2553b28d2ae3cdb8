"""docs/cases.md names every public function and event of the cases domain."""

from __future__ import annotations

from pathlib import Path

from fairdun.domain import cases

DOC = Path(__file__).resolve().parents[2] / "docs" / "cases.md"


def test_docs_cases_md_names_every_public_function_and_event() -> None:
    text = DOC.read_text(encoding="utf-8")
    events = [e.__name__ for e in cases.CaseEvent.__args__]
    functions = ["case_history", "case_state", "bucket_events", "is_cured", "may_contact_for_collection"]
    names = [*events, *functions, "assign_by_load", "PlanInstallment", "DomainError"]
    assert [n for n in names if f"`{n}" not in text] == []
