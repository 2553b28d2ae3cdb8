"""A unit of work holding templates only, in memory: what the registry's use cases need, and nothing else."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from fairdun.application.ports import ConflictError
from fairdun.domain.templates import Template, TemplateStatus


class FakeTemplateRepository:
    def __init__(self) -> None:
        self.stored: dict[tuple[str, int], Template] = {}

    def add(self, template: Template) -> None:
        if (template.id, template.version) in self.stored:
            raise ConflictError("template", template.ref, "already stored")
        self.stored[(template.id, template.version)] = template

    def update(self, template: Template) -> None:
        before = self.stored[(template.id, template.version)]
        assert template.history[: len(before.history)] == before.history, "history was rewritten"
        self.stored[(template.id, template.version)] = template

    def versions(self, template_id: str) -> tuple[Template, ...]:
        return tuple(t for (i, _), t in sorted(self.stored.items()) if i == template_id)

    def all(self, status: TemplateStatus | None = None) -> tuple[Template, ...]:
        return tuple(t for _, t in sorted(self.stored.items()) if status is None or t.status is status)


@dataclass(frozen=True)
class FakeEntry:
    seq: int
    hash: str
    actor: str
    action: str
    subject: str
    detail: Mapping[str, Any]


class FakeAuditLog:
    """Entries in a list (no chain: the real one is tested on the databases)."""

    def __init__(self) -> None:
        self.entries_: list[FakeEntry] = []

    def append(
        self, actor: str, action: str, subject: str, detail: Mapping[str, Any] | None = None, *, at: datetime
    ) -> FakeEntry:
        entry = FakeEntry(len(self.entries_) + 1, f"h{len(self.entries_) + 1}", actor, action, subject, detail or {})
        self.entries_.append(entry)
        return entry

    def last_detail(self, actions: Collection[str]) -> Mapping[str, Any] | None:
        found = [e for e in self.entries_ if e.action in actions]
        return found[-1].detail if found else None

    def entries(self, actions: Collection[str]) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
        return iter([(e.seq, e.action, e.detail) for e in self.entries_ if e.action in actions])


class FakeTemplateUnitOfWork:
    """Commits by copying: what was not committed is dropped on leaving the block."""

    def __init__(self) -> None:
        self.templates = FakeTemplateRepository()
        self.audit = FakeAuditLog()
        self._committed: dict[tuple[str, int], Template] = {}
        self._logged: list[FakeEntry] = []
        self.commits = 0

    def __enter__(self) -> Self:
        self.templates.stored = dict(self._committed)
        self.audit.entries_ = list(self._logged)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.templates.stored = dict(self._committed)
        self.audit.entries_ = list(self._logged)

    def commit(self) -> None:
        self._committed = dict(self.templates.stored)
        self._logged = list(self.audit.entries_)
        self.commits += 1
