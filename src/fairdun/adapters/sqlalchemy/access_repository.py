"""Users, trainings, agencies, evaluations, contracts and placement notices on SQLAlchemy (migration 0009).

Never commits: the use cases in ``fairdun.application.access_control`` own the transaction and append the audit
entry of each change in it. Trainings, evaluations, contracts and notices are only appended.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fairdun.adapters.sqlalchemy.models_access import (
    AgencyContractRow,
    AgencyEvaluationRow,
    AgencyRow,
    CredentialRow,
    PlacementNoticeRow,
    SessionRow,
    TrainingRow,
    UserRow,
)
from fairdun.adapters.sqlalchemy.repositories import _flush, _utc
from fairdun.application.ports import ConflictError
from fairdun.domain.access import Credential, LoginSession, User, UserRole
from fairdun.domain.agency import (
    Agency,
    Contract,
    Evaluation,
    EvaluationResult,
    PlacementNotice,
    Training,
    TrainingKind,
)


def _user(row: UserRow) -> User:
    return User(row.id, UserRole(row.role), row.agency, bool(row.active), row.party)


def _agency(row: AgencyRow) -> Agency:
    return Agency(row.id, row.name, row.approved_at, row.revoked_at, frozenset(row.shared_fields.split(",")))


class SqlAlchemyAccessRepository:
    """:class:`fairdun.application.ports.AccessRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    # --- users ----------------------------------------------------------------------------------------------

    def add_user(self, user: User, *, at: datetime) -> None:
        self._session.add(
            UserRow(
                id=user.id,
                role=user.role.value,
                agency=user.agency,
                party=user.party,
                active=user.active,
                created_at=_utc(at, "at"),
            )
        )
        _flush(self._session, "user", user.id)

    def user(self, user_id: str) -> User | None:
        row = self._session.get(UserRow, user_id)
        return _user(row) if row is not None else None

    def users(self) -> tuple[User, ...]:
        return tuple(_user(r) for r in self._session.scalars(select(UserRow).order_by(UserRow.id)))

    def any_user(self) -> bool:
        return bool(self._session.scalar(select(exists().select_from(UserRow))))

    def set_active(self, user_id: str, active: bool) -> None:
        done = self._session.execute(update(UserRow).where(UserRow.id == user_id).values(active=active))
        if not getattr(done, "rowcount", 0):
            raise ConflictError("user", user_id, "is not stored")

    # --- trainings ------------------------------------------------------------------------------------------

    def add_training(self, training: Training, *, at: datetime) -> None:
        self._session.add(
            TrainingRow(
                user_id=training.user,
                kind=training.kind.value,
                passed_on=training.passed_on,
                valid_until=training.valid_until,
                evidence=training.evidence,
                recorded_by=training.recorded_by,
                recorded_at=_utc(at, "at"),
            )
        )
        _flush(self._session, "training", training.user)

    def trainings(self, user_ids: Collection[str] | None = None) -> tuple[Training, ...]:
        query = select(TrainingRow).order_by(TrainingRow.id)
        if user_ids is not None:
            query = query.where(TrainingRow.user_id.in_(sorted(user_ids)))
        return tuple(
            Training(r.user_id, TrainingKind(r.kind), r.passed_on, r.valid_until, r.evidence, r.recorded_by)
            for r in self._session.scalars(query)
        )

    # --- agencies -------------------------------------------------------------------------------------------

    def add_agency(self, agency: Agency, *, at: datetime) -> None:
        self._session.add(
            AgencyRow(
                id=agency.id,
                name=agency.name,
                approved_at=None if agency.approved_at is None else _utc(agency.approved_at, "approved_at"),
                revoked_at=None if agency.revoked_at is None else _utc(agency.revoked_at, "revoked_at"),
                shared_fields=",".join(sorted(agency.shared_fields)),
                created_at=_utc(at, "at"),
            )
        )
        _flush(self._session, "agency", agency.id)

    def agency(self, agency_id: str) -> Agency | None:
        """The agency, with the fields a placement with it shares (``Agency.shared_fields``)."""
        row = self._session.get(AgencyRow, agency_id)
        return _agency(row) if row is not None else None

    def agencies(self) -> tuple[Agency, ...]:
        return tuple(_agency(r) for r in self._session.scalars(select(AgencyRow).order_by(AgencyRow.id)))

    def set_listing(self, agency_id: str, *, approved_at: datetime | None, revoked_at: datetime | None) -> None:
        values = {
            "approved_at": None if approved_at is None else _utc(approved_at, "approved_at"),
            "revoked_at": None if revoked_at is None else _utc(revoked_at, "revoked_at"),
        }
        done = self._session.execute(update(AgencyRow).where(AgencyRow.id == agency_id).values(**values))
        if not getattr(done, "rowcount", 0):
            raise ConflictError("agency", agency_id, "is not stored")

    def add_evaluation(self, evaluation: Evaluation, *, at: datetime) -> None:
        self._session.add(
            AgencyEvaluationRow(
                agency=evaluation.agency,
                evaluated_on=evaluation.evaluated_on,
                result=evaluation.result.value,
                valid_until=evaluation.valid_until,
                evaluator=evaluation.evaluator,
                reference=evaluation.reference,
                recorded_at=_utc(at, "at"),
            )
        )
        _flush(self._session, "evaluation", evaluation.reference)

    def evaluations(self, agency_id: str | None = None) -> tuple[Evaluation, ...]:
        query = select(AgencyEvaluationRow).order_by(AgencyEvaluationRow.id)
        if agency_id is not None:
            query = query.where(AgencyEvaluationRow.agency == agency_id)
        return tuple(
            Evaluation(r.agency, r.evaluated_on, EvaluationResult(r.result), r.valid_until, r.evaluator, r.reference)
            for r in self._session.scalars(query)
        )

    def add_contract(self, contract: Contract, *, recorded_by: str, at: datetime) -> None:
        self._session.add(
            AgencyContractRow(
                agency=contract.agency,
                reference=contract.reference,
                signed_on=contract.signed_on,
                expires_on=contract.expires_on,
                recorded_by=recorded_by,
                recorded_at=_utc(at, "at"),
            )
        )
        _flush(self._session, "contract", contract.reference)

    def contracts(self, agency_id: str | None = None) -> tuple[Contract, ...]:
        query = select(AgencyContractRow).order_by(AgencyContractRow.id)
        if agency_id is not None:
            query = query.where(AgencyContractRow.agency == agency_id)
        return tuple(Contract(r.agency, r.reference, r.signed_on, r.expires_on) for r in self._session.scalars(query))

    # --- placement notices ----------------------------------------------------------------------------------

    def add_notices(self, notices: Sequence[PlacementNotice], *, recorded_by: str) -> None:
        """Appends ``notices`` in one statement (a book's worth, when a lender's loan agreement told everyone)."""
        if not notices:
            return
        rows = [
            {
                "borrower": n.borrower,
                "agency": n.agency,
                "informed_at": _utc(n.informed_at, "informed_at"),
                "channel": n.channel,
                "evidence": n.evidence,
                "recorded_by": recorded_by,
            }
            for n in notices
        ]
        try:
            self._session.execute(insert(PlacementNoticeRow), rows)
        except IntegrityError as exc:
            raise ConflictError("placement notice", notices[0].agency, "refers to an agency not stored") from exc

    def first_notices(self, agency_id: str, borrowers: Collection[str]) -> dict[str, PlacementNotice]:
        """Each of ``borrowers``' earliest notice about ``agency_id`` (borrowers never told are absent)."""
        found: dict[str, PlacementNotice] = {}
        wanted = sorted(set(borrowers))
        for start in range(0, len(wanted), 500):  # an IN list of bounded length
            query = (
                select(PlacementNoticeRow)
                .where(
                    PlacementNoticeRow.agency == agency_id, PlacementNoticeRow.borrower.in_(wanted[start : start + 500])
                )
                .order_by(PlacementNoticeRow.informed_at, PlacementNoticeRow.id)
            )
            for r in self._session.scalars(query):
                if r.borrower not in found:
                    found[r.borrower] = PlacementNotice(r.borrower, r.agency, r.informed_at, r.channel, r.evidence)
        return found

    # --- logins (migration 0014) ----------------------------------------------------------------------------

    def credential(self, user_id: str) -> Credential | None:
        row = self._session.get(CredentialRow, user_id)
        if row is None:
            return None
        return Credential(
            row.user_id,
            row.password_hash,
            row.set_at,
            row.set_by,
            bool(row.must_change),
            row.failed_attempts,
            row.locked_until,
        )

    def set_credential(self, credential: Credential) -> None:
        row = self._session.get(CredentialRow, credential.user)
        values = {
            "password_hash": credential.password_hash,
            "set_at": _utc(credential.set_at, "set_at"),
            "set_by": credential.set_by,
            "must_change": credential.must_change,
            "failed_attempts": credential.failed_attempts,
            "locked_until": None if credential.locked_until is None else _utc(credential.locked_until, "locked_until"),
        }
        if row is None:
            self._session.add(CredentialRow(user_id=credential.user, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
        _flush(self._session, "credential", credential.user)

    def set_login_failures(self, user_id: str, failed_attempts: int, locked_until: datetime | None) -> None:
        until = None if locked_until is None else _utc(locked_until, "locked_until")
        done = self._session.execute(
            update(CredentialRow)
            .where(CredentialRow.user_id == user_id)
            .values(failed_attempts=failed_attempts, locked_until=until)
        )
        if not getattr(done, "rowcount", 0):
            raise ConflictError("credential", user_id, "is not stored")

    def add_session(self, session: LoginSession) -> None:
        self._session.add(
            SessionRow(
                token_hash=session.token_hash,
                user_id=session.user,
                issued_at=_utc(session.issued_at, "issued_at"),
                expires_at=_utc(session.expires_at, "expires_at"),
                ended_at=None if session.ended_at is None else _utc(session.ended_at, "ended_at"),
            )
        )
        _flush(self._session, "session", session.user)

    def session(self, token_hash: str) -> LoginSession | None:
        row = self._session.get(SessionRow, token_hash)
        if row is None:
            return None
        return LoginSession(row.token_hash, row.user_id, row.issued_at, row.expires_at, row.ended_at)

    def end_sessions(self, user_id: str, *, at: datetime, only: str | None = None, keep: str | None = None) -> int:
        query = update(SessionRow).where(SessionRow.user_id == user_id, SessionRow.ended_at.is_(None))
        if only is not None:
            query = query.where(SessionRow.token_hash == only)
        if keep is not None:
            query = query.where(SessionRow.token_hash != keep)
        done = self._session.execute(query.values(ended_at=_utc(at, "at")))
        return int(getattr(done, "rowcount", 0))
