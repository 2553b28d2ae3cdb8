"""Who may collect: collectors' training, and the outside agencies a case may be placed with.

Pure rules over plain values (the adapters store them: migration 0009). Two questions, each answered with the
reasons a lawyer can check rather than a bare yes or no:

* :func:`training_current`: may this collector be given cases and dial today? GB/T 45251-2025 asks for training
  and an exam before a collector starts and at least once a year after (RULES.md CN-TRAIN-01).
* :func:`placement_refusals`: may this borrower's case be placed with this agency now? Only with an agency on
  the lender's approved list (CN-OUT-02: CBA 2026 guideline, white-list management), evaluated within the last
  year (CN-OUT-01: GB/T 45251-2025), after the borrower was told (CN-NOFRAUD-01: CBIRC 消费者权益保护管理办法
  Art. 41), and with a lawful basis for handing over the borrower's personal information: the borrower's separate
  consent (PIPL Art. 23) or an entrusted-processing contract with the agency (PIPL Art. 21).

A day is a local calendar date; "valid until" days are the last day something still holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from fairdun.domain.errors import DomainError

AGENCY_SHARING = "agency_sharing"
"""The consent purpose under which a borrower agrees, separately, to their data going to an outside agency."""

SHAREABLE_FIELDS = ("name", "phone", "email", "postal_address", "resident_id", "bank_account")
"""The personal fields a placement may share, by the names the access log uses."""

MINIMAL_SHARE: frozenset[str] = frozenset({"name", "phone"})
"""What a placement shares unless the lender records more: the least an agency needs to call the debtor (PIPL
Art. 6, minimum necessary)."""

TRAINING_CITATION = "GB/T 45251-2025 (RULES.md CN-TRAIN-01)"
APPROVED_LIST = "CBA 2026 guideline, agency list management; NIFA 2018 公约 (RULES.md CN-OUT-02)"
EVALUATION = "GB/T 45251-2025: each agency evaluated at least once a year (RULES.md CN-OUT-01)"
NOTICE = "CBIRC 银行保险机构消费者权益保护管理办法 Art. 41: inform the debtor before engaging an agency (CN-NOFRAUD-01)"
SHARING = "PIPL Art. 23 (separate consent to provide to another processor) or Art. 21 (entrusted-processing contract)"


class TrainingKind(StrEnum):
    ONBOARDING = "onboarding"
    """The training and exam before a collector's first case (岗前培训和考核)."""
    ANNUAL = "annual"
    """The yearly collection-practice and information-security training and exam."""


class EvaluationResult(StrEnum):
    PASS = "pass"
    FAIL = "fail"


def one_year_on(day: date) -> date:
    """The last day of the year that starts on ``day``: a training passed on 2026-03-01 holds to 2027-02-28 and
    has lapsed on 2027-03-01 (a 29 February counts as the 28th)."""
    try:
        anniversary = day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        anniversary = day.replace(year=day.year + 1, day=28)
    return anniversary - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Training:
    """A training a user passed: its kind, the day they passed, the last day it counts, the evidence (a
    certificate or exam reference, never a personal value) and who recorded it."""

    user: str
    kind: TrainingKind
    passed_on: date
    valid_until: date
    evidence: str
    recorded_by: str

    def __post_init__(self) -> None:
        if self.valid_until < self.passed_on:
            raise DomainError("valid_until", f"{self.valid_until} is before passed_on {self.passed_on}")
        if not self.evidence.strip():
            raise DomainError("evidence", "say what shows the training was passed (a certificate, an exam id)")


def training_current(trainings: Iterable[Training], on: date) -> str | None:
    """None when the collector may work on ``on``; otherwise why not.

    They must have passed onboarding on or before ``on``, and hold a training (annual, or the onboarding itself
    in its first year) whose validity covers ``on``. The reason names the day the training lapsed: the day after
    the last one held."""
    passed = [t for t in trainings if t.passed_on <= on]
    if not any(t.kind is TrainingKind.ONBOARDING for t in passed):
        return f"onboarding training never passed ({TRAINING_CITATION}: 催收人员上岗前应进行必要的岗前培训和考核)"
    held_until = max(t.valid_until for t in passed)
    if held_until < on:
        lapsed = held_until + timedelta(days=1)
        return f"annual training lapsed on {lapsed.isoformat()} ({TRAINING_CITATION}: 每年至少进行一次培训和考核)"
    return None


