"""Access control's use cases: users and their training, outside agencies, notices to borrowers, and placing a case
with an agency; and what the daily cycle asks of them (who may be given cases today, may this case go to that
agency now).

Each change is made on behalf of an acting user whose role holds the permission (``fairdun.domain.access``), and
appends its entry to the tamper-evident audit log in the same unit of work, so the change and its record are kept
together or not at all. The one exception is the first account: on a database without users, an ``admin`` may
be added by nobody (the entry's actor is ``bootstrap``), since someone has to be first. The rules themselves are
pure (``fairdun.domain.agency``); docs/access.md explains them with their citations.

The functions take an entered unit of work and never commit: the caller (the CLI, the cycle) does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from fairdun.application.ports import UnitOfWork
from fairdun.domain.access import AccessDeniedError, Permission, User, UserRole, allowed, require
from fairdun.domain.agency import (
    AGENCY_SHARING,
    Agency,
    Contract,
    Evaluation,
    EvaluationResult,
    PlacementNotice,
    Refusal,
    Training,
    TrainingKind,
    one_year_on,
    placement_refusals,
    training_current,
)
from fairdun.domain.cases import CaseEvent, Cured, PlacedWithAgency, RecalledFromAgency
from fairdun.domain.contact import Consent

BOOTSTRAP = "bootstrap"
"""The actor of the first admin's creation, on a database that had no users."""
RESERVED = frozenset({BOOTSTRAP, "anonymous", "cli"})
"""Ids no account may take, since the logs use them as actors (as every ``system:...``)."""

USER_ADDED, USER_DEACTIVATED, TRAINING_RECORDED = "user.added", "user.deactivated", "training.recorded"
AGENCY_ADDED, AGENCY_APPROVED, AGENCY_REVOKED = "agency.added", "agency.approved", "agency.revoked"
AGENCY_EVALUATED, AGENCY_CONTRACTED, BORROWER_INFORMED = "agency.evaluated", "agency.contracted", "borrower.informed"
CASE_PLACED, PLACEMENT_REFUSED = "case.placed", "placement.refused"

DIALLING_ROLES = frozenset({UserRole.COLLECTOR, UserRole.AGENCY_COLLECTOR})


class AccessControlError(ValueError):
    """A request that cannot be carried out as asked (an unknown user, agency or loan, a bad value); the message
    names what is wrong."""


class PlacementRefusedError(AccessControlError):
    """A placement the rules refuse; ``refusals`` says why, each with its citation."""

    def __init__(self, loan_id: str, agency_id: str, refusals: Sequence[Refusal]) -> None:
        super().__init__(f"loan {loan_id!r} may not be placed with {agency_id!r}: " + "; ".join(map(str, refusals)))
        self.refusals = tuple(refusals)


# --- users ----------------------------------------------------------------------------------------------------


def load_user(uow: UnitOfWork, user_id: str) -> User:
    """The active account ``user_id``. An unknown id is an :class:`AccessControlError`; an inactive account an
    :class:`~fairdun.domain.access.AccessDeniedError` (it exists, but may do nothing)."""
    user = uow.access.user(user_id)
    if user is None:
        raise AccessControlError(f"user {user_id!r}: no such user")
    if not user.active:
        raise AccessDeniedError(f"user {user_id!r} is not active")
    return user


def acting(uow: UnitOfWork, user_id: str, permission: Permission) -> User:
    """The active account ``user_id``, if its role holds ``permission``; otherwise refused."""
    user = load_user(uow, user_id)
    require(user, permission)
    return user


