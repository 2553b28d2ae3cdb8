"""The persistence ports over a SQLAlchemy session. Repositories flush what they add (so a duplicate or a dangling
reference is reported where it happens) but never commit: the unit of work owns the transaction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from fairdun.adapters.sqlalchemy.models import ContactEventRow, InstallmentRow, LoanEventRow, LoanRow, ProductRow
from fairdun.application.ports import ConflictError, ContactRecord, Loan, RecordedLoanEvent
from fairdun.domain.contact import Channel, ContactEvent, Direction, Outcome
from fairdun.domain.ledger import LoanEvent, PauseGranted, PaymentReceived, PaymentReversed, Waived
from fairdun.domain.loans import AllocationOrder, Component, Installment, Product, RepaymentMethod


def _flush(session: Session, entity: str, key: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise ConflictError(entity, key, _integrity_problem(exc)) from exc
    except StatementError as exc:
        # A column type refused a value (an amount with a fraction of a cent): say so as the ValueError it is.
        if isinstance(exc.orig, ValueError) and not isinstance(exc, DBAPIError):
            raise ValueError(f"{entity} {key!r}: {exc.orig}") from exc
        raise


def _utc(value: datetime, field: str) -> datetime:
    """``value`` in UTC; a naive datetime is refused here rather than deep inside the driver."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{field}: instants must be timezone-aware datetimes, got {value!r}")
    return value.astimezone(UTC)


def _integrity_problem(exc: IntegrityError) -> str:
    """What kind of rule was broken, from PostgreSQL's SQLSTATE or SQLite's message."""
    state = getattr(exc.orig, "sqlstate", None)
    message = str(exc.orig).lower()
    if state == "23505" or "unique constraint" in message:
        return "already stored"
    if state == "23503" or "foreign key constraint" in message:
        return "refers to something not stored"
    return f"breaks a stored rule ({str(exc.orig).splitlines()[0]})"


# --- products -----------------------------------------------------------------------------------------------


class SqlAlchemyProductRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, product: Product) -> None:
        self._session.add(
            ProductRow(
                code=product.code,
                term_months=product.term_months,
                annual_rate=product.annual_rate,
                method=product.method.value,
                installment_fee=product.installment_fee,
                upfront_fee=product.upfront_fee,
                penalty_daily_rate=product.penalty_daily_rate,
                grace_days=product.grace_days,
                waterfall=",".join(c.value for c in product.waterfall),
                allocation=product.allocation.value,
            )
        )
        _flush(self._session, "product", product.code)

    def get(self, code: str) -> Product | None:
        row = self._session.get(ProductRow, code)
        return None if row is None else _product(row)

    def all(self) -> tuple[Product, ...]:
        rows = self._session.scalars(select(ProductRow).order_by(ProductRow.code))
        return tuple(_product(row) for row in rows)


def _product(row: ProductRow) -> Product:
    return Product(
        code=row.code,
        term_months=row.term_months,
        annual_rate=row.annual_rate,
        method=RepaymentMethod(row.method),
        installment_fee=row.installment_fee,
        upfront_fee=row.upfront_fee,
        penalty_daily_rate=row.penalty_daily_rate,
        grace_days=row.grace_days,
        waterfall=tuple(Component(name) for name in row.waterfall.split(",")),
        allocation=AllocationOrder(row.allocation),
    )


# --- loans --------------------------------------------------------------------------------------------------


class SqlAlchemyLoanRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, loan: Loan) -> None:
        row = LoanRow(
            id=loan.id,
            product_code=loan.product,
            borrower=loan.borrower,
            principal=loan.principal,
            disbursed_on=loan.disbursed_on,
            installments=[
                InstallmentRow(
                    number=i.number,
                    start_on=i.start,
                    due_on=i.due,
                    principal=i.principal,
                    interest=i.interest,
                    fee=i.fee,
                )
                for i in loan.schedule
            ],
        )
        self._session.add(row)
        _flush(self._session, "loan", loan.id)

    def get(self, loan_id: str) -> Loan | None:
        row = self._session.get(LoanRow, loan_id)
        return None if row is None else _loan(row)

    def for_borrower(self, party: str) -> tuple[Loan, ...]:
        query = select(LoanRow).where(LoanRow.borrower == party).order_by(LoanRow.disbursed_on, LoanRow.id)
        return tuple(_loan(row) for row in self._session.scalars(query))


