"""The demo's world: a synthetic book loaded into a fresh database, borrowers who pay (or do not) day by day, and
the daily cycle run over it for a number of days, with what the report needs gathered as it goes.

:func:`load_portfolio` stores a :class:`~fairdun.application.synthetic.Portfolio` (products, loans, borrowers and
their designated contacts with consents, and every payment made before the start date) through the unit of work.
:class:`World` then runs day after day: the cycle first (it knows the payments recorded so far), then the
borrowers answer the day's contacts (a conversation may bring a promise to pay, or a request for a hardship
pause) and make the day's payments. A few payments (:data:`LATE_SHARE`) reach the lender two days late, so the
cycle meets backdated payments and restates what it did.

What collection does to repayment is an assumption of the simulation, stated in
:func:`~fairdun.application.synthetic.contact_pressure`: it is not a finding, and the report says so.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from fairdun.application.access_control import register_demo_staff
from fairdun.application.channels import Channel
from fairdun.application.cycle import Book, CycleConfig, DayReport, SimulatedChannel, run_day
from fairdun.application.demo_templates import APPROVER, demo_templates
from fairdun.application.ports import ConsentRecord, ContactPoint, Loan, Party, PartyIdentity, UnitOfWork
from fairdun.application.report_data import ContactCounts, RuleDenials, StrategyRun, SummaryRow
from fairdun.application.synthetic import (
    CHINA,
    LoanPayer,
    Portfolio,
    RiskTier,
    contact_pressure,
)
from fairdun.application.templates import register_approved
from fairdun.domain.cases import PromiseMade, PromiseStatus, bucket_events, case_history
from fairdun.domain.contact import Channel as ContactChannel
from fairdun.domain.contact import Direction, Outcome, Role
from fairdun.domain.ledger import LoanEvent, PauseGranted
from fairdun.domain.money import ZERO, quantize
from fairdun.policy import Pack

#: Strategy risk tiers for the portfolio's tiers.
STRATEGY_TIER = {RiskTier.A: "low", RiskTier.B: "low", RiskTier.C: "medium", RiskTier.D: "high"}
LATE_SHARE = 0.03
"""The share of payments the lender learns of two days late (a bank transfer reconciled late)."""
LATE_DAYS = 2
PROMISE_SHARE = 0.30  # of conversations with a debtor in collection: a promise to pay the overdue amount
PROMISE_DAYS = 3
PAUSE_SHARE = 0.01  # of conversations: a hardship pause of PAUSE_DAYS is granted
PAUSE_DAYS = 30
PROMISE_BOOST = 1.5  # a curer with a promise pending is this much more likely to pay
PHONE = frozenset({ContactChannel.CALL, ContactChannel.AI_CALL, ContactChannel.SMS, ContactChannel.IM})
CONTACT_PHONE = frozenset({ContactChannel.CALL, ContactChannel.SMS})
MAIL = frozenset({ContactChannel.EMAIL})


def draw(seed: int, what: str) -> float:
    """A uniform number in [0, 1) for one decision of the simulation, from the seed and what is decided (the
    decision, the loan, the day): the same whatever else is simulated, so a book split across processes draws
    exactly what it draws whole."""
    digest = hashlib.blake2b(f"{seed}/{what}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def shard(portfolio: Portfolio, part: int, parts: int) -> Portfolio:
    """The borrowers whose number is ``part`` modulo ``parts`` (1-based), with their contacts and loans: a piece of
    the book that can be simulated on its own, since borrowers do not affect each other."""
    if not 1 <= part <= parts:
        raise ValueError(f"part must be from 1 to {parts}, got {part}")
    ids = {b.id for k, b in enumerate(portfolio.borrowers) if k % parts == part - 1}
    return replace(
        portfolio,
        borrowers=tuple(b for b in portfolio.borrowers if b.id in ids),
        contacts=tuple(c for c in portfolio.contacts if c.borrower_id in ids),
        loans=tuple(x for x in portfolio.loans if x.borrower_id in ids),
    )


def _recorded_at(day: date) -> datetime:
    """When a payment made on ``day`` reaches the books: that evening."""
    return datetime.combine(day, time(22), CHINA)


def load_portfolio(uow_factory: Callable[[], UnitOfWork], portfolio: Portfolio, *, pack: str = "cn") -> None:
    """Stores the portfolio's products, loans, borrowers, contacts and consents, and the fictional lender's
    approved message templates for ``pack`` (:mod:`fairdun.application.demo_templates`), in one transaction."""
    with uow_factory() as uow:
        _store(uow, portfolio, pack)
        uow.commit()


def _store(uow: UnitOfWork, portfolio: Portfolio, pack: str) -> None:
    """What :func:`load_portfolio` stores, uncommitted."""
    parties: list[Party] = []
    points: list[ContactPoint] = []
    consents: list[ConsentRecord] = []
    # Names and resident ID numbers are stored sealed, like the addresses (one bulk INSERT; docs/identity.md).
    identities: list[PartyIdentity] = []
    for b in portfolio.borrowers:
        parties.append(Party(b.id, b.id, Role.DEBTOR, b.tz, None, STRATEGY_TIER[b.risk_tier]))
        identities.append(PartyIdentity(b.id, b.name, b.resident_id))
        points.append(ContactPoint(f"{b.id}/phone", b.id, b.phone, PHONE, 0))
        points.append(ContactPoint(f"{b.id}/email", b.id, b.email, MAIL, 1))
    for c in portfolio.contacts:
        parties.append(Party(c.id, c.borrower_id, Role.CONTACT, "Asia/Shanghai", c.relationship.value))
        identities.append(PartyIdentity(c.id, c.name))
        points.append(ContactPoint(f"{c.id}/phone", c.id, c.phone, CONTACT_PHONE, 0))
        consent = c.consent
        consents.append(
            ConsentRecord(
                c.id, consent.purpose, consent.granted_at, consent.withdrawn_at, c.consent_evidence, channel="app"
            )
        )
    for product in portfolio.products:
        uow.products.add(product)
    uow.loans.add_many(
        [Loan(x.id, x.product_code, x.borrower_id, x.amount, x.disbursed_on, x.schedule) for x in portfolio.loans]
    )
    uow.parties.add_many(parties, points, consents)
    uow.identities.add_many(identities)
    # Linted without the screener (the application cannot load lexicons); a test screens every one of them.
    at = datetime.combine(portfolio.history_start, time(9), CHINA)
    register_approved(uow, demo_templates(pack), approver=APPROVER, at=at)
    staffed = datetime.combine(portfolio.start_date - timedelta(days=1), time(9), CHINA)  # the eve of the first run
    register_demo_staff(uow, [b.id for b in portfolio.borrowers], at=staffed)


def load_book(
    uow_factory: Callable[[], UnitOfWork], portfolio: Portfolio, seed: int, *, pack: str = "cn"
) -> tuple[dict[str, LoanPayer], int]:
    """Stores the portfolio (as :func:`load_portfolio` does) and every payment its borrowers made before its start
    date, recorded the evening they were made, in one transaction (a failure stores nothing); the borrowers, ready
    to go on paying from the start date, and how many payments were recorded."""
    products = {p.code: p for p in portfolio.products}
    history_start = portfolio.history_start  # a property that scans every loan: once, not once a loan
    payers = {loan.id: LoanPayer(loan, products[loan.product_code], history_start, seed) for loan in portfolio.loans}
    count = 0
    with uow_factory() as uow:
        _store(uow, portfolio, pack)
        day = history_start
        while day < portfolio.start_date:
            paid: list[tuple[str, LoanEvent]] = []
            for loan_id, payer in payers.items():
                payment = payer.step(day)
                if payment is not None:
                    paid.append((loan_id, payment))
            uow.loan_events.append_many(paid, recorded_at=_recorded_at(day))
            count += len(paid)
            day += timedelta(days=1)
        uow.commit()
    return payers, count


@dataclass
class Tally:
    """What the report draws, gathered day by day."""

    bucket_counts: dict[date, dict[str, int]] = field(default_factory=dict)
    recovered: dict[date, Decimal] = field(default_factory=dict)
    contacts: dict[date, ContactCounts] = field(default_factory=dict)
    by_rule: Counter[str] = field(default_factory=Counter)
    cures: dict[date, int] = field(default_factory=dict)
    totals: Counter[str] = field(default_factory=Counter)


class World:
    """A portfolio, its database and its borrowers, run a day at a time under one cycle configuration."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        portfolio: Portfolio,
        config: CycleConfig,
        seed: int,
    ) -> None:
        self.uow_factory = uow_factory
        self.portfolio = portfolio
        self.config = config
        self.seed = seed
        self.start = portfolio.start_date
        self.channel: Channel = SimulatedChannel(seed, frozenset(b.id for b in portfolio.borrowers))
        self.late: dict[date, list[tuple[str, LoanEvent]]] = {}
        self.tally = Tally()
        self.book: Book | None = None
        self.payers, _ = load_book(uow_factory, portfolio, seed, pack=config.pack.name)

    def run(self, days: int, progress: Callable[[int], None] | None = None) -> None:
        """Runs ``days`` days from the start date; ``progress`` is told each day done (1, 2, ...)."""
        for k in range(days):
            self.day(self.start + timedelta(days=k))
            if progress is not None:
                progress(k + 1)

    def day(self, on: date) -> DayReport:
        if self.book is None:
            with self.uow_factory() as uow:
                self.book = Book.load(uow, on=on, lookback=self.config.lookback, table=self.config.table)
        book = self.book
        morning = datetime.combine(on, time(6), CHINA)
        report = run_day(self.uow_factory, book, self.config, on, self.channel, clock=lambda: morning, simulate=True)
        self._gather(on, report)
        self._respond(on, report)
        self._pay(on, report)
        return report

    def _gather(self, on: date, report: DayReport) -> None:
        t = self.tally
        s = report.summary
        planned, allowed = s.get("planned", 0), s.get("allowed", 0)
        t.contacts[on] = ContactCounts(planned, allowed, s.get("denied", 0))
        if report.plan is not None:
            for contact in report.plan.denied:
                t.by_rule.update(contact.decision.rules)
        t.cures[on] = len(report.cured)
        t.totals.update({k: v for k, v in s.items() if k not in ("cases_open",)})
        assert self.book is not None
        counts: Counter[str] = Counter()
        table = self.config.table
        for loan_id in self.book.loans:
            dpd = self.book.projection(loan_id, on).on(on)
            if dpd > 0:
                counts[table.bucket_for(dpd).name] += 1
        t.bucket_counts[on] = dict(counts)

    def _respond(self, on: date, report: DayReport) -> None:
        """The debtors' answers to the day's conversations: promises to pay and hardship pauses."""
        promises: list[tuple[str, PromiseMade]] = []
        pauses: list[tuple[str, PauseGranted]] = []
        done: set[str] = set()
        for sent in report.sent:
            contact = sent.contact
            debt = contact.debt
            if (
                sent.result.outcome is not Outcome.CONVERSATION
                or contact.attempt.recipient.role is not Role.DEBTOR
                or debt in done
            ):
                continue
            done.add(debt)
            case = report.cases.get(debt)
            overdue = report.overdue.get(debt)
            if case is None or overdue is None or overdue <= 0:
                continue
            u = draw(self.seed, f"answer/{debt}/{on}")
            if u < PAUSE_SHARE:
                pauses.append((debt, PauseGranted(on + timedelta(days=1), on + timedelta(days=PAUSE_DAYS))))
            elif u < PAUSE_SHARE + PROMISE_SHARE and not any(p.status is PromiseStatus.PENDING for p in case.promises):
                amount = quantize(overdue)
                promises.append((debt, PromiseMade(on, amount, on + timedelta(days=PROMISE_DAYS))))
        if not promises and not pauses:
            return
        assert self.book is not None
        at = datetime.combine(on, time(20), CHINA)
        with self.uow_factory() as uow:
            uow.case_events.append_many(promises, recorded_at=at)
            for debt, promise in promises:
                self.book.case_events.setdefault(debt, []).append(promise)
            uow.loan_events.append_many(pauses, recorded_at=at)
            uow.commit()
        self.tally.totals["promises_made"] += len(promises)
        self.tally.totals["pauses"] += len(pauses)

    def _pressure(self, on: date, borrower: str) -> float:
        assert self.book is not None
        since = datetime.combine(on - timedelta(days=6), time(), CHINA).timestamp()
        reached = 0.0
        for r in self.book.reach.get(borrower, ()):
            for e in self.book.history.get(r.party, ()):
                if e.ts < since or e.direction is not Direction.OUTBOUND:
                    continue
                if e.outcome in (Outcome.CONVERSATION, Outcome.DELIVERED):
                    reached += 1.0 if r.role is Role.DEBTOR else 0.5
        return contact_pressure(reached)

    def _pay(self, on: date, report: DayReport) -> None:
        assert self.book is not None
        book = self.book
        today: list[tuple[str, LoanEvent]] = list(self.late.pop(on, ()))
        recovered = ZERO
        for loan_id, payer in self.payers.items():
            if on < payer.wake or payer.done:
                continue
            pressure = 1.0
            if payer.in_trouble():
                pressure = self._pressure(on, book.loans[loan_id].borrower)
                case = report.cases.get(loan_id)
                if case is not None and any(p.status is PromiseStatus.PENDING for p in case.promises):
                    pressure *= PROMISE_BOOST
            payment = payer.step(on, pressure)
            if payment is None:
                continue
            if book.projection(loan_id, on).on(on) > 0:
                recovered += payment.amount
            if draw(self.seed, f"late/{loan_id}/{on}") < LATE_SHARE:
                self.late.setdefault(on + timedelta(days=LATE_DAYS), []).append((loan_id, payment))
            else:
                today.append((loan_id, payment))
        with self.uow_factory() as uow:
            uow.loan_events.append_many(today, recorded_at=_recorded_at(on))
            uow.commit()
        previous = self.tally.recovered.get(on - timedelta(days=1), ZERO)
        self.tally.recovered[on] = previous + recovered

    def finish(self) -> Tally:
        """The tally of the days run, with the promises made and kept counted on the last day."""
        assert self.book is not None
        t = self.tally
        last = max(t.contacts, default=self.start)
        for loan_id, stored in self.book.case_events.items():
            if not any(isinstance(e, PromiseMade) for e in stored):
                continue
            loan_events = self.book.events.get(loan_id, ())
            events = (*bucket_events(self.book.projection(loan_id, last).spells), *stored)
            cases = case_history(events, loan_events, last, loan_id=loan_id, table=self.config.table, lenient=True)
            for case in cases:
                t.totals["promises_counted"] += len(case.promises)
                t.totals["promises_kept"] += sum(p.status is PromiseStatus.KEPT for p in case.promises)
        return t