def add_user(uow: UnitOfWork, user: User, *, by: str | None, at: datetime) -> str:
    """Adds an account (without a password: ``fairdun.application.authentication.add_account`` gives it its
    one-time password); returns the actor recorded. ``by`` needs ``MANAGE_USERS``; on a database without users
    the first account may be an admin added by nobody (``by`` None), and only that."""
    if by is None:
        if uow.access.any_user():
            raise AccessControlError(
                "not logged in: only the very first admin is added without a login (fairdun login ID)"
            )
        if user.role is not UserRole.ADMIN:
            raise AccessControlError(f"role: the first account must be an admin, got {user.role.value}")
        actor = BOOTSTRAP
    else:
        actor = acting(uow, by, Permission.MANAGE_USERS).id
    _check_account(uow, user)
    uow.access.add_user(user, at=at)
    detail = {"role": user.role.value, "agency": user.agency, "party": user.party}
    uow.audit.append(actor, USER_ADDED, f"user:{user.id}", detail, at=at)
    return actor


def _check_account(uow: UnitOfWork, user: User) -> None:
    if not user.id.strip() or len(user.id) > 64 or user.id != user.id.strip():
        raise AccessControlError("id: 1 to 64 characters, without surrounding spaces")
    if user.id in RESERVED or user.id.startswith("system:"):
        raise AccessControlError(f"id: {user.id!r} is reserved for the log's own actors")
    if uow.access.user(user.id) is not None:
        raise AccessControlError(f"id: user {user.id!r} already exists")
    if (user.agency is not None) != (user.role is UserRole.AGENCY_COLLECTOR):
        raise AccessControlError("agency: an agency collector names their agency, and only an agency collector does")
    if user.agency is not None and uow.access.agency(user.agency) is None:
        raise AccessControlError(f"agency: no agency {user.agency!r}")
    if (user.party is not None) != (user.role is UserRole.BORROWER):
        raise AccessControlError("party: a borrower account names its party, and only a borrower account does")
    if user.party is not None and uow.parties.get(user.party) is None:
        raise AccessControlError(f"party: no party {user.party!r}")


def deactivate_user(uow: UnitOfWork, user_id: str, *, by: str, at: datetime) -> None:
    """Deactivates an account (it is kept: the logs name it). The last active admin cannot be deactivated, or
    nobody could manage users again."""
    actor = acting(uow, by, Permission.MANAGE_USERS)
    target = uow.access.user(user_id)
    if target is None:
        raise AccessControlError(f"user {user_id!r}: no such user")
    if not target.active:
        raise AccessControlError(f"user {user_id!r} is already inactive")
    admins = [u for u in uow.access.users() if u.role is UserRole.ADMIN and u.active]
    if target.role is UserRole.ADMIN and len(admins) == 1:
        raise AccessControlError(f"user {user_id!r} is the last active admin; add another admin first")
    uow.access.set_active(user_id, False)
    ended = uow.access.end_sessions(user_id, at=at)
    detail = {"role": target.role.value, "sessions_ended": ended}
    uow.audit.append(actor.id, USER_DEACTIVATED, f"user:{user_id}", detail, at=at)


def record_training(
    uow: UnitOfWork,
    user_id: str,
    kind: TrainingKind,
    passed_on: date,
    evidence: str,
    *,
    by: str,
    at: datetime,
    valid_until: date | None = None,
) -> Training:
    """Records a training ``user_id`` passed; it holds for a year (to the day before the anniversary) unless
    ``valid_until`` says otherwise."""
    actor = acting(uow, by, Permission.MANAGE_USERS)
    if uow.access.user(user_id) is None:
        raise AccessControlError(f"user {user_id!r}: no such user")
    if passed_on > at.date():
        raise AccessControlError(f"passed_on: {passed_on} is in the future")
    training = Training(user_id, kind, passed_on, valid_until or one_year_on(passed_on), evidence, actor.id)
    uow.access.add_training(training, at=at)
    detail = {
        "kind": kind.value,
        "passed_on": passed_on.isoformat(),
        "valid_until": training.valid_until.isoformat(),
        "evidence": evidence,
    }
    uow.audit.append(actor.id, TRAINING_RECORDED, f"user:{user_id}", detail, at=at)
    return training


def training_problem(uow: UnitOfWork, user: User, on: date) -> str | None:
    """Why ``user`` may not be given cases or dial on ``on`` for want of training; None when trained."""
    return training_current(uow.access.trainings([user.id]), on)


