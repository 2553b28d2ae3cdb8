"""The daily collection cycle: one local date, from the ledger to the channels, every contact through the gate.

:func:`run_day` does, for date ``on``:

1. **Start** the run (``cycle_runs``). A date whose run is ``done`` is not run again: the report of the first run
   comes back and nothing is sent. A run that crashed is ``running``; running it again completes it, and the
   keys below make sure nothing already queued or sent is queued or sent twice.
2. **Learn** the loan events recorded since the book was loaded. An event dated before ``on`` that earlier runs
   did not know (a payment learned two days late, a backdated hardship pause, a reversal; anything dated before
   the previous day, whose payments are expected to arrive after its run) **restates** the loan:
   its DPD and buckets are recomputed from the event's date, and a :class:`~fairdun.application.ports.
   RestatementRecord` says which days changed and how many collection contacts were made on days the loan is
   now known to have been current (``restatements`` table; the run's ``restated`` count).
3. **DPD, buckets and cases.** For every loan that is delinquent or has an open case: its state on ``on``; a case
   opens with the first delinquent bucket, escalates and de-escalates with it, and resolves when the loan is
   cured (a ``Cured`` event is recorded). New cases are assigned to the least-loaded collector; a treatment with
   an agency placement due places the case (``PlacedWithAgency``).
4. **Plan and gate** (:mod:`fairdun.application.planning`): the strategy's contacts for every open case not on
   hold, each through the gate with the working history; a denial that waiting cures later the same day is
   re-planned at ``next_allowed_at``. **Every** planned contact is recorded with its decision
   (``planned_contacts``).
5. **Queue and send.** ``ENFORCE``: each allowed contact whose step's template has an approved version for the
   channel, the recipient's role and the pack (``Book.templates``) goes into the outbox, its message naming the
   version (``template`` = ``ID@vN``); one without is not queued, only counted (``no_template``). It goes under
   its key ``c:<yyyymmdd>:<debt>:<step>.<attempt>[r]:<party>`` with ``not_before`` = its planned instant, and
   :func:`~fairdun.application.outbox.dispatch` sends what is due through the channel and records the result
   and the history event in one transaction. ``AUDIT_ONLY`` (the demo's aggressive strategy): nothing is
   queued; every planned contact, allowed or not, is played through a :class:`SimulatedChannel` and entered in
   the history, so the next days see what the strategy would have done.
6. **Finish** the run with its counts.

Simulated time. ``clock`` says what time it is. With ``simulate=True`` the cycle sends each message at its
planned instant (the clock jumps from one to the next), as the demo and catch-up replays need; otherwise it sends
what is due now and leaves the rest pending for ``fairdun outbox dispatch``. A message the outbox holds past its
instant by more than :data:`EXPIRE_AFTER` is not sent late (the gate allowed it for that time), see
:func:`~fairdun.application.outbox.expire`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from fairdun.application.access_control import assignable_collectors, place_due
from fairdun.application.audit_trail import (
    CONFIG_CHANGED,
    CYCLE_STARTED,
    SYSTEM_CYCLE,
    Configuration,
    vouch_configuration,
    vouch_contacts,
    vouch_decisions,
)
from fairdun.application.channels import Channel, DeliveryResult, OutboundMessage, contact_event
from fairdun.application.complaints import hold_cases
from fairdun.application.consent import LedgerFacts, withhold_revoked
from fairdun.application.outbox import dispatch, expire, recover
from fairdun.application.personal_data import open_addresses
from fairdun.application.planning import CaseDay, DayPlan, DayPlanner, Mode, PlannedContact, Reachable
from fairdun.application.ports import (
    ContactPoint,
    ContactRecord,
    CycleRun,
    Loan,
    Party,
    PlannedRecord,
    RestatementRecord,
    RunStatus,
    UnitOfWork,
)
from fairdun.application.templates import approved_index
from fairdun.domain.cases import (
    CaseEvent,
    CaseState,
    CaseStatus,
    CollectorAssigned,
    Cured,
    PlacedWithAgency,
    assign_by_load,
    bucket_events,
    case_state,
    may_contact_for_collection,
)
from fairdun.domain.contact import (
    VOICE_CHANNELS,
    Consent,
    ContactEvent,
    Direction,
    Outcome,
    Role,
)
from fairdun.domain.contact import Channel as ContactChannel
from fairdun.domain.delinquency import DEFAULT_BUCKETS, BucketTable, Spell, bucket_history, restate
from fairdun.domain.ledger import (
    LedgerCursor,
    LoanEvent,
    PauseGranted,
    PaymentReceived,
    PaymentReversed,
    Waived,
)
from fairdun.domain.loans import Product
from fairdun.domain.templates import Template, TemplateStatus
from fairdun.policy import Effect, Facts, Pack
from fairdun.policy.localtime import zone
from fairdun.policy.strategy import Strategy

KEY_PREFIX = "c:"
EXPIRE_AFTER = timedelta(minutes=15)
"""How late the outbox may still send a message: past its planned instant by more than this, it expires."""
STALE_CLAIM = timedelta(minutes=10)
"""A claim older than this belongs to a worker that died; its message goes back to pending."""
ONE_DAY = timedelta(days=1)
_UNREACHABLE_CALLS = 6  # voice attempts in the look-back window without a conversation: the debtor is unreachable
_UNREACHABLE_DAYS = 14


class CycleError(ValueError):
    """The cycle cannot run as asked; the message says what to change."""


@dataclass(frozen=True, slots=True)
class CycleConfig:
    """How the cycle runs: the strategy and pack, the mode, the bucket table, the collectors cases are assigned
    to, how far back the history is read, whether denials are re-planned the same day, and the dispatch batch."""

    strategy: Strategy
    pack: Pack
    mode: Mode = Mode.ENFORCE
    table: BucketTable = DEFAULT_BUCKETS
    collectors: tuple[str, ...] = ()
    """If not empty, only these of the trained collectors in the users table are given cases (empty: every one)."""
    lookback: timedelta = timedelta(days=35)
    replan: bool = True
    worker: str = "cycle"
    batch: int = 500

    def __post_init__(self) -> None:
        if self.lookback < timedelta(days=31):
            raise CycleError("lookback: at least 31 days, the longest window a pack's caps look back over")


@dataclass(frozen=True, slots=True)
class Sent:
    """A contact played through a channel on the day: what was planned and what the channel said."""

    contact: PlannedContact
    result: DeliveryResult


@dataclass(frozen=True, slots=True)
class DayReport:
    """What one day's run did. ``already_done``: the date had been run; nothing was done this time and
    ``summary`` is the first run's. ``overdue`` holds the overdue amount of each loan the cycle looked at."""

    on: date
    already_done: bool
    summary: Mapping[str, int]
    plan: DayPlan | None = None
    bucket_counts: Mapping[str, int] = field(default_factory=dict)
    opened: tuple[str, ...] = ()
    cured: tuple[str, ...] = ()
    restatements: tuple[RestatementRecord, ...] = ()
    sent: tuple[Sent, ...] = ()
    overdue: Mapping[str, Decimal] = field(default_factory=dict)
    cases: Mapping[str, CaseState] = field(default_factory=dict)


