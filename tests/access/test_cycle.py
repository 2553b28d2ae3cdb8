"""The daily cycle honouring access control, on both databases: new cases go only to collectors trained on the day
(none trained: they wait, counted ``unassigned``), and a due agency placement happens only when the rules allow it
(``placement_refused`` otherwise), each recorded in the audit log in the transaction that made it.

The books are small fictional ones (``fairdun.application.synthetic``) loaded as ``fairdun book generate`` loads
them: with the demo lender's admin, eight trained collectors and ``agency-east`` (``register_demo_staff``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.adapters.sqlalchemy.audit_log import verify_log
from fairdun.application import access_control as access
from fairdun.application.cycle import Book, CycleConfig, DayReport, SimulatedChannel, run_day
from fairdun.application.ports import UnitOfWork
from fairdun.application.simulation import load_book
from fairdun.application.synthetic import CHINA, generate_portfolio
from fairdun.config.packs import PackLoader
from fairdun.config.strategies import load_strategy
from fairdun.domain.access import User, UserRole
from fairdun.domain.agency import TrainingKind
from fairdun.domain.cases import CollectorAssigned, PlacedWithAgency

START = date(2026, 9, 1)
EVE = datetime.combine(START - timedelta(days=1), time(10), CHINA)


@pytest.fixture(scope="module")
def config() -> CycleConfig:
    return CycleConfig(load_strategy("default"), PackLoader().load("cn"))


def factory(engine: Engine) -> Callable[[], UnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)


def load(engine: Engine, borrowers: int, seed: int) -> frozenset[str]:
    portfolio = generate_portfolio(borrowers, seed, START)
    load_book(factory(engine), portfolio, seed)
    return frozenset(b.id for b in portfolio.borrowers)


def run(engine: Engine, config: CycleConfig, borrowers: frozenset[str]) -> DayReport:
    with factory(engine)() as uow:
        book = Book.load(uow, on=START, lookback=config.lookback)
    clock = lambda: datetime.combine(START, time(6), CHINA)  # noqa: E731
    return run_day(factory(engine), book, config, START, SimulatedChannel(5, borrowers), clock=clock, simulate=True)


def assignees(engine: Engine) -> set[str]:
    with factory(engine)() as uow:
        events = uow.case_events.all()
    return {e.collector_id for evs in events.values() for e in evs if isinstance(e, CollectorAssigned)}


def deactivate(engine: Engine, users: list[str]) -> None:
    with factory(engine)() as uow:
        for user in users:
            access.deactivate_user(uow, user, by=access.DEMO_ADMIN, at=EVE)
        uow.commit()


def test_new_cases_go_only_to_the_collectors_trained_and_active_on_the_day(engine: Engine, config: CycleConfig) -> None:
    borrowers = load(engine, 120, 11)
    deactivate(engine, list(access.DEMO_COLLECTORS[:6]))
    with factory(engine)() as uow:  # collector-09's training lapsed the day before the run
        access.add_user(uow, User("collector-09", UserRole.COLLECTOR), by=access.DEMO_ADMIN, at=EVE)
        access.record_training(
            uow, "collector-09", TrainingKind.ONBOARDING, date(2025, 8, 1), "CERT-9", by=access.DEMO_ADMIN,
            at=EVE, valid_until=START - timedelta(days=1),
        )  # fmt: skip
        uow.commit()
    report = run(engine, config, borrowers)
    assert report.summary["assigned"] == report.summary["cases_open"] > 0
    assert report.summary["unassigned"] == 0
    assert assignees(engine) == {"collector-07", "collector-08"}


def test_with_no_trained_collector_new_cases_wait_unassigned_and_the_day_still_runs(
    engine: Engine, config: CycleConfig
) -> None:
    borrowers = load(engine, 120, 11)
    deactivate(engine, list(access.DEMO_COLLECTORS))
    report = run(engine, config, borrowers)
    assert report.summary["assigned"] == 0
    assert report.summary["unassigned"] == report.summary["cases_open"] > 0
    assert report.summary["planned"] > 0
    assert assignees(engine) == set()


def placements(engine: Engine) -> dict[str, str]:
    with factory(engine)() as uow:
        events = uow.case_events.all()
    return {loan: e.agency_id for loan, evs in events.items() for e in evs if isinstance(e, PlacedWithAgency)}


def audited(engine: Engine, action: str) -> list[dict[str, object]]:
    with factory(engine)() as uow:
        return [dict(detail) for _, _, detail in uow.audit.entries([action])]


def test_a_due_placement_with_an_allowed_agency_is_made_and_audited(engine: Engine, config: CycleConfig) -> None:
    borrowers = load(engine, 300, 5)
    report = run(engine, config, borrowers)
    placed = placements(engine)
    assert report.summary["placed"] == len(placed) > 0
    assert report.summary["placement_refused"] == 0
    assert set(placed.values()) == {access.DEMO_AGENCY}
    assert [sorted(d["loans"]) for d in audited(engine, access.CASE_PLACED)] == [sorted(placed)]  # type: ignore[type-var]
    assert verify_log(engine).ok


def test_a_due_placement_with_a_revoked_agency_is_refused_counted_and_audited(
    engine: Engine, config: CycleConfig
) -> None:
    borrowers = load(engine, 300, 5)
    with factory(engine)() as uow:
        access.revoke_agency(uow, access.DEMO_AGENCY, by=access.DEMO_ADMIN, at=EVE)
        uow.commit()
    report = run(engine, config, borrowers)
    assert report.summary["placed"] == 0
    assert report.summary["placement_refused"] > 0
    assert placements(engine) == {}
    [refusal] = audited(engine, access.PLACEMENT_REFUSED)
    reasons = refusal["reasons"]
    assert isinstance(reasons, dict)
    assert len(reasons) == report.summary["placement_refused"]
    assert all(codes == ["agency_revoked"] for codes in reasons.values())
    assert verify_log(engine).ok
