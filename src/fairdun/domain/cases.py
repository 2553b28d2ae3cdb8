"""Collection cases: a pure function of case events and payments, replayed like the ledger.

A loan's collection work is a sequence of **cases**. A case opens the day the loan enters a delinquent bucket (any
bucket but the table's first, which holds 0 DPD), escalates and de-escalates with its bucket, and resolves on
:class:`Cured` (DPD back to 0 and nothing overdue; :func:`is_cured` says when, from a
:class:`~fairdun.domain.ledger.LoanState`). A loan that becomes delinquent again opens a new case with the next
number. Nothing is stored or updated in place: :func:`case_history` replays the events every time, so a backdated
event is only an event with an earlier date.

Events are taken by effective date; within one day bucket changes come first, then the other events in the order
given, then cures. Events dated after ``as_of`` are not yet known.

What belongs to a case (assignment, agency placement and recall, promises, payment plans) starts afresh with each
case and needs an open case. Holds belong to the loan: a dispute does not end because a case resolved, and a
hardship pause covers its days whatever the case. While a hold is in effect :func:`may_contact_for_collection`
says no, and the daily cycle skips collection contacts.

**Promises to pay.** A promise of ``amount`` made on ``on`` and due on ``due`` is *kept* once payments from ``on``
to ``due`` plus ``grace_days`` (both included) reach the amount, *broken* once that window has passed without
it, and *pending* until then. One payment keeps one promise, not two: a payment counts towards the earliest-made
promise whose window holds it and which it has not yet kept, and what is left goes to the next.

**Payment plans.** A plan restructures what is owed into installments (due dates and amounts summing exactly to
the agreed total). It is *on track* while, at every installment's due date plus ``grace_days``, the payments since
the plan was agreed cover the installments due so far; it is *broken* from the day after the first deadline they
did not, and stays broken. A new plan replaces the previous one.

Every invalid event raises :class:`~fairdun.domain.errors.DomainError` naming the field (``events[3].amount``).
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from fairdun.domain.delinquency import DEFAULT_BUCKETS, BucketTable, Spell
from fairdun.domain.errors import DomainError
from fairdun.domain.ledger import LoanEvent, LoanState, PauseGranted, PaymentReceived, PaymentReversed
from fairdun.domain.money import ZERO, is_cents

MAX_GRACE_DAYS = 365

# --- events -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BucketChanged:
    """The loan entered ``bucket`` on ``on`` (one per spell of its bucket history; see :func:`bucket_events`)."""

    on: date
    bucket: str


@dataclass(frozen=True, slots=True)
class CollectorAssigned:
    """The case was given to collector ``collector_id`` (replacing any earlier collector)."""

    on: date
    collector_id: str


@dataclass(frozen=True, slots=True)
class PlacedWithAgency:
    """The case was placed with the outside agency ``agency_id``."""

    on: date
    agency_id: str


@dataclass(frozen=True, slots=True)
class RecalledFromAgency:
    """The case was recalled from the agency it was placed with."""

    on: date


@dataclass(frozen=True, slots=True)
class PromiseMade:
    """The borrower promised to pay ``amount`` by ``due``."""

    on: date
    amount: Decimal
    due: date


@dataclass(frozen=True, slots=True)
class PlanInstallment:
    due: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PlanAgreed:
    """What is owed, ``total``, restructured into ``installments`` whose amounts sum to it exactly."""

    on: date
    total: Decimal
    installments: tuple[PlanInstallment, ...]


@dataclass(frozen=True, slots=True)
class DisputeOpened:
    """The borrower disputes the debt: no collection contact until it is resolved."""

    on: date
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DisputeResolved:
    on: date


@dataclass(frozen=True, slots=True)
class Cured:
    """The loan is cured on ``on``: DPD back to 0 and nothing overdue. Resolves the open case."""

    on: date


CaseEvent = (
    BucketChanged
    | CollectorAssigned
    | PlacedWithAgency
    | RecalledFromAgency
    | PromiseMade
    | PlanAgreed
    | DisputeOpened
    | DisputeResolved
    | Cured
)

_EVENT_TYPES = CaseEvent.__args__


def bucket_events(history: Iterable[Spell]) -> tuple[BucketChanged, ...]:
    """The bucket changes a bucket history (from :func:`fairdun.domain.delinquency.bucket_history`) records."""
    return tuple(BucketChanged(spell.entered, spell.bucket) for spell in history)


def is_cured(loan: LoanState) -> bool:
    """Whether a loan counts as cured on its state's date: no days past due and nothing overdue (penalty too)."""
    return loan.dpd == 0 and loan.overdue.total <= 0


