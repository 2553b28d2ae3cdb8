"""Reviewers' labels in a JSON-lines file: ``labels.jsonl`` in a directory the caller chooses.

Append-only: a later label for the same text does not erase an earlier one; training reads them all, so a
reviewer's correction is a new line (and the history of who said what stays readable).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from fairdun.application.screening import LabelledMessage, ScreenInputError, parse_labelled

LABELS_FILE = "labels.jsonl"


class LabelStoreError(Exception):
    """The label file cannot be read or written; the message names the file (and the line)."""


class JsonlLabelStore:
    """A :class:`fairdun.application.screening.LabelStore` in ``directory/labels.jsonl``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / LABELS_FILE

    def add(self, items: Sequence[LabelledMessage], at: datetime) -> int:
        """Append the labels, each stamped with ``at`` (an aware time); returns how many were written."""
        if at.tzinfo is None:
            raise ValueError("at: needs a time zone")
        lines = [json.dumps({**i.to_json(), "labelled_at": at.isoformat()}, ensure_ascii=False) for i in items]
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.writelines(line + "\n" for line in lines)
        except OSError as exc:
            raise LabelStoreError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
        return len(lines)

    def all(self) -> list[LabelledMessage]:
        """Every label stored so far (none when the file does not exist yet)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise LabelStoreError(f"{self.path}: cannot read: {exc}") from None
        return read_labelled_lines(text, str(self.path))


def read_labelled_lines(text: str, source: str) -> list[LabelledMessage]:
    """Labelled messages from JSON lines (blank lines skipped); an error names the source, line and field."""
    items = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(parse_labelled(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise LabelStoreError(f"{source}: line {n}: not valid JSON: {exc.msg} (column {exc.colno})") from None
        except ScreenInputError as exc:
            raise LabelStoreError(f"{source}: line {n}: {exc}") from None
    return items
