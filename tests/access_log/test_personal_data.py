"""view_party: masked by default; unmasking needs the permission, a reason and a visible case, and is audited;
every read and every refusal is in the access log (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.adapters.sqlalchemy.audit_log import verify_log
from fairdun.application.personal_data import (
    UNMASK_AUDIT,
    UnknownPartyError,
    accesses_of,
    holders,
    mask,
    view_party,
)
from fairdun.application.ports import AccessAction, AccessRecord
from fairdun.domain.access import AccessDeniedError, User
from fairdun.domain.cases import CollectorAssigned, Cured, PlacedWithAgency, RecalledFromAgency
from tests.access_log.people import (
    AGENT,
    AT,
    AUDITOR,
    BORROWER,
    COLLECTOR,
    EMAILS,
    NAME_B1,
    OTHER_AGENT,
    OTHER_COLLECTOR,
    PHONES,
    RESIDENT_ID_B1,
    SUPERVISOR,
    seed,
)


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine)
    return engine


def log_of(engine: Engine, party: str) -> tuple[AccessRecord, ...]:
    with SqlAlchemyUnitOfWork(engine) as uow:
        return uow.access_log.for_party(party)


def audit_actions(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT actor, action, detail FROM audit_log ORDER BY seq"))
        return [(str(a), str(b), str(c)) for a, b, c in rows]


def view(engine: Engine, user: User, party: str, **kw: object) -> object:
    return view_party(SqlAlchemyUnitOfWork(engine), user, party, at=AT, **kw)  # type: ignore[arg-type]


def test_a_view_is_masked_by_default_and_logged_as_a_view(seeded: Engine) -> None:
    shown = view_party(SqlAlchemyUnitOfWork(seeded), SUPERVISOR, "B1", at=AT)
    values = {f.field: f.value for f in shown.fields}
    assert values == {
        "name": "张*",
        "resident_id": "110105********1239",
        "phone": "138****1234",
        "email": "b***@example.com",
    }
    assert not any(f.clear for f in shown.fields)
    assert PHONES["B1"] not in str(shown)
    assert NAME_B1 not in str(shown)
    assert RESIDENT_ID_B1 not in str(shown)
    assert EMAILS["B1"] not in str(shown)
    (row,) = log_of(seeded, "B1")
    assert (row.actor, row.action, row.fields, row.borrower) == (
        SUPERVISOR.id,
        AccessAction.VIEW,
        ("email", "name", "phone", "resident_id"),
        "B1",
    )
    assert not [a for a in audit_actions(seeded) if a[1] == UNMASK_AUDIT]


def test_unmasking_without_a_reason_is_refused_and_logged_as_denied_not_as_an_unmask(seeded: Engine) -> None:
    with pytest.raises(AccessDeniedError, match="stated reason"):
        view(seeded, COLLECTOR, "B1", unmask=True, reason="   ")
    (row,) = log_of(seeded, "B1")
    assert row.action is AccessAction.DENIED
    assert row.detail is not None
    assert "reason" in row.detail
    assert audit_actions(seeded) == []


def test_an_unmask_by_the_assigned_collector_shows_values_logs_the_reason_and_audits_without_values(
    seeded: Engine,
) -> None:
    shown = view_party(
        SqlAlchemyUnitOfWork(seeded), COLLECTOR, "B1", at=AT, unmask=True, reason="debtor asked for a callback"
    )
    assert {f.field: f.value for f in shown.fields} == {
        "name": NAME_B1,
        "resident_id": RESIDENT_ID_B1,
        "phone": PHONES["B1"],
        "email": EMAILS["B1"],
    }
    assert shown.loan == "L1"
    (row,) = log_of(seeded, "B1")
    assert (row.action, row.purpose, row.loan) == (AccessAction.UNMASK, "debtor asked for a callback", "L1")
    ((actor, action, detail),) = audit_actions(seeded)
    assert (actor, action) == (COLLECTOR.id, UNMASK_AUDIT)
    assert "debtor asked for a callback" in detail
    assert '"phone"' in detail
    assert PHONES["B1"] not in detail
    assert EMAILS["B1"] not in detail
    assert NAME_B1 not in detail
    assert RESIDENT_ID_B1 not in detail
    assert verify_log(seeded).ok


def test_the_designated_contact_of_an_assigned_case_is_visible_to_its_collector(seeded: Engine) -> None:
    shown = view_party(SqlAlchemyUnitOfWork(seeded), COLLECTOR, "B1-C1", at=AT)
    assert [(f.field, f.value) for f in shown.fields] == [("phone", "138****5678")]
    assert shown.relationship == "sibling"


@pytest.mark.parametrize("unmask", [False, True])
def test_a_collector_not_assigned_to_the_case_is_refused_and_the_refusal_logged(seeded: Engine, unmask: bool) -> None:
    with pytest.raises(AccessDeniedError, match="no case of borrower 'B1' is assigned to them"):
        view(seeded, OTHER_COLLECTOR, "B1", unmask=unmask, reason="curious")
    (row,) = log_of(seeded, "B1")
    assert (row.actor, row.action, row.purpose) == (OTHER_COLLECTOR.id, AccessAction.DENIED, "curious")
    assert audit_actions(seeded) == []


def test_a_cured_case_is_no_longer_its_collectors_to_read(seeded: Engine) -> None:
    with pytest.raises(AccessDeniedError):
        view(seeded, COLLECTOR, "B3")


def test_a_collector_loses_a_case_placed_with_an_agency(seeded: Engine) -> None:
    with pytest.raises(AccessDeniedError):
        view(seeded, OTHER_COLLECTOR, "B2")


def test_an_agency_collector_sees_only_the_fields_the_placement_shares(seeded: Engine) -> None:
    shown = view_party(SqlAlchemyUnitOfWork(seeded), AGENT, "B2", at=AT, unmask=True, reason="calling the debtor")
    assert [(f.field, f.value) for f in shown.fields] == [("phone", PHONES["B2"])]
    assert shown.withheld == ("email",)
    (row,) = log_of(seeded, "B2")
    assert (row.action, row.fields) == (AccessAction.UNMASK, ("phone",))
    with pytest.raises(AccessDeniedError, match="does not share email"):
        view(seeded, AGENT, "B2", fields=["email"])
    assert [r.action for r in log_of(seeded, "B2")] == [AccessAction.UNMASK, AccessAction.DENIED]


@pytest.mark.parametrize("user", [AGENT, OTHER_AGENT])
def test_an_agency_collector_is_refused_a_case_not_placed_with_their_agency(seeded: Engine, user: User) -> None:
    party = "B1" if user is AGENT else "B2"
    with pytest.raises(AccessDeniedError, match="placed with agency"):
        view(seeded, user, party)
    assert [r.action for r in log_of(seeded, party)] == [AccessAction.DENIED]


def test_an_auditor_sees_masked_values_but_may_not_unmask(seeded: Engine) -> None:
    shown = view_party(SqlAlchemyUnitOfWork(seeded), AUDITOR, "B2", at=AT)
    assert {f.value for f in shown.fields} == {"138****2468", "b***@example.com"}
    with pytest.raises(AccessDeniedError, match="may not unmask"):
        view(seeded, AUDITOR, "B2", unmask=True, reason="audit sample")
    assert [r.action for r in log_of(seeded, "B2")] == [AccessAction.VIEW, AccessAction.DENIED]


def test_a_borrower_sees_their_own_record_and_no_one_elses(seeded: Engine) -> None:
    shown = view_party(SqlAlchemyUnitOfWork(seeded), BORROWER, "B1", at=AT)
    assert {f.field for f in shown.fields} == {"name", "resident_id", "phone", "email"}
    with pytest.raises(AccessDeniedError):
        view(seeded, BORROWER, "B1-C1")


def test_an_unknown_party_or_field_is_a_clear_error_and_nothing_is_logged(seeded: Engine) -> None:
    with pytest.raises(UnknownPartyError, match="'B9'"):
        view(seeded, SUPERVISOR, "B9")
    with pytest.raises(ValueError, match="fields: unknown shoe_size"):
        view(seeded, SUPERVISOR, "B1", fields=["shoe_size"])
    assert log_of(seeded, "B9") == ()
    assert log_of(seeded, "B1") == ()


def test_every_read_is_logged_in_order_and_the_subject_can_see_who_read(seeded: Engine) -> None:
    for k, user in enumerate([SUPERVISOR, COLLECTOR, AUDITOR]):
        view_party(SqlAlchemyUnitOfWork(seeded), user, "B1", at=AT + timedelta(minutes=k))
    with pytest.raises(AccessDeniedError):
        view_party(SqlAlchemyUnitOfWork(seeded), OTHER_COLLECTOR, "B1", at=AT + timedelta(minutes=3))
    seen = accesses_of(SqlAlchemyUnitOfWork(seeded), BORROWER, "B1", at=AT + timedelta(hours=1))
    assert [(r.actor, r.action) for r in seen] == [
        (SUPERVISOR.id, AccessAction.VIEW),
        (COLLECTOR.id, AccessAction.VIEW),
        (AUDITOR.id, AccessAction.VIEW),
        (OTHER_COLLECTOR.id, AccessAction.DENIED),
    ]
    with pytest.raises(AccessDeniedError):
        accesses_of(SqlAlchemyUnitOfWork(seeded), COLLECTOR, "B1", at=AT)


def test_the_case_holders_follow_assignment_placement_recall_and_cure() -> None:
    day = AT.date()
    assert holders([]) == (None, None)
    assert holders([CollectorAssigned(day, "a"), PlacedWithAgency(day, "X")]) == ("a", "X")
    assert holders([CollectorAssigned(day, "a"), PlacedWithAgency(day, "X"), RecalledFromAgency(day)]) == ("a", None)
    assert holders([CollectorAssigned(day, "a"), Cured(day)]) == (None, None)
    assert holders([CollectorAssigned(day, "a"), Cured(day), CollectorAssigned(day, "b")]) == ("b", None)


@pytest.mark.parametrize(
    ("field", "value", "masked"),
    [
        ("phone", "+8613800001234", "138****1234"),
        ("phone", "13800001234", "138****1234"),
        ("email", "borrower000001@example.com", "b***@example.com"),
        ("name", "张三", "张*"),
        ("resident_id", "11010519491231002X", "110105********002X"),
    ],
)
def test_masking_keeps_only_what_identifies_a_value_to_someone_who_knows_it(
    field: str, value: str, masked: str
) -> None:
    assert mask(field, value) == masked


def test_what_an_agency_sees_is_what_its_placement_shares(seeded: Engine) -> None:
    with SqlAlchemyUnitOfWork(seeded) as uow:
        uow.case_events.append("L1", PlacedWithAgency(AT.date(), "AG-2"), recorded_at=AT)
        uow.commit()
    shown = view_party(SqlAlchemyUnitOfWork(seeded), OTHER_AGENT, "B1", at=AT)
    assert sorted(f.field for f in shown.fields) == ["email", "phone"]
    assert shown.withheld == ("name", "resident_id")
    with pytest.raises(AccessDeniedError):
        view(seeded, COLLECTOR, "B1")  # placed elsewhere: no longer the in-house collector's


def test_an_inactive_account_reads_nothing_and_its_attempt_is_logged(seeded: Engine) -> None:
    gone = User(SUPERVISOR.id, SUPERVISOR.role, active=False)
    with pytest.raises(AccessDeniedError, match="is not active"):
        view(seeded, gone, "B1")
    assert [r.action for r in log_of(seeded, "B1")] == [AccessAction.DENIED]
