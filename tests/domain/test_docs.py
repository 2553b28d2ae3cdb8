"""docs/loans.md is run: its worked example must be what the code does."""

from __future__ import annotations

import doctest
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "loans.md"


def test_the_worked_example_in_docs_loans_md_is_what_the_code_does() -> None:
    result = doctest.testfile(str(DOC), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 10
    assert result.failed == 0


def test_docs_loans_md_names_every_public_function_of_the_loan_domain() -> None:
    text = DOC.read_text(encoding="utf-8")
    names = [
        "quantize", "to_money", "split", "build_schedule", "parse_product", "loan_state", "dpd_history",
        "bucket_history", "roll_rates", "cure_rate", "restate", "BucketTable", "PaymentReversed", "PauseGranted",
        "Waived", "monthly_interest",
    ]  # fmt: skip
    assert [n for n in names if f"`{n}" not in text] == []
