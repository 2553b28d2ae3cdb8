"""The state of a loan on a date: a pure function of its product, its schedule and its events.

Nothing here is stored or updated in place. :func:`loan_state` replays the events from the start every time, so a
backdated event (a payment learned two days late, a hardship pause agreed after the fact) is only an event with an
earlier date, and a reversal is the same list without the payment. What differs between two event lists is for
:func:`fairdun.domain.delinquency.restate` to say.

The rules, in the order a day is processed:

1. **Penalty** for day *t* accrues on each installment's principal still unpaid at the end of day *t - 1*, when *t*
   is more than ``grace_days`` after the due date and not inside a hardship pause: ``quantize(principal × daily
   rate)`` per installment per day. Paying on the due date, or within the grace days, costs no penalty; grace
   is not retroactive.
2. **Payments** and waivers of the day are taken in the order given. A payment is allocated:

   a. to installments due on or before the day, oldest first, by the product's waterfall (see
      :class:`fairdun.domain.loans.AllocationOrder`);
   b. then to the current installment (its period has begun, it is not yet due), in waterfall order, so a
      borrower who pays a few days early has paid the coming installment;
   c. then, as an early repayment, to the principal of later installments, the latest first: the term shortens
      and the monthly amount stays. Each later month's interest falls by one month's interest on the principal
      repaid early before that month began; a month whose principal, and all after it, was repaid before it
      began charges neither interest nor fee;
   d. whatever is left is ``unapplied`` (an overpayment to refund).

   A **waiver** reduces what is owed on one component (oldest begun installment first, or the one named).
3. **Days past due**: an installment that still owes principal, interest or fee after its due date is past due
   by the number of days since the due date, not counting days inside a hardship pause. An unpaid penalty alone
   does not keep an installment past due. The loan's DPD is its oldest past-due installment's.

A reversal removes the payment it names from every date: the payment never happened. The state with a payment
and its reversal is exactly the state without either.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from fairdun.domain.errors import DomainError
from fairdun.domain.loans import AllocationOrder, Component, Installment, Product, monthly_interest
from fairdun.domain.money import ZERO, is_cents, quantize

ONE_DAY = timedelta(days=1)
_OWED = (Component.FEE, Component.INTEREST, Component.PRINCIPAL)  # what keeps an installment past due


# --- events -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentReceived:
    """Money received for the loan, effective ``on``. ``id`` is unique within the loan."""

    id: str
    on: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PaymentReversed:
    """The payment ``payment_id`` did not happen (bounced, charged back, entered in error)."""

    payment_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PauseGranted:
    """A hardship pause from ``start`` to ``end``, both included: no penalty accrues and DPD does not grow."""

    start: date
    end: date


@dataclass(frozen=True, slots=True)
class Waived:
    """The lender forgave ``amount`` of ``component``, effective ``on``: on ``installment``, or on the oldest
    started installments owing it. A waiver beyond what is owed forgives only what is owed."""

    on: date
    component: Component
    amount: Decimal
    installment: int | None = None


LoanEvent = PaymentReceived | PaymentReversed | PauseGranted | Waived


# --- results ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Amounts:
    """An amount per component."""

    penalty: Decimal = ZERO
    fee: Decimal = ZERO
    interest: Decimal = ZERO
    principal: Decimal = ZERO

    def of(self, component: Component) -> Decimal:
        if component is Component.PENALTY:
            return self.penalty
        if component is Component.FEE:
            return self.fee
        if component is Component.INTEREST:
            return self.interest
        return self.principal

    @property
    def total(self) -> Decimal:
        return self.penalty + self.fee + self.interest + self.principal

    def __add__(self, other: Amounts) -> Amounts:
        return Amounts(
            self.penalty + other.penalty,
            self.fee + other.fee,
            self.interest + other.interest,
            self.principal + other.principal,
        )

    def __sub__(self, other: Amounts) -> Amounts:
        return Amounts(
            self.penalty - other.penalty,
            self.fee - other.fee,
            self.interest - other.interest,
            self.principal - other.principal,
        )


@dataclass(frozen=True, slots=True)
class Allocation:
    """Part of a payment that went to one component of one installment."""

    installment: int
    component: Component
    amount: Decimal


@dataclass(frozen=True, slots=True)
class AppliedPayment:
    """A payment and where it went: ``allocated + unapplied == amount``, always."""

    id: str
    on: date
    amount: Decimal
    allocations: tuple[Allocation, ...]
    unapplied: Decimal

    @property
    def allocated(self) -> Decimal:
        return sum((a.amount for a in self.allocations), ZERO)


@dataclass(frozen=True, slots=True)
class InstallmentState:
    """One installment on the state's date.

    ``charged`` is what the installment costs: its scheduled principal, its interest and fee after any early
    repayment, and the penalty accrued so far. ``settled_on`` is the day it stopped owing principal, interest and
    fee (None while it still does).
    """

    number: int
    start: date
    due: date
    charged: Amounts
    paid: Amounts
    waived: Amounts
    dpd: int
    settled_on: date | None

    @property
    def outstanding(self) -> Amounts:
        return self.charged - self.paid - self.waived

    @property
    def settled(self) -> bool:
        return self.settled_on is not None


@dataclass(frozen=True, slots=True)
class LoanState:
    """A loan on ``as_of``, after that day's events. Reversed payments are absent from ``payments``."""

    as_of: date
    installments: tuple[InstallmentState, ...]
    payments: tuple[AppliedPayment, ...]
    dpd: int
    paused: bool
    unapplied: Decimal

    @property
    def due(self) -> Amounts:
        """What the borrower must pay today to be current: everything owed on installments due by ``as_of``."""
        return _sum(i.outstanding for i in self.installments if i.due <= self.as_of)

    @property
    def overdue(self) -> Amounts:
        """What is owed on installments whose due date has passed."""
        return _sum(i.outstanding for i in self.installments if i.due < self.as_of)

    @property
    def principal_outstanding(self) -> Decimal:
        return sum((i.outstanding.principal for i in self.installments), ZERO)

    @property
    def payoff(self) -> Decimal:
        """What closes the loan today: all that is due, the current installment in full, later principal."""
        started = (i.outstanding.total for i in self.installments if i.start <= self.as_of)
        later = (i.outstanding.principal for i in self.installments if i.start > self.as_of)
        return sum(started, ZERO) + sum(later, ZERO)

    @property
    def settled(self) -> bool:
        """Nothing is owed, now or later."""
        return all(i.outstanding.total == 0 for i in self.installments)

    @property
    def oldest_past_due(self) -> InstallmentState | None:
        return next((i for i in self.installments if i.dpd > 0), None)


