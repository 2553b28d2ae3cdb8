"""The daily cycle's plan-and-gate step: what each open case gets today, and what the gate lets through.

Pure: no I/O and no clock reads; the local date is an argument. For every open case, in the order given:

1. a case on **hold** (an open dispute or a hardship pause; see
   :func:`~fairdun.domain.cases.may_contact_for_collection`) plans nothing for collection and is listed in
   ``held`` with the reason;
2. the strategy **selects** a treatment and an arm (:meth:`~fairdun.policy.strategy.Strategy.treatment_for`);
3. the treatment **plans** the day's steps (:func:`~fairdun.policy.strategy.plan_steps`); each attempt is made at
   the start of its slot of the step's preferred window, in the recipient's local time on ``on`` (a step with
   ``count > 1`` has its window cut into ``count`` slots, one attempt at the start of each);
4. **every** planned contact is passed through the gate (:func:`~fairdun.policy.evaluate`), in time order, with a
   working history: the case's history plus what has already been planned today for the same parties (across
   cases, so a debtor with two loans is not called twice as often).

What enters the working history. In ``ENFORCE`` mode an allowed contact is assumed sent with the most
conservative outcome: a voice call is assumed to be a **conversation**, which counts against the conversation
cap as well as the dial cap (assuming ``no_answer`` would let a day's plan hold more conversations than the cap
if every call were answered); a message or letter is assumed ``delivered``. So the day's plan never exceeds a cap
whatever the outcomes turn out to be. Denied contacts are not sent and do not enter it; each carries its reasons
and ``replan_at`` (the gate's ``next_allowed_at``, None when waiting cannot help).

In ``AUDIT_ONLY`` mode (the demo's aggressive strategy) nothing denied is dropped: every planned contact is
evaluated and recorded with its decision, and every one enters the working history as if it had been sent, so
the plan reports what the strategy would have done and which of it the law forbids. Nothing is re-planned, so
the gate is not asked for ``next_allowed_at`` (``replan_at`` is None).

``indeterminate`` (a fact the gate needs is unknown) fails closed like a deny and is counted apart.

**Re-planning.** With ``replan=True`` (``ENFORCE`` only), a denied contact whose ``replan_at`` falls later on the
same local date is planned once more at ``replan_at`` and gated again (``replanned`` is set on the new contact).
A contact denied until another day is not: the next day's plan starts afresh from the strategy.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum

from fairdun.domain.contact import (
    VOICE_CHANNELS,
    Attempt,
    Channel,
    ContactEvent,
    Direction,
    Outcome,
    Recipient,
    Role,
)
from fairdun.policy import Decision, Effect, Facts, Pack, evaluate
from fairdun.policy.localtime import zone
from fairdun.policy.request import ContactRequest
from fairdun.policy.strategy import PlannedStep, Selection, Strategy, plan_steps


class Mode(StrEnum):
    ENFORCE = "enforce"
    """Only allowed contacts are to be sent; denied ones are re-planned at ``replan_at``."""
    AUDIT_ONLY = "audit_only"
    """Everything is evaluated and nothing is dropped: the report of what a strategy would have done."""


@dataclass(frozen=True, slots=True)
class Reachable:
    """Someone the strategy may address for a case: a party in a role, at an address, in an IANA zone.

    ``channels`` limits the address to some channels (a phone number takes calls and SMS, not e-mail); None
    means any channel. A step goes to the first reachable of its role whose channels include its channel.
    """

    party: str
    role: Role
    address: str
    tz: str
    channels: frozenset[Channel] | None = None

    def takes(self, role: Role, channel: Channel) -> bool:
        return self.role is role and (self.channels is None or channel in self.channels)


@dataclass(frozen=True, slots=True)
class CaseDay:
    """One open case as the plan sees it on the day.

    ``hold`` is the reason collection contact is on hold (a dispute or a hardship pause), None when it is not.
    ``history`` is the contact history of the debtor's parties (every debt); ``facts`` are the gate's facts.
    """

    debt: str
    debtor: str
    bucket: str
    days_in_bucket: int
    overdue_amount: Decimal
    risk_tier: str
    recipients: tuple[Reachable, ...]
    history: tuple[ContactEvent, ...]
    facts: Facts
    hold: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedContact:
    """One planned contact and the gate's decision on it. ``replan_at`` is set only on a denial that waiting
    can cure (the decision's ``next_allowed_at``)."""

    debt: str
    arm: str
    segment: str
    treatment: str
    step: PlannedStep
    attempt: Attempt
    decision: Decision
    replanned: bool = False
    """A second try, at the first instant the gate said a denied contact could be allowed."""

    @property
    def allowed(self) -> bool:
        return self.decision.effect is Effect.ALLOW

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.decision.rules

    @property
    def replan_at(self) -> datetime | None:
        return None if self.allowed else self.decision.next_allowed_at


@dataclass(frozen=True, slots=True)
class Unaddressed:
    """A planned step nobody could receive: the case has no reachable of the step's role for its channel."""

    debt: str
    arm: str
    step: PlannedStep


@dataclass(frozen=True, slots=True)
class ArmSummary:
    """Counts for one arm: cases planned, contacts planned, allowed, denied, indeterminate, and by rule."""

    cases: int
    planned: int
    allowed: int
    denied: int
    indeterminate: int
    unaddressed: int
    by_rule: Mapping[str, int]
    replanned: int = 0


@dataclass(frozen=True, slots=True)
class DayPlan:
    """The day's plan: contacts allowed and denied (denied includes indeterminate), in planning order."""

    on: date
    mode: Mode
    strategy: str
    pack: str
    allowed: tuple[PlannedContact, ...]
    denied: tuple[PlannedContact, ...]
    held: tuple[tuple[str, str], ...]
    """(debt, reason) for every case on hold: nothing was planned for collection."""
    unaddressed: tuple[Unaddressed, ...]
    arms: Mapping[str, ArmSummary]

    @property
    def to_send(self) -> tuple[PlannedContact, ...]:
        """What the cycle sends: the allowed contacts; in audit-only mode, everything (nothing is dropped)."""
        if self.mode is Mode.ENFORCE:
            return self.allowed
        return tuple(sorted((*self.allowed, *self.denied), key=_send_order))

    @property
    def planned(self) -> int:
        return len(self.allowed) + len(self.denied)


@dataclass
class _Tally:
    cases: int = 0
    planned: int = 0
    allowed: int = 0
    denied: int = 0
    indeterminate: int = 0
    unaddressed: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    replanned: int = 0

    def freeze(self) -> ArmSummary:
        by_rule = dict(sorted(self.by_rule.items()))
        return ArmSummary(
            self.cases,
            self.planned,
            self.allowed,
            self.denied,
            self.indeterminate,
            self.unaddressed,
            by_rule,
            self.replanned,
        )


def assumed_outcome(channel: Channel) -> Outcome:
    """The outcome a planned contact is assumed to have when it enters the working history: the one that counts
    against the most caps (a voice call: a conversation; anything else: delivered)."""
    return Outcome.CONVERSATION if channel in VOICE_CHANNELS else Outcome.DELIVERED


class DayPlanner:
    """Plans and gates one local date, a case at a time (so a caller can feed cases page by page).

    ``add`` every open case, then take :meth:`result`. The working history of parties planned today is kept
    across cases, keyed by party.
    """

    def __init__(
        self, strategy: Strategy, pack: Pack, on: date, mode: Mode = Mode.ENFORCE, *, replan: bool = False
    ) -> None:
        self.strategy = strategy
        self.pack = pack
        self.on = on
        self.mode = mode
        self.replan = replan and mode is Mode.ENFORCE
        self._allowed: list[PlannedContact] = []
        self._denied: list[PlannedContact] = []
        self._held: list[tuple[str, str]] = []
        self._unaddressed: list[Unaddressed] = []
        self._tallies: dict[str, _Tally] = {}
        self._today: dict[str, list[ContactEvent]] = {}
        self._steps: dict[tuple[str, int], list[PlannedStep]] = {}

    def add(self, case: CaseDay) -> None:
        """Plan and gate one case."""
        if case.hold is not None:
            self._held.append((case.debt, case.hold))
            return
        selection = self.strategy.treatment_for(case.bucket, case.overdue_amount, case.risk_tier, case.debt)
        tally = self._tallies.get(selection.arm)
        if tally is None:
            tally = self._tallies[selection.arm] = _Tally()
        tally.cases += 1
        treatment = selection.treatment
        key = (treatment.name, case.days_in_bucket)
        steps = self._steps.get(key)
        if steps is None:
            steps = self._steps[key] = plan_steps(treatment, case.days_in_bucket, self.on)
        if not steps:
            return
        attempts: list[tuple[float, int, int, PlannedStep, Attempt]] = []
        for planned in steps:
            reachable = next((r for r in case.recipients if r.takes(planned.role, planned.channel)), None)
            if reachable is None:
                self._unaddressed.append(Unaddressed(case.debt, selection.arm, planned))
                tally.unaddressed += 1
                continue
            at = _local_instant(self.on, planned.window.start, reachable.tz)
            recipient = Recipient(reachable.party, reachable.role, reachable.address, reachable.tz)
            attempt = Attempt(at, case.debt, case.debtor, planned.channel, planned.purpose, recipient)
            attempts.append((at.timestamp(), planned.step, planned.attempt, planned, attempt))
        # Time order across recipients in different zones, so each attempt sees what comes before it.
        attempts.sort(key=lambda a: a[:3])
        parties = {r.party for r in case.recipients}
        parties.add(case.debtor)
        extra = [e for p in sorted(parties) for e in self._today.get(p, ())]
        history = sorted([*case.history, *extra], key=_ts)
        stamps = [e.ts for e in history]
        for _, _, _, planned, attempt in attempts:
            self._gate(case, selection, treatment.name, planned, attempt, (history, stamps), tally, replanned=False)

    def _gate(  # noqa: PLR0917 - one private step of add(), called twice
        self,
        case: CaseDay,
        selection: Selection,
        treatment: str,
        planned: PlannedStep,
        attempt: Attempt,
        working: tuple[list[ContactEvent], list[float]],
        tally: _Tally,
        *,
        replanned: bool,
    ) -> None:
        history, stamps = working
        request = ContactRequest.presorted(attempt, history, stamps, case.facts, self.pack)
        decision = evaluate(request, next_allowed=self.mode is Mode.ENFORCE)
        contact = PlannedContact(
            case.debt, selection.arm, selection.segment, treatment, planned, attempt, decision, replanned
        )
        tally.planned += 1
        tally.replanned += replanned
        if decision.effect is Effect.ALLOW:
            tally.allowed += 1
            self._allowed.append(contact)
        else:
            if decision.effect is Effect.DENY:
                tally.denied += 1
            else:
                tally.indeterminate += 1
            tally.by_rule.update(decision.rules)
            self._denied.append(contact)
        if decision.effect is Effect.ALLOW or self.mode is Mode.AUDIT_ONLY:
            event = _as_sent(attempt)
            at = bisect.bisect_right(stamps, event.ts)  # a re-planned contact may sit after later attempts
            history.insert(at, event)
            stamps.insert(at, event.ts)
            self._today.setdefault(event.party, []).append(event)
            return
        later = contact.replan_at
        if (
            self.replan
            and not replanned
            and later is not None
            and later > attempt.at
            and later.astimezone(zone(attempt.recipient.tz)).date() == self.on
        ):
            again = Attempt(later, attempt.debt, attempt.debtor, attempt.channel, attempt.purpose, attempt.recipient)
            self._gate(case, selection, treatment, planned, again, working, tally, replanned=True)

    def result(self) -> DayPlan:
        arms = {name: self._tallies[name].freeze() for name in sorted(self._tallies)}
        return DayPlan(
            self.on,
            self.mode,
            self.strategy.label,
            self.pack.label,
            tuple(self._allowed),
            tuple(self._denied),
            tuple(self._held),
            tuple(self._unaddressed),
            arms,
        )


def plan_day(
    cases: Iterable[CaseDay],
    strategy: Strategy,
    pack: Pack,
    on: date,
    mode: Mode = Mode.ENFORCE,
    *,
    replan: bool = False,
) -> DayPlan:
    """Plan and gate local date ``on`` for every case (see the module docstring)."""
    planner = DayPlanner(strategy, pack, on, mode, replan=replan)
    for case in cases:
        planner.add(case)
    return planner.result()


def _local_instant(on: date, seconds: int, tz: str) -> datetime:
    """Wall time ``seconds`` after local midnight on ``on`` in ``tz`` (windows end before 24:00 starts)."""
    hour, rest = divmod(seconds, 3600)
    return datetime.combine(on, time(hour, rest // 60, rest % 60), tzinfo=zone(tz))


def _as_sent(attempt: Attempt) -> ContactEvent:
    r = attempt.recipient
    outcome = assumed_outcome(attempt.channel)
    return ContactEvent(attempt.at, attempt.debt, r.party, r.address, attempt.channel, Direction.OUTBOUND, outcome)


def _ts(event: ContactEvent) -> float:
    return event.ts


def _send_order(contact: PlannedContact) -> tuple[float, str, int, int]:
    return (contact.attempt.at.timestamp(), contact.debt, contact.step.step, contact.step.attempt)