@dataclass(frozen=True, slots=True)
class Agency:
    """An outside collection agency: on the approved list from ``approved_at`` until ``revoked_at``, and the
    personal fields a placement with it shares."""

    id: str
    name: str
    approved_at: datetime | None = None
    revoked_at: datetime | None = None
    shared_fields: frozenset[str] = field(default_factory=lambda: MINIMAL_SHARE)

    def __post_init__(self) -> None:
        unknown = sorted(self.shared_fields - set(SHAREABLE_FIELDS))
        if unknown:
            raise DomainError("shared_fields", f"unknown {', '.join(unknown)} (known: {', '.join(SHAREABLE_FIELDS)})")
        if not self.shared_fields:
            raise DomainError("shared_fields", "a placement shares at least one field, or the agency cannot work")
        if not self.name.strip():
            raise DomainError("name", "must not be empty")

    def approved(self, at: datetime) -> bool:
        """Whether the agency is on the approved list at ``at``."""
        if self.approved_at is None or self.approved_at > at:
            return False
        return self.revoked_at is None or self.revoked_at > at


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One evaluation of an agency (compliance, effectiveness, information security), its result, the last day it
    counts (a year), who evaluated and the report's reference."""

    agency: str
    evaluated_on: date
    result: EvaluationResult
    valid_until: date
    evaluator: str
    reference: str

    def __post_init__(self) -> None:
        if self.valid_until < self.evaluated_on:
            raise DomainError("valid_until", f"{self.valid_until} is before evaluated_on {self.evaluated_on}")
        if not self.reference.strip():
            raise DomainError("reference", "name the evaluation report")


@dataclass(frozen=True, slots=True)
class Contract:
    """An entrusted-processing contract (PIPL Art. 21) with an agency: purpose, period, method, categories of
    data, protection measures and duties, referenced here, in force from ``signed_on`` to ``expires_on``."""

    agency: str
    reference: str
    signed_on: date
    expires_on: date

    def __post_init__(self) -> None:
        if self.expires_on <= self.signed_on:
            raise DomainError("expires_on", f"{self.expires_on} is not after signed_on {self.signed_on}")
        if not self.reference.strip():
            raise DomainError("reference", "name the contract")

    def in_force(self, on: date) -> bool:
        return self.signed_on <= on <= self.expires_on


@dataclass(frozen=True, slots=True)
class PlacementNotice:
    """The borrower was told, at ``informed_at``, that their case may go to ``agency``: on which channel, and the
    evidence (a letter's reference, a message key, a contract clause)."""

    borrower: str
    agency: str
    informed_at: datetime
    channel: str
    evidence: str

    def __post_init__(self) -> None:
        if not self.channel.strip():
            raise DomainError("channel", "say how the borrower was told")
        if not self.evidence.strip():
            raise DomainError("evidence", "say what shows the borrower was told")


class RefusalCode(StrEnum):
    NOT_APPROVED = "agency_not_approved"
    REVOKED = "agency_revoked"
    NO_EVALUATION = "no_current_evaluation"
    NOT_INFORMED = "borrower_not_informed"
    NO_BASIS = "no_sharing_basis"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a placement may not happen: a stable code, a sentence, and the rule it rests on."""

    code: RefusalCode
    message: str
    citation: str

    def __str__(self) -> str:
        return f"{self.message} ({self.citation})"


def current_evaluation(evaluations: Iterable[Evaluation], on: date) -> Evaluation | None:
    """The agency's newest evaluation made on or before ``on`` if it passed and still holds on ``on``: a later
    failure ends an earlier pass."""
    made = [e for e in evaluations if e.evaluated_on <= on]
    if not made:
        return None
    newest = max(made, key=lambda e: e.evaluated_on)
    return newest if newest.result is EvaluationResult.PASS and on <= newest.valid_until else None


def placement_refusals(  # noqa: PLR0917 - every fact the rule reads, by name
    agency: Agency | None,
    evaluations: Iterable[Evaluation],
    contracts: Iterable[Contract],
    notice: PlacementNotice | None,
    agency_sharing_consent: bool,
    at: datetime,
    *,
    agency_id: str = "",
    on: date | None = None,
) -> tuple[Refusal, ...]:
    """Why the case of the borrower ``notice`` is about may not be placed with ``agency`` at ``at``; empty when it
    may. ``agency`` None: not registered at all (``agency_id`` names it). ``notice``: the borrower's earliest
    notice about this agency, if any. ``agency_sharing_consent``: whether the borrower's separate consent to
    sharing with an agency holds at ``at``. ``on``: the local date (default ``at``'s date)."""
    day = on if on is not None else at.date()
    name = agency.id if agency is not None else agency_id
    refusals: list[Refusal] = []
    if agency is None or agency.approved_at is None or agency.approved_at > at:
        refusals.append(
            Refusal(RefusalCode.NOT_APPROVED, f"agency {name!r} is not on the approved list", APPROVED_LIST)
        )
    elif not agency.approved(at):
        revoked = agency.revoked_at.date().isoformat() if agency.revoked_at else "?"
        refusals.append(
            Refusal(RefusalCode.REVOKED, f"agency {name!r} was taken off the list on {revoked}", APPROVED_LIST)
        )
    if current_evaluation(evaluations, day) is None:
        refusals.append(
            Refusal(RefusalCode.NO_EVALUATION, f"agency {name!r} has no passed evaluation current on {day}", EVALUATION)
        )
    if notice is None or notice.informed_at >= at:
        refusals.append(
            Refusal(RefusalCode.NOT_INFORMED, f"the borrower was not told before placement with {name!r}", NOTICE)
        )
    if not agency_sharing_consent and not any(c.in_force(day) for c in contracts):
        problem = (
            f"no separate consent to sharing with an agency, "
            f"and no entrusted-processing contract with {name!r} in force on {day}"
        )
        refusals.append(Refusal(RefusalCode.NO_BASIS, problem, SHARING))
    return tuple(refusals)