def _sum(amounts: Iterable[Amounts]) -> Amounts:
    result = Amounts()
    for amount in amounts:
        result += amount
    return result


# --- the computation ----------------------------------------------------------------------------------------


def loan_state(
    product: Product, schedule: Sequence[Installment], events: Iterable[LoanEvent], as_of: date
) -> LoanState:
    """The loan on ``as_of``, from its events with an effective date on or before it."""
    ledger = _Ledger(product, schedule, events)
    ledger.advance(as_of)
    return ledger.state(as_of)


class LedgerCursor:
    """A loan's ledger read forwards: :meth:`state`, :meth:`overdue_total` and :meth:`dpd` for days that never go
    back before the last day processed cost only the days since, where :func:`loan_state` and
    :func:`dpd_history` replay from the start each time. The answers are the same.

    :meth:`absorb` takes in a payment or waiver learned later, without a replay, when it is dated no earlier than
    the last day processed (a payment made yesterday, read after yesterday's run); anything else (a backdated
    event, a reversal, a pause) needs a new cursor, and ``absorb`` says so by returning False."""

    __slots__ = ("_ids", "_ledger")

    def __init__(self, product: Product, schedule: Sequence[Installment], events: Iterable[LoanEvent]) -> None:
        given = list(events)
        self._ledger = _Ledger(product, schedule, given)
        self._ids = {e.id for e in given if isinstance(e, PaymentReceived)}

    @property
    def processed(self) -> date | None:
        """The last day processed: no read may ask about a day before it."""
        return self._ledger.last

    def _check(self, day: date, field: str) -> None:
        last = self._ledger.last
        if last is not None and day < last:
            raise DomainError(field, f"a cursor only reads forwards: {day} is before {last}")

    def state(self, as_of: date) -> LoanState:
        """The loan on ``as_of``; :class:`DomainError` for a day before the last day processed."""
        self._check(as_of, "as_of")
        self._ledger.advance(as_of)
        return self._ledger.state(as_of)

    def overdue_total(self, as_of: date) -> Decimal:
        """``state(as_of).overdue.total`` without building the state: all owed on installments due before
        ``as_of``, penalty included. The daily cycle asks this of every delinquent loan every day."""
        self._check(as_of, "as_of")
        ledger = self._ledger
        ledger.advance(as_of)
        total = ZERO
        for row in ledger.rows[ledger.cleared :]:
            if row.inst.due >= as_of:
                break
            total += sum((row.owed(c) for c in Component), ZERO)
        return total

    def dpd(self, day: date) -> int:
        """The loan's DPD on ``day`` (what :func:`dpd_history` gives for it), processing only days with events."""
        self._check(day, "day")
        ledger = self._ledger
        if ledger.next_day < len(ledger.days) and ledger.days[ledger.next_day] <= day:
            ledger.advance(day)
        return ledger.loan_dpd(day)

    def absorb(self, event: LoanEvent) -> bool:
        """Takes in ``event`` if it is a payment or waiver dated no earlier than the last day processed; False
        (nothing changed) otherwise. A payment dated the last day processed is applied after that day's events, as
        it would have been had it been known when the day was processed."""
        if not isinstance(event, PaymentReceived | Waived):
            return False
        ledger = self._ledger
        last = ledger.last
        if last is not None and event.on < last:
            return False
        where = "event"
        if isinstance(event, PaymentReceived):
            if event.id in self._ids:
                raise DomainError(f"{where}.id", f"payment {event.id!r} is already on the loan")
            _check_amount(f"{where}.amount", event.amount)
            self._ids.add(event.id)
        else:
            _sort_events([event], [r.inst for r in ledger.rows])
        if last is not None and event.on == last:
            ledger.apply(event.on, [event])
        else:
            if event.on not in ledger.pending:
                bisect.insort(ledger.days, event.on, lo=ledger.next_day)
            ledger.pending.setdefault(event.on, []).append(event)
        return True


