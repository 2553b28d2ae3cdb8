"""Message templates and their approval workflow: draft → in_review → approved → retired.

A template is one version of the text sent under a template id (``M1-SMS-REMINDER``) on one channel, to one
recipient role, under one rule pack, in one language. Its body holds variables in ``{name}`` form, filled in when
a message is made. A version is never edited: a change is a new version, and every transition is kept with who
made it and when.

Rules (their ids are part of the interface, printed by the CLI and listed in docs/screening.md):

* ``TPL-TRANSITION``: only draft → in_review → approved → retired (and draft or in_review → retired, to withdraw);
* ``TPL-FOUR-EYES``: the author of a version cannot approve it; a second person must;
* approving a version retires the version of the same id approved before it (done by the application, which sees
  every version).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from fairdun.domain.contact import Channel, Role

VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""A variable in a body or subject: ``{lender_name}``."""

TEMPLATE_ID = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,63}$")
"""Template ids are upper-case letters, digits, ``-`` and ``_`` (as the strategies name them), at most 64."""


class TemplateStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    RETIRED = "retired"


_NEXT: dict[TemplateStatus, frozenset[TemplateStatus]] = {
    TemplateStatus.DRAFT: frozenset({TemplateStatus.IN_REVIEW, TemplateStatus.RETIRED}),
    TemplateStatus.IN_REVIEW: frozenset({TemplateStatus.APPROVED, TemplateStatus.RETIRED}),
    TemplateStatus.APPROVED: frozenset({TemplateStatus.RETIRED}),
    TemplateStatus.RETIRED: frozenset(),
}


class TemplateError(ValueError):
    """A workflow step the rules refuse, or an invalid template. ``rule`` is the stable rule id (``TPL-FOUR-EYES``);
    ``problems`` lists every failure when there are several (a lint)."""

    def __init__(self, rule: str, problem: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(f"{rule}: {problem}")
        self.rule = rule
        self.problem = problem
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Transition:
    """One step of a version's life: the status it reached, who moved it there and when (UTC)."""

    status: TemplateStatus
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Template:
    """One version of a template. ``history`` starts with the draft (by the author) and grows by one transition per
    step; ``status`` is the last one's."""

    id: str
    version: int
    channel: Channel
    role: Role
    pack: str
    language: str
    subject: str | None
    body: str
    author: str
    history: tuple[Transition, ...]

    @property
    def status(self) -> TemplateStatus:
        return self.history[-1].status

    @property
    def ref(self) -> str:
        """``ID@vN``, as the outbox names the version a message was made from."""
        return f"{self.id}@v{self.version}"

    @property
    def variables(self) -> frozenset[str]:
        """The variables the subject and body use."""
        return frozenset(VARIABLE.findall(f"{self.subject or ''}\n{self.body}"))

    def by(self, status: TemplateStatus) -> Transition | None:
        """The (last) transition to ``status``, if there was one."""
        return next((t for t in reversed(self.history) if t.status is status), None)


def draft(
    template_id: str,
    version: int,
    *,
    channel: Channel,
    role: Role,
    pack: str,
    language: str,
    subject: str | None,
    body: str,
    author: str,
    at: datetime,
) -> Template:
    """A new draft version; raises :class:`TemplateError` (rule ``TPL-FIELD``) naming a missing or malformed part."""
    if not TEMPLATE_ID.match(template_id):
        raise TemplateError("TPL-FIELD", f"id: expected upper-case letters, digits, - and _, got {template_id!r}")
    if version < 1:
        raise TemplateError("TPL-FIELD", f"version: expected 1 or more, got {version}")
    for name, value in (("pack", pack), ("language", language), ("body", body), ("author", author)):
        if not value.strip():
            raise TemplateError("TPL-FIELD", f"{name}: must not be empty")
    if channel is Channel.EMAIL and not (subject or "").strip():
        raise TemplateError("TPL-FIELD", "subject: an e-mail template needs a subject")
    return Template(
        template_id, version, channel, role, pack, language, subject, body, author,
        (Transition(TemplateStatus.DRAFT, author, at),),
    )  # fmt: skip


def move(template: Template, to: TemplateStatus, *, by: str, at: datetime) -> Template:
    """The version moved to ``to`` by ``by`` at ``at``; raises :class:`TemplateError` when the rules refuse."""
    if not by.strip():
        raise TemplateError("TPL-FIELD", "by: who makes the transition must be named")
    if to not in _NEXT[template.status]:
        raise TemplateError(
            "TPL-TRANSITION",
            f"{template.ref} is {template.status.value}; it cannot become {to.value}"
            f" (allowed: {', '.join(s.value for s in sorted(_NEXT[template.status])) or 'none, it is final'})",
        )
    if to is TemplateStatus.APPROVED and by == template.author:
        raise TemplateError(
            "TPL-FOUR-EYES",
            f"{template.ref} was written by {by}; the author cannot approve their own template (four-eyes rule)",
        )
    return replace(template, history=(*template.history, Transition(to, by, at)))
