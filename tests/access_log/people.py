"""A small fictional book for the access-log tests: three borrowers (one with a designated contact), their loans and
who holds their cases, and the users who read them. Phones from the project's test block, e-mail on example.com."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.ports import ContactPoint, Party, PartyIdentity
from fairdun.domain.access import User, UserRole
from fairdun.domain.agency import Agency
from fairdun.domain.cases import CollectorAssigned, Cured, PlacedWithAgency
from fairdun.domain.contact import Channel, Role
from tests.persistence.data import CASH_3, loan

AT = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
PHONES = {"B1": "+8613800001234", "B1-C1": "+8613800005678", "B2": "+8613800002468", "B3": "+8613800003579"}
EMAILS = {"B1": "borrower000001@example.com", "B2": "borrower000002@example.com"}
NAME_B1 = "张伟"  # from the synthetic book's fixed lists
RESIDENT_ID_B1 = "110105199003071239"  # invented, with a valid GB 11643 check character

COLLECTOR = User("u-col-1", UserRole.COLLECTOR)
OTHER_COLLECTOR = User("u-col-2", UserRole.COLLECTOR)
AGENT = User("u-agent-1", UserRole.AGENCY_COLLECTOR, agency="AG-1")
OTHER_AGENT = User("u-agent-2", UserRole.AGENCY_COLLECTOR, agency="AG-2")
SUPERVISOR = User("u-sup-1", UserRole.SUPERVISOR)
AUDITOR = User("u-aud-1", UserRole.AUDITOR)
DPO = User("u-dpo-1", UserRole.COMPLIANCE)
BORROWER = User("u-b1", UserRole.BORROWER, party="B1")


def seed(engine: Engine) -> None:
    """B1 (loan L1, assigned to u-col-1, with a name, an ID number and a designated contact B1-C1), B2 (loan L2,
    assigned to u-col-2 and placed with agency AG-1, which shares name and phone), B3 (loan L3, assigned to
    u-col-1 and then cured: no case open); the agencies and the users."""
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.products.add(CASH_3)
        parties = [
            Party("B1", "B1", Role.DEBTOR, "Asia/Shanghai", risk_tier="low"),
            Party("B1-C1", "B1", Role.CONTACT, "Asia/Shanghai", relationship="sibling"),
            Party("B2", "B2", Role.DEBTOR, "Asia/Shanghai"),
            Party("B3", "B3", Role.DEBTOR, "Asia/Shanghai"),
        ]
        points = [
            ContactPoint(f"{p}/phone", p, phone, frozenset({Channel.CALL, Channel.SMS})) for p, phone in PHONES.items()
        ]
        points += [ContactPoint(f"{p}/email", p, email, frozenset({Channel.EMAIL}), 1) for p, email in EMAILS.items()]
        uow.parties.add_many(parties, points, [])
        uow.identities.add_many([PartyIdentity("B1", NAME_B1, resident_id=RESIDENT_ID_B1)])
        uow.access.add_agency(Agency("AG-1", "示例催收一", approved_at=AT), at=AT)  # shares name and phone
        uow.access.add_agency(
            Agency("AG-2", "示例催收二", approved_at=AT, shared_fields=frozenset({"phone", "email"})), at=AT
        )
        for user in (COLLECTOR, OTHER_COLLECTOR, AGENT, OTHER_AGENT, SUPERVISOR, AUDITOR, DPO, BORROWER):
            uow.access.add_user(user, at=AT)
        for n in (1, 2, 3):
            uow.loans.add(loan(f"L{n}", borrower=f"B{n}"))
        on = date(2026, 8, 20)
        uow.case_events.append("L1", CollectorAssigned(on, COLLECTOR.id), recorded_at=AT)
        uow.case_events.append("L2", CollectorAssigned(on, OTHER_COLLECTOR.id), recorded_at=AT)
        uow.case_events.append("L2", PlacedWithAgency(on, "AG-1"), recorded_at=AT)
        uow.case_events.append("L3", CollectorAssigned(on, COLLECTOR.id), recorded_at=AT)
        uow.case_events.append("L3", Cured(date(2026, 8, 25)), recorded_at=AT)
        uow.commit()
