"""The persistence ports over a SQLAlchemy session. Repositories flush what they add (so a duplicate or a dangling
reference is reported where it happens) but never commit: the unit of work owns the transaction."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, Table, bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from fairdun.adapters.sqlalchemy.column_types import UtcDateTime
from fairdun.adapters.sqlalchemy.data_keys import ERASED, DataKeyStore
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


def _execute_many(session: Session, table: Any, rows: Sequence[dict[str, Any]], entity: str, key: str) -> None:
    """One multi-row INSERT, handed to the driver's ``executemany`` with each column's bind conversion applied
    once per value: a day's records are tens of thousands of rows, and per-row statement bookkeeping would cost
    more than the database. Every row must have the same keys (column names)."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    compiled = table.insert().compile(dialect=dialect, column_keys=names)
    # The dialect's own processor (not the generic one): on SQLite it writes an instant as the ORM does, with its
    # microseconds always, so that rows written either way compare and sort alike.
    convert = {name: _processor(table.c[name].type, dialect) for name in names}
    order = compiled.positiontup
    params: list[Any]
    if order is not None:
        params = [tuple(_bind(convert[n], row[n]) for n in order) for row in rows]
    else:
        params = [{n: _bind(convert[n], row[n]) for n in names} for row in rows]
    try:
        connection.exec_driver_sql(str(compiled), params)
    except IntegrityError as exc:
        raise ConflictError(entity, key, _integrity_problem(exc)) from exc
    except StatementError as exc:
        if isinstance(exc.orig, ValueError) and not isinstance(exc, DBAPIError):
            raise ValueError(f"{entity} {key!r}: {exc.orig}") from exc
        raise


def _processor(column_type: Any, dialect: Any) -> Any:
    """The bind conversion of a column's type on ``dialect``. An instant on SQLite is written by
    :func:`_sqlite_instant`, to the same text as SQLAlchemy's own, in a fraction of its time."""
    if dialect.name == "sqlite" and isinstance(column_type, UtcDateTime):
        return _sqlite_instant
    return column_type.dialect_impl(dialect).bind_processor(dialect)


