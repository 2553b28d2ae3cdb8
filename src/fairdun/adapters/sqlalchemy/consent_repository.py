"""The consent ledger's store (``fairdun.application.consent.ConsentRepository``): notices, consents, refusals and
opt-outs. It only appends, and fills a consent's withdrawal once, with a conditional UPDATE that touches nothing
else; the triggers of migration 0008 refuse any other change at the database, whoever asks."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fairdun.adapters.sqlalchemy.models import ConsentRow
from fairdun.adapters.sqlalchemy.models_consent import OptOutRow, PrivacyNoticeRow, RefusalRow
from fairdun.adapters.sqlalchemy.repositories import _flush, _utc
from fairdun.application.consent import ChannelOptOut, PrivacyNotice, Refusal, RefusalChannel
from fairdun.application.ports import ConflictError, ConsentRecord
from fairdun.domain.contact import Channel

_CHUNK = 2000  # parties per IN (...) list


class SqlAlchemyConsentRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # --- notices ----------------------------------------------------------------------------------------------

    def publish_notice(self, notice: PrivacyNotice) -> None:
        self._session.add(
            PrivacyNoticeRow(
                version=notice.version,
                language=notice.language,
                text=notice.text,
                sha256=notice.sha256,
                published_at=_utc(notice.published_at, "published_at"),
                published_by=notice.published_by,
            )
        )
        _flush(self._session, "privacy notice", notice.version)

    def notice(self, version: str) -> PrivacyNotice | None:
        row = self._session.get(PrivacyNoticeRow, version)
        return None if row is None else _notice(row)

    def notices(self) -> tuple[PrivacyNotice, ...]:
        query = select(PrivacyNoticeRow).order_by(PrivacyNoticeRow.published_at, PrivacyNoticeRow.version)
        return tuple(_notice(row) for row in self._session.scalars(query))

    # --- consents ---------------------------------------------------------------------------------------------

    def grant(self, consent: ConsentRecord) -> ConsentRecord:
        row = ConsentRow(
            party=consent.party,
            purpose=consent.purpose,
            granted_at=_utc(consent.granted_at, "granted_at"),
            withdrawn_at=None,
            evidence=consent.evidence,
            notice_version=consent.notice_version,
            channel=consent.channel,
        )
        self._session.add(row)
        _flush(self._session, "consent of", consent.party)
        return consent_record(row)

    def withdraw(self, consent_id: int, at: datetime, channel: str, evidence: str) -> None:
        when = _utc(at, "at")
        statement = (
            update(ConsentRow)
            .where(ConsentRow.id == consent_id, ConsentRow.withdrawn_at.is_(None), ConsentRow.granted_at <= when)
            .values(withdrawn_at=when, withdrawal_channel=channel, withdrawal_evidence=evidence)
            .execution_options(synchronize_session=False)
        )
        result: Any = self._session.execute(statement)
        if result.rowcount != 1:
            raise ConflictError("consent", str(consent_id), "unknown, already withdrawn, or granted after that time")

    def history(self, party: str) -> tuple[ConsentRecord, ...]:
        # A withdrawal is a bulk UPDATE: rows already in the session are read again, not taken from memory.
        query = select(ConsentRow).where(ConsentRow.party == party).order_by(ConsentRow.id)
        return tuple(
            consent_record(row) for row in self._session.scalars(query.execution_options(populate_existing=True))
        )

    def consents(self, parties: Collection[str] | None = None) -> tuple[ConsentRecord, ...]:
        # Columns, not ORM objects: the cycle reads every consent of the book when it loads.
        t = ConsentRow.__table__.c
        query = select(
            t.party, t.purpose, t.granted_at, t.withdrawn_at, t.evidence, t.notice_version, t.channel,
            t.withdrawal_channel, t.withdrawal_evidence, t.id,
        ).order_by(t.granted_at, t.id)  # fmt: skip
        if parties is None:
            return tuple(_from_columns(row) for row in self._session.execute(query))
        wanted = list(dict.fromkeys(parties))
        out: list[ConsentRecord] = []
        for first in range(0, len(wanted), _CHUNK):
            chunk = query.where(t.party.in_(wanted[first : first + _CHUNK]))
            out.extend(_from_columns(row) for row in self._session.execute(chunk))
        return tuple(sorted(out, key=lambda c: (c.granted_at, c.id or 0)))

    # --- refusals and opt-outs --------------------------------------------------------------------------------

    def refuse(self, refusal: Refusal) -> None:
        self._session.add(
            RefusalRow(
                party=refusal.party,
                at=_utc(refusal.at, "at"),
                channel=refusal.channel.value,
                evidence=refusal.evidence,
                recorded_by=refusal.recorded_by,
            )
        )
        _flush(self._session, "refusal of", refusal.party)

    def refusal(self, party: str) -> Refusal | None:
        row = self._session.get(RefusalRow, party)
        return None if row is None else _refusal(row)

    def refusals(self, parties: Collection[str] | None = None) -> tuple[Refusal, ...]:
        query = select(RefusalRow).order_by(RefusalRow.at, RefusalRow.party)
        return tuple(_refusal(row) for row in self._rows(query, RefusalRow.party, parties))

    def opt_out(self, opt_out: ChannelOptOut) -> None:
        self._session.add(
            OptOutRow(
                party=opt_out.party,
                channel=opt_out.channel.value,
                address_ref=opt_out.address_ref,
                at=_utc(opt_out.at, "at"),
                source=opt_out.source.value,
                evidence=opt_out.evidence,
                recorded_by=opt_out.recorded_by,
            )
        )
        _flush(self._session, "opt-out of", opt_out.party)

    def opt_outs(self, parties: Collection[str] | None = None) -> tuple[ChannelOptOut, ...]:
        query = select(OptOutRow).order_by(OptOutRow.id)
        return tuple(
            ChannelOptOut(
                row.party,
                Channel(row.channel),
                row.address_ref,
                row.at,
                RefusalChannel(row.source),
                row.evidence,
                row.recorded_by,
            )
            for row in self._rows(query, OptOutRow.party, parties)
        )

    def mark(self) -> tuple[int, ...]:
        """Rows in each table and withdrawn consents: any grant, withdrawal, refusal or opt-out changes it (rows are
        never deleted, so a count cannot go back to an earlier value)."""
        query = select(
            select(func.count()).select_from(ConsentRow).scalar_subquery(),
            select(func.count()).select_from(ConsentRow).where(ConsentRow.withdrawn_at.is_not(None)).scalar_subquery(),
            select(func.count()).select_from(RefusalRow).scalar_subquery(),
            select(func.count()).select_from(OptOutRow).scalar_subquery(),
        )
        row = self._session.execute(query).one()
        return tuple(int(n) for n in row)

    def _rows(self, query: Any, column: Any, parties: Collection[str] | None) -> list[Any]:
        if parties is None:
            return list(self._session.scalars(query))
        wanted = list(dict.fromkeys(parties))
        out: list[Any] = []
        for first in range(0, len(wanted), _CHUNK):
            out.extend(self._session.scalars(query.where(column.in_(wanted[first : first + _CHUNK]))))
        return out


def _notice(row: PrivacyNoticeRow) -> PrivacyNotice:
    return PrivacyNotice(row.version, row.language, row.text, row.sha256, row.published_at, row.published_by)


def consent_record(row: ConsentRow) -> ConsentRecord:
    return ConsentRecord(
        row.party,
        row.purpose,
        row.granted_at,
        row.withdrawn_at,
        row.evidence,
        row.notice_version,
        row.channel,
        row.withdrawal_channel,
        row.withdrawal_evidence,
        row.id,
    )


def _from_columns(row: Any) -> ConsentRecord:
    """A record from the columns ``consents()`` selects, in the record's field order."""
    (
        party,
        purpose,
        granted_at,
        withdrawn_at,
        evidence,
        notice,
        channel,
        withdrawal_channel,
        withdrawal_evidence,
        key,
    ) = row
    return ConsentRecord(
        party,
        purpose,
        granted_at,
        withdrawn_at,
        evidence,
        notice,
        channel,
        withdrawal_channel,
        withdrawal_evidence,
        key,
    )


def _refusal(row: RefusalRow) -> Refusal:
    return Refusal(row.party, row.at, RefusalChannel(row.channel), row.evidence, row.recorded_by)