class _Track:
    """A loan's DPD and bucket spells day by day from its disbursement, read forwards from one ledger cursor.

    A payment learned the day after it was made is absorbed by the cursor and the days from its date read again;
    an event the cursor cannot absorb (dated before the last day it processed, a reversal, a pause) makes the
    book build a new track, which is one replay."""

    __slots__ = ("cursor", "dpd", "names", "spells", "start", "table")

    def __init__(self, cursor: LedgerCursor, start: date, table: BucketTable, names: dict[int, str]) -> None:
        self.cursor = cursor
        self.start = start
        self.table = table
        self.names = names
        """The book's memo of bucket names by DPD (a track reads one DPD a loan a day)."""
        self.dpd: list[int] = []
        self.spells: list[Spell] = []

    @property
    def read(self) -> date:
        """The last day read (the day before the start when none is)."""
        return self.start + timedelta(days=len(self.dpd) - 1)

    def on(self, day: date) -> int:
        return 0 if day < self.start else self.dpd[(day - self.start).days]

    def read_to(self, day: date) -> None:
        names, spells = self.names, self.spells
        d = self.read + ONE_DAY
        while d <= day:
            dpd = self.cursor.dpd(d)
            self.dpd.append(dpd)
            name = names.get(dpd)
            if name is None:
                name = names[dpd] = self.table.bucket_for(dpd).name
            if not spells or spells[-1].bucket != name:
                if spells:
                    spells[-1] = Spell(spells[-1].bucket, spells[-1].entered, d)
                spells.append(Spell(name, d, None))
            d += ONE_DAY

    def absorb(self, event: LoanEvent) -> bool:
        """Takes in a late-learned event if the cursor can, and reads the days from its date again."""
        if not self.cursor.absorb(event):
            return False
        on = event.on if isinstance(event, PaymentReceived | Waived) else self.start
        if on <= self.read:
            upto = self.read
            keep = max(0, (on - self.start).days)
            del self.dpd[keep:]
            days = [(self.start + timedelta(days=k), v) for k, v in enumerate(self.dpd)]
            self.spells = list(bucket_history(days, self.table))
            self.read_to(upto)
        return True


