"""The unit of work over a SQLAlchemy session: one transaction, rolled back unless committed."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fairdun.adapters.crypto.keyring import Keyring
from fairdun.adapters.sqlalchemy.access_log_repository import SqlAlchemyAccessLog
from fairdun.adapters.sqlalchemy.access_repository import SqlAlchemyAccessRepository
from fairdun.adapters.sqlalchemy.audit_log import SqlAlchemyAuditLog
from fairdun.adapters.sqlalchemy.complaint_repository import SqlAlchemyComplaintRepository
from fairdun.adapters.sqlalchemy.consent_repository import SqlAlchemyConsentRepository
from fairdun.adapters.sqlalchemy.cycle_repositories import (
    SqlAlchemyCaseEventRepository,
    SqlAlchemyCycleRepository,
    SqlAlchemyPartyRepository,
)
from fairdun.adapters.sqlalchemy.data_keys import DataKeyStore
from fairdun.adapters.sqlalchemy.engine import keyring_of
from fairdun.adapters.sqlalchemy.identity_repository import SqlAlchemyIdentityRepository
from fairdun.adapters.sqlalchemy.repositories import (
    SqlAlchemyContactHistoryRepository,
    SqlAlchemyLoanEventRepository,
    SqlAlchemyLoanRepository,
    SqlAlchemyOutboxRepository,
    SqlAlchemyProductRepository,
)
from fairdun.adapters.sqlalchemy.subject_repository import SqlAlchemySubjectRepository
from fairdun.adapters.sqlalchemy.template_repository import SqlAlchemyTemplateRepository
from fairdun.application.ports import PersistenceError


@dataclass(frozen=True, slots=True)
class _Open:
    session: Session
    products: SqlAlchemyProductRepository
    loans: SqlAlchemyLoanRepository
    loan_events: SqlAlchemyLoanEventRepository
    contacts: SqlAlchemyContactHistoryRepository
    outbox: SqlAlchemyOutboxRepository
    parties: SqlAlchemyPartyRepository
    case_events: SqlAlchemyCaseEventRepository
    cycle: SqlAlchemyCycleRepository
    audit: SqlAlchemyAuditLog
    templates: SqlAlchemyTemplateRepository
    access_log: SqlAlchemyAccessLog
    subjects: SqlAlchemySubjectRepository
    complaints: SqlAlchemyComplaintRepository
    consents: SqlAlchemyConsentRepository
    access: SqlAlchemyAccessRepository
    identities: SqlAlchemyIdentityRepository


class SqlAlchemyUnitOfWork:
    """:class:`fairdun.application.ports.UnitOfWork` on ``engine``. Each ``with`` block is a new session and
    transaction; leaving it rolls back whatever was not committed and closes the session. Not reentrant.

    ``keyring`` seals and opens personal fields (contact points' and the outbox's addresses). The entrypoints build
    it from the settings (``fairdun.adapters.crypto.keyring_from_settings``) and tests inject one; by default it is
    the one given to ``make_engine`` for ``engine``. Without one,
    everything works except reading or writing those fields, which raises a ``KeyringError`` naming the setting."""

    def __init__(self, engine: Engine, keyring: Keyring | None = None) -> None:
        # Rows never leave the repositories, so nothing needs reloading after a commit.
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._keyring = keyring if keyring is not None else keyring_of(engine)
        self._open: _Open | None = None

    def __enter__(self) -> Self:
        if self._open is not None:
            raise PersistenceError("this unit of work is already in use; open another one")
        session = self._sessions()
        keys = DataKeyStore(session, self._keyring)
        self._open = _Open(
            session,
            SqlAlchemyProductRepository(session),
            SqlAlchemyLoanRepository(session),
            SqlAlchemyLoanEventRepository(session),
            SqlAlchemyContactHistoryRepository(session),
            SqlAlchemyOutboxRepository(session, keys),
            SqlAlchemyPartyRepository(session, keys),
            SqlAlchemyCaseEventRepository(session),
            SqlAlchemyCycleRepository(session),
            SqlAlchemyAuditLog(session),
            SqlAlchemyTemplateRepository(session),
            SqlAlchemyAccessLog(session),
            SqlAlchemySubjectRepository(session, keys),
            SqlAlchemyComplaintRepository(session, keys),
            SqlAlchemyConsentRepository(session),
            SqlAlchemyAccessRepository(session),
            SqlAlchemyIdentityRepository(session, keys),
        )
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        current, self._open = self._current(), None
        try:
            current.session.rollback()
        finally:
            current.session.close()

    def commit(self) -> None:
        session = self._current().session
        if not session.is_active:
            raise PersistenceError("an earlier write failed; this unit of work can only roll back")
        session.commit()

    def rollback(self) -> None:
        self._current().session.rollback()

    @property
    def products(self) -> SqlAlchemyProductRepository:
        return self._current().products

    @property
    def loans(self) -> SqlAlchemyLoanRepository:
        return self._current().loans

    @property
    def loan_events(self) -> SqlAlchemyLoanEventRepository:
        return self._current().loan_events

    @property
    def contacts(self) -> SqlAlchemyContactHistoryRepository:
        return self._current().contacts

    @property
    def outbox(self) -> SqlAlchemyOutboxRepository:
        return self._current().outbox

    @property
    def parties(self) -> SqlAlchemyPartyRepository:
        return self._current().parties

    @property
    def case_events(self) -> SqlAlchemyCaseEventRepository:
        return self._current().case_events

    @property
    def cycle(self) -> SqlAlchemyCycleRepository:
        return self._current().cycle

    @property
    def audit(self) -> SqlAlchemyAuditLog:
        """The tamper-evident audit log: an entry appended here is kept with this transaction's changes or not at
        all."""
        return self._current().audit

    @property
    def templates(self) -> SqlAlchemyTemplateRepository:
        return self._current().templates

    @property
    def access_log(self) -> SqlAlchemyAccessLog:
        """The access log: every read of personal data, appended in this transaction."""
        return self._current().access_log

    @property
    def subjects(self) -> SqlAlchemySubjectRepository:
        """Data-subject requests and retention: one party's records, shredding, holds, erasures, the purge."""
        return self._current().subjects

    @property
    def complaints(self) -> SqlAlchemyComplaintRepository:
        """Complaints and their status changes (summary and notes sealed with the party's data key)."""
        return self._current().complaints

    @property
    def consents(self) -> SqlAlchemyConsentRepository:
        """The consent ledger: privacy notices, consents, refusals, opt-outs (only appended)."""
        return self._current().consents

    @property
    def access(self) -> SqlAlchemyAccessRepository:
        """Users, trainings, agencies and placement notices (``uow.access.user(id)``, ``uow.access.agency(id)``)."""
        return self._current().access

    @property
    def identities(self) -> SqlAlchemyIdentityRepository:
        """Names, resident ID numbers, bank accounts and postal addresses, sealed; contacts' slots."""
        return self._current().identities

    def _current(self) -> _Open:
        if self._open is None:
            raise PersistenceError("use the unit of work inside a `with` block")
        return self._open
