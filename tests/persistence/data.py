"""Test data: fictional products, loans and contacts (party ids, never real names or numbers)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from fairdun.application.ports import ContactRecord, Loan
from fairdun.domain.contact import Channel, ContactEvent, Direction, Outcome
from fairdun.domain.loans import AllocationOrder, Component, Product, RepaymentMethod, build_schedule

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
RECORDED = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)

CASH_3 = Product(
    "CASH-3",
    3,
    Decimal("0.12"),
    RepaymentMethod.EQUAL_PRINCIPAL,
    installment_fee=Decimal("5.00"),
    penalty_daily_rate=Decimal("0.0005"),
    grace_days=3,
)

# Every field away from its default, and a rate with more digits than any NUMERIC(p, s) a schema would pick.
ODD = Product(
    "ODD-12",
    12,
    Decimal("0.2399"),
    RepaymentMethod.INTEREST_FIRST,
    installment_fee=Decimal("0.01"),
    upfront_fee=Decimal("199.99"),
    penalty_daily_rate=Decimal("0.24") / 365,
    grace_days=365,
    waterfall=(Component.PRINCIPAL, Component.INTEREST, Component.FEE, Component.PENALTY),
    allocation=AllocationOrder.BY_COMPONENT,
)


def loan(loan_id: str = "L-0001", *, product: Product = CASH_3, borrower: str = "party-0001", **kw: object) -> Loan:
    principal = Decimal(str(kw.get("principal", "3000.00")))
    disbursed_on = kw.get("disbursed_on", date(2024, 1, 31))
    assert isinstance(disbursed_on, date)
    schedule = build_schedule(product, principal, disbursed_on)
    return Loan(loan_id, product.code, borrower, principal, disbursed_on, schedule)


def contact(
    record_id: str,
    at: datetime,
    *,
    debt: str = "L-0001",
    party: str = "party-0001",
    address: str = "party-0001/phone/1",
    channel: Channel = Channel.CALL,
    direction: Direction = Direction.OUTBOUND,
    outcome: Outcome = Outcome.NO_ANSWER,
) -> ContactRecord:
    return ContactRecord(record_id, ContactEvent(at, debt, party, address, channel, direction, outcome))