def require_can_dial(uow: UnitOfWork, user: User, on: date) -> None:
    """Refuses (``AccessDeniedError``) unless ``user`` is an active collector or agency collector whose role may
    contact and whose training is current on ``on``."""
    require(user, Permission.CONTACT)
    if user.role not in DIALLING_ROLES:
        raise AccessDeniedError(f"user {user.id!r} ({user.role}) is not a collector")
    problem = training_problem(uow, user, on)
    if problem is not None:
        raise AccessDeniedError(f"user {user.id!r} may not dial on {on}: {problem}")


def assignable_collectors(uow: UnitOfWork, on: date) -> tuple[str, ...]:
    """The in-house collectors who may be given cases on ``on``: active, and trained (onboarding passed, a
    training current), by id. Agency collectors get cases through their agency's placements, not by assignment."""
    users = [u for u in uow.access.users() if u.role is UserRole.COLLECTOR and allowed(u, Permission.CONTACT)]
    trainings: dict[str, list[Training]] = defaultdict(list)
    for t in uow.access.trainings([u.id for u in users]):
        trainings[t.user].append(t)
    return tuple(u.id for u in users if training_current(trainings[u.id], on) is None)


# --- agencies -------------------------------------------------------------------------------------------------


def _agency(uow: UnitOfWork, agency_id: str) -> Agency:
    agency = uow.access.agency(agency_id)
    if agency is None:
        raise AccessControlError(f"agency {agency_id!r}: no such agency")
    return agency


def add_agency(uow: UnitOfWork, agency: Agency, *, by: str, at: datetime) -> None:
    """Registers an agency, not yet approved."""
    actor = acting(uow, by, Permission.MANAGE_AGENCIES)
    if uow.access.agency(agency.id) is not None:
        raise AccessControlError(f"id: agency {agency.id!r} already exists")
    uow.access.add_agency(Agency(agency.id, agency.name, None, None, agency.shared_fields), at=at)
    detail = {"name": agency.name, "shares": sorted(agency.shared_fields)}
    uow.audit.append(actor.id, AGENCY_ADDED, f"agency:{agency.id}", detail, at=at)


def approve_agency(uow: UnitOfWork, agency_id: str, *, by: str, at: datetime) -> None:
    """Puts the agency on the approved list (again, after a revocation)."""
    actor = acting(uow, by, Permission.MANAGE_AGENCIES)
    agency = _agency(uow, agency_id)
    if agency.approved(at):
        raise AccessControlError(f"agency {agency_id!r} is already approved")
    uow.access.set_listing(agency_id, approved_at=at, revoked_at=None)
    uow.audit.append(actor.id, AGENCY_APPROVED, f"agency:{agency_id}", {}, at=at)


def revoke_agency(uow: UnitOfWork, agency_id: str, *, by: str, at: datetime) -> tuple[str, ...]:
    """Takes the agency off the approved list: no new placement from now on, and every case placed with it is
    recalled in the same transaction (its collectors see nothing more); returns the loans recalled."""
    actor = acting(uow, by, Permission.MANAGE_AGENCIES)
    agency = _agency(uow, agency_id)
    if not agency.approved(at):
        raise AccessControlError(f"agency {agency_id!r} is not on the approved list")
    uow.access.set_listing(agency_id, approved_at=agency.approved_at, revoked_at=at)
    recalled = tuple(sorted(loan for loan, events in uow.case_events.all().items() if placed_with(events) == agency_id))
    uow.case_events.append_many([(loan, RecalledFromAgency(at.date())) for loan in recalled], recorded_at=at)
    uow.audit.append(actor.id, AGENCY_REVOKED, f"agency:{agency_id}", {"recalled": list(recalled)}, at=at)
    return recalled


