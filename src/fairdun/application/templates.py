"""The template registry's use cases (add, submit, approve, retire) and the lint a version must pass on submit.

Lint rules (each failure names its rule; submit lists them all and refuses):

* ``TPL-SCREEN``: the content screener, for the template's recipient role, finds no violation in the subject and
  body with sample values put in for the variables;
* ``TPL-SENDER``: the message says who sends it: a ``{lender_name}`` variable, or the lender's name literally;
* ``TPL-OPT-OUT``: under the ``us`` pack, an SMS or e-mail says how to stop them ("Reply STOP", "unsubscribe");
* ``TPL-DEBT-VARIABLE``: a template for a ``contact`` or ``third_party`` carries no debt variable (``{amount}``,
  ``{overdue_amount}``, ``{debt}``, ``{days_past_due}``, ...): they are not told about someone else's debt;
* ``TPL-VALIDATION-NOTICE``: under the ``us`` pack, a validation notice (an id containing ``VALIDATION``) carries a
  variable for every item of validation information (:data:`VALIDATION_FIELDS`).

The workflow rules (``TPL-TRANSITION``, ``TPL-FOUR-EYES``) are in :mod:`fairdun.domain.templates`. Approving a
version retires the version of the same id approved before it, in the same transaction.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from fairdun.application.ports import UnitOfWork
from fairdun.application.screening import VIOLATIONS
from fairdun.domain.contact import Channel, Role
from fairdun.domain.templates import VARIABLE, Template, TemplateError, TemplateStatus, draft, move
from fairdun.policy.screen import Screener

DEBT_VARIABLES = frozenset(
    {
        "amount", "overdue_amount", "debt", "debt_amount", "days_past_due", "dpd", "balance", "outstanding",
        "principal", "interest", "penalty", "fee", "fees", "installment", "installment_amount", "due_date",
        "due_amount", "loan_id", "loan_amount", "arrears", "minimum_payment", "payoff_amount",
    }
)  # fmt: skip
"""Variables that would tell the recipient about the debt: never in a template for a contact or a third party."""

VALIDATION_FIELDS: tuple[str, ...] = (
    "collector_name", "collector_address", "name", "consumer_address", "itemization_creditor", "account_number",
    "current_creditor", "itemization_date", "itemization_amount", "interest_since", "fees_since", "payments_since",
    "credits_since", "amount", "validation_end_date",
)  # fmt: skip
"""The validation information a ``us`` validation notice gives, one variable each: who collects and where, the
consumer, the creditor on the itemization date and the account number, the current creditor, the itemization date
and the amount then, the interest, fees, payments and credits since, the amount now, and the end of the validation
period (Regulation F, 12 CFR 1006.34(c); the dispute and original-creditor prompts are fixed text, not variables).
A template is a validation notice when its id says so (``US-VALIDATION-NOTICE``)."""

SAMPLE_VALUES: Mapping[str, str] = {
    "lender_name": "示例消费金融",
    "name": "张三",
    "first_name": "三",
    "amount": "1,280.00",
    "overdue_amount": "1,280.00",
    "due_date": "2026-09-15",
    "days_past_due": "12",
    "phone": "400-000-0000",
    "service_phone": "400-000-0000",
    "url": "https://example.com/pay",
    "agent_name": "李客服",
}
"""What the screener sees for each variable; any other variable reads as ``样例``."""

OPT_OUT = re.compile(
    r"reply\s+\W?stop|text\s+\W?stop|unsubscribe|opt[\s-]?out|回复\s*(?:TD|T|退订)|退订", re.IGNORECASE
)
OPT_OUT_CHANNELS = frozenset({Channel.SMS, Channel.EMAIL})
UNTOLD_ROLES = frozenset({Role.CONTACT, Role.THIRD_PARTY})


@dataclass(frozen=True, slots=True)
class LintFailure:
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


def sample(text: str) -> str:
    """``text`` with each variable replaced by its sample value."""
    return VARIABLE.sub(lambda m: SAMPLE_VALUES.get(m.group(1), "样例"), text)


def lint(template: Template, screener: Screener | None, *, lender_name: str | None = None) -> tuple[LintFailure, ...]:
    """Every lint failure of ``template`` (none: it may go to review). Without a screener, ``TPL-SCREEN`` is not
    run (the caller says why)."""
    failures: list[LintFailure] = []
    if screener is not None:
        for part, text in (("subject", template.subject), ("body", template.body)):
            if not text:
                continue
            found = [f for f in screener.screen(sample(text), template.role) if f.category in VIOLATIONS]
            for f in found:
                failures.append(
                    LintFailure(
                        "TPL-SCREEN", f"the {part} reads as {f.category} to a {template.role.value}: {f.text!r}"
                    )
                )
    both = f"{template.subject or ''}\n{template.body}"
    if "lender_name" not in template.variables and not (lender_name and lender_name in both):
        named = f" or the lender's name ({lender_name})" if lender_name else " (or the lender's name literally)"
        failures.append(LintFailure("TPL-SENDER", f"the message must say who sends it: add {{lender_name}}{named}"))
    if template.pack == "us" and template.channel in OPT_OUT_CHANNELS and not OPT_OUT.search(both):
        failures.append(
            LintFailure(
                "TPL-OPT-OUT",
                f"a {template.channel.value} under the us pack must say how to stop them"
                " (e.g. 'Reply STOP to opt out')",
            )
        )
    if template.role in UNTOLD_ROLES:
        debt = sorted(template.variables & DEBT_VARIABLES)
        if debt:
            failures.append(
                LintFailure(
                    "TPL-DEBT-VARIABLE",
                    f"a template for a {template.role.value} must not carry debt details:"
                    f" {', '.join('{' + v + '}' for v in debt)}",
                )
            )
    if template.pack == "us" and "VALIDATION" in template.id:
        missing = [v for v in VALIDATION_FIELDS if v not in template.variables]
        if missing:
            failures.append(
                LintFailure(
                    "TPL-VALIDATION-NOTICE",
                    "a validation notice must give all the validation information; missing:"
                    f" {', '.join('{' + v + '}' for v in missing)}",
                )
            )
    return tuple(failures)


# --- the use cases ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """What an author writes: everything but the version and the workflow."""

    id: str
    channel: Channel
    role: Role
    pack: str
    language: str
    subject: str | None
    body: str
    author: str


def add(uow: UnitOfWork, spec: TemplateSpec, *, at: datetime) -> Template:
    """Stores ``spec`` as a new draft version of its id (version 1, or one after the newest)."""
    versions = uow.templates.versions(spec.id)
    template = draft(
        spec.id,
        (versions[-1].version if versions else 0) + 1,
        channel=spec.channel,
        role=spec.role,
        pack=spec.pack,
        language=spec.language,
        subject=spec.subject,
        body=spec.body,
        author=spec.author,
        at=at,
    )
    uow.templates.add(template)
    _audit(uow, template, "drafted", by=spec.author, at=at)
    return template


def _audit(uow: UnitOfWork, template: Template, what: str, *, by: str, at: datetime) -> None:
    """A template's every step is configuration: it decides what the cycle may say. The entry names the version
    and a digest of its text, so the log proves which words were approved, by whom and when."""
    text = f"{template.subject or ''}\n{template.body}".encode()
    detail = {
        "id": template.id,
        "version": template.version,
        "channel": template.channel.value,
        "role": template.role.value,
        "pack": template.pack,
        "language": template.language,
        "text_sha256": hashlib.sha256(text).hexdigest(),
    }
    uow.audit.append(by, f"template.{what}", template.ref, detail, at=at)


def _latest(uow: UnitOfWork, template_id: str, statuses: Iterable[TemplateStatus], doing: str) -> Template:
    versions = uow.templates.versions(template_id)
    if not versions:
        raise TemplateError("TPL-NOT-FOUND", f"no template {template_id!r}")
    wanted = set(statuses)
    found = next((t for t in reversed(versions) if t.status in wanted), None)
    if found is None:
        states = " or ".join(s.value for s in TemplateStatus if s in wanted)
        raise TemplateError("TPL-TRANSITION", f"{template_id} has no version {states} to {doing}")
    return found


def submit(
    uow: UnitOfWork,
    template_id: str,
    *,
    by: str,
    at: datetime,
    screener: Screener | None,
    lender_name: str | None = None,
) -> Template:
    """Sends the newest draft of ``template_id`` to review, if it passes the lint; otherwise raises
    :class:`TemplateError` (rule ``TPL-LINT``) listing every failure, and nothing changes."""
    template = _latest(uow, template_id, [TemplateStatus.DRAFT], "submit")
    failures = lint(template, screener, lender_name=lender_name)
    if failures:
        raise TemplateError(
            "TPL-LINT",
            f"{template.ref} fails the lint: " + "; ".join(str(f) for f in failures),
            tuple(str(f) for f in failures),
        )
    moved = move(template, TemplateStatus.IN_REVIEW, by=by, at=at)
    uow.templates.update(moved)
    _audit(uow, moved, "submitted", by=by, at=at)
    return moved


def approve(uow: UnitOfWork, template_id: str, *, by: str, at: datetime) -> Template:
    """Approves the version of ``template_id`` in review (not by its author) and retires the one approved before."""
    template = _latest(uow, template_id, [TemplateStatus.IN_REVIEW], "approve")
    approved = move(template, TemplateStatus.APPROVED, by=by, at=at)
    for earlier in uow.templates.versions(template_id):
        if earlier.status is TemplateStatus.APPROVED:
            uow.templates.update(move(earlier, TemplateStatus.RETIRED, by=by, at=at))
            _audit(uow, earlier, "retired", by=by, at=at)
    uow.templates.update(approved)
    _audit(uow, approved, "approved", by=by, at=at)
    return approved


def retire(uow: UnitOfWork, template_id: str, *, by: str, at: datetime) -> Template:
    """Retires the approved version of ``template_id`` (or, when none is approved, withdraws the newest draft or
    version in review): the cycle stops sending it."""
    open_ = [TemplateStatus.APPROVED, TemplateStatus.IN_REVIEW, TemplateStatus.DRAFT]
    versions = uow.templates.versions(template_id)
    approved = next((t for t in versions if t.status is TemplateStatus.APPROVED), None)
    template = approved or _latest(uow, template_id, open_, "retire")
    retired = move(template, TemplateStatus.RETIRED, by=by, at=at)
    uow.templates.update(retired)
    _audit(uow, retired, "retired", by=by, at=at)
    return retired


def approved_index(templates: Iterable[Template]) -> dict[tuple[str, Channel, Role, str], Template]:
    """The approved versions by (id, channel, recipient role, pack): what the cycle may send."""
    return {(t.id, t.channel, t.role, t.pack): t for t in templates if t.status is TemplateStatus.APPROVED}


def register_approved(
    uow: UnitOfWork,
    specs: Iterable[TemplateSpec],
    *,
    approver: str,
    at: datetime,
    screener: Screener | None = None,
) -> tuple[Template, ...]:
    """Adds, submits (with the lint) and approves each spec, its author submitting and ``approver`` approving:
    for fictional books (the demo), whose templates are checked like any other."""
    out = []
    for spec in specs:
        add(uow, spec, at=at)
        submit(uow, spec.id, by=spec.author, at=at, screener=screener)
        out.append(approve(uow, spec.id, by=approver, at=at))
    return tuple(out)