@dataclass
class Book:
    """What the cycle knows, loaded once from the store and kept current as days run in one process.

    A ``fairdun cycle run`` loads it for one date; the demo loads it once and runs sixty days on it, each day
    learning only what was recorded since (loan events by sequence, its own sends as it makes them)."""

    products: dict[str, Product]
    loans: dict[str, Loan]
    events: dict[str, list[LoanEvent]]
    last_seq: int
    parties: dict[str, Party]
    reach: dict[str, tuple[Reachable, ...]]
    addresses: dict[str, str]
    """The addresses of the day's messages only, opened when they are queued (and each read logged)."""
    consents: dict[str, list[Consent]]
    case_events: dict[str, list[CaseEvent]]
    history: dict[str, list[ContactEvent]]
    table: BucketTable
    open_cases: set[str] = field(default_factory=set)
    templates: dict[tuple[str, ContactChannel, Role, str], Template] = field(default_factory=dict)
    ledger: LedgerFacts = field(default_factory=LedgerFacts)
    """The consent ledger as the gate's facts: consents, refusals, opt-outs (re-read before each dispatch)."""
    """The approved template versions by (id, channel, recipient role, pack): in ENFORCE mode, a contact whose
    step has none is not sent."""
    fresh: bool = True
    """No day has run on this book yet: every loan ever delinquent is looked at once, to find its open case."""
    _taken: dict[str, list[int]] = field(default_factory=dict)
    """The sequence numbers of each loan's events in ``events``."""
    _held: bool = True
    """Events recorded after the previous run may have been held back: the first :meth:`learn` looks for them."""
    _tracks: dict[str, _Track] = field(default_factory=dict)
    _names: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, uow: UnitOfWork, *, on: date, lookback: timedelta, table: BucketTable = DEFAULT_BUCKETS) -> Book:
        """Everything the cycle needs for ``on``: loans, events, parties, consents, case events, and the contact
        history of the ``lookback`` before it. Contacts this cycle itself recorded for ``on`` (a crashed run's)
        are left out of the history, so a re-run plans exactly what the first run planned.

        Loan events recorded after the previous run started are held back for :meth:`learn`, so the day's run
        sees them arrive and restates what they change, exactly as when one process runs day after day."""
        products = {p.code: p for p in uow.products.all()}
        loans = {loan.id: loan for loan in uow.loans.all()}
        earlier = [r for r in uow.cycle.runs() if r.run_on < on]
        known_at = earlier[-1].started_at if earlier else None
        events: dict[str, list[LoanEvent]] = {}
        taken: dict[str, list[int]] = {}
        last_seq = 0
        for recorded in uow.loan_events.all():
            if known_at is not None and recorded.recorded_at > known_at:
                continue
            events.setdefault(recorded.loan_id, []).append(recorded.event)
            taken.setdefault(recorded.loan_id, []).append(recorded.seq)
            last_seq = max(last_seq, recorded.seq)
        parties = {p.id: p for p in uow.parties.all()}
        points: dict[str, list[ContactPoint]] = {}
        for point in uow.parties.contact_points(opened=False):  # addresses stay sealed until a message needs one
            points.setdefault(point.party, []).append(point)
        reach: dict[str, list[Reachable]] = {}
        for party in sorted(parties.values(), key=lambda p: (p.borrower, p.role is not Role.DEBTOR, p.id)):
            for point in points.get(party.id, ()):
                reachable = Reachable(party.id, party.role, point.ref, party.tz, point.channels)
                reach.setdefault(party.borrower, []).append(reachable)
        ledger = LedgerFacts.load(uow)  # consents, refusals and opt-outs (fairdun.application.consent)
        consents: dict[str, list[Consent]] = ledger.consents
        case_events = {loan_id: list(evs) for loan_id, evs in uow.case_events.all().items()}
        hold_cases(uow, loans, case_events, on)  # an open harassment/disclosure/... complaint holds the case
        templates = approved_index(uow.templates.all(TemplateStatus.APPROVED))
        since = datetime.combine(on, time(), UTC) - lookback
        own = f"{KEY_PREFIX}{on:%Y%m%d}:"
        history: dict[str, list[ContactEvent]] = {}
        debtors = [p.id for p in parties.values()]
        for first in range(0, len(debtors), 2000):
            for record in uow.contacts.history(parties=debtors[first : first + 2000], since=since):
                if not record.id.startswith(own):
                    history.setdefault(record.event.party, []).append(record.event)
        return cls(
            products=products,
            loans=loans,
            events=events,
            last_seq=last_seq,
            parties=parties,
            reach={b: tuple(r) for b, r in reach.items()},
            addresses={},
            consents=consents,
            case_events=case_events,
            history=history,
            table=table,
            templates=templates,
            ledger=ledger,
            _taken=taken,
        )

    # --- the ledger -------------------------------------------------------------------------------------------

    def learn(self, uow: UnitOfWork) -> dict[str, tuple[LoanEvent, ...]]:
        """Takes in the loan events recorded since the book last looked; for each loan that got any, the events
        it had before (so a caller can restate)."""
        before: dict[str, tuple[LoanEvent, ...]] = {}
        held_back = min((min(seqs) for seqs in self._taken.values()), default=0) if self._held else self.last_seq
        arrived: dict[str, list[tuple[int, LoanEvent]]] = {}
        for recorded in uow.loan_events.all(after_seq=held_back):
            loan_id = recorded.loan_id
            if recorded.seq in self._taken.get(loan_id, ()):
                continue
            arrived.setdefault(loan_id, []).append((recorded.seq, recorded.event))
            self.last_seq = max(self.last_seq, recorded.seq)
        self._held = False
        for loan_id, new in arrived.items():
            taken = self._taken.get(loan_id, [])
            before[loan_id] = tuple(self.events.get(loan_id, ()))
            in_order = not taken or new[0][0] > taken[-1]
            # Replayed in recorded order, as the ledger expects, whenever they arrived.
            merged = sorted([*zip(taken, self.events.get(loan_id, []), strict=True), *new])
            self._taken[loan_id] = [seq for seq, _ in merged]
            self.events[loan_id] = [event for _, event in merged]
            track = self._tracks.get(loan_id)
            if track is not None and not (in_order and all(track.absorb(event) for _, event in new)):
                del self._tracks[loan_id]  # rebuilt from every event when next asked for
        return before

    def projection(self, loan_id: str, day: date) -> _Track:
        """The loan's DPD and spells read up to ``day`` (a day no earlier than any asked before)."""
        track = self._tracks.get(loan_id)
        if track is None:
            loan = self.loans[loan_id]
            cursor = LedgerCursor(self.product(loan_id), loan.schedule, self.events.get(loan_id, ()))
            track = self._tracks[loan_id] = _Track(cursor, loan.disbursed_on, self.table, self._names)
        if day > track.read:
            track.read_to(day)
        return track

    def product(self, loan_id: str) -> Product:
        return self.products[self.loans[loan_id].product]

    def overdue(self, loan_id: str, day: date) -> Decimal:
        """All owed on the loan's installments due before ``day``, penalty included (``LoanState.overdue``), from
        the loan's track's cursor."""
        return self.projection(loan_id, day).cursor.overdue_total(day)

    # --- contacts ---------------------------------------------------------------------------------------------

    def remember(self, event: ContactEvent) -> None:
        self.history.setdefault(event.party, []).append(event)

    def forget_before(self, instant: datetime) -> None:
        """Drops history older than ``instant`` (nothing in a pack looks back further than the look-back)."""
        ts = instant.timestamp()
        for party, events in self.history.items():
            if events and events[0].ts < ts:
                self.history[party] = [e for e in events if e.ts >= ts]

    def history_of(self, parties: Iterable[str]) -> tuple[ContactEvent, ...]:
        out: list[ContactEvent] = []
        for party in parties:
            out.extend(self.history.get(party, ()))
        return tuple(out)