def dpd_history(
    product: Product, schedule: Sequence[Installment], events: Iterable[LoanEvent], start: date, end: date
) -> tuple[tuple[date, int], ...]:
    """The loan's DPD on every day from ``start`` to ``end`` (both included), from one replay of the events."""
    if end < start:
        raise DomainError("end", f"must not be before start {start}, got {end}")
    ledger = _Ledger(product, schedule, events)
    history = []
    day = start
    ledger.advance(day)
    while day <= end:
        if day in ledger.pending:
            ledger.advance(day)
        history.append((day, ledger.loan_dpd(day)))
        day += ONE_DAY
    return tuple(history)


def days_counted(after: date, until: date, pauses: Sequence[tuple[date, date]]) -> int:
    """Days in (``after``, ``until``] outside the (sorted, disjoint, inclusive) ``pauses``; 0 if none."""
    if until <= after:
        return 0
    days = (until - after).days
    for start, end in pauses:
        low, high = max(start, after + ONE_DAY), min(end, until)
        if low <= high:
            days -= (high - low).days + 1
    return days


def merge_pauses(pauses: Iterable[PauseGranted]) -> tuple[tuple[date, date], ...]:
    """Pauses as sorted, disjoint, inclusive ranges; overlapping and adjacent pauses are joined."""
    merged: list[tuple[date, date]] = []
    for pause in sorted(pauses, key=lambda p: (p.start, p.end)):
        if merged and pause.start <= merged[-1][1] + ONE_DAY:
            merged[-1] = (merged[-1][0], max(merged[-1][1], pause.end))
        else:
            merged.append((pause.start, pause.end))
    return tuple(merged)


