"""Contact gate throughput: decisions per second on one core, beside a naive SQLite baseline.

    .venv/bin/python bench/gate.py            # the figures in docs/benchmarks.md
    .venv/bin/python bench/gate.py --quick    # a smoke run: small sets, few repeats
    .venv/bin/python bench/gate.py --profile  # also cProfile the 30-event core loop

Seeded request sets (debtor B1 with two numbers, emergency contact P2, guarantor G4; histories of 0, 30 and 300
events over the 30 days before the attempt) are decided by the full ``cn`` pack three ways:

* **core**: ``evaluate(request)`` on prebuilt ``ContactRequest`` objects;
* **end-to-end**: ``parse_request(document)`` from an already decoded JSON dict, then ``evaluate``, with the pack
  resolved from a dict; and the same through ``GateService.check`` as ``bootstrap()`` wires it (``PackLoader``
  resolves the pack on every request);
* **baseline**: what a naive system would do: histories and facts in SQLite tables (loaded up front, not timed)
  and one SQL query per applicable rule for every decision.

The baseline must agree with the gate on every request (the set of denying rules, hence allow/deny); the script
stops if it does not. This is a benchmark, not a test: it asserts agreement, never a time.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import random
import re
import sqlite3
import statistics
import sys
import time as clock
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fairdun.application.gate import GateService
from fairdun.config.packs import PackLoader
from fairdun.domain.contact import (
    AgreedWindow,
    Attempt,
    Channel,
    Consent,
    ContactEvent,
    Direction,
    Outcome,
    Purpose,
    Recipient,
    Role,
)
from fairdun.policy import ContactRequest, Decision, Effect, Facts, Pack, evaluate
from fairdun.policy.checks import Cap, ConsentNeeded, ContentScreen, Recipients, TimeWindow
from fairdun.policy.request import BOOLEAN_FACTS
from fairdun.policy.screen import Screener
from fairdun.policy.wire import parse_request, request_to_json
from machine import cpu_model, pin_to_one_core

HISTORY_SIZES = (0, 30, 300)
TARGET_PER_SECOND = 50_000  # at 30 events, core
TARGET_RATIO = 20  # core over the baseline

# ---------------------------------------------------------------------------------------------------------------
# Machine


def machine_info(pinning: str) -> dict[str, str]:
    return {
        "cpu": f"{cpu_model()} ({os.cpu_count()} logical CPUs visible, {pinning})",
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "sqlite": sqlite3.sqlite_version,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ---------------------------------------------------------------------------------------------------------------
# Seeded request sets

DEBTOR, CONTACT, GUARANTOR = "B1", "P2", "G4"
B1_NUMBERS = ("+8613800000001", "+8613800000002")
P2_NUMBER = "+8613900000002"
G4_NUMBER = "+8613700000004"
ADDRESSES = {DEBTOR: B1_NUMBERS, CONTACT: (P2_NUMBER,), GUARANTOR: (G4_NUMBER,)}
ROLES = {DEBTOR: Role.DEBTOR, CONTACT: Role.CONTACT, GUARANTOR: Role.GUARANTOR}
OTHER_ZONES = ("Asia/Urumqi", "Asia/Hong_Kong", "Asia/Tokyo", "Europe/London", "America/Los_Angeles")
FIRST_DAY = date(2026, 11, 16)  # attempts fall on the 14 days from here; histories reach 30 days back
GRANTED = datetime(2026, 10, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

# Content: plain text a real system sends, a few lines with violations the lexicon names literally.
DEBTOR_CLEAN = (
    "【示例金融】您好，您的本期账单已到期，请于今日登录App还款，如已还款请忽略。",
    "您好，这里是示例金融客服，您的借款已逾期3天，请尽快处理，有疑问请回电。",
    "温馨提示：您可以在App中申请分期还款方案，详情请咨询客服。",
)
DEBTOR_BAD = ("你这个老赖，再不还钱试试看。", "法院传票已经发出，今天不还明天就让你坐牢。")
CONTACT_CLEAN = ("您好，麻烦转告张三尽快回电 021-0000-0000，谢谢。",)
CONTACT_BAD = ("您好，您的朋友张三欠款已逾期，请转告他尽快还款。",)

# (weight, channel, direction, outcomes with weights) for history events
EVENT_KINDS: tuple[tuple[float, Channel, Direction, tuple[tuple[Outcome, float], ...]], ...] = (
    (
        0.40,
        Channel.CALL,
        Direction.OUTBOUND,
        (
            (Outcome.FAILED, 0.2),
            (Outcome.NO_ANSWER, 0.35),
            (Outcome.VOICEMAIL, 0.1),
            (Outcome.CONVERSATION, 0.35),
        ),
    ),
    (0.12, Channel.AI_CALL, Direction.OUTBOUND, ((Outcome.NO_ANSWER, 0.4), (Outcome.CONVERSATION, 0.6))),
    (0.28, Channel.SMS, Direction.OUTBOUND, ((Outcome.DELIVERED, 0.9), (Outcome.BOUNCED, 0.1))),
    (0.08, Channel.CALL, Direction.INBOUND, ((Outcome.CONVERSATION, 1.0),)),
    (0.05, Channel.SMS, Direction.INBOUND, ((Outcome.DELIVERED, 1.0),)),
    (0.04, Channel.EMAIL, Direction.OUTBOUND, ((Outcome.DELIVERED, 1.0),)),
    (0.03, Channel.LETTER, Direction.OUTBOUND, ((Outcome.DELIVERED, 1.0),)),
)


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _event(rng: random.Random, ts: float, party: str | None = None, address: str | None = None) -> ContactEvent:
    _, channel, direction, outcomes = rng.choices(EVENT_KINDS, [k[0] for k in EVENT_KINDS])[0]
    party = party or _pick(rng, ((DEBTOR, 0.85), (CONTACT, 0.15)))
    address = address or rng.choice(ADDRESSES[party])
    return ContactEvent(
        at=datetime.fromtimestamp(round(ts), UTC),
        debt=_pick(rng, (("L1", 0.75), ("L2", 0.15), ("L3", 0.10))),
        party=party,
        address=address,
        channel=channel,
        direction=direction,
        outcome=_pick(rng, outcomes),
    )


def _burst(rng: random.Random, k: int, lo: float, hi: float, *, party: str, address: str) -> list[ContactEvent]:
    """``k`` outbound calls today before the attempt, to the attempt's recipient: what pushes caps over."""
    out = []
    for _ in range(k):
        channel = _pick(rng, ((Channel.CALL, 0.75), (Channel.AI_CALL, 0.25)))
        outcome = _pick(rng, ((Outcome.CONVERSATION, 0.45), (Outcome.NO_ANSWER, 0.4), (Outcome.FAILED, 0.15)))
        ts = round(rng.uniform(lo, hi))
        out.append(
            ContactEvent(datetime.fromtimestamp(ts, UTC), "L1", party, address, channel, Direction.OUTBOUND, outcome)
        )
    return out


