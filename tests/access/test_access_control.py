"""The use cases on SQLite and PostgreSQL: the first admin, permissions of the acting user, training and who may be
given cases, agencies, notices and placement with every refusal on record, and the audit chain verifying."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.adapters.sqlalchemy.audit_log import verify_log
from fairdun.adapters.sqlalchemy.models import AuditLogRow
from fairdun.adapters.sqlalchemy.models_access import PlacementNoticeRow, UserRow
from fairdun.application import access_control as access
from fairdun.application.ports import ConsentRecord, Party
from fairdun.domain.access import AccessDeniedError, User, UserRole
from fairdun.domain.agency import AGENCY_SHARING, Agency, EvaluationResult, RefusalCode, TrainingKind
from fairdun.domain.cases import CollectorAssigned, Cured, PlacedWithAgency, RecalledFromAgency
from fairdun.domain.contact import Consent, Role
from tests.persistence.data import CASH_3, loan

AT = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
DAY = AT.date()
ADMIN, DPO, SUPERVISOR = "admin-1", "dpo-1", "supervisor-1"


@pytest.fixture
def staffed(engine: Engine) -> Engine:
    """Two borrowers with a loan each, the first admin, a compliance officer and a supervisor."""
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.products.add(CASH_3)
        uow.parties.add_many([Party(b, b, Role.DEBTOR, "Asia/Shanghai") for b in ("B1", "B2")], [], [])
        uow.loans.add(loan("L1", borrower="B1"))
        uow.loans.add(loan("L2", borrower="B2"))
        opened = [(loan_id, CollectorAssigned(DAY - timedelta(days=5), "c-0")) for loan_id in ("L1", "L2")]
        uow.case_events.append_many(opened, recorded_at=AT - timedelta(days=5))  # both cases open
        access.add_user(uow, User(ADMIN, UserRole.ADMIN), by=None, at=AT)
        access.add_user(uow, User(DPO, UserRole.COMPLIANCE), by=ADMIN, at=AT)
        access.add_user(uow, User(SUPERVISOR, UserRole.SUPERVISOR), by=ADMIN, at=AT)
        uow.commit()
    return engine


ACTIONS = {
    access.USER_ADDED, access.USER_DEACTIVATED, access.TRAINING_RECORDED, access.AGENCY_ADDED,
    access.AGENCY_APPROVED, access.AGENCY_REVOKED, access.AGENCY_EVALUATED, access.AGENCY_CONTRACTED,
    access.BORROWER_INFORMED, access.CASE_PLACED, access.PLACEMENT_REFUSED,
}  # fmt: skip


def audit_actions(engine: Engine) -> list[str]:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        return [action for _, action, _ in uow.audit.entries(sorted(ACTIONS))]


def test_the_first_account_is_an_admin_added_by_nobody_and_only_once(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow, pytest.raises(access.AccessControlError, match="role: the first account must be an admin"):
        access.add_user(uow, User("c1", UserRole.COLLECTOR), by=None, at=AT)
    with uow:
        access.add_user(uow, User(ADMIN, UserRole.ADMIN), by=None, at=AT)
        uow.commit()
    with uow, pytest.raises(access.AccessControlError, match="only the very first admin is added without a login"):
        access.add_user(uow, User("admin-2", UserRole.ADMIN), by=None, at=AT)
    with uow:
        entries = list(uow.audit.entries([access.USER_ADDED]))
    assert [(a, d["role"]) for _, a, d in entries] == [(access.USER_ADDED, "admin")]
    assert verify_log(engine).ok


def test_only_a_role_with_the_permission_may_change_access_data(staffed: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(staffed)
    with uow, pytest.raises(AccessDeniedError, match="may not manage users"):
        access.add_user(uow, User("c1", UserRole.COLLECTOR), by=SUPERVISOR, at=AT)
    with uow, pytest.raises(AccessDeniedError, match="may not manage agencies"):
        access.add_agency(uow, Agency("ag-1", "Agency One"), by=SUPERVISOR, at=AT)
    with uow, pytest.raises(AccessDeniedError, match="may not assign"):
        access.place_case(uow, "L1", "ag-1", by=DPO, at=AT, on=DAY)
    with uow, pytest.raises(access.AccessControlError, match="user 'nobody': no such user"):
        access.add_user(uow, User("c1", UserRole.COLLECTOR), by="nobody", at=AT)
    with uow:
        assert uow.access.user("c1") is None
        access.deactivate_user(uow, SUPERVISOR, by=ADMIN, at=AT)
        uow.commit()
    with uow, pytest.raises(AccessDeniedError, match="is not active"):
        access.load_user(uow, SUPERVISOR)


def test_an_account_names_an_agency_or_a_party_only_when_its_role_needs_one(staffed: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(staffed)
    with uow, pytest.raises(access.AccessControlError, match="agency: no agency 'ag-9'"):
        access.add_user(uow, User("a1", UserRole.AGENCY_COLLECTOR, agency="ag-9"), by=ADMIN, at=AT)
    with uow, pytest.raises(access.AccessControlError, match="agency: an agency collector names"):
        access.add_user(uow, User("c1", UserRole.COLLECTOR, agency="ag-9"), by=ADMIN, at=AT)
    with uow, pytest.raises(access.AccessControlError, match="party: no party 'B9'"):
        access.add_user(uow, User("b9", UserRole.BORROWER, party="B9"), by=ADMIN, at=AT)
    with uow, pytest.raises(access.AccessControlError, match="id: user 'dpo-1' already exists"):
        access.add_user(uow, User(DPO, UserRole.AUDITOR), by=ADMIN, at=AT)
    with uow:
        access.add_user(uow, User("b1", UserRole.BORROWER, party="B1"), by=ADMIN, at=AT)
        uow.commit()
        assert uow.access.user("b1") == User("b1", UserRole.BORROWER, None, True, "B1")


def test_the_last_active_admin_cannot_be_deactivated(staffed: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(staffed)
    with uow, pytest.raises(access.AccessControlError, match="last active admin"):
        access.deactivate_user(uow, ADMIN, by=ADMIN, at=AT)


def train(uow: SqlAlchemyUnitOfWork, user: str, passed: date, *kinds: TrainingKind) -> None:
    for kind in kinds:
        access.record_training(uow, user, kind, passed, f"CERT-{user}-{kind.value}", by=ADMIN, at=AT)


def test_assignment_and_dialling_skip_collectors_untrained_lapsed_or_inactive(staffed: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(staffed)
    with uow:
        for c in ("c1", "c2", "c3", "c4"):
            access.add_user(uow, User(c, UserRole.COLLECTOR), by=ADMIN, at=AT)
        train(uow, "c1", date(2026, 1, 10), TrainingKind.ONBOARDING, TrainingKind.ANNUAL)
        train(uow, "c2", date(2025, 9, 1), TrainingKind.ONBOARDING)  # its year ends on 2026-08-31
        train(uow, "c3", date(2026, 1, 10), TrainingKind.ANNUAL)  # never onboarded
        train(uow, "c4", date(2026, 1, 10), TrainingKind.ONBOARDING)
        access.deactivate_user(uow, "c4", by=ADMIN, at=AT)
        uow.commit()
    with uow:
        assert access.assignable_collectors(uow, DAY) == ("c1",)
        assert access.assignable_collectors(uow, DAY - timedelta(days=1)) == ("c1", "c2")
        access.require_can_dial(uow, access.load_user(uow, "c1"), DAY)
        with pytest.raises(AccessDeniedError, match="annual training lapsed on 2026-09-01"):
            access.require_can_dial(uow, access.load_user(uow, "c2"), DAY)
        with pytest.raises(AccessDeniedError, match="onboarding training never passed"):
            access.require_can_dial(uow, access.load_user(uow, "c3"), DAY)
        with pytest.raises(AccessDeniedError, match="may not contact"):
            access.require_can_dial(uow, access.load_user(uow, SUPERVISOR), DAY)
    assert audit_actions(staffed).count(access.TRAINING_RECORDED) == 5


def listed_agency(uow: SqlAlchemyUnitOfWork, *, contract: bool = True) -> None:
    access.add_agency(uow, Agency("ag-1", "Agency One"), by=DPO, at=AT - timedelta(days=20))
    access.approve_agency(uow, "ag-1", by=DPO, at=AT - timedelta(days=20))
    access.evaluate_agency(uow, "ag-1", DAY - timedelta(days=20), EvaluationResult.PASS, "EV-1", by=DPO, at=AT)
    if contract:
        access.contract_agency(uow, "ag-1", "DPA-1", DAY - timedelta(days=20), DAY + timedelta(days=300), by=DPO, at=AT)


def refusal_codes(uow: SqlAlchemyUnitOfWork, loan_id: str, at: datetime = AT) -> set[RefusalCode]:
    with pytest.raises(access.PlacementRefusedError) as refused:
        access.place_case(uow, loan_id, "ag-1", by=SUPERVISOR, at=at, on=at.date())
    return {r.code for r in refused.value.refusals}


def test_a_placement_is_refused_for_each_missing_condition_and_the_refusal_is_audited(staffed: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(staffed)
    with uow:
        assert refusal_codes(uow, "L1") == {
            RefusalCode.NOT_APPROVED, RefusalCode.NO_EVALUATION, RefusalCode.NOT_INFORMED, RefusalCode.NO_BASIS,
        }  # fmt: skip
        uow.commit()
    with uow:
        listed_agency(uow, contract=False)
        uow.commit()
    with uow:
        assert refusal_codes(uow, "L1") == {RefusalCode.NOT_INFORMED, RefusalCode.NO_BASIS}
        access.inform_borrower(uow, "B1", "ag-1", "letter", "LTR-0001", by=SUPERVISOR, at=AT - timedelta(days=3))
        assert refusal_codes(uow, "L1") == {RefusalCode.NO_BASIS}
        uow.commit()
    with uow:  # a separate consent (PIPL Art. 23) is enough without a contract
        uow.parties.add_consent(ConsentRecord("B1", AGENCY_SHARING, AT - timedelta(days=2), None, "app form 7"))
        access.place_case(uow, "L1", "ag-1", by=SUPERVISOR, at=AT, on=DAY)
        uow.commit()
    with uow:
        assert uow.case_events.all()["L1"][-1] == PlacedWithAgency(DAY, "ag-1")
        with pytest.raises(access.AccessControlError, match="already placed with 'ag-1'"):
            access.place_case(uow, "L1", "ag-1", by=SUPERVISOR, at=AT, on=DAY)
        assert access.revoke_agency(uow, "ag-1", by=DPO, at=AT) == ("L1",)
        uow.commit()
    with uow:  # revoking the agency recalled its case at once
        assert uow.case_events.all()["L1"][-1] == RecalledFromAgency(AT.date())
        assert access.placed_with(uow.case_events.all()["L1"]) is None
    with uow:
        assert RefusalCode.REVOKED in refusal_codes(uow, "L2", AT + timedelta(minutes=1))
        uow.commit()
    assert audit_actions(staffed).count(access.PLACEMENT_REFUSED) == 4
    assert audit_actions(staffed).count(access.CASE_PLACED) == 1
    assert verify_log(staffed).ok


def test_a_borrower_told_only_after_the_placement_instant_does_not_count(staffed: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(staffed)
    with uow:
        listed_agency(uow)
        access.inform_borrower(uow, "B2", "ag-1", "sms", "c:20260901:L2:notice", by=SUPERVISOR, at=AT)
        assert refusal_codes(uow, "L2") == {RefusalCode.NOT_INFORMED}
        access.place_case(uow, "L2", "ag-1", by=SUPERVISOR, at=AT + timedelta(seconds=1), on=DAY)
        with pytest.raises(access.AccessControlError, match="borrower: no borrower 'B9'"):
            access.inform_borrower(uow, "B9", "ag-1", "sms", "x", by=SUPERVISOR, at=AT)


def test_a_loan_without_an_open_case_is_not_placed(staffed: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(staffed)
    with uow:
        listed_agency(uow)
        uow.case_events.append("L2", Cured(DAY - timedelta(days=1)), recorded_at=AT - timedelta(days=1))
        with pytest.raises(access.AccessControlError, match="'L2' has no open case"):
            access.place_case(uow, "L2", "ag-1", by=SUPERVISOR, at=AT, on=DAY)


def test_a_failed_change_stores_nothing_and_appends_nothing(staffed: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(staffed)
    before = audit_actions(staffed)
    with uow, pytest.raises(access.AccessControlError, match="agency 'ag-9': no such agency"):
        access.inform_borrower(uow, "B1", "ag-9", "sms", "x", by=SUPERVISOR, at=AT)
    with uow, pytest.raises(access.AccessControlError, match="passed_on"):
        access.record_training(uow, DPO, TrainingKind.ANNUAL, DAY + timedelta(days=1), "CERT", by=ADMIN, at=AT)
    assert audit_actions(staffed) == before
    with staffed.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(PlacementNoticeRow)) == 0
        assert connection.scalar(select(func.count()).select_from(UserRow)) == 3
        assert connection.scalar(select(func.count()).select_from(AuditLogRow)) == len(before)


def test_only_a_separate_agency_sharing_consent_in_force_at_the_instant_is_a_basis() -> None:
    granted = AT - timedelta(days=2)
    withdrawn = Consent("B1", AGENCY_SHARING, granted, AT)
    assert access.consent_holds([withdrawn], AT - timedelta(seconds=1))
    assert not access.consent_holds([withdrawn], AT)
    assert not access.consent_holds([Consent("B1", "contact_relay", granted)], AT)
    assert not access.consent_holds([Consent("B1", AGENCY_SHARING, AT + timedelta(seconds=1))], AT)