# --- the day ------------------------------------------------------------------------------------------------


def run_day(
    uow_factory: Callable[[], UnitOfWork],
    book: Book,
    config: CycleConfig,
    on: date,
    channel: Channel,
    *,
    clock: Callable[[], datetime],
    simulate: bool = False,
) -> DayReport:
    """Runs the cycle for local date ``on`` (see the module docstring)."""
    if config.mode is Mode.AUDIT_ONLY and not isinstance(channel, SimulatedChannel):
        raise CycleError(
            "audit-only mode plays contacts through the simulated channel only: a real channel would send them"
        )
    with uow_factory() as uow:
        existing = uow.cycle.get(on)
        if existing is not None and existing.status is RunStatus.DONE:
            return DayReport(on, True, existing.summary)
        started = clock()
        uow.cycle.start(
            CycleRun(on, config.strategy.label, config.mode.value, config.pack.label, RunStatus.RUNNING, started)
        )
        if existing is None:  # a re-run of a crashed day was recorded when it started
            configuration = Configuration.of(config.strategy, config.pack, config.mode.value)
            previous = uow.audit.last_detail((CYCLE_STARTED, CONFIG_CHANGED))
            vouch_configuration(uow, configuration, on=on, previous=previous, at=started)
        uow.commit()
    day_start = datetime.combine(on, time(), UTC)
    with uow_factory() as uow:
        learned = book.learn(uow)
    restatements = _restate(book, learned, on, config.table)
    book.forget_before(day_start - config.lookback)

    states, cases, opened, cured, counts = _cases(uow_factory, book, config, on, clock)
    plan = _plan(book, config, on, states, cases)
    keys = {id(c): contact_key(c) for c in (*plan.allowed, *plan.denied)}
    records = [_record(c, keys[id(c)], on, config.mode) for c in (*plan.allowed, *plan.denied)]
    with uow_factory() as uow:
        decided = clock()
        uow.cycle.record_planned(records, vouch=lambda new: vouch_decisions(uow, new, on=on, at=decided))
        for r in restatements:
            uow.cycle.record_restatement(r)
        uow.commit()

    contacts, no_template = _templated(book, config, plan)
    sent, expired = _send(
        uow_factory, book, config, plan, channel, contacts=contacts, keys=keys, clock=clock, simulate=simulate
    )
    summary: dict[str, int] = {
        "cases_open": len(book.open_cases),
        "cases_opened": len(opened),
        "cured": len(cured),
        "held": len(plan.held),
        "planned": plan.planned,
        "allowed": len(plan.allowed),
        "denied": sum(1 for c in plan.denied if c.decision.effect is Effect.DENY),
        "indeterminate": sum(1 for c in plan.denied if c.decision.effect is Effect.INDETERMINATE),
        "replanned": sum(a.replanned for a in plan.arms.values()),
        "unaddressed": len(plan.unaddressed),
        "no_template": len(no_template),
        "sent": len(sent),
        "expired": len(expired),
        "restated": len(restatements),
        **counts,
    }
    with uow_factory() as uow:
        uow.cycle.finish(on, summary, clock())
        uow.commit()
    buckets = Counter(s.bucket for s in cases.values() if s.status is CaseStatus.OPEN)
    return DayReport(
        on,
        False,
        summary,
        plan,
        dict(buckets),
        tuple(opened),
        tuple(cured),
        tuple(restatements),
        tuple(sent),
        states,
        cases,
    )


