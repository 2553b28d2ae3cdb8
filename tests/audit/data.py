"""Fictional contact logs and fact tables for the audit tests: Hypothesis strategies and file writers.

Parties, phones (+1 202 555-01xx, a range reserved for fiction) and texts are made up. Each party lives in one
zone; the zones include two with daylight saving around the dates drawn (2026-03-08 in New York, 2026-04-05 in
Sydney) and one with a half-hour offset.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

from fairdun.application.audit import LOG_SPEC, FactTables, LogRow, Period
from fairdun.domain.contact import AgreedWindow, Channel, Consent, Direction, OptOut, Outcome, Purpose, Role

PARTIES = ("P1", "P2", "P3", "P4")
ZONES = {"P1": "Asia/Shanghai", "P2": "America/New_York", "P3": "Australia/Sydney", "P4": "Asia/Kolkata"}
ADDRESSES = {p: (f"+120255501{i}0", f"+120255501{i}1") for i, p in enumerate(PARTIES)}
DEBTS = {"D1": "P1", "D2": "P2", "D3": "P3"}
TEXTS = (
    "张伟您好，您的借款5000元已逾期3天，请及时还款。",
    "今天不还，明天就上门抓你去坐牢。",
    "你这个老赖，赶紧还钱。",
    "王芳您好，您的朋友张伟欠我司5000元逾期未还，请转告他。",
    "Please call us about your account. Reply STOP to opt out.",
    "We will sue you if you do not pay.",
    "Pay up, you deadbeat.",
    "Your payment is overdue.",
    "",
)
# Around the spring daylight-saving change in New York and the autumn one in Sydney.
STARTS = (datetime(2026, 3, 6, tzinfo=UTC), datetime(2026, 4, 3, tzinfo=UTC))
CHANNEL_WEIGHTS = [Channel.CALL] * 5 + [Channel.AI_CALL] * 2 + [Channel.SMS] * 2 + list(Channel)


@st.composite
def log_rows(draw: st.DrawFn, max_rows: int = 50) -> list[LogRow]:
    """A log; sometimes dense (few people, one day) so that every cap is reached."""
    start = draw(st.sampled_from(STARTS))
    n = draw(st.integers(0, max_rows))
    parties = PARTIES[: draw(st.integers(1, len(PARTIES)))]
    span_days = draw(st.integers(1, 3))
    rows = []
    for i in range(n):
        party = draw(st.sampled_from(parties))
        debt = draw(st.sampled_from(sorted(DEBTS)))
        minutes = draw(st.integers(0, span_days * 24 * 60 - 1))
        second = draw(st.sampled_from((0, 0, 0, 59)))
        at = start + timedelta(minutes=minutes, seconds=second)
        local = at.astimezone(ZoneInfo(ZONES[party]))
        channel = draw(st.sampled_from(CHANNEL_WEIGHTS))
        role = Role.DEBTOR if DEBTS[debt] == party and draw(st.booleans()) else draw(st.sampled_from(list(Role)))
        rows.append(
            LogRow(
                id=f"A{i:03d}",
                at=local,
                debt=debt,
                debtor=DEBTS[debt],
                party=party,
                role=role,
                address=draw(st.sampled_from(ADDRESSES[party])),
                tz=ZONES[party],
                channel=channel,
                purpose=draw(st.sampled_from(list(Purpose))),
                direction=Direction.INBOUND if draw(st.integers(0, 9)) == 0 else Direction.OUTBOUND,
                outcome=draw(st.sampled_from(list(Outcome))),
                content=draw(st.one_of(st.none(), st.sampled_from(TEXTS))),
                operator=draw(st.sampled_from(("op-1", "op-2", None))),
                org=draw(st.sampled_from(("lender", "agency-a"))),
            )
        )
    return rows


def _instant(draw: st.DrawFn, start: datetime) -> datetime:
    return start + timedelta(minutes=draw(st.integers(-24 * 60, 3 * 24 * 60)))


@st.composite
def fact_tables(draw: st.DrawFn) -> FactTables:
    start = draw(st.sampled_from(STARTS))
    present = st.booleans()

    def maybe(build: Any) -> Any:
        return build() if draw(present) else None

    def consents() -> tuple[Consent, ...]:
        out = []
        for _ in range(draw(st.integers(0, 4))):
            granted = _instant(draw, start)
            withdrawn = granted + timedelta(hours=draw(st.integers(1, 48))) if draw(st.booleans()) else None
            purpose = draw(st.sampled_from(("contact_relay", "marketing")))
            out.append(Consent(draw(st.sampled_from(PARTIES)), purpose, granted, withdrawn))
        return tuple(out)

    def keyed(keys: Sequence[str]) -> tuple[tuple[str, datetime], ...]:
        return tuple((draw(st.sampled_from(keys)), _instant(draw, start)) for _ in range(draw(st.integers(0, 3))))

    def periods(keys: Sequence[str]) -> tuple[Period, ...]:
        out = []
        for _ in range(draw(st.integers(0, 3))):
            since = _instant(draw, start)
            until = since + timedelta(hours=draw(st.integers(1, 60))) if draw(st.booleans()) else None
            out.append(Period(draw(st.sampled_from(keys)), since, until))
        return tuple(out)

    def opt_outs() -> tuple[tuple[OptOut, datetime], ...]:
        out = []
        for _ in range(draw(st.integers(0, 3))):
            party = draw(st.sampled_from(PARTIES))
            address = draw(st.sampled_from((None, *ADDRESSES[party])))
            out.append((OptOut(party, draw(st.sampled_from(list(Channel))), address), _instant(draw, start)))
        return tuple(out)

    def windows() -> tuple[AgreedWindow, ...]:
        out = []
        for _ in range(draw(st.integers(0, 3))):
            s = draw(st.integers(0, 47)) * 1800
            e = (s + draw(st.integers(1, 47)) * 1800) % 86_400
            out.append(AgreedWindow(draw(st.sampled_from(PARTIES)), _clock(s), _clock(e)))
        return tuple(out)

    def guarantors() -> frozenset[tuple[str, str]]:
        n = draw(st.integers(0, 3))
        return frozenset((draw(st.sampled_from(sorted(DEBTS))), draw(st.sampled_from(PARTIES))) for _ in range(n))

    return FactTables(
        consents=maybe(consents),
        refusals=maybe(lambda: keyed(PARTIES)),
        opt_outs=maybe(opt_outs),
        agreed_windows=maybe(windows),
        unreachable=maybe(lambda: periods(sorted(set(DEBTS.values())))),
        guarantors=maybe(guarantors),
        attorneys=maybe(lambda: periods(sorted(set(DEBTS.values())))),
        cease_requests=maybe(lambda: keyed(sorted(DEBTS))),
        time_barred=maybe(lambda: keyed(sorted(DEBTS))),
    )


def _clock(seconds: int) -> time:
    return time(seconds // 3600, seconds % 3600 // 60)


def _iso(at: datetime | None) -> str:
    return "" if at is None else at.isoformat()


LOG_HEADER = tuple(LOG_SPEC)


def log_records(rows: Sequence[LogRow]) -> list[dict[str, str | None]]:
    return [
        {
            "id": r.id,
            "at": r.at.isoformat(),
            "debt": r.debt,
            "debtor": r.debtor,
            "party": r.party,
            "role": r.role.value,
            "address": r.address,
            "tz": r.tz,
            "channel": r.channel.value,
            "purpose": r.purpose.value,
            "direction": r.direction.value,
            "outcome": r.outcome.value,
            "content": r.content,
            "operator": r.operator,
            "org": r.org,
        }
        for r in rows
    ]


def write_log_csv(rows: Sequence[LogRow], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, LOG_HEADER)
        writer.writeheader()
        for record in log_records(rows):
            # An empty CSV field is read as empty text; the log's content NULL is written as nothing at all.
            writer.writerow({k: ("" if v is None else v) for k, v in record.items()})
    return path


def write_log_parquet(rows: Sequence[LogRow], path: Path) -> Path:
    records = log_records(rows)
    columns: dict[str, Any] = {name: [rec[name] for rec in records] for name in LOG_HEADER}
    columns["at"] = pa.array([r.at for r in rows], pa.timestamp("us", tz="UTC"))
    table = pa.table({k: (v if k == "at" else pa.array(v, pa.string())) for k, v in columns.items()})
    pq.write_table(table, path)
    return path


def write_facts(tables: FactTables, directory: Path) -> Path:
    """Each supplied table as CSV in ``directory`` (an absent table is an absent file)."""
    directory.mkdir(parents=True, exist_ok=True)

    def put(name: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        with (directory / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)

    if tables.consents is not None:
        rows = [(c.party, c.purpose, _iso(c.granted_at), _iso(c.withdrawn_at)) for c in tables.consents]
        put("consents", ("party", "purpose", "granted_at", "withdrawn_at"), rows)
    if tables.refusals is not None:
        put("refusals", ("party", "at"), [(p, _iso(t)) for p, t in tables.refusals])
    if tables.opt_outs is not None:
        rows = [(o.party, o.channel.value, o.address or "", _iso(t)) for o, t in tables.opt_outs]
        put("opt_outs", ("party", "channel", "address", "at"), rows)
    if tables.agreed_windows is not None:
        rows = [(w.party, w.start.strftime("%H:%M"), w.end.strftime("%H:%M")) for w in tables.agreed_windows]
        put("agreed_windows", ("party", "start", "end"), rows)
    if tables.unreachable is not None:
        rows = [(p.key, _iso(p.since), _iso(p.until)) for p in tables.unreachable]
        put("unreachable", ("debtor", "since", "until"), rows)
    if tables.guarantors is not None:
        put("guarantors", ("debt", "party"), sorted(tables.guarantors))
    if tables.attorneys is not None:
        rows = [(p.key, _iso(p.since), _iso(p.until)) for p in tables.attorneys]
        put("attorneys", ("debtor", "since", "until"), rows)
    if tables.cease_requests is not None:
        put("cease_requests", ("debt", "at"), [(d, _iso(t)) for d, t in tables.cease_requests])
    if tables.time_barred is not None:
        put("time_barred", ("debt", "since"), [(d, _iso(t)) for d, t in tables.time_barred])
    return directory


def seeded_log(n: int, seed: int) -> tuple[list[LogRow], FactTables]:
    """A deterministic log of ``n`` rows over four people and three days, and a full set of fact tables."""
    rng = random.Random(seed)
    start = STARTS[seed % len(STARTS)]
    rows = []
    for i in range(n):
        party = rng.choice(PARTIES)
        debt = rng.choice(sorted(DEBTS))
        at = start + timedelta(minutes=rng.randrange(3 * 24 * 60))
        role = Role.DEBTOR if DEBTS[debt] == party and rng.random() < 0.7 else rng.choice(list(Role))
        rows.append(
            LogRow(
                id=f"S{i:05d}",
                at=at.astimezone(ZoneInfo(ZONES[party])),
                debt=debt,
                debtor=DEBTS[debt],
                party=party,
                role=role,
                address=rng.choice(ADDRESSES[party]),
                tz=ZONES[party],
                channel=rng.choice(CHANNEL_WEIGHTS),
                purpose=rng.choice(list(Purpose)),
                direction=Direction.INBOUND if rng.random() < 0.1 else Direction.OUTBOUND,
                outcome=rng.choice(list(Outcome)),
                content=rng.choice((None, None, *TEXTS)),
                operator=rng.choice(("op-1", "op-2", "op-3")),
                org=rng.choice(("lender", "agency-a", "agency-b")),
            )
        )

    def when() -> datetime:
        return start + timedelta(minutes=rng.randrange(-24 * 60, 3 * 24 * 60))

    tables = FactTables(
        consents=tuple(
            Consent(p, "contact_relay", when(), rng.choice((None, when() + timedelta(days=1)))) for p in PARTIES[:3]
        ),
        refusals=((PARTIES[3], when()),),
        opt_outs=(
            (OptOut(PARTIES[1], Channel.SMS), when()),
            (OptOut(PARTIES[2], Channel.CALL, ADDRESSES[PARTIES[2]][0]), when()),
        ),
        agreed_windows=(
            AgreedWindow(PARTIES[0], time(22, 0), time(23, 0)),
            AgreedWindow(PARTIES[1], time(21, 0), time(7, 30)),
        ),
        unreachable=(Period("P1", when(), None), Period("P2", when(), when() + timedelta(days=2))),
        guarantors=frozenset({("D1", "P3"), ("D2", "P4")}),
        attorneys=(Period("P3", when(), None),),
        cease_requests=(("D2", when()),),
        time_barred=(("D3", when()),),
    )
    return rows, tables


def log_row(n: int, **changes: str) -> dict[str, str]:
    """One log row as text (the n-th of a day, an hour apart from 09:00 in Shanghai); ``changes`` replace fields."""
    base = {
        "id": f"C{n}",
        "at": f"2026-11-23T{9 + n:02d}:00:00+08:00",
        "debt": "L1",
        "debtor": "B1",
        "party": "B1",
        "role": "debtor",
        "address": "+12025550100",
        "tz": "Asia/Shanghai",
        "channel": "call",
        "purpose": "collect",
        "direction": "outbound",
        "outcome": "no_answer",
        "content": "",
        "operator": "op-1",
        "org": "agency-a",
    }
    base.update(changes)
    return base
