"""Message templates on SQLAlchemy: a row per version (``templates``) and a row per transition
(``template_transitions``), only ever appended to; a version's ``status`` column mirrors its last transition."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fairdun.adapters.sqlalchemy.models import TemplateRow, TemplateTransitionRow
from fairdun.adapters.sqlalchemy.repositories import _flush, _utc
from fairdun.application.ports import ConflictError
from fairdun.domain.contact import Channel, Role
from fairdun.domain.templates import Template, TemplateStatus, Transition


class SqlAlchemyTemplateRepository:
    """:class:`fairdun.application.ports.TemplateRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, template: Template) -> None:
        first = template.history[0]
        self._session.add(
            TemplateRow(
                template_id=template.id,
                version=template.version,
                channel=template.channel.value,
                role=template.role.value,
                pack=template.pack,
                language=template.language,
                subject=template.subject,
                body=template.body,
                author=template.author,
                status=template.status.value,
                created_at=_utc(first.at, "at"),
            )
        )
        _flush(self._session, "template", template.ref)
        self._append(template, 0)

    def update(self, template: Template) -> None:
        stored = self._session.scalar(
            select(func.count())
            .select_from(TemplateTransitionRow)
            .where(TemplateTransitionRow.template_id == template.id, TemplateTransitionRow.version == template.version)
        )
        if not stored:
            raise ConflictError("template", template.ref, "was never stored")
        if stored > len(template.history):
            raise ConflictError("template", template.ref, "has transitions this copy does not know; read it again")
        self._append(template, stored)
        self._session.execute(
            update(TemplateRow)
            .where(TemplateRow.template_id == template.id, TemplateRow.version == template.version)
            .values(status=template.status.value)
        )

    def _append(self, template: Template, start: int) -> None:
        for seq, t in enumerate(template.history[start:], start):
            self._session.add(
                TemplateTransitionRow(
                    template_id=template.id,
                    version=template.version,
                    seq=seq,
                    status=t.status.value,
                    actor=t.by,
                    at=_utc(t.at, "at"),
                )
            )
        _flush(self._session, "template transition", template.ref)

    def versions(self, template_id: str) -> tuple[Template, ...]:
        return self._load(select(TemplateRow).where(TemplateRow.template_id == template_id))

    def all(self, status: TemplateStatus | None = None) -> tuple[Template, ...]:
        query = select(TemplateRow)
        if status is not None:
            query = query.where(TemplateRow.status == status.value)
        return self._load(query)

    def _load(self, query: object) -> tuple[Template, ...]:
        rows: Sequence[TemplateRow] = list(
            self._session.scalars(
                query.order_by(TemplateRow.template_id, TemplateRow.version)  # type: ignore[attr-defined]
            )
        )
        if not rows:
            return ()
        ids = sorted({r.template_id for r in rows})
        history: dict[tuple[str, int], list[Transition]] = {}
        for first in range(0, len(ids), 500):
            transitions = self._session.scalars(
                select(TemplateTransitionRow)
                .where(TemplateTransitionRow.template_id.in_(ids[first : first + 500]))
                .order_by(TemplateTransitionRow.template_id, TemplateTransitionRow.version, TemplateTransitionRow.seq)
            )
            for t in transitions:
                history.setdefault((t.template_id, t.version), []).append(
                    Transition(TemplateStatus(t.status), t.actor, t.at)
                )
        return tuple(_template(r, history[(r.template_id, r.version)]) for r in rows)


def _template(r: TemplateRow, history: Sequence[Transition]) -> Template:
    return Template(
        r.template_id, r.version, Channel(r.channel), Role(r.role), r.pack, r.language, r.subject, r.body,
        r.author, tuple(history),
    )  # fmt: skip