def _loan(row: LoanRow) -> Loan:
    return Loan(
        id=row.id,
        product=row.product_code,
        borrower=row.borrower,
        principal=row.principal,
        disbursed_on=row.disbursed_on,
        schedule=tuple(
            Installment(i.number, i.start_on, i.due_on, i.principal, i.interest, i.fee) for i in row.installments
        ),
    )


# --- loan events --------------------------------------------------------------------------------------------


class SqlAlchemyLoanEventRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def append(self, loan_id: str, event: LoanEvent, *, recorded_at: datetime) -> RecordedLoanEvent:
        row = _event_row(event)
        row.loan_id = loan_id
        row.recorded_at = _utc(recorded_at, "recorded_at")
        self._session.add(row)
        _flush(self._session, f"{row.kind} on loan", loan_id)
        return RecordedLoanEvent(row.seq, loan_id, event, row.recorded_at)

    def for_loan(self, loan_id: str, *, known_at: datetime | None = None) -> tuple[RecordedLoanEvent, ...]:
        query = select(LoanEventRow).where(LoanEventRow.loan_id == loan_id).order_by(LoanEventRow.seq)
        if known_at is not None:
            query = query.where(LoanEventRow.recorded_at <= _utc(known_at, "known_at"))
        return tuple(
            RecordedLoanEvent(row.seq, row.loan_id, _event(row), row.recorded_at)
            for row in self._session.scalars(query)
        )


def _event_row(event: LoanEvent) -> LoanEventRow:
    if isinstance(event, PaymentReceived):
        return LoanEventRow(kind="payment", effective_on=event.on, amount=event.amount, payment_id=event.id)
    if isinstance(event, PaymentReversed):
        return LoanEventRow(kind="reversal", payment_id=event.payment_id, reason=event.reason)
    if isinstance(event, PauseGranted):
        return LoanEventRow(kind="pause", effective_on=event.start, ends_on=event.end)
    return LoanEventRow(
        kind="waiver",
        effective_on=event.on,
        amount=event.amount,
        component=event.component.value,
        installment=event.installment,
    )


def _event(row: LoanEventRow) -> LoanEvent:
    # The table's "shape" check guarantees the columns each kind reads; the asserts tell the type checker.
    if row.kind == "reversal":
        assert row.payment_id is not None
        return PaymentReversed(row.payment_id, row.reason or "")
    assert row.effective_on is not None
    if row.kind == "pause":
        assert row.ends_on is not None
        return PauseGranted(row.effective_on, row.ends_on)
    assert row.amount is not None
    if row.kind == "payment":
        assert row.payment_id is not None
        return PaymentReceived(row.payment_id, row.effective_on, row.amount)
    assert row.component is not None
    return Waived(row.effective_on, Component(row.component), row.amount, row.installment)


# --- contact history ----------------------------------------------------------------------------------------


class SqlAlchemyContactHistoryRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, record: ContactRecord) -> None:
        event = record.event
        self._session.add(
            ContactEventRow(
                id=record.id,
                occurred_at=_utc(event.at, "event.at"),
                debt=event.debt,
                party=event.party,
                address_ref=event.address,
                channel=event.channel.value,
                direction=event.direction.value,
                outcome=event.outcome.value,
            )
        )
        _flush(self._session, "contact", record.id)

    def get(self, record_id: str) -> ContactRecord | None:
        row = self._session.get(ContactEventRow, record_id)
        return None if row is None else _contact(row)

    def history(
        self,
        *,
        debts: Collection[str] = (),
        parties: Collection[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> tuple[ContactRecord, ...]:
        about = []
        if debts:
            about.append(ContactEventRow.debt.in_(list(debts)))
        if parties:
            about.append(ContactEventRow.party.in_(list(parties)))
        if not about:
            return ()
        query: Select[ContactEventRow] = select(ContactEventRow).where(or_(*about))
        if since is not None:
            query = query.where(ContactEventRow.occurred_at >= _utc(since, "since"))
        if until is not None:
            query = query.where(ContactEventRow.occurred_at < _utc(until, "until"))
        query = query.order_by(ContactEventRow.occurred_at, ContactEventRow.id)
        return tuple(_contact(row) for row in self._session.scalars(query))


def _contact(row: ContactEventRow) -> ContactRecord:
    event = ContactEvent(
        at=row.occurred_at,
        debt=row.debt,
        party=row.party,
        address=row.address_ref,
        channel=Channel(row.channel),
        direction=Direction(row.direction),
        outcome=Outcome(row.outcome),
    )
    return ContactRecord(row.id, event)
