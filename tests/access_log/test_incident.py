"""fairdun's incident query (PIPL Art. 57): exactly the parties an account read in a window, with fields, counts,
first and last read; itself logged and audited; refused without the permission (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.adapters.sqlalchemy.audit_log import verify_log
from fairdun.application.personal_data import INCIDENT_AUDIT, affected_by, view_party
from fairdun.application.ports import AccessAction
from fairdun.domain.access import AccessDeniedError, User
from tests.access_log.people import AT, AUDITOR, COLLECTOR, DPO, SUPERVISOR, seed

FROM = AT
TO = AT + timedelta(hours=2)


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine)
    return engine


def read(engine: Engine, user: User, party: str, at: datetime, *, unmask: bool = False) -> None:
    view_party(SqlAlchemyUnitOfWork(engine), user, party, at=at, unmask=unmask, reason="case work" if unmask else "")


def incident(engine: Engine, actor: str, since: datetime = FROM, until: datetime = TO, *, by: User = DPO) -> list:  # type: ignore[type-arg]
    return list(
        affected_by(SqlAlchemyUnitOfWork(engine), by, actor=actor, since=since, until=until, at=TO + timedelta(days=1))
    )


def test_the_parties_read_in_the_window_and_not_one_read_a_second_outside_it(seeded: Engine) -> None:
    read(seeded, SUPERVISOR, "B3", FROM - timedelta(seconds=1))  # a second before
    read(seeded, SUPERVISOR, "B1", FROM)  # the first instant counts
    read(seeded, SUPERVISOR, "B1", FROM + timedelta(minutes=30), unmask=True)
    read(seeded, SUPERVISOR, "B2", TO)  # so does the last
    read(seeded, SUPERVISOR, "B1-C1", TO + timedelta(seconds=1))  # a second after
    read(seeded, AUDITOR, "B3", FROM + timedelta(minutes=5))  # another account
    found = incident(seeded, SUPERVISOR.id)
    assert [a.party for a in found] == ["B1", "B2"]
    b1, b2 = found
    assert (b1.borrower, b1.reads, b1.first, b1.last) == ("B1", 2, FROM, FROM + timedelta(minutes=30))
    assert b1.fields == ("email", "name", "phone", "resident_id")
    assert b1.actions == ("unmask", "view")
    assert (b2.borrower, b2.reads, b2.first, b2.last) == ("B2", 1, TO, TO)
    assert [a.party for a in incident(seeded, AUDITOR.id)] == ["B3"]
    assert incident(seeded, COLLECTOR.id) == []


def test_refused_reads_are_not_counted_as_reads(seeded: Engine) -> None:
    with pytest.raises(AccessDeniedError):
        read(seeded, COLLECTOR, "B2", FROM + timedelta(minutes=1))
    assert incident(seeded, COLLECTOR.id) == []


def test_the_query_is_itself_logged_and_audited_and_the_chain_verifies(seeded: Engine) -> None:
    read(seeded, SUPERVISOR, "B1", FROM + timedelta(minutes=1), unmask=True)
    incident(seeded, SUPERVISOR.id)
    with SqlAlchemyUnitOfWork(seeded) as uow:
        mine = uow.access_log.by_actor(DPO.id, since=FROM, until=TO + timedelta(days=2))
    assert [(r.action, r.party) for r in mine] == [(AccessAction.INCIDENT, None)]
    assert mine[0].detail is not None
    assert f"actor={SUPERVISOR.id}" in mine[0].detail
    assert "parties=1" in mine[0].detail
    with seeded.connect() as connection:
        actions = [str(a) for (a,) in connection.execute(text("SELECT action FROM audit_log ORDER BY seq"))]
    assert actions[-1] == INCIDENT_AUDIT
    assert verify_log(seeded).ok


@pytest.mark.parametrize("user", [SUPERVISOR, COLLECTOR, AUDITOR])
def test_only_a_role_with_the_incident_permission_may_ask_and_a_refusal_is_logged(seeded: Engine, user: User) -> None:
    with pytest.raises(AccessDeniedError, match="may not run an incident query"):
        incident(seeded, SUPERVISOR.id, by=user)
    with SqlAlchemyUnitOfWork(seeded) as uow:
        rows = uow.access_log.by_actor(user.id, since=FROM, until=TO + timedelta(days=2))
    assert [r.action for r in rows] == [AccessAction.DENIED]


def test_a_window_that_ends_before_it_starts_or_has_no_offset_is_refused(seeded: Engine) -> None:
    with pytest.raises(ValueError, match="is after to"):
        incident(seeded, SUPERVISOR.id, TO, FROM)
    with pytest.raises(ValueError, match="UTC offset"):
        incident(seeded, SUPERVISOR.id, FROM.replace(tzinfo=None), TO)