def merge(tallies: Sequence[Tally]) -> Tally:
    """One tally of a book simulated in pieces (:func:`shard`): counts added day by day."""
    out = Tally()
    for t in tallies:
        for day, counts in t.bucket_counts.items():
            into = out.bucket_counts.setdefault(day, {})
            for bucket, n in counts.items():
                into[bucket] = into.get(bucket, 0) + n
        for day, amount in t.recovered.items():
            out.recovered[day] = out.recovered.get(day, ZERO) + amount
        for day, c in t.contacts.items():
            was = out.contacts.get(day, ContactCounts(0, 0, 0))
            out.contacts[day] = ContactCounts(was.planned + c.planned, was.allowed + c.allowed, was.denied + c.denied)
        for day, n in t.cures.items():
            out.cures[day] = out.cures.get(day, 0) + n
        out.by_rule.update(t.by_rule)
        out.totals.update(t.totals)
    return out


def strategy_run(name: str, tally: Tally, pack: Pack, *, audit_only: bool) -> StrategyRun:
    """The run as the report draws it, with the pack's titles and citations for each denying rule."""
    t = tally
    rules = {r.id: r for r in pack.rules}
    denials = tuple(
        RuleDenials(rule_id, rules[rule_id].title if rule_id in rules else rule_id,
                    rules[rule_id].citation if rule_id in rules else "", n)
        for rule_id, n in sorted(t.by_rule.items(), key=lambda kv: (-kv[1], kv[0]))
    )  # fmt: skip
    totals = t.totals
    made, kept = totals["promises_counted"], totals["promises_kept"]
    recovered = t.recovered[max(t.recovered)] if t.recovered else ZERO
    summary = (
        SummaryRow("计划联系 / Contacts planned", f"{totals['planned']:,}"),
        SummaryRow("合规放行 / Allowed by the gate", f"{totals['allowed']:,}"),
        SummaryRow("违规拦截 / Denied by the gate", f"{totals['denied'] + totals['indeterminate']:,}"),
        SummaryRow(
            "实际发送 / Sent",
            f"{totals['sent']:,}" if not audit_only else f"0 (仅审计 / audit only: {totals['sent']:,} simulated)",
        ),
        SummaryRow("回收金额 / Recovered (CNY)", f"{recovered:,.2f}"),
        SummaryRow("治愈 / Cures", f"{totals['cured']:,}"),
        SummaryRow("承诺还款（兑现）/ Promises (kept)", f"{made:,} ({kept:,})"),
        SummaryRow("暂停催收 / Hardship pauses granted", f"{totals['pauses']:,}"),
        SummaryRow("追溯重述 / Restatements (late payments)", f"{totals['restated']:,}"),
        SummaryRow(  # a refused placement is asked again each day: refusals count case-days (docs/access.md)
            "委外催收（拒绝）/ Agency placements (refused, case-days)",
            f"{totals['placed']:,} ({totals['placement_refused']:,})",
        ),
    )
    return StrategyRun(
        name=name,
        bucket_counts=t.bucket_counts,
        recovered=t.recovered,
        contacts=t.contacts,
        denials=denials,
        cures=t.cures,
        promises_made=made,
        promises_kept=kept,
        summary=summary,
        audit_only=audit_only,
    )