def _restate(
    book: Book, learned: Mapping[str, tuple[LoanEvent, ...]], on: date, table: BucketTable
) -> list[RestatementRecord]:
    """Restatements for loans whose new events reach back before ``on``."""
    out = []
    # The day before is not restated: its payments arrive after that day's run, as payments do. A payment dated
    # two or more days back was learned late: days some run acted on were wrong.
    end = on - timedelta(days=2)
    for loan_id, before in sorted(learned.items()):
        loan = book.loans.get(loan_id)
        if loan is None or end < loan.disbursed_on:
            continue
        earliest = _earliest(book.events[loan_id], len(before))
        if earliest is not None and earliest > end:
            continue  # everything new is dated after the days runs acted on: nothing to restate
        change = restate(
            book.product(loan_id),
            loan.schedule,
            before,
            book.events[loan_id],
            start=loan.disbursed_on,
            end=end,
            table=table,
        )
        if not change or change.since is None:
            continue
        now_current = {d.on for d in change.days if d.dpd_after == 0 and d.dpd_before > 0}
        debtor = book.parties.get(loan.borrower)
        tz = zone(debtor.tz if debtor is not None else "UTC")
        contacts = sum(
            1
            for event in book.history_of(
                dict.fromkeys([loan.borrower, *(r.party for r in book.reach.get(loan.borrower, ()))])
            )
            if event.debt == loan_id
            and event.direction is Direction.OUTBOUND
            and event.at.astimezone(tz).date() in now_current
        )
        detail = [
            {
                "day": d.on.isoformat(),
                "dpd_before": d.dpd_before,
                "dpd_after": d.dpd_after,
                "bucket_before": d.bucket_before,
                "bucket_after": d.bucket_after,
            }
            for d in change.days
        ]
        out.append(
            RestatementRecord(
                loan_id,
                on,
                change.since,
                len(change.days),
                len(change.buckets_changed),
                contacts,
                json.dumps(detail, sort_keys=True),
            )
        )
    return out


def _earliest(events: Sequence[LoanEvent], known: int) -> date | None:
    """The earliest date the events after the first ``known`` take effect on; None when one cannot be dated
    without a replay (a reversal of a payment not among them), which is then restated in full."""
    dates = []
    paid = {e.id: e.on for e in events if isinstance(e, PaymentReceived)}
    for event in events[known:]:
        if isinstance(event, PaymentReceived | Waived):
            dates.append(event.on)
        elif isinstance(event, PauseGranted):
            dates.append(event.start)
        elif isinstance(event, PaymentReversed) and event.payment_id in paid:
            dates.append(paid[event.payment_id])
        else:
            return None
    return min(dates, default=None)


def _cases(
    uow_factory: Callable[[], UnitOfWork],
    book: Book,
    config: CycleConfig,
    on: date,
    clock: Callable[[], datetime],
) -> tuple[dict[str, Decimal], dict[str, CaseState], list[str], list[str], dict[str, int]]:
    """Each delinquent or open-case loan's state and case on ``on``; records the cures, assignments and
    placements the day brings."""
    states: dict[str, Decimal] = {}
    cases: dict[str, CaseState] = {}
    opened: list[str] = []
    cured: list[str] = []
    new_events: list[tuple[str, CaseEvent]] = []
    current = config.table.current.name
    for loan_id in book.loans:
        p = book.projection(loan_id, on)
        dpd = p.on(on)
        if dpd == 0 and loan_id not in book.open_cases and not (book.fresh and len(p.spells) > 1):
            continue
        overdue = book.overdue(loan_id, on)
        states[loan_id] = overdue
        events = [*bucket_events(p.spells), *book.case_events.get(loan_id, ())]
        case = case_state(
            events, book.events.get(loan_id, ()), on, loan_id=loan_id, table=config.table,
            grace_days=book.product(loan_id).grace_days, lenient=True,
        )  # fmt: skip
        if case is None:
            continue
        if case.status is CaseStatus.OPEN and case.bucket == current and dpd == 0 and overdue <= 0:
            # is_cured(): no days past due and nothing overdue, penalty included. On a book no cycle has run on
            # yet, a loan cured before today is recorded cured the day it came back to the current bucket.
            back = max((s.entered for s in p.spells if s.entered <= on), default=on)
            cure = Cured(back if book.fresh else on)
            new_events.append((loan_id, cure))
            book.case_events.setdefault(loan_id, []).append(cure)
            case = case_state(
                [*events, cure], book.events.get(loan_id, ()), on, loan_id=loan_id, table=config.table,
                grace_days=book.product(loan_id).grace_days, lenient=True,
            )  # fmt: skip
            assert case is not None
            if cure.on == on:
                cured.append(loan_id)
        if case.status is CaseStatus.OPEN:
            if case.opened_on == on:
                opened.append(loan_id)
            book.open_cases.add(loan_id)
        else:
            book.open_cases.discard(loan_id)
        cases[loan_id] = case
    counts = _assign_and_place(book, config, on, states, cases, new_events, uow_factory, clock)
    book.fresh = False
    if new_events:
        with uow_factory() as uow:
            at = clock()
            uow.case_events.append_many(new_events, recorded_at=at)
            uow.commit()
    return states, cases, opened, cured, counts


