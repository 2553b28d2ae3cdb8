"""Portfolio analytics from the database: what a collections manager and an auditor look at beside the rules.

:func:`portfolio_analytics` reads the book through the unit of work and works out, for a period:

- the **roll-rate matrix** between the buckets the loans were in on its first and last day
  (:func:`fairdun.domain.delinquency.roll_rates`), and the **cure rate** (the share of loans delinquent on the
  first day that are current on the last);
- **promises to pay** made in the period and what became of them by its end (kept, broken, pending), from the
  case events and the payments (:func:`fairdun.domain.cases.case_history`);
- the **right-party contact rate**: outbound calls (and AI calls) to debtors that became a conversation with them,
  over all outbound calls to debtors;
- **contact intensity**: outbound contacts about a loan per day it was delinquent (DPD > 0).

- **complaints per 10,000 contacts**: complaints received in the period (by the borrower's local date) per
  10,000 outbound contacts, overall and per collector, per agency and per month. A contact counts for the
  collector assigned to its case and the agency it was placed with on its local date (as ``audit export`` writes
  them); a complaint counts for the collector and agency it names, else for those handling the case the day it
  was received. Cases never assigned count under ``(unassigned)``, cases never placed under ``lender`` (in house).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

from fairdun.application.contact_log import LENDER, _handlers
from fairdun.application.ports import UnitOfWork
from fairdun.domain.cases import PromiseStatus, bucket_events, case_history
from fairdun.domain.contact import VOICE_CHANNELS, Direction, Outcome, Role
from fairdun.domain.delinquency import DEFAULT_BUCKETS, BucketTable, RollRates, Spell, bucket_history, roll_rates
from fairdun.domain.errors import DomainError
from fairdun.domain.ledger import LoanEvent, dpd_history
from fairdun.policy.localtime import zone

UNASSIGNED = "(unassigned)"


@dataclass(frozen=True, slots=True)
class ComplaintRate:
    """Complaints and outbound contacts of one collector, agency or month (``key``)."""

    key: str
    complaints: int
    contacts: int

    @property
    def per_10k(self) -> Fraction | None:
        return Fraction(self.complaints * 10_000, self.contacts) if self.contacts else None


@dataclass(frozen=True, slots=True)
class PortfolioAnalytics:
    """The figures for ``start`` to ``end`` (both included); a rate is None when it has nothing to divide by."""

    start: date
    end: date
    loans: int
    roll: RollRates
    cure_rate: Fraction | None
    promises_made: int
    promises_kept: int
    promises_broken: int
    promises_pending: int
    calls_to_debtors: int
    right_party_contacts: int
    contacts: int
    delinquent_loan_days: int
    complaints: int = 0
    complaints_by_category: tuple[tuple[str, int], ...] = ()
    by_collector: tuple[ComplaintRate, ...] = ()
    by_agency: tuple[ComplaintRate, ...] = ()
    by_month: tuple[ComplaintRate, ...] = ()

    @property
    def complaints_per_10k(self) -> Fraction | None:
        """Complaints received per 10,000 outbound contacts made in the period."""
        return ComplaintRate("", self.complaints, self.contacts).per_10k

    @property
    def promise_kept_rate(self) -> Fraction | None:
        settled = self.promises_kept + self.promises_broken
        return Fraction(self.promises_kept, settled) if settled else None

    @property
    def right_party_contact_rate(self) -> Fraction | None:
        return Fraction(self.right_party_contacts, self.calls_to_debtors) if self.calls_to_debtors else None

    @property
    def contact_intensity(self) -> Fraction | None:
        """Outbound contacts per delinquent loan-day."""
        return Fraction(self.contacts, self.delinquent_loan_days) if self.delinquent_loan_days else None


def portfolio_analytics(
    uow: UnitOfWork, start: date, end: date, *, table: BucketTable = DEFAULT_BUCKETS
) -> PortfolioAnalytics:
    """The analytics of the book in ``uow`` for ``start`` to ``end`` (see the module docstring)."""
    if end <= start:
        raise DomainError("end", f"must be after start {start}, got {end}")
    products = {p.code: p for p in uow.products.all()}
    events: dict[str, list[LoanEvent]] = {}
    for recorded in uow.loan_events.all():
        events.setdefault(recorded.loan_id, []).append(recorded.event)
    case_events = uow.case_events.all()
    histories: dict[str, tuple[Spell, ...]] = {}
    delinquent_days = 0
    loans = uow.loans.all()
    made = kept = broken = pending = 0
    for loan in loans:
        if loan.disbursed_on > end:
            continue
        mine = events.get(loan.id, [])
        dpd = dpd_history(products[loan.product], loan.schedule, mine, loan.disbursed_on, end)
        histories[loan.id] = bucket_history(dpd, table)
        delinquent_days += sum(1 for day, d in dpd if day >= start and d > 0)
        stored = case_events.get(loan.id, ())
        if not stored:
            continue
        replayed = (*bucket_events(histories[loan.id]), *stored)
        for case in case_history(replayed, mine, end, loan_id=loan.id, table=table, lenient=True):
            for promise in case.promises:
                if not start <= promise.promise.on <= end:
                    continue
                made += 1
                kept += promise.status is PromiseStatus.KEPT
                broken += promise.status is PromiseStatus.BROKEN
                pending += promise.status is PromiseStatus.PENDING
    roll = roll_rates(histories.values(), start, end, table)
    current = table.current.name
    delinquent_at_start = sum(roll.leaving(name) for name in table.names if name != current)
    cured = sum(roll.count(name, current) for name in table.names if name != current)
    parties = {p.id: p for p in uow.parties.all()}
    # Wide enough for every zone's local days; each contact is then counted by its own local date.
    since = datetime.combine(start, time(), UTC) - timedelta(days=1)
    until = datetime.combine(end + timedelta(days=2), time(), UTC)
    calls = rpc = contacts = 0
    tally = _Tally()
    loan_ids = [loan.id for loan in loans]
    for first in range(0, len(loan_ids), 2000):
        for record in uow.contacts.history(debts=loan_ids[first : first + 2000], since=since, until=until):
            event = record.event
            party = parties.get(event.party)
            local = event.at.astimezone(zone(party.tz if party is not None else "Asia/Shanghai")).date()
            if event.direction is not Direction.OUTBOUND or not start <= local <= end:
                continue
            contacts += 1
            tally.add(case_events.get(event.debt, ()), local, None, None, contacts=1)
            if party is not None and party.role is Role.DEBTOR and event.channel in VOICE_CHANNELS:
                calls += 1
                rpc += event.outcome is Outcome.CONVERSATION
    tzs = {loan.id: p.tz if (p := parties.get(loan.borrower)) is not None else "Asia/Shanghai" for loan in loans}
    categories = _complaints(uow, tzs, case_events, (start, end), tally)
    received = sum(categories.values())
    return PortfolioAnalytics(
        start=start,
        end=end,
        loans=len(histories),
        roll=roll,
        cure_rate=Fraction(cured, delinquent_at_start) if delinquent_at_start else None,
        promises_made=made,
        promises_kept=kept,
        promises_broken=broken,
        promises_pending=pending,
        calls_to_debtors=calls,
        right_party_contacts=rpc,
        contacts=contacts,
        delinquent_loan_days=delinquent_days,
        complaints=received,
        complaints_by_category=tuple(sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))),
        by_collector=tally.rates(tally.collectors),
        by_agency=tally.rates(tally.agencies),
        by_month=tally.rates(tally.months),
    )


def _complaints(
    uow: UnitOfWork,
    tzs: Mapping[str, str],
    case_events: Mapping[str, Sequence[object]],
    period: tuple[date, date],
    tally: _Tally,
) -> dict[str, int]:
    """Counts the complaints received in ``period`` (first and last day, the borrower's local dates) into
    ``tally``; how many of each category."""
    start, end = period
    categories: dict[str, int] = {}
    for complaint in uow.complaints.all():
        intake = complaint.intake
        local = intake.received_at.astimezone(zone(tzs.get(intake.loan, "Asia/Shanghai"))).date()
        if not start <= local <= end:
            continue
        categories[intake.category.value] = categories.get(intake.category.value, 0) + 1
        tally.add(case_events.get(intake.loan, ()), local, intake.collector, intake.agency, complaints=1)
    return categories


class _Tally:
    """Complaints and contacts counted by collector, agency and month as the records are read."""

    def __init__(self) -> None:
        self.collectors: dict[str, list[int]] = {}
        self.agencies: dict[str, list[int]] = {}
        self.months: dict[str, list[int]] = {}

    def add(
        self,
        case_events: Sequence[object],
        on: date,
        collector: str | None,
        agency: str | None,
        *,
        complaints: int = 0,
        contacts: int = 0,
    ) -> None:
        operator, org = _handlers(case_events, on)
        for table, key in (
            (self.collectors, collector or operator or UNASSIGNED),
            (self.agencies, agency or org or LENDER),
            (self.months, f"{on:%Y-%m}"),
        ):
            counts = table.setdefault(key, [0, 0])
            counts[0] += complaints
            counts[1] += contacts

    @staticmethod
    def rates(table: dict[str, list[int]]) -> tuple[ComplaintRate, ...]:
        return tuple(ComplaintRate(key, c, n) for key, (c, n) in sorted(table.items()))