def evaluate_agency(
    uow: UnitOfWork,
    agency_id: str,
    evaluated_on: date,
    result: EvaluationResult,
    reference: str,
    *,
    by: str,
    at: datetime,
) -> Evaluation:
    """Records a yearly evaluation of the agency; a pass holds for a year."""
    actor = acting(uow, by, Permission.MANAGE_AGENCIES)
    _agency(uow, agency_id)
    if evaluated_on > at.date():
        raise AccessControlError(f"on: {evaluated_on} is in the future")
    evaluation = Evaluation(agency_id, evaluated_on, result, one_year_on(evaluated_on), actor.id, reference)
    uow.access.add_evaluation(evaluation, at=at)
    detail = {
        "on": evaluated_on.isoformat(),
        "result": result.value,
        "valid_until": evaluation.valid_until.isoformat(),
        "reference": reference,
    }
    uow.audit.append(actor.id, AGENCY_EVALUATED, f"agency:{agency_id}", detail, at=at)
    return evaluation


def contract_agency(
    uow: UnitOfWork, agency_id: str, reference: str, signed_on: date, expires_on: date, *, by: str, at: datetime
) -> Contract:
    """Records an entrusted-processing contract (PIPL Art. 21) with the agency."""
    actor = acting(uow, by, Permission.MANAGE_AGENCIES)
    _agency(uow, agency_id)
    contract = Contract(agency_id, reference, signed_on, expires_on)
    if any(c.reference == reference for c in uow.access.contracts(agency_id)):
        raise AccessControlError(f"reference: contract {reference!r} with {agency_id!r} is already recorded")
    uow.access.add_contract(contract, recorded_by=actor.id, at=at)
    detail = {"reference": reference, "signed_on": signed_on.isoformat(), "expires_on": expires_on.isoformat()}
    uow.audit.append(actor.id, AGENCY_CONTRACTED, f"agency:{agency_id}", detail, at=at)
    return contract


def inform_borrower(
    uow: UnitOfWork, borrower: str, agency_id: str, channel: str, evidence: str, *, by: str, at: datetime
) -> PlacementNotice:
    """Records that ``borrower`` was told, at ``at``, that their case may go to the agency. Needs ``ASSIGN`` or
    ``MANAGE_AGENCIES``."""
    actor = load_user(uow, by)
    if not (allowed(actor, Permission.ASSIGN) or allowed(actor, Permission.MANAGE_AGENCIES)):
        raise AccessDeniedError(f"user {actor.id!r} ({actor.role}) may not assign or manage agencies")
    _agency(uow, agency_id)
    party = uow.parties.get(borrower)
    if party is None or party.borrower != party.id:
        raise AccessControlError(f"borrower: no borrower {borrower!r}")
    notice = PlacementNotice(borrower, agency_id, at, channel, evidence)
    uow.access.add_notices([notice], recorded_by=actor.id)
    detail = {"agency": agency_id, "channel": channel, "evidence": evidence}
    uow.audit.append(actor.id, BORROWER_INFORMED, f"borrower:{borrower}", detail, at=at)
    return notice


# --- placement ------------------------------------------------------------------------------------------------


def consent_holds(consents: Iterable[Consent], at: datetime) -> bool:
    """Whether one of ``consents`` is a separate consent to agency sharing (PIPL Art. 23) valid at ``at``."""
    return any(c.purpose == AGENCY_SHARING and c.valid_at(at.timestamp()) for c in consents)


def borrower_consents(uow: UnitOfWork, borrower: str) -> tuple[Consent, ...]:
    """The borrower's consents from the consent ledger, as the gate reads them."""
    return tuple(Consent(c.party, c.purpose, c.granted_at, c.withdrawn_at) for c in uow.consents.history(borrower))