def _assign_and_place(  # noqa: PLR0917 - a private step of _cases()
    book: Book,
    config: CycleConfig,
    on: date,
    states: Mapping[str, Decimal],
    cases: dict[str, CaseState],
    new_events: list[tuple[str, CaseEvent]],
    uow_factory: Callable[[], UnitOfWork],
    clock: Callable[[], datetime],
) -> dict[str, int]:
    """Assigns new cases by load to the collectors trained on ``on`` (none trained: the cases wait, counted
    ``unassigned``), places cases whose treatment's agency placement is due and allowed (``placement_refused``
    otherwise: ``fairdun.application.access_control``), and counts the open cases whose treatment has escalated
    them to an agent queue or to legal review (work for supervisors)."""
    with uow_factory() as uow:
        trained = assignable_collectors(uow, on)
    eligible = tuple(c for c in trained if not config.collectors or c in config.collectors)
    load = Counter(c.assignee for c in cases.values() if c.status is CaseStatus.OPEN and c.assignee is not None)
    needing = sorted(k for k, c in cases.items() if c.status is CaseStatus.OPEN and c.assignee is None)
    assigned = assign_by_load(needing, {c: load.get(c, 0) for c in eligible}, eligible) if eligible else {}
    for loan_id, collector in assigned.items():
        assignment = CollectorAssigned(on, collector)
        new_events.append((loan_id, assignment))
        book.case_events.setdefault(loan_id, []).append(assignment)
        cases[loan_id] = replace(cases[loan_id], assignee=collector)
    queued = reviews = 0
    due: list[tuple[str, str, str]] = []
    for loan_id, case in cases.items():
        if case.status is not CaseStatus.OPEN:
            continue
        treatment = config.strategy.treatment_for(case.bucket, states[loan_id], _tier(book, loan_id), loan_id).treatment
        days = _days_in_bucket(case, on)
        queue, review, agency = treatment.agent_queue, treatment.legal_review, treatment.agency
        queued += queue is not None and days >= queue.from_day
        reviews += review is not None and days >= review.from_day
        if case.agency is None and agency is not None and days >= agency.from_day:
            due.append((loan_id, book.loans[loan_id].borrower, agency.agency))
    placed, refused = place_due(uow_factory, due, book.consents, actor=config.worker, at=clock(), on=on)
    for loan_id, agency_id in placed:
        book.case_events.setdefault(loan_id, []).append(PlacedWithAgency(on, agency_id))
    return {
        "assigned": len(assigned), "unassigned": len(needing) - len(assigned), "placed": len(placed),
        "placement_refused": refused, "agent_queue": queued, "legal_review": reviews,
    }  # fmt: skip


def _days_in_bucket(case: CaseState, on: date) -> int:
    entered = case.moves[-1].on if case.moves else case.opened_on
    return (on - entered).days + 1


def _tier(book: Book, loan_id: str) -> str:
    debtor = book.parties.get(book.loans[loan_id].borrower)
    return (debtor.risk_tier if debtor is not None else None) or "medium"


def _facts(book: Book, borrower: str, on: date, reach: Sequence[Reachable]) -> Facts:
    consents, refused, opt_outs = book.ledger.facts(r.party for r in reach)
    since = (datetime.combine(on, time(), UTC) - timedelta(days=_UNREACHABLE_DAYS)).timestamp()
    calls = [
        e
        for e in book.history.get(borrower, ())
        if e.ts >= since and e.channel in VOICE_CHANNELS and e.direction is Direction.OUTBOUND
    ]
    unreachable = len(calls) >= _UNREACHABLE_CALLS and not any(e.outcome is Outcome.CONVERSATION for e in calls)
    return replace(
        Facts.known_clean(),
        consents=tuple(dict.fromkeys(consents)),
        refused_parties=refused,
        opt_outs=opt_outs,
        debtor_unreachable=unreachable,
    )


