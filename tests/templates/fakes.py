"""A unit of work holding templates only, in memory: what the registry's use cases need, and nothing else."""

from __future__ import annotations

from types import TracebackType
from typing import Self

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


class FakeTemplateUnitOfWork:
    """Commits by copying: what was not committed is dropped on leaving the block."""

    def __init__(self) -> None:
        self.templates = FakeTemplateRepository()
        self._committed: dict[tuple[str, int], Template] = {}
        self.commits = 0

    def __enter__(self) -> Self:
        self.templates.stored = dict(self._committed)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.templates.stored = dict(self._committed)

    def commit(self) -> None:
        self._committed = dict(self.templates.stored)
        self.commits += 1
