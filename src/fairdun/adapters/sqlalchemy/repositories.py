"""The persistence ports over a SQLAlchemy session. Repositories flush what they add (so a duplicate or a dangling
reference is reported where it happens) but never commit: the unit of work owns the transaction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from fairdun.adapters.sqlalchemy.models import (
    ContactEventRow,
    InstallmentRow,
    LoanEventRow,
    LoanRow,
    OutboxRow,
    ProductRow,
)
from fairdun.application.channels import DeliveryResult, OutboundMessage
from fairdun.application.ports import (
    ConflictError,
    ContactRecord,
    Loan,
    OutboxEntry,
    OutboxStatus,
    RecordedLoanEvent,
)
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


# --- outbox -------------------------------------------------------------------------------------------------


class SqlAlchemyOutboxRepository:
    """The outbox on one table. Every change is one conditional statement (``INSERT ... ON CONFLICT DO NOTHING``,
    ``UPDATE ... WHERE status = 'pending'``), so two workers racing for one key cannot both win, on PostgreSQL
    under READ COMMITTED as on SQLite."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def enqueue(self, message: OutboundMessage, *, arm: str, rule_pack: str, decided_at: datetime) -> OutboxEntry:
        values = {
            "key": message.key,
            "channel": message.channel.value,
            "address": message.address,
            "party": message.party,
            "debt": message.debt,
            "subject": message.subject,
            "body": message.body,
            "template": message.template,
            "created_at": _utc(message.created_at, "message.created_at"),
            "arm": arm,
            "rule_pack": rule_pack,
            "decided_at": _utc(decided_at, "decided_at"),
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
        }
        dialect = self._session.get_bind().dialect.name
        if dialect in ("postgresql", "sqlite"):
            # A concurrent enqueue of the same key is a no-op here, not an error that would poison the transaction.
            module = postgresql if dialect == "postgresql" else sqlite
            statement = module.insert(OutboxRow).values(values).on_conflict_do_nothing(index_elements=["key"])
            self._execute(statement, message.key)
        elif self.get(message.key) is None:
            self._execute(insert(OutboxRow).values(values), message.key)
        entry = self.get(message.key)
        assert entry is not None
        return entry

    def get(self, key: str) -> OutboxEntry | None:
        query = select(OutboxRow).where(OutboxRow.key == key).execution_options(populate_existing=True)
        row = self._session.scalars(query).one_or_none()
        return None if row is None else _outbox_entry(row)

    def pending(self, limit: int, *, due_at: datetime | None = None) -> tuple[OutboxEntry, ...]:
        query = select(OutboxRow).where(OutboxRow.status == OutboxStatus.PENDING.value)
        if due_at is not None:
            due = _utc(due_at, "due_at")
            query = query.where(or_(OutboxRow.retry_at.is_(None), OutboxRow.retry_at <= due))
        query = query.order_by(OutboxRow.id).limit(limit).execution_options(populate_existing=True)
        return tuple(_outbox_entry(row) for row in self._session.scalars(query))

    def claim(self, key: str, worker: str, at: datetime) -> OutboxEntry | None:
        statement = (
            update(OutboxRow)
            .where(OutboxRow.key == key, OutboxRow.status == OutboxStatus.PENDING.value)
            .values(
                status=OutboxStatus.CLAIMED.value,
                claimed_by=worker,
                claimed_at=_utc(at, "at"),
                attempts=OutboxRow.attempts + 1,
            )
        )
        return self.get(key) if self._execute(statement, key) == 1 else None

    def mark_sent(self, key: str, result: DeliveryResult, *, at: datetime | None = None) -> OutboxEntry:
        return self._finish(key, result, OutboxStatus.SENT, None, at)

    def mark_failed(
        self, key: str, result: DeliveryResult, retry_at: datetime | None, *, at: datetime | None = None
    ) -> OutboxEntry:
        if retry_at is None:
            return self._finish(key, result, OutboxStatus.FAILED, None, at)
        return self._finish(key, result, OutboxStatus.PENDING, _utc(retry_at, "retry_at"), at)

    def recover(self, stale_before: datetime) -> tuple[str, ...]:
        before = _utc(stale_before, "stale_before")
        stale = (OutboxRow.status == OutboxStatus.CLAIMED.value, OutboxRow.claimed_at < before)
        keys = tuple(self._session.scalars(select(OutboxRow.key).where(*stale).order_by(OutboxRow.id)))
        if keys:
            statement = (
                update(OutboxRow)
                .where(OutboxRow.key.in_(keys), *stale)
                .values(status=OutboxStatus.PENDING.value, claimed_by=None, claimed_at=None, retry_at=None)
            )
            self._execute(statement, keys[0])
        return keys

    def _finish(
        self,
        key: str,
        result: DeliveryResult,
        status: OutboxStatus,
        retry_at: datetime | None,
        at: datetime | None,
    ) -> OutboxEntry:
        if result.key != key:
            raise ValueError(f"outbox entry {key!r}: the result is for {result.key!r}")
        finished = at if at is not None else result.at if result.at is not None else OutboxRow.claimed_at
        values: dict[str, Any] = {
            "status": status.value,
            "retry_at": retry_at,
            "claimed_by": None,
            "claimed_at": None,
            "outcome": result.outcome.value,
            "provider_ref": result.provider_ref,
            "error": result.error,
            "finished_at": None if status is OutboxStatus.PENDING else finished,
        }
        if isinstance(values["finished_at"], datetime):
            values["finished_at"] = _utc(values["finished_at"], "at")
        statement = (
            update(OutboxRow).where(OutboxRow.key == key, OutboxRow.status == OutboxStatus.CLAIMED.value).values(values)
        )
        if self._execute(statement, key) != 1:
            raise ConflictError("outbox entry", key, "is not claimed (never claimed, finished, or recovered)")
        entry = self.get(key)
        assert entry is not None
        return entry

    def _execute(self, statement: Any, key: str) -> int:
        try:
            result = cast(CursorResult[Any], self._session.execute(statement))
        except IntegrityError as exc:
            raise ConflictError("outbox entry", key, _integrity_problem(exc)) from exc
        except StatementError as exc:
            if isinstance(exc.orig, ValueError) and not isinstance(exc, DBAPIError):
                raise ValueError(f"outbox entry {key!r}: {exc.orig}") from exc
            raise
        return result.rowcount


def _outbox_entry(row: OutboxRow) -> OutboxEntry:
    message = OutboundMessage(
        key=row.key,
        channel=Channel(row.channel),
        address=row.address,
        party=row.party,
        debt=row.debt,
        body=row.body,
        created_at=row.created_at,
        subject=row.subject,
        template=row.template,
    )
    return OutboxEntry(
        message=message,
        arm=row.arm,
        rule_pack=row.rule_pack,
        decided_at=row.decided_at,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        retry_at=row.retry_at,
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        outcome=None if row.outcome is None else Outcome(row.outcome),
        provider_ref=row.provider_ref,
        error=row.error,
        finished_at=row.finished_at,
    )