class PlacementDesk:
    """What placements are checked against on one day, read once: the agencies, their evaluations and contracts.
    Notices and consents are per borrower and asked for per batch."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.agencies = {a.id: a for a in uow.access.agencies()}
        self.evaluations: dict[str, list[Evaluation]] = defaultdict(list)
        for e in uow.access.evaluations():
            self.evaluations[e.agency].append(e)
        self.contracts: dict[str, list[Contract]] = defaultdict(list)
        for c in uow.access.contracts():
            self.contracts[c.agency].append(c)

    def refusals(
        self, agency_id: str, notice: PlacementNotice | None, consent: bool, at: datetime, on: date
    ) -> tuple[Refusal, ...]:
        return placement_refusals(
            self.agencies.get(agency_id), self.evaluations[agency_id], self.contracts[agency_id], notice, consent,
            at, agency_id=agency_id, on=on,
        )  # fmt: skip


def placed_with(events: Iterable[CaseEvent]) -> str | None:
    """The agency a loan's case is placed with after its stored case events (in recorded order), if any."""
    agency: str | None = None
    for event in events:
        if isinstance(event, Cured | RecalledFromAgency):
            agency = None
        elif isinstance(event, PlacedWithAgency):
            agency = event.agency_id
    return agency


def case_open(events: Iterable[CaseEvent]) -> bool:
    """Whether a loan's stored case events (in recorded order) leave a case open: something recorded of a case
    (an assignment, a placement, a promise, a plan, a dispute) since the last cure."""
    history = tuple(events)
    return bool(history) and not isinstance(history[-1], Cured)


def place_case(uow: UnitOfWork, loan_id: str, agency_id: str, *, by: str, at: datetime, on: date) -> None:
    """Places the loan's case with the agency on local date ``on``, if every rule allows it; otherwise records the
    refusal in the audit log and raises :class:`PlacementRefusedError` (the caller commits either way, so the
    refusal is on record). Needs ``ASSIGN``."""
    actor = acting(uow, by, Permission.ASSIGN)
    loan = uow.loans.get(loan_id)
    if loan is None:
        raise AccessControlError(f"loan {loan_id!r}: not in the book")
    events = uow.case_events.all().get(loan_id, ())
    if not case_open(events):
        raise AccessControlError(f"loan {loan_id!r} has no open case (the daily cycle opens one when it falls due)")
    held = placed_with(events)
    if held is not None:
        raise AccessControlError(f"loan {loan_id!r} is already placed with {held!r}; recall it first")
    desk = PlacementDesk(uow)
    notice = uow.access.first_notices(agency_id, [loan.borrower]).get(loan.borrower)
    refusals = desk.refusals(agency_id, notice, consent_holds(borrower_consents(uow, loan.borrower), at), at, on)
    if refusals:
        detail = {"agency": agency_id, "loans": [loan_id], "reasons": [r.code.value for r in refusals]}
        uow.audit.append(actor.id, PLACEMENT_REFUSED, f"agency:{agency_id}", detail, at=at)
        raise PlacementRefusedError(loan_id, agency_id, refusals)
    uow.case_events.append(loan_id, PlacedWithAgency(on, agency_id), recorded_at=at)
    uow.audit.append(actor.id, CASE_PLACED, f"agency:{agency_id}", {"agency": agency_id, "loans": [loan_id]}, at=at)


def place_due(
    uow_factory: Callable[[], UnitOfWork],
    due: Sequence[tuple[str, str, str]],
    consents: Mapping[str, Sequence[Consent]],
    *,
    actor: str,
    at: datetime,
    on: date,
) -> tuple[list[tuple[str, str]], int]:
    """The cycle's placements for local date ``on``: each ``(loan, borrower, agency)`` in ``due`` is placed if the
    rules allow it, or counted refused. One transaction: the ``PlacedWithAgency`` events and, per agency, one
    audit entry naming the loans placed and one naming the loans refused with the reasons. ``consents``: each
    party's consents (the cycle's book has them). Returns the ``(loan, agency)`` pairs placed and how many were
    refused."""
    if not due:
        return [], 0
    placed: list[tuple[str, str]] = []
    refused: dict[str, dict[str, list[str]]] = defaultdict(dict)
    with uow_factory() as uow:
        desk = PlacementDesk(uow)
        by_agency: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for loan_id, borrower, agency_id in due:
            by_agency[agency_id].append((loan_id, borrower))
        for agency_id, loans in sorted(by_agency.items()):
            notices = uow.access.first_notices(agency_id, [b for _, b in loans]) if agency_id in desk.agencies else {}
            for loan_id, borrower in loans:
                consent = consent_holds(consents.get(borrower, ()), at)
                reasons = desk.refusals(agency_id, notices.get(borrower), consent, at, on)
                if reasons:
                    refused[agency_id][loan_id] = [r.code.value for r in reasons]
                else:
                    placed.append((loan_id, agency_id))
        uow.case_events.append_many([(loan, PlacedWithAgency(on, agency)) for loan, agency in placed], recorded_at=at)
        _audit_batch(uow, actor, placed, refused, at)
        uow.commit()
    return placed, sum(len(v) for v in refused.values())