def _sqlite_instant(value: datetime | None) -> str | None:
    """An aware instant as SQLite stores it: UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"instants must be timezone-aware datetimes, got {value!r}")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _bind(convert: Any, value: Any) -> Any:
    return value if convert is None else convert(value)


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

    def add_many(self, loans: Sequence[Loan]) -> None:
        if not loans:
            return
        rows = [
            {
                "id": loan.id,
                "product_code": loan.product,
                "borrower": loan.borrower,
                "principal_cents": loan.principal,
                "disbursed_on": loan.disbursed_on,
            }
            for loan in loans
        ]
        installments = [
            {
                "loan_id": loan.id,
                "number": i.number,
                "start_on": i.start,
                "due_on": i.due,
                "principal_cents": i.principal,
                "interest_cents": i.interest,
                "fee_cents": i.fee,
            }
            for loan in loans
            for i in loan.schedule
        ]
        _execute_many(self._session, LoanRow.__table__, rows, "loan", loans[0].id)
        _execute_many(self._session, InstallmentRow.__table__, installments, "installment of loan", loans[0].id)

    def all(self) -> tuple[Loan, ...]:
        # Two queries, not one per loan: the schedules of every loan, then the loans.
        schedules: dict[str, list[Installment]] = {}
        rows = self._session.execute(
            select(
                InstallmentRow.loan_id,
                InstallmentRow.number,
                InstallmentRow.start_on,
                InstallmentRow.due_on,
                InstallmentRow.principal,
                InstallmentRow.interest,
                InstallmentRow.fee,
            ).order_by(InstallmentRow.loan_id, InstallmentRow.number)
        )
        for loan_id, number, start_on, due_on, principal, interest, fee in rows:
            schedules.setdefault(loan_id, []).append(Installment(number, start_on, due_on, principal, interest, fee))
        loans = self._session.execute(
            select(
                LoanRow.id, LoanRow.product_code, LoanRow.borrower, LoanRow.principal, LoanRow.disbursed_on
            ).order_by(LoanRow.id)
        )
        return tuple(
            Loan(loan_id, product, borrower, principal, disbursed_on, tuple(schedules.get(loan_id, ())))
            for loan_id, product, borrower, principal, disbursed_on in loans
        )


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

    def append_many(self, events: Sequence[tuple[str, LoanEvent]], *, recorded_at: datetime) -> None:
        if not events:
            return
        at = _utc(recorded_at, "recorded_at")
        rows = []
        for loan_id, event in events:
            row = _event_row(event)
            rows.append(
                {
                    "loan_id": loan_id,
                    "kind": row.kind,
                    "effective_on": row.effective_on,
                    "ends_on": row.ends_on,
                    "amount_cents": row.amount,
                    "payment_id": row.payment_id,
                    "component": row.component,
                    "installment": row.installment,
                    "reason": row.reason,
                    "recorded_at": at,
                }
            )
        _execute_many(self._session, LoanEventRow.__table__, rows, "event on loan", events[0][0])

    def all(self, *, after_seq: int = 0) -> tuple[RecordedLoanEvent, ...]:
        query = select(LoanEventRow).where(LoanEventRow.seq > after_seq).order_by(LoanEventRow.seq)
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

    def add(self, record: ContactRecord, *, audit_seq: int | None = None) -> None:
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
                audit_seq=audit_seq,
            )
        )
        _flush(self._session, "contact", record.id)

    def vouched(self) -> Iterator[tuple[int, list[ContactRecord]]]:
        query = (
            select(ContactEventRow)
            .where(ContactEventRow.audit_seq.is_not(None))
            .order_by(ContactEventRow.audit_seq, ContactEventRow.id)
            .execution_options(yield_per=5000)
        )
        seq: int | None = None
        group: list[ContactRecord] = []
        for row in self._session.scalars(query):
            if row.audit_seq != seq and group:
                assert seq is not None
                yield seq, group
                group = []
            seq = row.audit_seq
            group.append(_contact(row))
        if group and seq is not None:
            yield seq, group

    def add_many(self, records: Sequence[ContactRecord], *, audit_seq: int | None = None) -> None:
        if not records:
            return
        values = [
            {
                "id": r.id,
                "occurred_at": _utc(r.event.at, "event.at"),
                "debt": r.event.debt,
                "party": r.event.party,
                "address_ref": r.event.address,
                "channel": r.event.channel.value,
                "direction": r.event.direction.value,
                "outcome": r.event.outcome.value,
                "audit_seq": audit_seq,
            }
            for r in records
        ]
        _execute_many(self._session, ContactEventRow.__table__, values, "contact", records[0].id)

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
    under READ COMMITTED as on SQLite. The address is sealed with the data key of the message's party on the way
    in and opened on the way out."""

    def __init__(self, session: Session, keys: DataKeyStore) -> None:
        self._session = session
        self._sealing = keys

    def enqueue(self, message: OutboundMessage, *, arm: str, rule_pack: str, decided_at: datetime) -> OutboxEntry:
        self._sealing.create([message.party])  # a write first: a concurrent enqueue waits here (see DataKeyStore)
        values = _outbox_values(message, arm, rule_pack, decided_at, self._seal([message])[0])
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

    def enqueue_many(self, items: Sequence[tuple[OutboundMessage, str, str, datetime]]) -> int:
        if not items:
            return 0
        keys = [m.key for m, _, _, _ in items]
        stored = set(self._keys(keys))
        new = [(m, arm, pack, at) for m, arm, pack, at in items if m.key not in stored]
        sealed = self._seal([m for m, _, _, _ in new])
        rows = [_outbox_values(m, arm, pack, at, s) for (m, arm, pack, at), s in zip(new, sealed, strict=True)]
        dialect = self._session.get_bind().dialect.name
        module = postgresql if dialect == "postgresql" else sqlite
        if rows:
            statement = module.insert(OutboxRow.__table__).on_conflict_do_nothing(index_elements=["key"])
            self._execute_many(statement, rows, rows[0]["key"])
        return len(rows)

    def claim_many(self, keys: Sequence[str], worker: str, at: datetime) -> tuple[OutboxEntry, ...]:
        if not keys:
            return ()
        when = _utc(at, "at")
        for first in range(0, len(keys), 500):
            chunk = list(keys[first : first + 500])
            statement = (
                update(_OUTBOX)
                .where(_OUTBOX.c.key.in_(chunk), _OUTBOX.c.status == OutboxStatus.PENDING.value)
                .values(status=OutboxStatus.CLAIMED.value, claimed_by=worker, claimed_at=when,
                        attempts=_OUTBOX.c.attempts + 1)
            )  # fmt: skip
            self._execute(statement, chunk[0])
        mine = self._rows(keys, OutboxRow.claimed_by == worker, OutboxRow.claimed_at == when)
        order = {key: k for k, key in enumerate(keys)}
        return tuple(sorted(mine, key=lambda e: order[e.key]))

    def finish_many(
        self, worker: str, endings: Sequence[tuple[str, DeliveryResult, OutboxStatus, datetime | None, datetime]]
    ) -> None:
        if not endings:
            return
        keys = [key for key, _, _, _, _ in endings]
        held = {e.key for e in self._rows(keys, OutboxRow.claimed_by == worker, lock=True)}
        lost = [key for key in keys if key not in held]
        if lost:
            raise ConflictError("outbox entry", lost[0], "is not claimed by this worker (finished or recovered)")
        table = _OUTBOX
        rows = []
        for key, result, status, retry_at, at in endings:
            if result.key != key:
                raise ValueError(f"outbox entry {key!r}: the result is for {result.key!r}")
            rows.append(
                {
                    "k": key,
                    "status": status.value,
                    "retry_at": None if retry_at is None else _utc(retry_at, "retry_at"),
                    "claimed_by": None,
                    "claimed_at": None,
                    "outcome": result.outcome.value,
                    "provider_ref": result.provider_ref,
                    "error": result.error,
                    "finished_at": None if status is OutboxStatus.PENDING else _utc(at, "at"),
                }
            )
        statement = (
            update(table)
            .where(table.c.key == bindparam("k"), table.c.status == OutboxStatus.CLAIMED.value)
            .values({name: bindparam(name) for name in rows[0] if name != "k"})
        )
        self._execute_many(statement, rows, keys[0])

    def _keys(self, keys: Sequence[str]) -> list[str]:
        found: list[str] = []
        for first in range(0, len(keys), 500):
            chunk = list(keys[first : first + 500])
            found.extend(self._session.scalars(select(OutboxRow.key).where(OutboxRow.key.in_(chunk))))
        return found

    def _rows(self, keys: Sequence[str], *conditions: Any, lock: bool = False) -> list[OutboxEntry]:
        out: list[OutboxEntry] = []
        for first in range(0, len(keys), 500):
            chunk = list(keys[first : first + 500])
            query = (
                select(OutboxRow)
                .where(OutboxRow.key.in_(chunk), OutboxRow.status == OutboxStatus.CLAIMED.value, *conditions)
                .execution_options(populate_existing=True)
            )
            if lock:
                query = query.with_for_update()
            out.extend(self._entries(self._session.scalars(query)))
        return out

    def _seal(self, messages: Sequence[OutboundMessage]) -> list[bytes]:
        return self._sealing.seal_many([(m.party, m.address, ("outbox", "address", m.key)) for m in messages])

    def _entries(self, rows: Iterable[OutboxRow]) -> list[OutboxEntry]:
        rows = list(rows)
        places = [(r.address_ciphertext, ("outbox", "address", r.key)) for r in rows]
        addresses = self._sealing.open_many(places, erased=ERASED)  # an erased party's messages still read
        return [_outbox_entry(row, address) for row, address in zip(rows, addresses, strict=True)]

    def _execute_many(self, statement: Any, rows: list[dict[str, Any]], key: str) -> None:
        try:
            self._session.execute(statement, rows)
        except IntegrityError as exc:
            raise ConflictError("outbox entry", key, _integrity_problem(exc)) from exc

    def get(self, key: str) -> OutboxEntry | None:
        query = select(OutboxRow).where(OutboxRow.key == key).execution_options(populate_existing=True)
        row = self._session.scalars(query).one_or_none()
        return None if row is None else self._entries([row])[0]

    def pending(self, limit: int, *, due_at: datetime | None = None) -> tuple[OutboxEntry, ...]:
        query = select(OutboxRow).where(OutboxRow.status == OutboxStatus.PENDING.value)
        if due_at is not None:
            due = _utc(due_at, "due_at")
            query = query.where(or_(OutboxRow.retry_at.is_(None), OutboxRow.retry_at <= due))
        query = query.order_by(OutboxRow.id).limit(limit).execution_options(populate_existing=True)
        return tuple(self._entries(self._session.scalars(query)))

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


_OUTBOX = cast(Table, OutboxRow.__table__)


def _outbox_values(
    message: OutboundMessage, arm: str, rule_pack: str, decided_at: datetime, sealed_address: bytes
) -> dict[str, Any]:
    not_before = None if message.not_before is None else _utc(message.not_before, "message.not_before")
    return {
        "key": message.key,
        "channel": message.channel.value,
        "address_ciphertext": sealed_address,
        "party": message.party,
        "debt": message.debt,
        "subject": message.subject,
        "body": message.body,
        "template": message.template,
        "address_ref": message.address_ref,
        "not_before": not_before,
        "retry_at": not_before,
        "created_at": _utc(message.created_at, "message.created_at"),
        "arm": arm,
        "rule_pack": rule_pack,
        "decided_at": _utc(decided_at, "decided_at"),
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
    }


def _outbox_entry(row: OutboxRow, address: str) -> OutboxEntry:
    message = OutboundMessage(
        key=row.key,
        channel=Channel(row.channel),
        address=address,
        party=row.party,
        debt=row.debt,
        body=row.body,
        created_at=row.created_at,
        subject=row.subject,
        template=row.template,
        address_ref=row.address_ref,
        not_before=row.not_before,
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