class _Row:
    """One installment while the events replay. Mutable, and never seen outside this module."""

    __slots__ = ("fee", "inst", "interest", "paid", "penalty", "settled_on", "waived")

    def __init__(self, inst: Installment) -> None:
        self.inst = inst
        self.interest = inst.interest
        self.fee = inst.fee
        self.penalty = ZERO
        self.paid = dict.fromkeys(Component, ZERO)
        self.waived = dict.fromkeys(Component, ZERO)
        # An installment that never owed anything (a 0 % interest-first month) is settled from its start.
        self.settled_on: date | None = inst.start if inst.total == 0 else None

    def charged(self, component: Component) -> Decimal:
        if component is Component.PRINCIPAL:
            return self.inst.principal
        if component is Component.INTEREST:
            return self.interest
        if component is Component.FEE:
            return self.fee
        return self.penalty

    def owed(self, component: Component) -> Decimal:
        return self.charged(component) - self.paid[component] - self.waived[component]

    def open(self) -> bool:
        """Still owes principal, interest or fee (what keeps an installment past due)."""
        return any(self.owed(c) > 0 for c in _OWED)

    def amounts(self, of: dict[Component, Decimal] | None = None) -> Amounts:
        """What is charged, or the amounts in ``of`` (paid, waived), as :class:`Amounts`."""
        get = self.charged if of is None else of.__getitem__
        return Amounts(get(Component.PENALTY), get(Component.FEE), get(Component.INTEREST), get(Component.PRINCIPAL))


