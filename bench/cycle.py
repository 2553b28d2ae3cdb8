"""The daily cycle's plan-and-gate step: open loans per second on one core, and peak memory.

    .venv/bin/python bench/cycle.py                     # 1,000,000 open loans, the figures in docs/benchmarks.md
    .venv/bin/python bench/cycle.py --quick             # a smoke run: 20,000 loans
    .venv/bin/python bench/cycle.py --loans 200000      # another size
    .venv/bin/python bench/cycle.py --mix delinquent    # every loan delinquent (M1 ... M6+): the stress case

The plan inputs (:class:`fairdun.application.planning.CaseDay`) are **built directly** from a seeded generator,
not by replaying ledgers and cases: this times the plan-and-gate step alone (select treatment and arm, plan the
day's steps, gate every planned contact with a working history), as the cycle would run it once DPD, buckets
and cases are known. They are generated a page at a time (``--page`` loans, as the cycle would read them from the
database); building a page is not timed, planning it is. The planner keeps its whole result (every planned
contact with its decision) in memory to the end, so peak memory includes the day's plan.

The ``realistic`` mix is a consumer-credit book: most open loans current (bucket C, nothing to plan), the rest
spread over M1 ... M6+ with days in bucket 1-30 (up to 180 in M6+); 1 % of delinquent cases on a dispute or
hardship hold; debtors mostly in Asia/Shanghai. Histories hold the last 30 days of contacts of the debtor's
parties: 0-3 events for a current loan, 4-24 for a delinquent one (calls with mixed outcomes, AI calls, SMS,
e-mail, inbound calls), a few with calls already made earlier today. The strategy is the built-in ``default``
and the pack ``cn``.

This is a benchmark, not a test: it reports figures and asserts no time.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import sys
import time as clock
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fairdun.application.planning import CaseDay, DayPlanner, Mode, Reachable
from fairdun.config.packs import PackLoader
from fairdun.config.strategies import load_strategy
from fairdun.domain.contact import Channel, Consent, ContactEvent, Direction, Outcome, Role
from fairdun.policy import Facts
from machine import cpu_model, pin_to_one_core

TARGET_SECONDS = 60.0  # 1,000,000 loans, on 2 cores (issue #3)
TARGET_PEAK_GB = 4.0
ON = date(2026, 11, 23)
ZONES = (("Asia/Shanghai", 0.97), ("Asia/Urumqi", 0.02), ("Asia/Hong_Kong", 0.01))
REALISTIC = (("C", 0.70), ("M1", 0.15), ("M2", 0.05), ("M3", 0.03), ("M4", 0.02), ("M5", 0.015), ("M6", 0.015))
DELINQUENT = (("M1", 0.45), ("M2", 0.15), ("M3", 0.10), ("M4", 0.08), ("M5", 0.07), ("M6", 0.05))
TIERS = ("low", "medium", "high")
PHONE = frozenset({Channel.CALL, Channel.AI_CALL, Channel.SMS, Channel.IM})
MAIL = frozenset({Channel.EMAIL})
POST = frozenset({Channel.LETTER, Channel.VISIT})
# (channel, direction, outcome, weight) of history events
EVENTS = (
    (Channel.CALL, Direction.OUTBOUND, Outcome.NO_ANSWER, 0.20),
    (Channel.CALL, Direction.OUTBOUND, Outcome.FAILED, 0.08),
    (Channel.CALL, Direction.OUTBOUND, Outcome.CONVERSATION, 0.17),
    (Channel.AI_CALL, Direction.OUTBOUND, Outcome.CONVERSATION, 0.10),
    (Channel.AI_CALL, Direction.OUTBOUND, Outcome.NO_ANSWER, 0.07),
    (Channel.SMS, Direction.OUTBOUND, Outcome.DELIVERED, 0.25),
    (Channel.EMAIL, Direction.OUTBOUND, Outcome.DELIVERED, 0.05),
    (Channel.CALL, Direction.INBOUND, Outcome.CONVERSATION, 0.08),
)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Generator:
    """Seeded plan inputs, a page at a time. Instants come from a shared pool so histories stay small."""

    def __init__(self, seed: int, mix: tuple[tuple[str, float], ...]) -> None:
        self.rng = random.Random(seed)
        self.buckets = [b for b, _ in mix] + (["M6+"] if sum(w for _, w in mix) < 1 else [])
        self.weights = [w for _, w in mix] + ([1 - sum(w for _, w in mix)] if len(self.buckets) > len(mix) else [])
        self.zones = [z for z, _ in ZONES]
        self.zone_weights = [w for _, w in ZONES]
        self.clean = Facts.known_clean()
        self.granted = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
        # Instants over the 30 days before ON, every 7 minutes from 08:00 to 21:00 Beijing time, and today 00:00-07:59.
        base = datetime(ON.year, ON.month, ON.day, tzinfo=ZoneInfo("Asia/Shanghai"))
        self.past = [
            base - timedelta(days=d) + timedelta(minutes=m) for d in range(1, 31) for m in range(8 * 60, 21 * 60, 7)
        ]
        self.today = [base + timedelta(minutes=m) for m in range(0, 8 * 60, 3)]
        self.kinds = [(c, d, o) for c, d, o, _ in EVENTS]
        self.kind_weights = [w for *_, w in EVENTS]

    def page(self, start: int, count: int) -> list[CaseDay]:
        return [self.case(i) for i in range(start, start + count)]

    def case(self, i: int) -> CaseDay:
        rng = self.rng
        debt, debtor = f"L{i:08d}", f"B{i:08d}"
        bucket = rng.choices(self.buckets, self.weights)[0]
        current = bucket == "C"
        days = rng.randint(1, 180 if bucket == "M6+" else 30)
        amount = Decimal(int(rng.lognormvariate(7.5, 1.1))) if not current else Decimal(0)
        tier = TIERS[rng.choices((0, 1, 2), (0.5, 0.3, 0.2))[0]]
        tz = rng.choices(self.zones, self.zone_weights)[0]
        phone = f"+86138{i:08d}"
        recipients = [
            Reachable(debtor, Role.DEBTOR, phone, tz, PHONE),
            Reachable(debtor, Role.DEBTOR, f"{debtor.lower()}@example.com", tz, MAIL),
            Reachable(debtor, Role.DEBTOR, f"{i} Example Road", tz, POST),
        ]
        facts = self.clean
        contact = None
        if rng.random() < 0.6:
            contact = f"P{i:08d}"
            recipients.append(Reachable(contact, Role.CONTACT, f"+86139{i:08d}", tz, PHONE))
            withdrawn = self.granted + timedelta(days=30) if rng.random() < 0.1 else None
            facts = Facts(
                debtor_unreachable=rng.random() < 0.03,
                refused_parties=frozenset({contact}) if rng.random() < 0.02 else frozenset(),
                opt_outs=(),
                consents=(Consent(contact, "contact_relay", self.granted, withdrawn),),
                agreed_windows=(),
                guarantor_liable=False,
                represented_by_attorney=False,
                cease_requested=False,
                time_barred=False,
            )
        n = rng.randint(0, 3) if current else rng.randint(4, 24)
        history = [self.event(debt, debtor, phone, rng.choice(self.past)) for _ in range(n)]
        if not current and rng.random() < 0.05:  # calls already made earlier today
            history += [self.event(debt, debtor, phone, rng.choice(self.today)) for _ in range(rng.randint(1, 6))]
        if contact is not None and not current and rng.random() < 0.1:
            history.append(self.event(debt, contact, f"+86139{i:08d}", rng.choice(self.past)))
        hold = None
        if not current and rng.random() < 0.01:
            hold = "dispute hold" if rng.random() < 0.5 else "hardship pause"
        return CaseDay(debt, debtor, bucket, days, amount, tier, tuple(recipients), tuple(history), facts, hold)

    def event(self, debt: str, party: str, phone: str, at: datetime) -> ContactEvent:
        channel, direction, outcome = self.rng.choices(self.kinds, self.kind_weights)[0]
        address = f"{party.lower()}@example.com" if channel is Channel.EMAIL else phone
        return ContactEvent(at, debt, party, address, channel, direction, outcome)


def pages(gen: Generator, loans: int, size: int) -> Iterator[list[CaseDay]]:
    for start in range(0, loans, size):
        yield gen.page(start, min(size, loans - start))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--loans", type=int, default=1_000_000, help="open loans to plan (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20,000 loans")
    parser.add_argument("--mix", choices=("realistic", "delinquent"), default="realistic")
    parser.add_argument("--strategy", default="default", help="a built-in strategy or a path (default: default)")
    parser.add_argument("--audit-only", action="store_true", help="plan in audit-only mode")
    parser.add_argument("--page", type=int, default=20_000, help="loans generated (untimed) per page")
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args(argv)
    loans = 20_000 if args.quick else args.loans

    pinning = pin_to_one_core()
    pack = PackLoader().load("cn")
    strategy = load_strategy(args.strategy)
    mode = Mode.AUDIT_ONLY if args.audit_only else Mode.ENFORCE
    gen = Generator(args.seed, REALISTIC if args.mix == "realistic" else DELINQUENT)
    print("Daily cycle plan-and-gate benchmark (bench/cycle.py)")
    print(f"  cpu      {cpu_model()} ({os.cpu_count()} logical CPUs visible, {pinning})")
    print(f"  os       {platform.system()} {platform.release()} {platform.machine()}")
    print(f"  python   {platform.python_implementation()} {platform.python_version()}")
    print(f"  date     {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"  input    {loans:,} open loans, mix {args.mix}, seed {args.seed}, pages of {args.page:,} (built, untimed)")
    print(f"  plan     strategy {strategy.label}, pack {pack.label}, mode {mode.value}, local date {ON}")
    print(flush=True)

    planner = DayPlanner(strategy, pack, ON, mode)
    rss_before = peak_rss_mb()
    timed = 0.0
    built = 0.0
    events = 0
    buckets: Counter[str] = Counter()
    done = 0
    wall = clock.perf_counter()
    t0 = clock.perf_counter()
    for page in pages(gen, loans, args.page):
        t1 = clock.perf_counter()
        built += t1 - t0
        for case in page:
            planner.add(case)
        t0 = clock.perf_counter()
        timed += t0 - t1
        done += len(page)
        events += sum(len(c.history) for c in page)
        buckets.update(c.bucket for c in page)
        del page
        if done % 100_000 == 0 or done == loans:
            print(f"  {done:>9,} loans  {timed:7.1f} s planning  {built:6.1f} s building", file=sys.stderr, flush=True)
    plan = planner.result()
    wall = clock.perf_counter() - wall
    peak = peak_rss_mb()
    gc.collect()

    planned = plan.planned
    by_rule: Counter[str] = Counter()
    for arm in plan.arms.values():
        by_rule.update(arm.by_rule)
    rate = loans / timed if timed else float("inf")
    print()
    print(f"loans                {loans:,} ({', '.join(f'{b} {n:,}' for b, n in sorted(buckets.items()))})")
    print(f"history events       {events:,} ({events / loans:.1f} a loan)")
    print(f"cases held           {len(plan.held):,}")
    print(f"contacts planned     {planned:,}: allowed {len(plan.allowed):,}, denied {len(plan.denied):,}")
    print(f"denials by rule      {', '.join(f'{r} {n:,}' for r, n in sorted(by_rule.items())) or 'none'}")
    print(f"unaddressed steps    {len(plan.unaddressed):,}")
    for name, arm in plan.arms.items():
        print(f"  arm {name:12} cases {arm.cases:,}, planned {arm.planned:,}, allowed {arm.allowed:,}")
    print()
    print(f"plan-and-gate        {timed:.1f} s on one core: {rate:,.0f} loans/s ({planned / timed:,.0f} contacts/s)")
    print(f"building the inputs  {built:.1f} s (not timed); wall clock {wall:.1f} s")
    print(f"peak memory          {peak:,.0f} MB RSS (ru_maxrss; {rss_before:,.0f} MB before planning)")
    per_million = timed * 1_000_000 / loans
    label = "measured" if loans == 1_000_000 else f"EXTRAPOLATED linearly from {loans:,} loans"
    print()
    print(f"target: <= {TARGET_SECONDS:.0f} s for 1,000,000 loans on 2 cores; one core, {label}: {per_million:.1f} s")
    two = per_million / 2
    print(f"        2 cores, EXTRAPOLATED (two processes, each half the debtors; not measured): about {two:.1f} s")
    print(f"target: <= {TARGET_PEAK_GB:.0f} GB peak; measured {peak / 1024:.2f} GB for {loans:,} loans")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