# --- results ------------------------------------------------------------------------------------------------


class CaseStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Direction(StrEnum):
    OPENED = "opened"
    ESCALATED = "escalated"
    DE_ESCALATED = "de-escalated"


class PromiseStatus(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"


class HoldKind(StrEnum):
    HARDSHIP_PAUSE = "hardship_pause"
    DISPUTE = "dispute"


@dataclass(frozen=True, slots=True)
class BucketMove:
    """The case's bucket changed on ``on``; ``from_bucket`` is None for the move that opened the case."""

    on: date
    from_bucket: str | None
    to_bucket: str
    direction: Direction


@dataclass(frozen=True, slots=True)
class Placement:
    agency_id: str
    placed_on: date
    recalled_on: date | None


@dataclass(frozen=True, slots=True)
class PromiseState:
    """A promise on the state's date. ``paid`` counts only payments in its window; ``settled_on`` is the day it
    was kept, or the first day it was broken."""

    promise: PromiseMade
    deadline: date
    paid: Decimal
    status: PromiseStatus
    settled_on: date | None

    @property
    def shortfall(self) -> Decimal:
        return max(self.promise.amount - self.paid, ZERO)


@dataclass(frozen=True, slots=True)
class PlanState:
    """The active plan on the state's date: paid since it was agreed, what was due so far (deadlines passed)."""

    plan: PlanAgreed
    paid: Decimal
    due_so_far: Decimal
    broken_on: date | None

    @property
    def on_track(self) -> bool:
        return self.broken_on is None

    @property
    def completed(self) -> bool:
        return self.broken_on is None and self.paid >= self.plan.total


@dataclass(frozen=True, slots=True)
class Hold:
    """A hold in effect: collection contact stops from ``since`` to ``until`` (None: until lifted)."""

    kind: HoldKind
    since: date
    until: date | None
    reason: str


@dataclass(frozen=True, slots=True)
class CaseState:
    """One case of a loan on ``as_of``."""

    loan_id: str
    number: int
    as_of: date
    opened_on: date
    resolved_on: date | None
    bucket: str
    moves: tuple[BucketMove, ...]
    assignee: str | None
    placements: tuple[Placement, ...]
    promises: tuple[PromiseState, ...]
    plan: PlanState | None
    holds: tuple[Hold, ...]

    @property
    def case_id(self) -> str:
        return f"{self.loan_id}#{self.number}" if self.loan_id else str(self.number)

    @property
    def status(self) -> CaseStatus:
        return CaseStatus.OPEN if self.resolved_on is None else CaseStatus.RESOLVED

    @property
    def agency(self) -> str | None:
        """The agency the case is placed with now, if any."""
        last = self.placements[-1] if self.placements else None
        return last.agency_id if last is not None and last.recalled_on is None else None


# --- the replay ---------------------------------------------------------------------------------------------


def _rank(event: CaseEvent) -> int:
    if isinstance(event, BucketChanged):
        return 0
    return 2 if isinstance(event, Cured) else 1


def _check_amount(where: str, value: object) -> Decimal:
    if not isinstance(value, Decimal) or not is_cents(value):
        raise DomainError(where, f"must be a Decimal amount in cents, got {value!r}")
    if value <= 0:
        raise DomainError(where, f"must be more than zero, got {value}")
    return value


def _check_id(where: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise DomainError(where, f"must be a non-empty string, got {value!r}")


def _check_plan(where: str, plan: PlanAgreed) -> None:
    _check_amount(f"{where}.total", plan.total)
    if not isinstance(plan.installments, tuple) or not plan.installments:
        raise DomainError(f"{where}.installments", "must be a non-empty tuple of PlanInstallment")
    previous = plan.on - timedelta(days=1)
    for k, inst in enumerate(plan.installments):
        _check_amount(f"{where}.installments[{k}].amount", inst.amount)
        if inst.due <= previous:
            after = "the plan's date" if k == 0 else "the previous installment's"
            raise DomainError(f"{where}.installments[{k}].due", f"must be after {after} ({previous}), got {inst.due}")
        previous = inst.due
    summed = sum((i.amount for i in plan.installments), ZERO)
    if summed != plan.total:
        raise DomainError(f"{where}.installments", f"sum to {summed}, not the agreed total {plan.total}")


def _payments(events: Sequence[LoanEvent], as_of: date) -> list[PaymentReceived]:
    reversed_ids = {e.payment_id for e in events if isinstance(e, PaymentReversed)}
    paid = [e for e in events if isinstance(e, PaymentReceived) and e.id not in reversed_ids and e.on <= as_of]
    return sorted(paid, key=lambda p: p.on)


class _Open:
    """A case while the events replay. Mutable, and never seen outside this module."""

    def __init__(self, number: int, on: date, bucket: str) -> None:
        self.number = number
        self.opened_on = on
        self.resolved_on: date | None = None
        self.bucket = bucket
        self.moves = [BucketMove(on, None, bucket, Direction.OPENED)]
        self.assignee: str | None = None
        self.placements: list[Placement] = []
        self.promises: list[PromiseMade] = []
        self.plan: PlanAgreed | None = None


class _Replay:
    """The loan's cases while the events replay, one event at a time."""

    def __init__(self, table: BucketTable, *, lenient: bool = False) -> None:
        self.names, self.current = table.names, table.current.name
        self.lenient = lenient
        self.dropped = 0
        self.cases: list[_Open] = []
        self.case: _Open | None = None
        self.bucket = self.current
        self.disputes: list[tuple[date, date | None, str]] = []

    def apply(self, where: str, event: CaseEvent) -> None:
        if isinstance(event, BucketChanged):
            self._bucket(where, event)
        elif isinstance(event, DisputeOpened):
            if self.disputes and self.disputes[-1][1] is None:
                raise DomainError(where, f"a dispute is already open since {self.disputes[-1][0]}")
            self.disputes.append((event.on, None, event.reason))
        elif isinstance(event, DisputeResolved):
            if not self.disputes or self.disputes[-1][1] is not None:
                raise DomainError(where, "there is no open dispute to resolve")
            self.disputes[-1] = (self.disputes[-1][0], event.on, self.disputes[-1][2])
        elif self.case is None:
            if self.lenient:
                self.dropped += 1
                return
            raise DomainError(where, f"{type(event).__name__} on {event.on}, but no case is open then")
        elif isinstance(event, Cured):
            if self.bucket != self.current:
                if self.lenient:
                    self.dropped += 1
                    return
                raise DomainError(f"{where}.on", f"a loan in bucket {self.bucket} on {event.on} is not cured")
            self.case.resolved_on = event.on
            self.case = None
        else:
            _case_event(self.case, where, event)

    def _bucket(self, where: str, event: BucketChanged) -> None:
        names, case = self.names, self.case
        if event.bucket not in names:
            raise DomainError(f"{where}.bucket", f"no bucket {event.bucket!r}; the buckets are {', '.join(names)}")
        if case is None and event.bucket != self.current:
            self.case = _Open(len(self.cases) + 1, event.on, event.bucket)
            self.cases.append(self.case)
        elif case is not None and event.bucket != case.bucket:
            up = names.index(event.bucket) > names.index(case.bucket)
            direction = Direction.ESCALATED if up else Direction.DE_ESCALATED
            case.moves.append(BucketMove(event.on, case.bucket, event.bucket, direction))
            case.bucket = event.bucket
        self.bucket = event.bucket


def _case_event(
    case: _Open, where: str, event: CollectorAssigned | PlacedWithAgency | RecalledFromAgency | PromiseMade | PlanAgreed
) -> None:
    if isinstance(event, CollectorAssigned):
        _check_id(f"{where}.collector_id", event.collector_id)
        case.assignee = event.collector_id
    elif isinstance(event, PlacedWithAgency):
        _check_id(f"{where}.agency_id", event.agency_id)
        if case.placements and case.placements[-1].recalled_on is None:
            held = case.placements[-1].agency_id
            raise DomainError(f"{where}.agency_id", f"the case is already placed with {held}; recall it first")
        case.placements.append(Placement(event.agency_id, event.on, None))
    elif isinstance(event, RecalledFromAgency):
        if not case.placements or case.placements[-1].recalled_on is not None:
            raise DomainError(where, "a recall needs a placement, and the case is not placed with an agency")
        last = case.placements[-1]
        case.placements[-1] = Placement(last.agency_id, last.placed_on, event.on)
    elif isinstance(event, PromiseMade):
        _check_amount(f"{where}.amount", event.amount)
        if event.due < event.on:
            raise DomainError(f"{where}.due", f"must not be before the promise ({event.on}), got {event.due}")
        case.promises.append(event)
    else:
        _check_plan(where, event)
        case.plan = event


def case_history(
    events: Iterable[CaseEvent],
    payments: Iterable[LoanEvent],
    as_of: date,
    *,
    loan_id: str = "",
    table: BucketTable = DEFAULT_BUCKETS,
    grace_days: int = 0,
    lenient: bool = False,
) -> tuple[CaseState, ...]:
    """Every case of a loan up to ``as_of``, oldest first; empty if the loan has not been delinquent.

    ``payments`` are the loan's ledger events: its :class:`~fairdun.domain.ledger.PaymentReceived` events count,
    less any reversed, and its :class:`~fairdun.domain.ledger.PauseGranted` events are hardship-pause holds;
    waivers are ignored. ``grace_days`` extend promise and plan deadlines.

    ``lenient``: a case event that no longer fits the case (an assignment recorded while the loan looked
    delinquent, before a backdated payment showed it was not; a cure on a day it is now known to have been
    behind; a recall of a case that is not placed) is passed over instead of raising. The daily cycle replays
    leniently: such events stay in the store, since history is never rewritten, and the restatement that made
    them moot is recorded beside them.
    """
    if isinstance(grace_days, bool) or not isinstance(grace_days, int) or not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise DomainError("grace_days", f"must be an int from 0 to {MAX_GRACE_DAYS}, got {grace_days!r}")
    given = list(events)
    for k, event in enumerate(given):
        if not isinstance(event, _EVENT_TYPES):
            raise DomainError(f"events[{k}]", f"must be a case event, not {type(event).__name__}")
    replay = _Replay(table, lenient=lenient)
    for k, event in sorted(enumerate(given), key=lambda pair: (pair[1].on, _rank(pair[1]))):
        if event.on <= as_of:
            try:
                replay.apply(f"events[{k}]", event)
            except DomainError:
                if not lenient:
                    raise
                replay.dropped += 1  # it no longer fits the case as restated: kept in the store, passed over
    loan_events = list(payments)
    # A hardship pause has one record: the ledger's PauseGranted, which stops penalty and DPD. The same event is
    # the contact hold, so the two can never disagree.
    pauses = []
    for k, e in enumerate(loan_events):
        if isinstance(e, PauseGranted):
            if e.end < e.start:
                raise DomainError(f"payments[{k}].end", f"must not be before start {e.start}, got {e.end}")
            if e.start <= as_of:
                pauses.append(e)
    paid = _payments(loan_events, as_of)
    grace = timedelta(days=grace_days)
    holds = _holds(pauses, replay.disputes, as_of)
    return tuple(
        CaseState(
            loan_id=loan_id,
            number=c.number,
            as_of=as_of,
            opened_on=c.opened_on,
            resolved_on=c.resolved_on,
            bucket=c.bucket,
            moves=tuple(c.moves),
            assignee=c.assignee,
            placements=tuple(c.placements),
            promises=_promises(c.promises, paid, as_of, grace),
            plan=None if c.plan is None else _plan(c.plan, paid, as_of, grace),
            holds=holds,
        )
        for c in replay.cases
    )


def case_state(
    events: Iterable[CaseEvent],
    payments: Iterable[LoanEvent],
    as_of: date,
    *,
    loan_id: str = "",
    table: BucketTable = DEFAULT_BUCKETS,
    grace_days: int = 0,
    lenient: bool = False,
) -> CaseState | None:
    """The loan's latest case on ``as_of`` (open, or the last resolved one); None if it has never been delinquent.

    See :func:`case_history` for the arguments.
    """
    history = case_history(
        events, payments, as_of, loan_id=loan_id, table=table, grace_days=grace_days, lenient=lenient
    )
    return history[-1] if history else None


def _promises(
    promises: Sequence[PromiseMade], payments: Sequence[PaymentReceived], as_of: date, grace: timedelta
) -> tuple[PromiseState, ...]:
    deadlines = [p.due + grace for p in promises]
    paid = [ZERO] * len(promises)
    kept_on: list[date | None] = [None] * len(promises)
    for payment in payments:
        left = payment.amount
        for k, promise in enumerate(promises):
            if left <= 0:
                break
            if kept_on[k] is None and promise.on <= payment.on <= deadlines[k]:
                take = min(left, promise.amount - paid[k])
                paid[k] += take
                left -= take
                if paid[k] >= promise.amount:
                    kept_on[k] = payment.on
    result = []
    for k, promise in enumerate(promises):
        kept = kept_on[k]
        if kept is not None:
            result.append(PromiseState(promise, deadlines[k], paid[k], PromiseStatus.KEPT, kept))
        elif as_of > deadlines[k]:
            broken = deadlines[k] + timedelta(days=1)
            result.append(PromiseState(promise, deadlines[k], paid[k], PromiseStatus.BROKEN, broken))
        else:
            result.append(PromiseState(promise, deadlines[k], paid[k], PromiseStatus.PENDING, None))
    return tuple(result)


def _plan(plan: PlanAgreed, payments: Sequence[PaymentReceived], as_of: date, grace: timedelta) -> PlanState:
    mine = [p for p in payments if p.on >= plan.on]
    due_so_far = ZERO
    broken_on: date | None = None
    for inst in plan.installments:
        deadline = inst.due + grace
        if deadline >= as_of:
            break
        due_so_far += inst.amount
        covered = sum((p.amount for p in mine if p.on <= deadline), ZERO)
        if broken_on is None and covered < due_so_far:
            broken_on = deadline + timedelta(days=1)
    return PlanState(plan, sum((p.amount for p in mine), ZERO), due_so_far, broken_on)


def _holds(
    pauses: Sequence[PauseGranted], disputes: Sequence[tuple[date, date | None, str]], as_of: date
) -> tuple[Hold, ...]:
    holds = [
        Hold(HoldKind.HARDSHIP_PAUSE, p.start, p.end, "hardship pause on the loan")
        for p in pauses
        if p.start <= as_of <= p.end
    ]
    holds += [Hold(HoldKind.DISPUTE, since, None, reason) for since, until, reason in disputes if until is None]
    return tuple(holds)


def may_contact_for_collection(state: CaseState) -> tuple[bool, str]:
    """Whether the daily cycle may make a collection contact for this case on its date, and why (or why not).

    No while the case is resolved, a dispute is open, or a hardship pause covers the day.
    """
    dispute = next((h for h in state.holds if h.kind is HoldKind.DISPUTE), None)
    if dispute is not None:
        return False, f"dispute hold: a dispute is open since {dispute.since}"
    pause = next((h for h in state.holds if h.kind is HoldKind.HARDSHIP_PAUSE), None)
    if pause is not None:
        return False, f"hardship pause from {pause.since} to {pause.until}"
    if state.status is CaseStatus.RESOLVED:
        return False, f"case {state.case_id} resolved on {state.resolved_on}: nothing to collect"
    return True, f"case {state.case_id} is open in {state.bucket} with no hold"


# --- assignment ---------------------------------------------------------------------------------------------


def assign_by_load(
    cases_needing_assignment: Iterable[str],
    collectors_with_current_load: Mapping[str, int],
    eligible: Collection[str],
) -> dict[str, str]:
    """Each case (in the order given) to the least-loaded eligible collector, ties by collector id; each case
    raises its collector's load by one before the next is assigned. Collectors not in ``eligible`` (onboarding,
    in training, away: the caller decides) never get a case."""
    for collector, load in collectors_with_current_load.items():
        if isinstance(load, bool) or not isinstance(load, int) or load < 0:
            raise DomainError(f"collectors_with_current_load[{collector!r}]", f"must be an int >= 0, got {load!r}")
    unknown = sorted(set(eligible) - set(collectors_with_current_load))
    if unknown:
        raise DomainError("eligible", f"collectors without a current load: {', '.join(unknown)}")
    cases = list(cases_needing_assignment)
    seen: set[str] = set()
    for k, case_id in enumerate(cases):
        if case_id in seen:
            raise DomainError(f"cases_needing_assignment[{k}]", f"case {case_id!r} is listed twice")
        seen.add(case_id)
    if cases and not eligible:
        raise DomainError("eligible", f"no eligible collector for {len(cases)} case(s)")
    heap = [(collectors_with_current_load[c], c) for c in set(eligible)]
    heapq.heapify(heap)
    assigned: dict[str, str] = {}
    for case_id in cases:
        load, collector = heap[0]
        assigned[case_id] = collector
        heapq.heapreplace(heap, (load + 1, collector))
    return assigned
