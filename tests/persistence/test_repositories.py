"""Every repository stores domain values and gives them back equal, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.ports import ConflictError, PersistenceError, UnitOfWork
from fairdun.domain.contact import Channel, Direction, Outcome
from fairdun.domain.ledger import LoanEvent, PauseGranted, PaymentReceived, PaymentReversed, Waived, loan_state
from fairdun.domain.loans import Component

from .data import BEIJING, CASH_3, ODD, RECORDED, contact, loan

# --- products -----------------------------------------------------------------------------------------------


def test_a_product_comes_back_equal_field_for_field(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        uow.products.add(CASH_3)
        uow.products.add(ODD)
        uow.commit()
    with uow:
        assert uow.products.get("CASH-3") == CASH_3
        assert uow.products.get("ODD-12") == ODD
        assert uow.products.all() == (CASH_3, ODD)


def test_an_unknown_product_is_none(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        assert uow.products.get("NOPE") is None
        assert uow.products.all() == ()


def test_a_product_code_is_stored_once(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        uow.products.add(CASH_3)
        with pytest.raises(ConflictError, match="already stored") as caught:
            uow.products.add(CASH_3)
        assert (caught.value.entity, caught.value.key) == ("product", "CASH-3")


# --- loans --------------------------------------------------------------------------------------------------


def test_a_loan_comes_back_with_its_schedule(uow: SqlAlchemyUnitOfWork) -> None:
    booked = loan()
    odd = loan("L-0002", product=ODD, principal="12345.67", disbursed_on=date(2024, 2, 29))
    with uow:
        uow.products.add(CASH_3)
        uow.products.add(ODD)
        uow.loans.add(booked)
        uow.loans.add(odd)
        uow.commit()
    with uow:
        assert uow.loans.get("L-0001") == booked
        assert uow.loans.get("L-0002") == odd
        assert uow.loans.get("L-9999") is None
    assert len(odd.schedule) == 12
    assert sum(i.principal for i in odd.schedule) == Decimal("12345.67")


def test_a_borrowers_loans_come_oldest_first(uow: SqlAlchemyUnitOfWork) -> None:
    later = loan("L-0001", disbursed_on=date(2024, 5, 1))
    earlier = loan("L-0002", disbursed_on=date(2024, 1, 1))
    other = loan("L-0003", borrower="party-0002")
    with uow:
        uow.products.add(CASH_3)
        for booked in (later, earlier, other):
            uow.loans.add(booked)
        uow.commit()
    with uow:
        assert uow.loans.for_borrower("party-0001") == (earlier, later)
        assert uow.loans.for_borrower("party-0002") == (other,)
        assert uow.loans.for_borrower("party-0404") == ()


def test_a_loan_of_an_unknown_product_is_refused(uow: SqlAlchemyUnitOfWork) -> None:
    with uow, pytest.raises(ConflictError, match="refers to something not stored"):
        uow.loans.add(loan())


def test_a_loan_id_is_stored_once(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        uow.products.add(CASH_3)
        uow.loans.add(loan())
        with pytest.raises(ConflictError, match="already stored"):
            uow.loans.add(loan(borrower="party-0002"))


# --- loan events --------------------------------------------------------------------------------------------

EVENTS: tuple[LoanEvent, ...] = (
    PaymentReceived("p1", date(2024, 3, 10), Decimal("600.00")),
    PauseGranted(date(2024, 3, 15), date(2024, 3, 24)),
    Waived(date(2024, 3, 20), Component.PENALTY, Decimal("1.50")),
    Waived(date(2024, 3, 20), Component.FEE, Decimal("5.00"), installment=2),
    PaymentReceived("p2", date(2024, 4, 2), Decimal("1500.00")),
    PaymentReversed("p2", "bounced"),
    PaymentReversed("p1"),
    PaymentReceived("p3", date(2024, 4, 2), Decimal("0.01")),
)


def book(uow: UnitOfWork) -> None:
    with uow:
        uow.products.add(CASH_3)
        uow.loans.add(loan())
        uow.commit()


def test_loan_events_come_back_in_the_order_they_were_recorded(uow: SqlAlchemyUnitOfWork) -> None:
    book(uow)
    with uow:
        recorded = [
            uow.loan_events.append("L-0001", event, recorded_at=RECORDED + timedelta(minutes=k))
            for k, event in enumerate(EVENTS)
        ]
        uow.commit()
    with uow:
        stored = uow.loan_events.for_loan("L-0001")
    assert tuple(r.event for r in stored) == EVENTS
    assert stored == tuple(recorded)
    assert [r.seq for r in stored] == sorted(r.seq for r in stored)
    assert len({r.seq for r in stored}) == len(EVENTS)
    assert all(r.loan_id == "L-0001" for r in stored)
    assert stored[0].recorded_at == RECORDED


def test_the_ledger_gives_the_same_state_from_stored_events(uow: SqlAlchemyUnitOfWork) -> None:
    book(uow)
    with uow:
        for event in EVENTS:
            uow.loan_events.append("L-0001", event, recorded_at=RECORDED)
        uow.commit()
    with uow:
        product, booked = uow.products.get("CASH-3"), uow.loans.get("L-0001")
        events = [r.event for r in uow.loan_events.for_loan("L-0001")]
    assert product is not None
    assert booked is not None
    day = date(2024, 4, 5)
    assert loan_state(product, booked.schedule, events, day) == loan_state(CASH_3, loan().schedule, EVENTS, day)


def test_events_known_at_an_instant_leave_out_later_ones(uow: SqlAlchemyUnitOfWork) -> None:
    book(uow)
    on_time = PaymentReceived("p1", date(2024, 3, 10), Decimal("600.00"))
    backdated = PaymentReceived("p2", date(2024, 4, 2), Decimal("1500.00"))
    with uow:
        uow.loan_events.append("L-0001", on_time, recorded_at=datetime(2024, 3, 10, 12, tzinfo=UTC))
        uow.loan_events.append("L-0001", backdated, recorded_at=datetime(2024, 4, 5, 12, tzinfo=UTC))
        uow.commit()
    with uow:
        before = uow.loan_events.for_loan("L-0001", known_at=datetime(2024, 4, 5, 11, 59, 59, tzinfo=UTC))
        # 20:00 in Beijing is 12:00 UTC: the instant, not the wall clock, decides.
        after = uow.loan_events.for_loan("L-0001", known_at=datetime(2024, 4, 5, 20, tzinfo=BEIJING))
    assert [r.event for r in before] == [on_time]
    assert [r.event for r in after] == [on_time, backdated]


def test_events_of_other_loans_are_not_mixed_in(uow: SqlAlchemyUnitOfWork) -> None:
    book(uow)
    with uow:
        uow.loans.add(loan("L-0002"))
        uow.loan_events.append("L-0002", EVENTS[0], recorded_at=RECORDED)
        uow.commit()
    with uow:
        assert uow.loan_events.for_loan("L-0001") == ()
        assert [r.event for r in uow.loan_events.for_loan("L-0002")] == [EVENTS[0]]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            PaymentReceived("p1", date(2024, 3, 10), Decimal("1.00")),
            PaymentReceived("p1", date(2024, 3, 11), Decimal("2.00")),
        ),
        (PaymentReversed("p1"), PaymentReversed("p1", "entered twice")),
    ],
    ids=["payment id twice", "reversal twice"],
)
def test_a_payment_is_recorded_and_reversed_at_most_once(
    uow: SqlAlchemyUnitOfWork, first: LoanEvent, second: LoanEvent
) -> None:
    book(uow)
    with uow:
        uow.loan_events.append("L-0001", PaymentReceived("p0", date(2024, 3, 1), Decimal("1.00")), recorded_at=RECORDED)
        if isinstance(first, PaymentReversed):
            uow.loan_events.append(
                "L-0001", PaymentReceived("p1", date(2024, 3, 1), Decimal("1.00")), recorded_at=RECORDED
            )
        uow.loan_events.append("L-0001", first, recorded_at=RECORDED)
        with pytest.raises(ConflictError, match="already stored"):
            uow.loan_events.append("L-0001", second, recorded_at=RECORDED)


def test_an_event_for_an_unknown_loan_is_refused(uow: SqlAlchemyUnitOfWork) -> None:
    with uow, pytest.raises(ConflictError, match="refers to something not stored") as caught:
        uow.loan_events.append("L-0404", EVENTS[0], recorded_at=RECORDED)
    assert caught.value.key == "L-0404"


def test_after_a_conflict_the_unit_of_work_only_rolls_back(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        uow.products.add(CASH_3)
        with pytest.raises(ConflictError):
            uow.products.add(CASH_3)
        with pytest.raises(PersistenceError, match="can only roll back"):
            uow.commit()
    with uow:
        assert uow.products.all() == ()


# --- contact history ----------------------------------------------------------------------------------------


def test_a_contact_comes_back_equal(uow: SqlAlchemyUnitOfWork) -> None:
    record = contact(
        "c-1",
        datetime(2024, 3, 1, 21, 59, 59, 999999, tzinfo=BEIJING),
        channel=Channel.AI_CALL,
        direction=Direction.INBOUND,
        outcome=Outcome.CONVERSATION,
    )
    with uow:
        uow.contacts.add(record)
        uow.commit()
    with uow:
        stored = uow.contacts.get("c-1")
        assert uow.contacts.get("c-404") is None
    assert stored == record
    assert stored is not None
    assert stored.event.code == record.event.code
    assert stored.event.ts == record.event.ts


def test_every_channel_direction_and_outcome_is_accepted(uow: SqlAlchemyUnitOfWork) -> None:
    at = datetime(2024, 3, 1, 10, tzinfo=UTC)
    records = [
        contact(f"c-{channel}-{direction}-{outcome}", at, channel=channel, direction=direction, outcome=outcome)
        for channel in Channel
        for direction in Direction
        for outcome in Outcome
    ]
    with uow:
        for record in records:
            uow.contacts.add(record)
        uow.commit()
    with uow:
        assert set(uow.contacts.history(parties=["party-0001"])) == set(records)


def test_a_contact_id_is_stored_once(uow: SqlAlchemyUnitOfWork) -> None:
    at = datetime(2024, 3, 1, 10, tzinfo=UTC)
    with uow:
        uow.contacts.add(contact("c-1", at))
        with pytest.raises(ConflictError, match="already stored"):
            uow.contacts.add(contact("c-1", at + timedelta(hours=1)))


def test_history_finds_contacts_about_the_debts_or_with_the_parties_in_a_window(uow: SqlAlchemyUnitOfWork) -> None:
    day = datetime(2024, 3, 1, tzinfo=UTC)
    debtor = contact("c-1", day + timedelta(hours=9))
    guarantor_same_debt = contact("c-2", day + timedelta(hours=10), party="party-0002", address="party-0002/phone/1")
    debtor_other_debt = contact("c-3", day + timedelta(hours=8), debt="L-0002")
    stranger = contact("c-4", day + timedelta(hours=11), debt="L-0003", party="party-0003")
    tomorrow = contact("c-5", day + timedelta(days=1))
    with uow:
        for record in (tomorrow, stranger, debtor_other_debt, guarantor_same_debt, debtor):
            uow.contacts.add(record)
        uow.commit()
    with uow:
        history = uow.contacts.history
        assert history(debts=["L-0001"]) == (debtor, guarantor_same_debt, tomorrow)
        assert history(parties={"party-0001"}) == (debtor_other_debt, debtor, tomorrow)
        assert history(debts=["L-0001"], parties=["party-0001"]) == (
            debtor_other_debt,
            debtor,
            guarantor_same_debt,
            tomorrow,
        )
        # [since, until): the start is in, the end is out, whatever zone the bounds are given in.
        assert history(debts=["L-0001"], since=day + timedelta(hours=10), until=day + timedelta(days=1)) == (
            guarantor_same_debt,
        )
        midnight_beijing = datetime(2024, 3, 2, 8, tzinfo=BEIJING)  # = 2024-03-02 00:00 UTC
        assert history(debts=["L-0001"], since=midnight_beijing) == (tomorrow,)
        assert history() == ()


def test_contacts_at_the_same_instant_come_by_id(uow: SqlAlchemyUnitOfWork) -> None:
    at = datetime(2024, 3, 1, 10, tzinfo=UTC)
    with uow:
        for record_id in ("c-b", "c-a", "c-c"):
            uow.contacts.add(contact(record_id, at))
        uow.commit()
    with uow:
        assert [r.id for r in uow.contacts.history(parties=["party-0001"])] == ["c-a", "c-b", "c-c"]