class _Ledger:
    """The replay, over the days on which something happens.

    Three cursors keep a day's work proportional to the installments in play rather than to the term: rows
    before ``frozen`` have begun (their interest and fee are fixed), rows before ``first_open`` owe no principal,
    interest or fee, and rows before ``cleared`` owe nothing at all. An installment that stops owing never owes
    again within one replay (reversals are taken out before it starts), so the cursors only move forwards.
    """

    def __init__(self, product: Product, schedule: Sequence[Installment], events: Iterable[LoanEvent]) -> None:
        _check_schedule(schedule)
        self.product = product
        self.grace = timedelta(days=product.grace_days)
        self.rows = [_Row(inst) for inst in schedule]
        # The scheduled principal of each installment and all after it.
        self.remaining: list[Decimal] = []
        for inst in reversed(schedule):
            self.remaining.insert(0, inst.principal + (self.remaining[0] if self.remaining else ZERO))
        dated, pauses = _sort_events(list(events), schedule)
        self.pauses = merge_pauses(pauses)
        self.pending = dated
        self.days = sorted(dated)
        self.next_day = 0
        self.last: date | None = None
        self.applied: list[AppliedPayment] = []
        self.frozen = self.first_open = self.cleared = 0
        self.touched: set[int] = set()
        self.repaid_early = False

    def advance(self, until: date) -> None:
        """Process every day with events up to ``until``, and ``until`` itself. Only ever forwards."""
        while self.next_day < len(self.days) and self.days[self.next_day] <= until:
            self._process(self.days[self.next_day])
            self.next_day += 1
        if self.last is None or self.last < until:
            self._process(until)

    def _process(self, day: date) -> None:
        rows, n = self.rows, len(self.rows)
        self._accrue(day)
        # A month's interest is fixed when it begins: the last repricing already counted every early repayment
        # made before this day, so fixing it only moves the cursor.
        while self.frozen < n and rows[self.frozen].inst.start <= day:
            self.frozen += 1
        self.apply(day, self.pending.pop(day, ()))

    def apply(self, day: date, events: Iterable[PaymentReceived | Waived]) -> None:
        """The events of ``day``, after its accrual (by :meth:`_process`, or earlier for a late arrival)."""
        rows, n = self.rows, len(self.rows)
        self.touched.clear()
        self.repaid_early = False
        for event in events:
            if isinstance(event, PaymentReceived):
                self._pay(event)
            else:
                self._waive(event)
        if self.repaid_early:
            self._reprice()
            self.touched.update(range(self.frozen, n))
        for k in self.touched:
            row = rows[k]
            if row.settled_on is None and not row.open():
                row.settled_on = day
        while self.first_open < n and not rows[self.first_open].open():
            self.first_open += 1
        while self.cleared < min(self.first_open, self.frozen) and rows[self.cleared].owed(Component.PENALTY) <= 0:
            self.cleared += 1
        self.last = day

    def _accrue(self, day: date) -> None:
        """Penalty for the days after the last processed one, through ``day``; no events fall in between."""
        rate = self.product.penalty_daily_rate
        if rate == 0:
            return
        for row in self.rows[self.first_open :]:
            after = row.inst.due + self.grace
            if after >= day:
                break
            principal = row.owed(Component.PRINCIPAL)
            if principal <= 0:
                continue
            if self.last is not None:
                after = max(after, self.last)
            days = days_counted(after, day, self.pauses)
            if days:
                row.penalty += quantize(principal * rate) * days

    def _reprice(self) -> None:
        """Interest and fee of the months not yet begun, from the principal repaid early on them and later ones."""
        early = ZERO
        for k in range(len(self.rows) - 1, self.frozen - 1, -1):
            row = self.rows[k]
            early += row.paid[Component.PRINCIPAL]
            if early and early >= self.remaining[k]:
                row.interest, row.fee = ZERO, ZERO
            else:
                row.interest, row.fee = (
                    max(ZERO, row.inst.interest - monthly_interest(early, self.product.annual_rate)),
                    row.inst.fee,
                )

    def _pay(self, payment: PaymentReceived) -> None:
        day, left = payment.on, payment.amount
        allocations: list[Allocation] = []
        rows, n = self.rows, len(self.rows)

        def take(k: int, component: Component) -> None:
            nonlocal left
            row = rows[k]
            amount = min(left, row.owed(component))
            if amount > 0:
                row.paid[component] += amount
                left -= amount
                allocations.append(Allocation(row.inst.number, component, amount))
                self.touched.add(k)

        waterfall = self.product.waterfall
        k = self.cleared
        due = []
        while k < n and rows[k].inst.due <= day:
            due.append(k)
            k += 1
        if self.product.allocation is AllocationOrder.BY_INSTALLMENT:
            pairs = [(row, component) for row in due for component in waterfall]
        else:
            pairs = [(row, component) for component in waterfall for row in due]
        while k < n and rows[k].inst.start <= day:  # the current installment
            pairs.extend((k, component) for component in waterfall)
            k += 1
        for row, component in pairs:
            if left <= 0:
                break
            take(row, component)
        for j in range(n - 1, k - 1, -1):  # months not begun, latest first
            if left <= 0:
                break
            take(j, Component.PRINCIPAL)
            self.repaid_early = True
        self.applied.append(AppliedPayment(payment.id, day, payment.amount, tuple(allocations), left))

    def _waive(self, waiver: Waived) -> None:
        left = waiver.amount
        numbers = [waiver.installment - 1] if waiver.installment else range(self.cleared, len(self.rows))
        for k in numbers:
            row = self.rows[k]
            if row.inst.start > waiver.on or left <= 0:
                break
            amount = min(left, row.owed(waiver.component))
            if amount > 0:
                row.waived[waiver.component] += amount
                left -= amount
                self.touched.add(k)

    def loan_dpd(self, day: date) -> int:
        """The loan's DPD on ``day``, at or after the last processed day and before the next one with events."""
        if self.first_open < len(self.rows) and self.rows[self.first_open].inst.due < day:
            return days_counted(self.rows[self.first_open].inst.due, day, self.pauses)
        return 0

    def state(self, as_of: date) -> LoanState:
        installments = tuple(
            InstallmentState(
                number=row.inst.number,
                start=row.inst.start,
                due=row.inst.due,
                charged=row.amounts(),
                paid=row.amounts(row.paid),
                waived=row.amounts(row.waived),
                dpd=days_counted(row.inst.due, as_of, self.pauses) if row.open() else 0,
                settled_on=row.settled_on,
            )
            for row in self.rows
        )
        return LoanState(
            as_of=as_of,
            installments=installments,
            payments=tuple(self.applied),
            dpd=self.loan_dpd(as_of),
            paused=any(start <= as_of <= end for start, end in self.pauses),
            unapplied=sum((p.unapplied for p in self.applied), ZERO),
        )


