"""The outbox on both databases: idempotent enqueue, dispatch, re-runs, crashes and retries.

A crash is an exception escaping ``dispatch`` at a chosen step: the test then does what a restarted worker does
(``recover`` the stale claims, dispatch again) and checks that the recipient got the message once, the history
holds one event for it, and nothing was lost.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from fairdun.adapters.channels.log import LogChannel
from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.channels import DeliveryResult, FakeChannel, OutboundMessage
from fairdun.application.outbox import DispatchReport, RetryPolicy, dispatch, history_id, recover
from fairdun.application.ports import ConflictError, ContactRecord, OutboxEntry, OutboxStatus, UnitOfWork
from fairdun.domain.contact import Channel, Outcome

from .data import BEIJING

NOW = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
DECIDED = NOW - timedelta(minutes=5)


class CrashError(Exception):
    """The worker dies here."""


def message(key: str, *, debt: str = "L-0001", address: str = "party-0001/phone/1") -> OutboundMessage:
    return OutboundMessage(key, Channel.SMS, address, "party-0001", debt, "请于今日还款。", created_at=DECIDED)


def factory(engine: Engine) -> Callable[[], UnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)


def enqueue(engine: Engine, *keys: str) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        for key in keys:
            uow.outbox.enqueue(message(key), arm="champion", rule_pack="cn-2024.1", decided_at=DECIDED)
        uow.commit()


def run(
    engine: Engine, channel: FakeChannel | CrashingChannel, *, at: datetime = NOW, retry: RetryPolicy | None = None
) -> DispatchReport:
    return dispatch(factory(engine), channel, worker="worker-1", now=at, limit=100, retry=retry)


def status(engine: Engine, key: str) -> OutboxStatus:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        entry = uow.outbox.get(key)
        assert entry is not None
        return entry.status


def history(engine: Engine) -> tuple[ContactRecord, ...]:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        return uow.contacts.history(debts=["L-0001"])


def transmitted(channel: FakeChannel) -> list[str]:
    """The keys that actually reached a recipient, in order: results that transmitted and were not a failure."""
    return [r.key for r in channel.results if r.attempts > 0 and r.outcome is Outcome.DELIVERED]


@dataclass
class CrashingChannel:
    """Wraps a FakeChannel; the first send crashes before handing the message over, or after it was transmitted."""

    inner: FakeChannel
    when: str  # "before" or "after"
    crashed: bool = False

    def send(self, message: OutboundMessage) -> DeliveryResult:
        if not self.crashed and self.when == "before":
            self.crashed = True
            raise CrashError
        result = self.inner.send(message)
        if not self.crashed and self.when == "after":
            self.crashed = True
            raise CrashError
        return result

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> DeliveryResult:
        return self.inner.parse_callback(body, headers)

    def close(self) -> None:
        self.inner.close()


# --- the repository -----------------------------------------------------------------------------------------


def test_an_enqueued_message_comes_back_as_it_went_in(uow: SqlAlchemyUnitOfWork) -> None:
    sent = message("k-0001")
    with uow:
        entry = uow.outbox.enqueue(sent, arm="champion", rule_pack="cn-2024.1", decided_at=DECIDED.astimezone(BEIJING))
        uow.commit()
    with uow:
        assert uow.outbox.get("k-0001") == entry
    assert entry.message == sent
    assert (entry.key, entry.arm, entry.rule_pack, entry.decided_at) == ("k-0001", "champion", "cn-2024.1", DECIDED)
    assert entry.decided_at.tzinfo is UTC
    assert (entry.status, entry.attempts, entry.outcome, entry.finished_at) == (OutboxStatus.PENDING, 0, None, None)


def test_enqueuing_the_same_key_again_returns_the_stored_entry_and_adds_no_row(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        first = uow.outbox.enqueue(message("k-0001"), arm="champion", rule_pack="cn-2024.1", decided_at=DECIDED)
        again = uow.outbox.enqueue(message("k-0001"), arm="challenger", rule_pack="cn-2024.2", decided_at=NOW)
        uow.commit()
    assert again == first
    with uow:  # and in a later transaction, as a re-run of the day's cycle would
        later = uow.outbox.enqueue(message("k-0001"), arm="challenger", rule_pack="cn-2024.2", decided_at=NOW)
        uow.commit()
    assert later == first
    with uow:
        assert [e.key for e in uow.outbox.pending(10)] == ["k-0001"]


def test_two_workers_enqueuing_one_key_at_once_store_it_once(engine: Engine) -> None:
    first, second = SqlAlchemyUnitOfWork(engine), SqlAlchemyUnitOfWork(engine)
    got: list[OutboxEntry] = []

    def enqueue_second() -> None:
        with second:  # waits for the first transaction's row lock (PostgreSQL) or write lock (SQLite)
            got.append(second.outbox.enqueue(message("k-0001"), arm="challenger", rule_pack="p2", decided_at=NOW))
            second.commit()

    with first:
        stored = first.outbox.enqueue(message("k-0001"), arm="champion", rule_pack="cn-2024.1", decided_at=DECIDED)
        racer = threading.Thread(target=enqueue_second)
        racer.start()
        time.sleep(0.3)
        first.commit()
    racer.join(timeout=10)
    assert got == [stored]


def test_a_repeated_enqueue_does_not_spoil_the_transaction(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        uow.outbox.enqueue(message("k-0001"), arm="champion", rule_pack="cn-2024.1", decided_at=DECIDED)
        uow.commit()
    with uow:
        uow.outbox.enqueue(message("k-0001"), arm="champion", rule_pack="cn-2024.1", decided_at=DECIDED)
        uow.outbox.enqueue(message("k-0002"), arm="champion", rule_pack="cn-2024.1", decided_at=DECIDED)
        uow.commit()
    with uow:
        assert [e.key for e in uow.outbox.pending(10)] == ["k-0001", "k-0002"]


def test_a_naive_decision_time_is_refused(uow: SqlAlchemyUnitOfWork) -> None:
    with uow, pytest.raises(ValueError, match="decided_at"):
        uow.outbox.enqueue(message("k-0001"), arm="a", rule_pack="p", decided_at=DECIDED.replace(tzinfo=None))


def test_pending_is_oldest_first_and_limited(engine: Engine) -> None:
    enqueue(engine, "k-0003", "k-0001", "k-0002")
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert [e.key for e in uow.outbox.pending(2)] == ["k-0003", "k-0001"]


def test_only_one_worker_can_claim_an_entry(engine: Engine) -> None:
    enqueue(engine, "k-0001")
    first, second = SqlAlchemyUnitOfWork(engine), SqlAlchemyUnitOfWork(engine)
    with first:
        claimed = first.outbox.claim("k-0001", "worker-1", NOW)
        first.commit()
    with second:
        assert second.outbox.claim("k-0001", "worker-2", NOW) is None
        assert second.outbox.pending(10) == ()
    assert claimed is not None
    assert (claimed.status, claimed.claimed_by, claimed.claimed_at, claimed.attempts) == (
        OutboxStatus.CLAIMED,
        "worker-1",
        NOW,
        1,
    )


def test_an_entry_that_is_not_claimed_cannot_be_marked(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        uow.outbox.enqueue(message("k-0001"), arm="a", rule_pack="p", decided_at=DECIDED)
        with pytest.raises(ConflictError, match="not claimed"):
            uow.outbox.mark_sent("k-0001", DeliveryResult("k-0001", Outcome.DELIVERED))


def test_recover_hands_back_only_stale_claims(engine: Engine) -> None:
    enqueue(engine, "k-0001", "k-0002")
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.outbox.claim("k-0001", "worker-1", NOW - timedelta(minutes=20))
        uow.outbox.claim("k-0002", "worker-2", NOW)
        uow.commit()
    assert recover(factory(engine), stale_before=NOW - timedelta(minutes=10)) == ("k-0001",)
    with uow:
        back = uow.outbox.get("k-0001")
        assert back is not None
        assert (back.status, back.claimed_by, back.attempts) == (OutboxStatus.PENDING, None, 1)
    assert status(engine, "k-0002") is OutboxStatus.CLAIMED


# --- dispatch -----------------------------------------------------------------------------------------------


def test_dispatch_sends_each_entry_once_and_records_it_in_the_history(engine: Engine) -> None:
    enqueue(engine, "k-0001", "k-0002", "k-0003")
    channel = FakeChannel()
    report = run(engine, channel)
    assert channel.keys == ["k-0001", "k-0002", "k-0003"]
    assert report == DispatchReport(sent=("k-0001", "k-0002", "k-0003"))
    assert [(r.id, r.event.outcome) for r in history(engine)] == [
        ("k-0001#1", Outcome.DELIVERED),
        ("k-0002#1", Outcome.DELIVERED),
        ("k-0003#1", Outcome.DELIVERED),
    ]
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        entry = uow.outbox.get("k-0002")
    assert entry is not None
    assert (entry.status, entry.outcome, entry.provider_ref, entry.finished_at) == (
        OutboxStatus.SENT,
        Outcome.DELIVERED,
        "fake-2",
        NOW,
    )


def test_running_the_day_twice_sends_nothing_twice(engine: Engine) -> None:
    enqueue(engine, "k-0001", "k-0002")
    channel = FakeChannel()
    run(engine, channel)
    enqueue(engine, "k-0001", "k-0002")  # the cycle re-plans the same day: same keys
    report = run(engine, channel, at=NOW + timedelta(hours=1))
    assert report == DispatchReport()
    assert channel.keys == ["k-0001", "k-0002"]
    assert len(history(engine)) == 2


def test_a_crash_after_the_claim_and_before_the_send_loses_nothing(engine: Engine) -> None:
    enqueue(engine, "k-0001", "k-0002")
    fake = FakeChannel(deduplicate=True)
    with pytest.raises(CrashError):
        run(engine, CrashingChannel(fake, "before"))
    assert fake.keys == []
    assert status(engine, "k-0001") is OutboxStatus.CLAIMED  # held by the dead worker ...
    assert status(engine, "k-0002") is OutboxStatus.PENDING  # ... and the rest untouched
    restart = NOW + timedelta(minutes=15)
    assert run(engine, fake, at=restart) == DispatchReport(sent=("k-0002",))

    assert recover(factory(engine), stale_before=restart - timedelta(minutes=10)) == ("k-0001",)
    assert run(engine, fake, at=restart) == DispatchReport(sent=("k-0001",))
    assert fake.keys == ["k-0002", "k-0001"]
    assert sorted(transmitted(fake)) == ["k-0001", "k-0002"]
    assert sorted(r.id for r in history(engine)) == ["k-0001#2", "k-0002#1"]
    assert run(engine, fake, at=restart) == DispatchReport()


def test_a_crash_after_the_send_and_before_the_record_sends_once_and_records_once(engine: Engine) -> None:
    enqueue(engine, "k-0001")
    fake = FakeChannel(deduplicate=True)  # a gateway that deduplicates on the idempotency key
    with pytest.raises(CrashError):
        run(engine, CrashingChannel(fake, "after"))
    assert transmitted(fake) == ["k-0001"]
    assert history(engine) == ()  # the record step never committed

    restart = NOW + timedelta(minutes=15)
    assert recover(factory(engine), stale_before=restart - timedelta(minutes=10)) == ("k-0001",)
    assert run(engine, fake, at=restart) == DispatchReport(sent=("k-0001",))
    assert fake.keys == ["k-0001", "k-0001"]  # handed over twice, under one key ...
    assert [r.attempts for r in fake.results] == [1, 0]  # ... and transmitted once
    assert transmitted(fake) == ["k-0001"]
    assert [(r.id, r.event.outcome) for r in history(engine)] == [("k-0001#2", Outcome.DELIVERED)]
    assert status(engine, "k-0001") is OutboxStatus.SENT


def test_with_the_log_channel_a_restart_after_a_crash_writes_the_message_once(engine: Engine, tmp_path: Path) -> None:
    enqueue(engine, "k-0001", "k-0002")
    log = tmp_path / "outbox.jsonl"

    class DiesAfterWriting(LogChannel):
        def send(self, message: OutboundMessage) -> DeliveryResult:
            super().send(message)
            raise CrashError

    with pytest.raises(CrashError):
        dispatch(factory(engine), DiesAfterWriting(log), worker="worker-1", now=NOW, limit=10)
    restart = NOW + timedelta(minutes=15)
    recover(factory(engine), stale_before=restart - timedelta(minutes=10))
    channel = LogChannel(log)  # a new process: it knows the file, not the keys
    report = dispatch(factory(engine), channel, worker="worker-2", now=restart, limit=10)
    assert report == DispatchReport(sent=("k-0001", "k-0002"))
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [line["idempotency_key"] for line in lines] == ["k-0001", "k-0002"]
    assert sorted(r.id for r in history(engine)) == ["k-0001#2", "k-0002#1"]


def test_a_crash_inside_the_channel_is_recovered_with_the_same_key(engine: Engine) -> None:
    enqueue(engine, "k-0001")
    calls: list[str] = []

    def die_once(sent: OutboundMessage) -> None:
        calls.append(sent.key)
        if len(calls) == 1:
            raise CrashError

    fake = FakeChannel(deduplicate=True, on_send=die_once)
    with pytest.raises(CrashError):
        run(engine, fake)
    assert recover(factory(engine), stale_before=NOW + timedelta(minutes=1)) == ("k-0001",)
    run(engine, fake, at=NOW + timedelta(minutes=1))
    assert fake.keys == ["k-0001", "k-0001"]
    assert transmitted(fake) == ["k-0001"]
    assert len(history(engine)) == 1


def test_a_slow_worker_whose_claim_was_recovered_records_nothing_twice(engine: Engine) -> None:
    enqueue(engine, "k-0001")
    fake = FakeChannel(deduplicate=True)
    others: list[DispatchReport] = []

    def slow(sent: OutboundMessage) -> None:
        if len(fake.sent) == 1:  # while worker-1 is still sending, its claim is taken as dead and handed on
            recover(factory(engine), stale_before=NOW + timedelta(minutes=30))
            later = NOW + timedelta(minutes=30)
            others.append(dispatch(factory(engine), fake, worker="worker-2", now=later, limit=10))

    fake.on_send = slow
    assert run(engine, fake) == DispatchReport(skipped=("k-0001",))
    assert others == [DispatchReport(sent=("k-0001",))]
    assert transmitted(fake) == ["k-0001"]
    assert [r.id for r in history(engine)] == ["k-0001#2"]
    assert status(engine, "k-0001") is OutboxStatus.SENT


def test_a_retryable_failure_waits_for_its_backoff_then_succeeds(engine: Engine) -> None:
    enqueue(engine, "k-0001")
    fake = FakeChannel(transient_failures=1)
    assert run(engine, fake) == DispatchReport(retrying=("k-0001",))
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        entry = uow.outbox.get("k-0001")
    assert entry is not None
    assert (entry.status, entry.attempts, entry.outcome, entry.retry_at) == (
        OutboxStatus.PENDING,
        1,
        Outcome.FAILED,
        NOW + timedelta(minutes=1),
    )
    assert entry.error == "fake: transient failure"

    assert run(engine, fake, at=NOW + timedelta(seconds=59)) == DispatchReport()  # not due yet
    assert run(engine, fake, at=NOW + timedelta(minutes=1)) == DispatchReport(sent=("k-0001",))
    assert fake.keys == ["k-0001", "k-0001"]
    assert transmitted(fake) == ["k-0001"]
    assert [(r.id, r.event.outcome) for r in history(engine)] == [
        ("k-0001#1", Outcome.FAILED),  # the failed attempt is history too: the gate's caps decide if it counts
        ("k-0001#2", Outcome.DELIVERED),
    ]
    assert status(engine, "k-0001") is OutboxStatus.SENT


def test_retries_back_off_and_give_up_after_the_last_attempt(engine: Engine) -> None:
    enqueue(engine, "k-0001")
    fake = FakeChannel(transient_failures=10)
    policy = RetryPolicy(base=timedelta(minutes=1), factor=2, max_attempts=3)
    at = NOW
    for wait, expected in [
        (timedelta(minutes=1), DispatchReport(retrying=("k-0001",))),
        (timedelta(minutes=2), DispatchReport(retrying=("k-0001",))),
        (None, DispatchReport(failed=("k-0001",))),
    ]:
        assert run(engine, fake, at=at, retry=policy) == expected
        uow = SqlAlchemyUnitOfWork(engine)
        with uow:
            entry = uow.outbox.get("k-0001")
        assert entry is not None
        assert entry.retry_at == (None if wait is None else at + wait)
        at += wait or timedelta(0)
    assert status(engine, "k-0001") is OutboxStatus.FAILED
    assert run(engine, fake, at=NOW + timedelta(days=1), retry=policy) == DispatchReport()
    assert len(fake.keys) == 3


def test_a_non_retryable_failure_is_final(engine: Engine) -> None:
    enqueue(engine, "k-0001")
    fake = FakeChannel(outcomes={"party-0001/phone/1": Outcome.BOUNCED})
    assert run(engine, fake) == DispatchReport(failed=("k-0001",))
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        entry = uow.outbox.get("k-0001")
    assert entry is not None
    assert (entry.status, entry.outcome, entry.error, entry.finished_at) == (
        OutboxStatus.FAILED,
        Outcome.BOUNCED,
        "fake: bounced",
        NOW,
    )
    assert run(engine, fake, at=NOW + timedelta(days=1)) == DispatchReport()
    assert fake.keys == ["k-0001"]
    assert [(r.id, r.event.outcome) for r in history(engine)] == [("k-0001#1", Outcome.BOUNCED)]


# --- pure parts ---------------------------------------------------------------------------------------------


def test_the_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(base=timedelta(minutes=1), factor=2, cap=timedelta(minutes=5), max_attempts=100)
    delays = [policy.retry_at(n, NOW) for n in (1, 2, 3, 4, 99)]
    assert [d - NOW for d in delays if d is not None] == [timedelta(minutes=m) for m in (1, 2, 4, 5, 5)]
    assert policy.retry_at(100, NOW) is None


def test_a_history_id_fits_the_history_even_for_the_longest_key() -> None:
    assert history_id("k-0001", 2) == "k-0001#2"
    long_id = history_id("k" * 200, 12)
    assert len(long_id) <= 64
    assert long_id.endswith("#12")
    assert long_id != history_id("k" * 199 + "j", 12)