def make_request(rng: random.Random, n_events: int, pack: Pack) -> ContactRequest:
    tz = "Asia/Shanghai" if rng.random() < 0.85 else rng.choice(OTHER_ZONES)
    zone = ZoneInfo(tz)
    day = FIRST_DAY + timedelta(days=rng.randrange(14))
    if rng.random() < 0.75:  # daytime, 08:00-22:00
        seconds = rng.randrange(8 * 3600, 22 * 3600)
    else:  # night, 22:00-08:00
        seconds = (22 * 3600 + rng.randrange(10 * 3600)) % 86_400
    at = datetime.combine(day, time(seconds // 3600, seconds % 3600 // 60, seconds % 60), tzinfo=zone)

    party = _pick(rng, ((DEBTOR, 0.80), (CONTACT, 0.15), (GUARANTOR, 0.05)))
    address = rng.choice(ADDRESSES[party])
    content: str | None = None
    if party == CONTACT:
        channel = _pick(rng, ((Channel.CALL, 0.6), (Channel.SMS, 0.4)))
        purpose = Purpose.LOCATE if rng.random() < 0.85 else Purpose.COLLECT
        if channel is Channel.SMS:
            content = rng.choice(CONTACT_BAD) if rng.random() < 0.2 else rng.choice(CONTACT_CLEAN)
    else:
        channel = _pick(
            rng,
            ((Channel.CALL, 0.55), (Channel.AI_CALL, 0.15), (Channel.SMS, 0.25), (Channel.EMAIL, 0.03)),
        )
        channel = Channel.LETTER if rng.random() < 0.02 else channel
        purpose = Purpose.COLLECT
        if channel in (Channel.SMS, Channel.EMAIL) or (channel is Channel.AI_CALL and rng.random() < 0.5):
            content = rng.choice(DEBTOR_BAD) if rng.random() < 0.1 else rng.choice(DEBTOR_CLEAN)
    attempt = Attempt(at, "L1", DEBTOR, channel, purpose, Recipient(party, ROLES[party], address, tz), content)

    # History: n events over the 30 days before the attempt; sometimes a burst today aimed at the recipient.
    ts = at.timestamp()
    history: list[ContactEvent] = []
    if n_events >= 8 and rng.random() < 0.35:
        today = datetime.combine(day, time(0), tzinfo=zone).timestamp()
        burst_party = party if party != GUARANTOR else DEBTOR
        burst_address = address if party != GUARANTOR else B1_NUMBERS[0]
        history += _burst(rng, rng.randint(2, 8), today, ts - 1, party=burst_party, address=burst_address)
    history += [_event(rng, rng.uniform(ts - 30 * 86_400, ts - 1)) for _ in range(n_events - len(history))]
    rng.shuffle(history)  # arrive unsorted, as from a store; ContactRequest sorts them

    # Facts: every fact known (known_clean), a contact_relay consent for P2, and some variety.
    clean = Facts.known_clean()
    withdrawn = at - timedelta(days=rng.randint(1, 20)) if rng.random() < 0.1 else None
    windows = (AgreedWindow(DEBTOR, time(22, 0), time(23, 30)),) if rng.random() < 0.05 else ()
    facts = Facts(
        debtor_unreachable=rng.random() < 0.6,
        refused_parties=frozenset({CONTACT}) if rng.random() < 0.05 else frozenset(),
        opt_outs=clean.opt_outs,
        consents=(Consent(CONTACT, "contact_relay", GRANTED, withdrawn),),
        agreed_windows=windows,
        guarantor_liable=rng.random() < 0.5,
        represented_by_attorney=False,
        cease_requested=False,
        time_barred=False,
    )
    return ContactRequest(attempt, tuple(history), facts, pack)


def make_requests(n_requests: int, n_events: int, pack: Pack, seed: int) -> list[ContactRequest]:
    rng = random.Random(f"{seed}/{n_events}")
    return [make_request(rng, n_events, pack) for _ in range(n_requests)]


def to_documents(requests: Sequence[ContactRequest]) -> list[dict[str, Any]]:
    """The JSON documents a client would send, already decoded (a json.dumps/json.loads round trip)."""
    return [json.loads(json.dumps(request_to_json(r), ensure_ascii=False)) for r in requests]


# ---------------------------------------------------------------------------------------------------------------
# The naive baseline: SQLite, one query per rule

SCHEMA = """
CREATE TABLE contact_history (
    req_id INTEGER NOT NULL, ts REAL NOT NULL, debt TEXT NOT NULL, party TEXT NOT NULL, address TEXT NOT NULL,
    channel TEXT NOT NULL, direction TEXT NOT NULL, outcome TEXT NOT NULL
);
CREATE INDEX contact_history_party ON contact_history (req_id, party, ts);
CREATE INDEX contact_history_address ON contact_history (req_id, address, ts);
CREATE TABLE facts (
    req_id INTEGER PRIMARY KEY, debtor_unreachable INTEGER, guarantor_liable INTEGER,
    represented_by_attorney INTEGER, cease_requested INTEGER, time_barred INTEGER
);
CREATE TABLE refused_parties (req_id INTEGER NOT NULL, party TEXT NOT NULL, PRIMARY KEY (req_id, party));
CREATE TABLE consents (
    req_id INTEGER NOT NULL, party TEXT NOT NULL, purpose TEXT NOT NULL, granted_ts REAL NOT NULL, withdrawn_ts REAL
);
CREATE INDEX consents_party ON consents (req_id, party, purpose);
CREATE TABLE agreed_windows (req_id INTEGER NOT NULL, party TEXT NOT NULL, start_s INTEGER, end_s INTEGER);
CREATE INDEX agreed_windows_party ON agreed_windows (req_id, party);
CREATE TABLE pack_windows (rule_id TEXT NOT NULL, weekday INTEGER NOT NULL, start_s INTEGER, end_s INTEGER);
CREATE TABLE recipient_terms (
    rule_id TEXT NOT NULL, role TEXT NOT NULL, purposes TEXT, needs_debtor_unreachable INTEGER,
    needs_guarantor_liable INTEGER, needs_represented_by_attorney INTEGER, needs_cease_requested INTEGER,
    needs_time_barred INTEGER, unless_refused INTEGER, PRIMARY KEY (rule_id, role)
);
CREATE TABLE keywords (rule_id TEXT NOT NULL, category TEXT NOT NULL, word TEXT NOT NULL, roles TEXT);
"""

TIME_SQL = """
SELECT EXISTS (SELECT 1 FROM pack_windows WHERE rule_id = :rule AND weekday = :weekday
                                             AND start_s <= :seconds AND :seconds < end_s)
    OR (:agreed AND EXISTS (SELECT 1 FROM agreed_windows WHERE req_id = :req AND party = :party AND (
            (start_s < end_s AND start_s <= :seconds AND :seconds < end_s)
         OR (end_s <= start_s AND (:seconds >= start_s OR :seconds < end_s)))))
"""

RECIPIENT_SQL = """
SELECT EXISTS (
    SELECT 1 FROM recipient_terms t JOIN facts f ON f.req_id = :req
    WHERE t.rule_id = :rule AND t.role = :role
      AND (t.purposes IS NULL OR instr(t.purposes, ',' || :purpose || ',') > 0)
      AND (NOT t.needs_debtor_unreachable OR f.debtor_unreachable)
      AND (NOT t.needs_guarantor_liable OR f.guarantor_liable)
      AND (NOT t.needs_represented_by_attorney OR f.represented_by_attorney)
      AND (NOT t.needs_cease_requested OR f.cease_requested)
      AND (NOT t.needs_time_barred OR f.time_barred)
      AND (NOT t.unless_refused
           OR NOT EXISTS (SELECT 1 FROM refused_parties r WHERE r.req_id = :req AND r.party = :party)))
"""

CONSENT_SQL = """
SELECT EXISTS (SELECT 1 FROM consents WHERE req_id = :req AND party = :party AND purpose = :purpose
                                        AND granted_ts <= :ts AND (withdrawn_ts IS NULL OR :ts < withdrawn_ts))
"""

CONTENT_SQL = """
SELECT EXISTS (SELECT 1 FROM keywords WHERE rule_id = :rule AND (roles IS NULL OR instr(roles, :role) > 0)
                                        AND :content LIKE '%' || word || '%')
"""

_REGEX_META = re.compile(r"[\\.^$*+?{}\[\]|()]")


def literal_keywords(pattern: str) -> list[str]:
    """The top-level alternatives of a lexicon pattern that are plain text: a naive system's keyword list."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(pattern):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            pieces.append(pattern[start:i])
            start = i + 1
    pieces.append(pattern[start:])
    return [p for p in pieces if p and not _REGEX_META.search(p)]


@dataclass(frozen=True)
class BaselineRule:
    rule_id: str
    applies: Callable[[Attempt], bool]
    answer: Callable[[int, Attempt, dict[str, Any]], bool]
    """True when the rule allows; ``dict`` holds local-time values computed once per decision."""


class SqliteBaseline:
    """The gate's ``cn`` questions asked of SQLite the obvious way: one query per applicable rule.

    Parameters (windows, caps, roles, consent purpose, content categories) are read from the loaded pack, so the
    baseline follows a pack edit. Local time is computed in Python with zoneinfo (SQLite knows no IANA zones).
    It gives allow/deny and the denying rules only: no next_allowed_at, no reasons text, no indeterminate.
    """

    def __init__(self, pack: Pack, screener: Screener, requests: Sequence[ContactRequest]) -> None:
        self.db = sqlite3.connect(":memory:")
        self.db.executescript(SCHEMA)
        self.rules = [self._rule(rule.id, rule, screener) for rule in pack.rules]
        self._load(requests)

    def _rule(self, rule_id: str, rule: Any, screener: Screener) -> BaselineRule:
        if len(rule.checks) != 1:
            raise SystemExit(f"baseline: {rule_id} has {len(rule.checks)} checks; it knows one check per rule")
        check = rule.checks[0]
        db = self.db
        if isinstance(check, TimeWindow):
            for weekday, windows in check.by_weekday.items():
                db.executemany(
                    "INSERT INTO pack_windows VALUES (?, ?, ?, ?)", [(rule_id, weekday, s, e) for s, e in windows]
                )
            agreed = int(check.agreed_windows)

            def answer(req: int, a: Attempt, local: dict[str, Any]) -> bool:
                params = {"rule": rule_id, "req": req, "party": a.recipient.party, "agreed": agreed, **local}
                return bool(db.execute(TIME_SQL, params).fetchone()[0])

        elif isinstance(check, Cap):
            answer = self._cap(rule_id, check)
        elif isinstance(check, Recipients):
            for role, terms in check.allow.items():
                purposes = "," + ",".join(sorted(terms.purposes)) + "," if terms.purposes else None
                needs = [int(fact in terms.requires) for fact in sorted(BOOLEAN_FACTS)]
                db.execute(
                    "INSERT INTO recipient_terms VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (rule_id, role.value, purposes, *needs, int(terms.unless_refused)),
                )

            def answer(req: int, a: Attempt, local: dict[str, Any]) -> bool:
                params = {
                    "rule": rule_id,
                    "req": req,
                    "role": a.recipient.role.value,
                    "purpose": a.purpose.value,
                    "party": a.recipient.party,
                }
                return bool(db.execute(RECIPIENT_SQL, params).fetchone()[0])

        elif isinstance(check, ConsentNeeded):
            purpose = check.purpose

            def answer(req: int, a: Attempt, local: dict[str, Any]) -> bool:
                params = {"req": req, "party": a.recipient.party, "purpose": purpose, "ts": local["ts"]}
                return bool(db.execute(CONSENT_SQL, params).fetchone()[0])

        elif isinstance(check, ContentScreen) and check.when is None:
            for entry in screener.entries:
                if entry.category not in check.categories:
                    continue
                roles = ",".join(sorted(r.value for r in entry.roles)) if entry.roles else None
                db.executemany(
                    "INSERT INTO keywords VALUES (?, ?, ?, ?)",
                    [(rule_id, entry.category, w, roles) for w in literal_keywords(entry.pattern)],
                )

            def answer(req: int, a: Attempt, local: dict[str, Any]) -> bool:
                if not a.content:
                    return True  # nothing to screen, as in the gate
                params = {"rule": rule_id, "role": a.recipient.role.value, "content": a.content.lower()}
                return not db.execute(CONTENT_SQL, params).fetchone()[0]

        else:
            raise SystemExit(f"baseline: no query for {rule_id} ({check.kind})")
        return BaselineRule(rule_id, rule.applies_to, answer)

    def _cap(self, rule_id: str, check: Cap) -> Callable[[int, Attempt, dict[str, Any]], bool]:
        channels = sorted({list(Channel)[code >> 4].value for code in check.codes})
        directions = sorted({list(Direction)[code >> 3 & 1].value for code in check.codes})
        outcomes = sorted({list(Outcome)[code & 7].value for code in check.codes})
        if len(channels) * len(directions) * len(outcomes) != len(check.codes):
            raise SystemExit(f"baseline: {rule_id} counts a set of events that is not a product of sets")

        def in_list(values: list[str]) -> str:
            return "(" + ", ".join(f"'{v}'" for v in values) + ")"

        same = " AND ".join(f"{key} = :{key}" for key in check.same)
        window = "" if check.days == 0 else " AND ts >= :lo AND ts < :hi"
        sql = (
            f"SELECT COUNT(*) FROM contact_history WHERE req_id = :req AND {same}{window}"
            f" AND channel IN {in_list(channels)} AND direction IN {in_list(directions)}"
            f" AND outcome IN {in_list(outcomes)}"
        )
        db, maximum, days = self.db, check.maximum, check.days

        def answer(req: int, a: Attempt, local: dict[str, Any]) -> bool:
            params: dict[str, Any] = {"req": req, "party": a.recipient.party, "address": a.recipient.address}
            params["debt"] = a.debt
            if days:
                zone, d = local["zone"], local["date"]
                params["lo"] = datetime.combine(d - timedelta(days=days - 1), time(0), tzinfo=zone).timestamp()
                params["hi"] = datetime.combine(d + timedelta(days=1), time(0), tzinfo=zone).timestamp()
            return db.execute(sql, params).fetchone()[0] < maximum

        return answer

    def _load(self, requests: Sequence[ContactRequest]) -> None:
        """Every request's history and facts, keyed by its index. Not timed: a naive system already has them."""
        for req, r in enumerate(requests):
            self._insert(req, r)
        self.db.commit()
        self.db.execute("ANALYZE")

    SCRATCH = -1
    PER_REQUEST_TABLES = ("contact_history", "facts", "refused_parties", "consents", "agreed_windows")

    def answer_as_sent(self, r: ContactRequest) -> tuple[str, ...]:
        """The same question with the request's own history and facts loaded into SQLite first (as the request
        carries them), then removed: what answering *the request as sent* costs the naive way."""
        self._insert(self.SCRATCH, r)
        try:
            return self.decide(self.SCRATCH, r.attempt)
        finally:
            for table in self.PER_REQUEST_TABLES:
                self.db.execute(f"DELETE FROM {table} WHERE req_id = ?", (self.SCRATCH,))

    def _insert(self, req: int, r: ContactRequest) -> None:
        db = self.db
        f = r.facts
        values = [getattr(f, name) for name in sorted(BOOLEAN_FACTS)]
        lists = (f.refused_parties, f.consents, f.agreed_windows)
        if r.history is None or None in values or None in lists:
            raise SystemExit("baseline: it knows no unknown facts (indeterminate); every fact must be known")
        db.execute("INSERT INTO facts VALUES (?, ?, ?, ?, ?, ?)", (req, *values))
        db.executemany(
            "INSERT INTO contact_history VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (req, e.ts, e.debt, e.party, e.address, e.channel.value, e.direction.value, e.outcome.value)
                for e in r.history
            ],
        )
        db.executemany("INSERT INTO refused_parties VALUES (?, ?)", [(req, p) for p in f.refused_parties or ()])
        db.executemany(
            "INSERT INTO consents VALUES (?, ?, ?, ?, ?)",
            [
                (req, c.party, c.purpose, c.granted_at.timestamp(), c.withdrawn_at and c.withdrawn_at.timestamp())
                for c in f.consents or ()
            ],
        )
        db.executemany(
            "INSERT INTO agreed_windows VALUES (?, ?, ?, ?)",
            [
                (req, w.party, w.start.hour * 3600 + w.start.minute * 60, w.end.hour * 3600 + w.end.minute * 60)
                for w in f.agreed_windows or ()
            ],
        )

    def decide(self, req: int, a: Attempt) -> tuple[str, ...]:
        """The ids of the rules that deny, in pack order (empty: allow)."""
        zone = ZoneInfo(a.recipient.tz)
        local_at = a.at.astimezone(zone)
        local = {
            "zone": zone,
            "date": local_at.date(),
            "weekday": local_at.isoweekday(),
            "seconds": local_at.hour * 3600 + local_at.minute * 60 + local_at.second + local_at.microsecond / 1e6,
            "ts": a.at.timestamp(),
        }
        return tuple(r.rule_id for r in self.rules if r.applies(a) and not r.answer(req, a, local))


# ---------------------------------------------------------------------------------------------------------------
# Timing


def per_second(run: Callable[[], object], n: int, repeats: int) -> list[float]:
    """Decisions per second of ``repeats`` timed runs of ``run`` (which makes ``n`` decisions), after a warm-up.

    The garbage collector stays on: a service pays for it too."""
    run()
    rates = []
    for _ in range(repeats):
        start = clock.perf_counter()
        run()
        rates.append(n / (clock.perf_counter() - start))
    gc.collect()
    return rates


@dataclass
class Row:
    events: int
    requests: int
    core: list[float]
    e2e: list[float]
    service: list[float]
    baseline: list[float]
    baseline_as_sent: list[float]
    outcomes: Counter[str]
    deny_rules: Counter[str]
    with_next: int
    agreed: int


def denying(decision: Decision) -> tuple[str, ...]:
    return tuple(r.rule for r in decision.reasons if r.effect is Effect.DENY)


def bench_size(
    n_events: int, n_requests: int, *, repeats: int, pack: Pack, loader: PackLoader, seed: int
) -> tuple[Row, list[ContactRequest]]:
    requests = make_requests(n_requests, n_events, pack, seed)
    documents = to_documents(requests)
    packs = {pack.name: pack}
    resolve = packs.__getitem__  # a resolver that only looks up: parsing, not pack loading, is timed
    service = GateService(loader, pack.name)  # as bootstrap() wires it
    baseline = SqliteBaseline(pack, loader.screener, requests)
    attempts = [(i, r.attempt) for i, r in enumerate(requests)]

    # Everything answers the same before anything is timed.
    decisions = [evaluate(r) for r in requests]
    if [d.effect for d in decisions] != [evaluate(parse_request(doc, resolve)).effect for doc in documents]:
        raise SystemExit(f"{n_events} events: parsing the JSON form changed a decision")
    answers = [baseline.decide(i, a) for i, a in attempts]
    disagree = [i for i, (d, b) in enumerate(zip(decisions, answers, strict=True)) if denying(d) != b]
    if any(d.effect is Effect.INDETERMINATE for d in decisions):
        raise SystemExit(f"{n_events} events: an indeterminate decision; the baseline has no such answer")
    if disagree:
        i = disagree[0]
        raise SystemExit(
            f"{n_events} events: the baseline disagrees on {len(disagree)} of {n_requests} requests; first: "
            f"#{i} gate {denying(decisions[i])} baseline {answers[i]}\n{json.dumps(documents[i], ensure_ascii=False)}"
        )

    def core() -> None:
        for r in requests:
            evaluate(r)

    def e2e() -> None:
        for doc in documents:
            evaluate(parse_request(doc, resolve))

    def via_service() -> None:
        for doc in documents:
            service.check(doc)

    def sql() -> None:
        for i, a in attempts:
            baseline.decide(i, a)

    def sql_as_sent() -> None:
        for r in requests:
            baseline.answer_as_sent(r)

    if [baseline.answer_as_sent(r) for r in requests] != answers:
        raise SystemExit(f"{n_events} events: the baseline answers differently with the request's own data")

    slow_repeats = max(3, repeats // 2)
    row = Row(
        events=n_events,
        requests=n_requests,
        core=per_second(core, n_requests, repeats),
        e2e=per_second(e2e, n_requests, repeats),
        service=per_second(via_service, n_requests, slow_repeats),
        baseline=per_second(sql, n_requests, slow_repeats),
        baseline_as_sent=per_second(sql_as_sent, n_requests, slow_repeats),
        outcomes=Counter(d.effect.value for d in decisions),
        deny_rules=Counter(rule for d in decisions for rule in denying(d)),
        with_next=sum(d.next_allowed_at is not None for d in decisions),
        agreed=n_requests - len(disagree),
    )
    baseline.db.close()
    return row, requests


# ---------------------------------------------------------------------------------------------------------------
# Report


def _k(rate: float) -> str:
    return f"{rate:,.0f}"


def table(rows: Sequence[Row]) -> str:
    med = statistics.median
    lines = [
        "| history | gate core, best | gate core, median | end-to-end (parse + evaluate), median "
        "| via GateService, median | SQLite baseline, best | SQLite baseline, median | core / baseline (medians) "
        "| SQLite baseline loading each request's data, median | end-to-end / that (medians) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.events} events | {_k(max(r.core))} | {_k(med(r.core))} | {_k(med(r.e2e))} | {_k(med(r.service))} "
            f"| {_k(max(r.baseline))} | {_k(med(r.baseline))} | {med(r.core) / med(r.baseline):.1f}× "
            f"| {_k(med(r.baseline_as_sent))} | {med(r.e2e) / med(r.baseline_as_sent):.1f}× |"
        )
    return "\n".join(lines)


def mix(rows: Sequence[Row]) -> str:
    lines = [
        "| history | requests | allow | deny | deny with next_allowed_at | denials by rule | baseline agrees |",
        "|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        by_rule = ", ".join(f"{rule} {n}" for rule, n in sorted(r.deny_rules.items()))
        lines.append(
            f"| {r.events} events | {r.requests} | {r.outcomes['allow']} | {r.outcomes['deny']} | {r.with_next} "
            f"| {by_rule} | {r.agreed} / {r.requests} |"
        )
    return "\n".join(lines)


def verdicts(rows: Sequence[Row]) -> list[str]:
    med = statistics.median
    at30 = next((r for r in rows if r.events == 30), None)
    if at30 is None:
        return []
    core, ratio = med(at30.core), med(at30.core) / med(at30.baseline)
    return [
        f"target >= {TARGET_PER_SECOND:,} decisions/s at 30 events (core, median): {_k(core)} -> "
        + ("met" if core >= TARGET_PER_SECOND else "NOT met"),
        f"target >= {TARGET_RATIO}x the baseline at 30 events (medians): {ratio:.1f}x -> "
        + ("met" if ratio >= TARGET_RATIO else "NOT met"),
    ]


def profile(requests: Sequence[ContactRequest], top: int = 25) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(3):
        for r in requests:
            evaluate(r)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run: small sets, few repeats")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per figure (default 9, quick 3)")
    parser.add_argument("--profile", action="store_true", help="cProfile the 30-event core loop afterwards")
    args = parser.parse_args(argv)

    pinning = pin_to_one_core()
    repeats = args.repeats or (3 if args.quick else 9)
    sizes = {0: 200, 30: 200, 300: 50} if args.quick else {0: 4000, 30: 4000, 300: 1000}
    loader = PackLoader()
    pack = loader.load("cn")

    print("Contact gate benchmark (bench/gate.py)" + (" --quick" if args.quick else ""))
    for key, value in machine_info(pinning).items():
        print(f"  {key:7} {value}")
    print(f"  pack    {pack.label}: {', '.join(r.id for r in pack.rules)}")
    print(f"  seed    {args.seed}; {repeats} timed runs per gate figure after a warm-up, best and median")
    print()

    rows: list[Row] = []
    at30: list[ContactRequest] = []
    for n_events, n_requests in sizes.items():
        print(f"{n_events} events x {n_requests} requests ...", file=sys.stderr, flush=True)
        row, requests = bench_size(n_events, n_requests, repeats=repeats, pack=pack, loader=loader, seed=args.seed)
        rows.append(row)
        if n_events == 30:
            at30 = requests
    print("Decisions per second, one core")
    print()
    print(table(rows))
    print()
    print("What the requests asked (the gate's answers; the baseline gave the same allow/deny and denying rules)")
    print()
    print(mix(rows))
    print()
    for line in verdicts(rows):
        print(line)
    if args.profile and at30:
        print()
        print("Diagnostic, 30 events: the same requests with attempt.content removed (not the benchmark's figure)")
        stripped = [replace(r, attempt=replace(r.attempt, content=None)) for r in at30]
        with_content = sum(r.attempt.content is not None for r in at30)
        rates = per_second(lambda: [evaluate(r) for r in stripped], len(stripped), repeats)
        median = _k(statistics.median(rates))
        print(f"  {with_content} of {len(at30)} requests carry content; core without it, median {median}")
        print()
        print("cProfile, gate core at 30 events (3 passes), by own time")
        print(profile(at30))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