def _check_schedule(schedule: Sequence[Installment]) -> None:
    if not schedule:
        raise DomainError("schedule", "is empty")
    for k, inst in enumerate(schedule):
        where = f"schedule[{k}]"
        if not isinstance(inst, Installment):
            raise DomainError(where, f"must be an Installment, not {type(inst).__name__}")
        if inst.number != k + 1:
            raise DomainError(f"{where}.number", f"must be {k + 1} (numbered from 1 in order), got {inst.number}")
        if inst.start >= inst.due:
            raise DomainError(f"{where}.start", f"must be before the due date {inst.due}, got {inst.start}")
        if k and inst.start < schedule[k - 1].due:
            raise DomainError(f"{where}.start", f"must not be before the previous due date {schedule[k - 1].due}")
        for name in ("principal", "interest", "fee"):
            value = getattr(inst, name)
            if not isinstance(value, Decimal) or not is_cents(value) or value < 0:
                raise DomainError(f"{where}.{name}", f"must be a non-negative Decimal in whole cents, got {value!r}")


def _sort_events(
    events: list[LoanEvent], schedule: Sequence[Installment]
) -> tuple[dict[date, list[PaymentReceived | Waived]], list[PauseGranted]]:
    """Checks the events; returns the payments (not reversed) and waivers by day, in the given order, and the pauses."""
    payments: dict[str, int] = {}
    reversed_ids: set[str] = set()
    pauses: list[PauseGranted] = []
    for k, event in enumerate(events):
        where = f"events[{k}]"
        if isinstance(event, PaymentReceived):
            if not isinstance(event.id, str) or not event.id:
                raise DomainError(f"{where}.id", f"must be a non-empty string, got {event.id!r}")
            if event.id in payments:
                raise DomainError(f"{where}.id", f"payment {event.id!r} is already events[{payments[event.id]}]")
            payments[event.id] = k
            _check_amount(f"{where}.amount", event.amount)
        elif isinstance(event, PaymentReversed):
            reversed_ids.add(event.payment_id)
        elif isinstance(event, PauseGranted):
            if event.end < event.start:
                raise DomainError(f"{where}.end", f"must not be before the start {event.start}, got {event.end}")
            pauses.append(event)
        elif isinstance(event, Waived):
            _check_amount(f"{where}.amount", event.amount)
            if not isinstance(event.component, Component):
                raise DomainError(f"{where}.component", f"must be a Component, got {event.component!r}")
            if event.installment is not None:
                if not 1 <= event.installment <= len(schedule):
                    raise DomainError(f"{where}.installment", f"no installment {event.installment}")
                if schedule[event.installment - 1].start > event.on:
                    problem = f"installment {event.installment} has not begun on {event.on}"
                    raise DomainError(f"{where}.installment", problem)
        else:
            raise DomainError(where, f"not a loan event: {type(event).__name__}")
    for k, event in enumerate(events):
        if isinstance(event, PaymentReversed) and event.payment_id not in payments:
            raise DomainError(f"events[{k}].payment_id", f"no payment {event.payment_id!r} to reverse")
    by_day: dict[date, list[PaymentReceived | Waived]] = {}
    for event in events:
        if isinstance(event, Waived) or (isinstance(event, PaymentReceived) and event.id not in reversed_ids):
            by_day.setdefault(event.on, []).append(event)
    return by_day, pauses


def _check_amount(field: str, amount: object) -> None:
    if isinstance(amount, float):
        raise DomainError(field, f"floats are not money ({amount!r})")
    if not isinstance(amount, Decimal) or not is_cents(amount) or amount <= 0:
        raise DomainError(field, f"must be a positive Decimal in whole cents, got {amount!r}")
