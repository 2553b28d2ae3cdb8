"""Portfolio analytics from the database, checked against counts made independently from the same records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import Engine

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.analytics import portfolio_analytics
from fairdun.application.complaints import (
    ComplainantRole,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintIntake,
    receive_complaint,
)
from fairdun.application.cycle import Book, CycleConfig, SimulatedChannel, run_day
from fairdun.application.ports import UnitOfWork
from fairdun.application.simulation import World, load_book
from fairdun.application.synthetic import CHINA, generate_portfolio
from fairdun.config.packs import PackLoader
from fairdun.config.strategies import load_strategy
from fairdun.domain.cases import CollectorAssigned, PlacedWithAgency, PromiseMade, RecalledFromAgency
from fairdun.domain.contact import VOICE_CHANNELS, Direction, Outcome
from fairdun.domain.errors import DomainError

START = date(2026, 9, 1)
DAYS = 12


def factory(engine: Engine) -> Callable[[], UnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)


@pytest.fixture
def simulated(engine: Engine) -> Engine:
    config = CycleConfig(load_strategy("default"), PackLoader().load("cn"))
    world = World(factory(engine), generate_portfolio(150, 17, START), config, 17)
    world.run(DAYS)
    return engine


def test_the_figures_match_counts_made_from_the_records(simulated: Engine) -> None:
    end = START + timedelta(days=DAYS - 1)
    with factory(simulated)() as uow:
        figures = portfolio_analytics(uow, START, end)
        loans = uow.loans.all()
        debtors = {p.id for p in uow.parties.all() if p.role.value == "debtor"}
        history = uow.contacts.history(debts=[x.id for x in loans])
        promises = [e for events in uow.case_events.all().values() for e in events if isinstance(e, PromiseMade)]
    outbound = [r.event for r in history if r.event.direction is Direction.OUTBOUND]
    in_period = [e for e in outbound if START <= e.at.astimezone(CHINA).date() <= end]
    calls = [e for e in in_period if e.party in debtors and e.channel in VOICE_CHANNELS]
    assert figures.contacts == len(in_period) > 0
    assert figures.calls_to_debtors == len(calls) > 0
    assert figures.right_party_contacts == sum(e.outcome is Outcome.CONVERSATION for e in calls)
    assert figures.promises_made == len(promises) > 0
    assert figures.promises_made == figures.promises_kept + figures.promises_broken + figures.promises_pending
    assert sum(sum(row) for row in figures.roll.counts) == figures.loans == len(loans)
    assert figures.delinquent_loan_days > 0
    assert figures.cure_rate is not None
    assert 0 <= figures.cure_rate <= 1
    assert figures.complaints == 0
    assert figures.complaints_per_10k == 0  # complaints are taken in: none is a true zero


def test_a_period_that_ends_before_it_starts_is_refused(simulated: Engine) -> None:
    with factory(simulated)() as uow, pytest.raises(DomainError, match="must be after start"):
        portfolio_analytics(uow, START, START)


def test_analytics_read_a_book_run_day_by_day_by_separate_processes(engine: Engine) -> None:
    # Two days of the cycle, each with a book loaded afresh, as `fairdun cycle run` does; then analytics.
    load_book(factory(engine), generate_portfolio(80, 5, START), 5)
    config = CycleConfig(load_strategy("default"), PackLoader().load("cn"))
    for day in (START, START + timedelta(days=1)):
        with factory(engine)() as uow:
            book = Book.load(uow, on=day, lookback=config.lookback)
        clock = datetime.combine(day, time(6), CHINA)
        run_day(factory(engine), book, config, day, SimulatedChannel(5), clock=lambda c=clock: c, simulate=True)
    with factory(engine)() as uow:
        figures = portfolio_analytics(uow, START, START + timedelta(days=1))
    assert figures.loans > 0
    assert figures.contacts > 0


def handler(events: object, on: date) -> tuple[str, str]:
    """The collector and agency of a case on ``on``, read from its events the plain way."""
    collector, agency = "(unassigned)", "lender"
    for event in events:  # type: ignore[attr-defined]
        if event.on > on:
            continue
        if isinstance(event, CollectorAssigned):
            collector = event.collector_id
        elif isinstance(event, PlacedWithAgency):
            agency = event.agency_id
        elif isinstance(event, RecalledFromAgency):
            agency = "lender"
    return collector, agency


def test_complaints_per_10000_contacts_match_counts_made_from_the_records(simulated: Engine) -> None:
    end = START + timedelta(days=DAYS - 1)
    inside = datetime.combine(START + timedelta(days=3), time(10), CHINA)
    with factory(simulated)() as uow:
        history = uow.contacts.history(debts=[x.id for x in uow.loans.all()])
        contacted = sorted({r.event.debt for r in history})
        complaints = [
            (contacted[0], inside, ComplaintCategory.HARASSMENT, "C-NAMED", None),
            (contacted[1], inside, ComplaintCategory.FEES_OR_AMOUNT, None, None),
            (contacted[2], inside + timedelta(days=20), ComplaintCategory.TIME_OF_DAY, None, "AG-NAMED"),
            (contacted[3], inside - timedelta(days=10), ComplaintCategory.PRIVACY, None, None),  # before the period
            (contacted[2], inside + timedelta(days=1), ComplaintCategory.TIME_OF_DAY, None, "AG-NAMED"),
        ]
        for loan, at, category, collector, agency in complaints:
            intake = ComplaintIntake(
                at, ComplaintChannel.PORTAL, ComplainantRole.DEBTOR, loan, category, collector=collector, agency=agency
            )
            receive_complaint(uow, intake, by="agent-01", at=at)
        uow.commit()
    with factory(simulated)() as uow:
        figures = portfolio_analytics(uow, START, end)
        case_events = uow.case_events.all()
    outbound = [r.event for r in history if r.event.direction is Direction.OUTBOUND]
    in_period = [e for e in outbound if START <= e.at.astimezone(CHINA).date() <= end]
    counted = [c for c in complaints if START <= c[1].astimezone(CHINA).date() <= end]
    assert figures.complaints == len(counted) == 3
    assert figures.complaints_per_10k == Fraction(3 * 10_000, len(in_period))
    assert dict(figures.complaints_by_category) == {"harassment": 1, "fees_or_amount": 1, "time_of_day": 1}

    expected: dict[str, list[int]] = {}
    expected_agencies: dict[str, list[int]] = {}
    expected_months: dict[str, list[int]] = {}
    for e in in_period:
        local = e.at.astimezone(CHINA).date()
        collector, agency = handler(case_events.get(e.debt, ()), local)
        expected.setdefault(collector, [0, 0])[1] += 1
        expected_agencies.setdefault(agency, [0, 0])[1] += 1
        expected_months.setdefault(f"{local:%Y-%m}", [0, 0])[1] += 1
    for loan, at, _, named_collector, named_agency in counted:
        local = at.astimezone(CHINA).date()
        collector, agency = handler(case_events.get(loan, ()), local)
        expected.setdefault(named_collector or collector, [0, 0])[0] += 1
        expected_agencies.setdefault(named_agency or agency, [0, 0])[0] += 1
        expected_months.setdefault(f"{local:%Y-%m}", [0, 0])[0] += 1
    assert {r.key: [r.complaints, r.contacts] for r in figures.by_collector} == expected
    assert {r.key: [r.complaints, r.contacts] for r in figures.by_agency} == expected_agencies
    assert {r.key: [r.complaints, r.contacts] for r in figures.by_month} == expected_months
    named = next(r for r in figures.by_collector if r.key == "C-NAMED")
    assert named.contacts == 0
    assert named.per_10k is None  # a collector named but never contacting anyone: no rate, not infinity