def _plan(
    book: Book, config: CycleConfig, on: date, states: Mapping[str, Decimal], cases: Mapping[str, CaseState]
) -> DayPlan:
    planner = DayPlanner(config.strategy, config.pack, on, config.mode, replan=config.replan)
    for loan_id in sorted(cases):
        case = cases[loan_id]
        if case.status is not CaseStatus.OPEN:
            continue
        loan = book.loans[loan_id]
        reach = book.reach.get(loan.borrower, ())
        may, why = may_contact_for_collection(case)
        parties = dict.fromkeys([loan.borrower, *(r.party for r in reach)])
        planner.add(
            CaseDay(
                debt=loan_id,
                debtor=loan.borrower,
                bucket=case.bucket,
                days_in_bucket=_days_in_bucket(case, on),
                overdue_amount=states[loan_id],
                risk_tier=_tier(book, loan_id),
                recipients=reach,
                history=book.history_of(parties),
                facts=_facts(book, loan.borrower, on, reach),
                hold=None if may else why,
            )
        )
    return planner.result()


def contact_key(contact: PlannedContact, *, replanned: bool | None = None) -> str:
    """The contact's outbox (and planned-contact) key: the same contact on a re-run has the same key. A
    re-planned contact's key ends its step with ``r``; ``replanned=False`` gives the key of the contact it
    re-plans."""
    step = contact.step
    suffix = "r" if (contact.replanned if replanned is None else replanned) else ""
    party = contact.attempt.recipient.party
    return f"{KEY_PREFIX}{step.on:%Y%m%d}:{contact.debt}:{step.step}.{step.attempt}{suffix}:{party}"


def _record(contact: PlannedContact, key: str, on: date, mode: Mode) -> PlannedRecord:
    attempt = contact.attempt
    return PlannedRecord(
        key=key,
        run_on=on,
        debt=contact.debt,
        party=attempt.recipient.party,
        address_ref=attempt.recipient.address,
        channel=attempt.channel,
        purpose=attempt.purpose.value,
        template=contact.step.template,
        planned_at=attempt.at,
        arm=contact.arm,
        segment=contact.segment,
        treatment=contact.treatment,
        effect=contact.decision.effect.value,
        rules=contact.decision.rules,
        mode=mode.value,
        replan_at=contact.replan_at,
        replanned_from=contact_key(contact, replanned=False) if contact.replanned else None,
    )


def _templated(
    book: Book, config: CycleConfig, plan: DayPlan
) -> tuple[dict[int, tuple[PlannedContact, str]], tuple[PlannedContact, ...]]:
    """The contacts to send (by ``id()``, in order) with the template version each is sent with, and (ENFORCE mode)
    the allowed contacts left out because their step's template has no approved version for the channel, the
    recipient's role and the pack. Audit-only mode sends nothing real: every contact is played through."""
    if config.mode is Mode.AUDIT_ONLY:
        return {id(c): (c, c.step.template) for c in plan.to_send}, ()
    pack = config.pack.name
    have = book.templates
    send: dict[int, tuple[PlannedContact, str]] = {}
    missing: list[PlannedContact] = []
    for contact in plan.to_send:
        attempt = contact.attempt
        found = have.get((contact.step.template, attempt.channel, attempt.recipient.role, pack))
        if found is None:
            missing.append(contact)
        else:
            send[id(contact)] = (contact, found.ref)
    return send, tuple(missing)


def _message(book: Book, contact: PlannedContact, key: str, created_at: datetime, template: str) -> OutboundMessage:
    """The outbox message for a contact. The body is left to the provider: Chinese SMS and voice gateways send
    registered templates by id, so the message names its template and carries no text of its own."""
    ref = contact.attempt.recipient.address
    return OutboundMessage(
        key=key,
        channel=contact.attempt.channel,
        address=book.addresses.get(ref, ref),
        party=contact.attempt.recipient.party,
        debt=contact.debt,
        body="",
        created_at=created_at,
        template=template,
        address_ref=ref,
        not_before=contact.attempt.at,
    )


