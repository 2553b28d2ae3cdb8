"""The daily cycle's database as a contact log for the batch audit (``fairdun audit export``).

:func:`contact_log` turns the contact history into the audit's log rows (docs/audit.md, "The log"): one row per
recorded contact, with the recipient's role and zone from the parties, the purpose from the planned contact it
came from (``collect`` for contacts the cycle did not plan), the collector the case was assigned to and the agency
it was placed with at the time. :func:`fact_tables` gives the fact tables the book can vouch for: the designated
contacts' consents, and empty tables for the facts the cycle itself treats as known to be none (refusals, opt-outs,
agreed windows, guarantors, attorneys, cease requests, time-barred debts), so the audit judges as the gate did.
Whether a debtor was unreachable is worked out by the cycle day by day and not stored: that table is left out,
and rules that need it are indeterminate in the audit, which says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

from fairdun.application.ports import ContactRecord, UnitOfWork
from fairdun.domain.cases import CollectorAssigned, PlacedWithAgency, RecalledFromAgency
from fairdun.policy.localtime import zone

LOG_COLUMNS = (
    "id", "at", "debt", "debtor", "party", "role", "address", "tz", "channel", "purpose", "direction", "outcome",
    "content", "operator", "org",
)  # fmt: skip
KNOWN_NONE = ("refusals", "opt_outs", "agreed_windows", "guarantors", "attorneys", "cease_requests", "time_barred")
FACT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "consents": ("party", "purpose", "granted_at", "withdrawn_at"),
    "refusals": ("party", "at"),
    "opt_outs": ("party", "channel", "address", "at"),
    "agreed_windows": ("party", "start", "end"),
    "guarantors": ("debt", "party"),
    "attorneys": ("debtor", "since", "until"),
    "cease_requests": ("debt", "at"),
    "time_barred": ("debt", "since"),
}
LENDER = "lender"


def contact_log(uow: UnitOfWork, start: date, end: date) -> Iterator[dict[str, str]]:
    """The log rows of the contacts made from ``start`` to ``end`` (local dates of the recipient), oldest first."""
    parties = {p.id: p for p in uow.parties.all()}
    loans = {loan.id: loan for loan in uow.loans.all()}
    case_events = uow.case_events.all()
    purposes: dict[str, str] = {}
    day = start
    while day <= end:
        for planned in uow.cycle.planned(day):
            purposes[planned.key] = planned.purpose
        day += timedelta(days=1)
    since = datetime.combine(start, time(), UTC) - timedelta(days=1)
    until = datetime.combine(end + timedelta(days=2), time(), UTC)
    debts = sorted(loans)
    records: list[ContactRecord] = []
    for first in range(0, len(debts), 2000):
        records.extend(uow.contacts.history(debts=debts[first : first + 2000], since=since, until=until))
    records.sort(key=lambda r: (r.event.at, r.id))
    for record in records:
        event = record.event
        party = parties.get(event.party)
        tz = party.tz if party is not None else "Asia/Shanghai"
        local = event.at.astimezone(zone(tz))
        if not start <= local.date() <= end:
            continue
        loan = loans.get(event.debt)
        operator, org = _handlers(case_events.get(event.debt, ()), local.date())
        yield {
            "id": record.id,
            "at": local.isoformat(),
            "debt": event.debt,
            "debtor": loan.borrower if loan is not None else "",
            "party": event.party,
            "role": party.role.value if party is not None else "third_party",
            "address": event.address,
            "tz": tz,
            "channel": event.channel.value,
            "purpose": purposes.get(record.id.split("#", 1)[0], "collect"),
            "direction": event.direction.value,
            "outcome": event.outcome.value,
            "content": "",
            "operator": operator,
            "org": org,
        }


def _handlers(events: Sequence[object], on: date) -> tuple[str, str]:
    """The collector assigned and the agency placed with on ``on``, from the case events up to that day."""
    operator, org = "", LENDER
    for event in events:
        if not isinstance(event, CollectorAssigned | PlacedWithAgency | RecalledFromAgency) or event.on > on:
            continue
        if isinstance(event, CollectorAssigned):
            operator = event.collector_id
        elif isinstance(event, PlacedWithAgency):
            org = event.agency_id
        else:
            org = LENDER
    return operator, org


def fact_tables(uow: UnitOfWork) -> dict[str, list[dict[str, str]]]:
    """The fact tables the book vouches for (see the module docstring)."""
    tables: dict[str, list[dict[str, str]]] = {name: [] for name in KNOWN_NONE}
    tables["consents"] = [
        {
            "party": c.party,
            "purpose": c.purpose,
            "granted_at": c.granted_at.isoformat(),
            "withdrawn_at": "" if c.withdrawn_at is None else c.withdrawn_at.isoformat(),
        }
        for c in uow.parties.consents()
    ]
    return tables
