"""Complaints on SQLAlchemy: ``complaints`` (the intake, sealed summary), ``complaint_contacts`` and
``complaint_transitions`` (each status change, only appended). ``complaints.status`` mirrors the last change."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fairdun.adapters.sqlalchemy.data_keys import ERASED, DataKeyStore
from fairdun.adapters.sqlalchemy.models_complaints import ComplaintContactRow, ComplaintRow, ComplaintTransitionRow
from fairdun.adapters.sqlalchemy.repositories import _flush, _utc
from fairdun.application.complaints import (
    SEALED,
    ComplainantRole,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintIntake,
    ComplaintStatus,
    StatusChange,
)
from fairdun.application.ports import ConflictError


class SqlAlchemyComplaintRepository:
    """:class:`fairdun.application.complaints.ComplaintRepository` on a session; ``keys`` seal and open the
    summary and notes."""

    def __init__(self, session: Session, keys: DataKeyStore) -> None:
        self._session = session
        self._keys = keys

    def add(self, intake: ComplaintIntake, first: StatusChange, *, owner: str) -> int:
        row = ComplaintRow(
            received_at=_utc(intake.received_at, "received_at"),
            channel=intake.channel.value,
            role=intake.role.value,
            party=intake.party,
            loan_id=intake.loan,
            category=intake.category.value,
            collector=intake.collector,
            agency=intake.agency,
            reference=intake.reference,
            owner=owner,
            summary_ciphertext=None,
            status=first.status.value,
        )
        self._session.add(row)
        _flush(self._session, "complaint", intake.loan)
        if intake.summary is not None:
            place = ("complaints", "summary_ciphertext", str(row.id))
            row.summary_ciphertext = self._keys.seal_many([(owner, intake.summary, place)])[0]
        self._session.add_all(ComplaintContactRow(complaint_id=row.id, contact_key=k) for k in intake.contacts)
        self._add_change(row.id, 0, first, owner)
        return row.id

    def append(self, complaint_id: int, change: StatusChange, *, owner: str) -> None:
        stored = self._session.scalar(
            select(func.count())
            .select_from(ComplaintTransitionRow)
            .where(ComplaintTransitionRow.complaint_id == complaint_id)
        )
        if not stored:
            raise ConflictError("complaint", str(complaint_id), "was never stored")
        self._add_change(complaint_id, stored, change, owner)
        self._session.execute(
            update(ComplaintRow).where(ComplaintRow.id == complaint_id).values(status=change.status.value)
        )

    def _add_change(self, complaint_id: int, seq: int, change: StatusChange, owner: str) -> None:
        sealed = None
        if change.note is not None:
            place = ("complaint_transitions", "note_ciphertext", f"{complaint_id}/{seq}")
            sealed = self._keys.seal_many([(owner, change.note, place)])[0]
        self._session.add(
            ComplaintTransitionRow(
                complaint_id=complaint_id,
                seq=seq,
                status=change.status.value,
                at=_utc(change.at, "at"),
                actor=change.by,
                note_ciphertext=sealed,
            )
        )
        _flush(self._session, "complaint transition", f"{complaint_id}/{seq}")

    def get(self, complaint_id: int, *, text: bool = False) -> Complaint | None:
        found = self._load(select(ComplaintRow).where(ComplaintRow.id == complaint_id), text=text)
        return found[0] if found else None

    def all(self, *, status: ComplaintStatus | None = None, text: bool = False) -> tuple[Complaint, ...]:
        query = select(ComplaintRow)
        if status is not None:
            query = query.where(ComplaintRow.status == status.value)
        return self._load(query, text=text)

    def _load(self, query: object, *, text: bool) -> tuple[Complaint, ...]:
        rows: Sequence[ComplaintRow] = self._session.scalars(query.order_by(ComplaintRow.id)).all()  # type: ignore[attr-defined]
        if not rows:
            return ()
        ids = [r.id for r in rows]
        contacts: dict[int, list[str]] = {}
        changes: dict[int, list[ComplaintTransitionRow]] = {}
        for first in range(0, len(ids), 1000):
            chunk = ids[first : first + 1000]
            for c in self._session.scalars(
                select(ComplaintContactRow)
                .where(ComplaintContactRow.complaint_id.in_(chunk))
                .order_by(ComplaintContactRow.complaint_id, ComplaintContactRow.contact_key)
            ):
                contacts.setdefault(c.complaint_id, []).append(c.contact_key)
            for t in self._session.scalars(
                select(ComplaintTransitionRow)
                .where(ComplaintTransitionRow.complaint_id.in_(chunk))
                .order_by(ComplaintTransitionRow.complaint_id, ComplaintTransitionRow.seq)
            ):
                changes.setdefault(t.complaint_id, []).append(t)
        return tuple(self._complaint(r, contacts.get(r.id, []), changes.get(r.id, []), text) for r in rows)

    def _open(self, sealed: bytes | None, place: tuple[str, str, str], text: bool) -> str | None:
        if sealed is None:
            return None
        if not text:
            return SEALED
        return self._keys.open_many([(sealed, place)], erased=ERASED)[0]

    def _complaint(
        self, row: ComplaintRow, contacts: list[str], changes: list[ComplaintTransitionRow], text: bool
    ) -> Complaint:
        intake = ComplaintIntake(
            received_at=row.received_at,
            channel=ComplaintChannel(row.channel),
            role=ComplainantRole(row.role),
            loan=row.loan_id,
            category=ComplaintCategory(row.category),
            party=row.party,
            collector=row.collector,
            agency=row.agency,
            contacts=tuple(contacts),
            reference=row.reference,
            summary=self._open(row.summary_ciphertext, ("complaints", "summary_ciphertext", str(row.id)), text),
        )
        history = tuple(
            StatusChange(
                ComplaintStatus(t.status),
                t.at,
                t.actor,
                self._open(t.note_ciphertext, ("complaint_transitions", "note_ciphertext", f"{row.id}/{t.seq}"), text),
            )
            for t in changes
        )
        return Complaint(row.id, intake, history)