class _Recording:
    """Wraps the channel to keep each result, so the day's report can say what became of every contact."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.results: dict[str, DeliveryResult] = {}

    def send(self, message: OutboundMessage) -> DeliveryResult:
        result = self.channel.send(message)
        self.results[message.key] = result
        return result

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> DeliveryResult:
        return self.channel.parse_callback(body, headers)

    def close(self) -> None:
        """The caller owns the wrapped channel and closes it."""


def _send(
    uow_factory: Callable[[], UnitOfWork],
    book: Book,
    config: CycleConfig,
    plan: DayPlan,
    channel: Channel,
    *,
    contacts: Mapping[int, tuple[PlannedContact, str]],
    keys: Mapping[int, str],
    clock: Callable[[], datetime],
    simulate: bool,
) -> tuple[list[Sent], tuple[str, ...]]:
    """Queues and sends ``contacts``, the day's contacts to send, each with its template's version ``ID@vN`` (see
    the module docstring); what was sent, and the keys that expired."""
    refs = {i: ref for i, (_, ref) in contacts.items()}
    to_send = [c for c, _ in contacts.values()]
    by_key = {keys[id(c)]: c for c in to_send}
    if config.mode is Mode.AUDIT_ONLY:
        assert isinstance(channel, SimulatedChannel)  # run_day refuses any other channel in this mode
        records = []
        sent = []
        for contact in to_send:
            key = keys[id(contact)]
            attempt = contact.attempt
            recipient = attempt.recipient
            outcome = channel.outcome(key, attempt.channel, recipient.party)
            event = ContactEvent(
                attempt.at,
                attempt.debt,
                recipient.party,
                recipient.address,
                attempt.channel,
                Direction.OUTBOUND,
                outcome,
            )
            records.append(ContactRecord(f"{key}#1", event))
            book.remember(event)
            sent.append(Sent(contact, DeliveryResult(key, outcome, provider_ref=f"sim-{key}", at=attempt.at)))
        with uow_factory() as uow:
            # The day's history goes in as one statement: all of it is stored, or none (a re-run then adds it).
            if records and uow.contacts.get(records[0].id) is None:
                seq = vouch_contacts(uow, records, actor=SYSTEM_CYCLE, at=clock())
                uow.contacts.add_many(records, audit_seq=seq)
                uow.commit()
        return sent, ()
    created = clock()
    with uow_factory() as uow:
        uses = [
            (c.attempt.recipient.address, c.attempt.recipient.party, c.debt, f"queue {keys[id(c)]}") for c in to_send
        ]
        book.addresses = open_addresses(uow, uses, actor=SYSTEM_CYCLE, at=created)  # opened and logged, no others
        messages = [
            (_message(book, c, keys[id(c)], created, refs[id(c)]), c.arm, c.decision.pack, created) for c in to_send
        ]
        uow.outbox.enqueue_many(messages)
        uow.commit()
    recording = _Recording(channel)
    expired: tuple[str, ...] = ()
    if simulate:
        # One worker in simulated time: any claim left now is a crashed run's, whatever instant it claimed at.
        recover(uow_factory, stale_before=datetime.combine(plan.on, time(), UTC) + timedelta(days=2))
        # Each instant is dispatched at that instant: nothing of today's can be late, so nothing expires.
        for at in sorted({c.attempt.at for c in to_send}):
            withhold_revoked(uow_factory, book.ledger, config.pack, book.parties, now=at, limit=len(to_send) + 1)
            dispatch(uow_factory, recording, worker=config.worker, now=at, limit=len(to_send) + 1, batch=config.batch)
    else:
        now = clock()
        recover(uow_factory, stale_before=now - STALE_CLAIM)
        expired = expire(uow_factory, now=now, grace=EXPIRE_AFTER)
        withhold_revoked(uow_factory, book.ledger, config.pack, book.parties, now=now, limit=len(to_send) + 1)
        dispatch(uow_factory, recording, worker=config.worker, now=now, limit=len(to_send) + 1, batch=config.batch)
    out = []
    for key, result in recording.results.items():
        today = by_key.get(key)
        if today is None:
            continue  # an older message due now (a retry), not today's plan
        if result.attempts > 0 or not result.retryable:
            book.remember(contact_event(_message(book, today, key, created, refs[id(today)]), result, today.attempt.at))
        out.append(Sent(today, result))
    return out, expired


# --- the simulated channel ----------------------------------------------------------------------------------


@dataclass
class SimulatedChannel:
    """A channel that sends nothing and answers as a population of debtors and contacts might, for the demo and
    audit-only runs. Deterministic: the outcome is a function of the seed and the message key.

    Calls: the debtor answers 35 % of calls (a conversation), 10 % go to voicemail, 5 % fail, the rest ring out;
    an emergency contact answers 50 %. Messages (SMS, IM, e-mail) are delivered 97 % of the time (e-mail
    bounces, the others fail); letters and visits always arrive. Each result is dated at the message's
    ``not_before`` (its planned instant)."""

    seed: int = 0
    debtors: frozenset[str] = frozenset()
    """The parties that are debtors; anyone else answers as an emergency contact."""
    sent: int = 0

    def send(self, message: OutboundMessage) -> DeliveryResult:
        outcome = self.outcome(message.key, message.channel, message.party)
        return DeliveryResult(message.key, outcome, provider_ref=f"sim-{message.key}", at=message.not_before)

    def outcome(self, key: str, channel: ContactChannel, party: str) -> Outcome:
        """What a message under ``key`` on ``channel`` to ``party`` comes to (see the class docstring)."""
        self.sent += 1
        u = _uniform(self.seed, key)
        if channel in VOICE_CHANNELS:
            answer = 0.35 if party in self.debtors else 0.5
            if u < answer:
                return Outcome.CONVERSATION
            if u < answer + 0.10:
                return Outcome.VOICEMAIL
            if u < answer + 0.15:
                return Outcome.FAILED
            return Outcome.NO_ANSWER
        if channel.value in ("letter", "visit") or u < 0.97:
            return Outcome.DELIVERED
        return Outcome.BOUNCED if channel.value == "email" else Outcome.FAILED

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> DeliveryResult:
        return DeliveryResult.from_callback(json.loads(body))

    def close(self) -> None:
        """Nothing to release."""


def _uniform(seed: int, key: str) -> float:
    digest = hashlib.blake2b(f"{seed}/{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