def _audit_batch(
    uow: UnitOfWork,
    actor: str,
    placed: Sequence[tuple[str, str]],
    refused: Mapping[str, Mapping[str, list[str]]],
    at: datetime,
) -> None:
    per_agency: dict[str, list[str]] = defaultdict(list)
    for loan_id, agency_id in placed:
        per_agency[agency_id].append(loan_id)
    for agency_id, loans in sorted(per_agency.items()):
        uow.audit.append(actor, CASE_PLACED, f"agency:{agency_id}", {"agency": agency_id, "loans": loans}, at=at)
    for agency_id, reasons in sorted(refused.items()):
        detail = {"agency": agency_id, "loans": sorted(reasons), "reasons": dict(sorted(reasons.items()))}
        uow.audit.append(actor, PLACEMENT_REFUSED, f"agency:{agency_id}", detail, at=at)


# --- the demo's staff -----------------------------------------------------------------------------------------

DEMO_ADMIN = "admin-demo"
DEMO_COLLECTORS = tuple(f"collector-{n:02d}" for n in range(1, 9))
DEMO_AGENCY = "agency-east"


def register_demo_staff(uow: UnitOfWork, borrowers: Sequence[str], *, at: datetime) -> None:
    """The fictional lender's people for a generated book: an admin, the eight collectors (onboarding and the
    year's training passed the day before ``at``), and one agency (``agency-east``, the default strategy's)
    approved, evaluated and under an entrusted-processing contract, with every borrower told of it in the loan
    agreement when the loan was made (before ``at``). The aggressive strategy's ``agency-hard`` is deliberately
    not registered: its placements are refused."""
    add_user(uow, User(DEMO_ADMIN, UserRole.ADMIN), by=None, at=at)
    day = at.date()
    passed = day - timedelta(days=1)
    for collector in DEMO_COLLECTORS:
        add_user(uow, User(collector, UserRole.COLLECTOR), by=DEMO_ADMIN, at=at)
        for kind in TrainingKind:
            evidence = f"demo-{kind.value}-{collector}"
            record_training(uow, collector, kind, passed, evidence, by=DEMO_ADMIN, at=at)
    add_agency(uow, Agency(DEMO_AGENCY, "East Collections (fictional)"), by=DEMO_ADMIN, at=at)
    approve_agency(uow, DEMO_AGENCY, by=DEMO_ADMIN, at=at)
    evaluate_agency(uow, DEMO_AGENCY, day, EvaluationResult.PASS, "EVAL-DEMO-1", by=DEMO_ADMIN, at=at)
    contract_agency(uow, DEMO_AGENCY, "DPA-DEMO-1", day, one_year_on(day), by=DEMO_ADMIN, at=at)
    notices = [PlacementNotice(b, DEMO_AGENCY, at, "loan_agreement", "loan agreement, clause 12") for b in borrowers]
    uow.access.add_notices(notices, recorded_by=DEMO_ADMIN)
    uow.audit.append(
        DEMO_ADMIN, BORROWER_INFORMED, f"agency:{DEMO_AGENCY}",
        {"agency": DEMO_AGENCY, "borrowers": len(notices), "channel": "loan_agreement"}, at=at,
    )  # fmt: skip
