"""Sending what the outbox holds: claim, send, record, each step committed, so a crash anywhere loses nothing and
sends nothing twice.

For each pending entry :func:`dispatch`

1. **claims** it and commits: from here no other worker sends it;
2. **sends** it through the :class:`~fairdun.application.channels.Channel`, outside any transaction (a slow gateway
   holds no lock);
3. **records** the result on the entry and appends the :class:`~fairdun.domain.contact.ContactEvent` to the
   contact history, in one transaction, so the gate sees the contact exactly when the outbox says it happened.

What a crash does at each point:

- before the claim commits: the entry is still pending; the next run sends it.
- after the claim, before or during the send, or after the send but before step 3 commits: the entry stays
  claimed. :func:`recover` (or ``uow.outbox.recover``) hands claims older than a worker could take back to
  pending, and the next run sends the message again **under the same idempotency key**: a channel that already
  transmitted it answers ``attempts=0`` with the earlier outcome (the log channel remembers keys, a webhook
  gateway deduplicates on ``Idempotency-Key``, SMTP reuses the Message-ID), and that answer is recorded once.

History ids are ``<key>#<attempt>`` (the claim number), so the history says which try an event came from. A
worker that was merely slow, whose claim was recovered and finished by another, finds the entry no longer claimed
when it records: its transaction rolls back and the key is reported ``skipped``, so one record stands.

Which results are final: a result that is not ``retryable`` is; a ``retryable`` one goes back to pending with
``retry_at`` = now + backoff (:class:`RetryPolicy`) until ``max_attempts``, then fails for good. A retryable result
with ``attempts == 0`` transmitted nothing and adds no history; every other result does, failures included (a
failed call is still an attempt, and the gate's caps decide which attempts count).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fairdun.application.audit_trail import vouch_contacts
from fairdun.application.channels import Channel, DeliveryResult, contact_event
from fairdun.application.personal_data import log_dispatch
from fairdun.application.ports import ConflictError, ContactRecord, OutboxEntry, OutboxStatus, UnitOfWork
from fairdun.domain.contact import Outcome

_HISTORY_ID_LENGTH = 64  # the contact history's id column
_FAILURES = frozenset({Outcome.FAILED, Outcome.BOUNCED})
"""Outcomes that mean the message never reached anyone: final failures unless the result is retryable."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff for retryable failures: try ``n`` (1-based) that failed is retried after
    ``min(cap, base * factor ** (n - 1))``; after ``max_attempts`` tries the entry has failed for good.

    Keep ``cap`` short enough that a retry still falls inside the window the gate allowed: the outbox does not
    ask the gate again."""

    base: timedelta = timedelta(minutes=1)
    factor: int = 2
    cap: timedelta = timedelta(minutes=30)
    max_attempts: int = 5

    def __post_init__(self) -> None:
        if self.base <= timedelta(0) or self.cap < self.base or self.factor < 1 or self.max_attempts < 1:
            raise ValueError(f"invalid retry policy: {self}")

    def retry_at(self, attempt: int, now: datetime) -> datetime | None:
        """When to try again after try ``attempt`` failed retryably at ``now``; None when it was the last."""
        if attempt >= self.max_attempts:
            return None
        delay = self.base
        for _ in range(attempt - 1):  # capped at each step, so no number of tries overflows a timedelta
            delay = min(self.cap, delay * self.factor)
        return now + delay


@dataclass(frozen=True, slots=True)
class DispatchReport:
    """What one :func:`dispatch` run did, by key: ``sent`` (final result recorded), ``failed`` (final failure),
    ``retrying`` (back to pending with a ``retry_at``), ``skipped`` (another worker claimed it first)."""

    sent: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    retrying: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


@dataclass
class _Tally:
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def report(self) -> DispatchReport:
        return DispatchReport(tuple(self.sent), tuple(self.failed), tuple(self.retrying), tuple(self.skipped))


def dispatch(
    uow_factory: Callable[[], UnitOfWork],
    channel: Channel,
    *,
    worker: str,
    now: datetime,
    limit: int,
    retry: RetryPolicy | None = None,
    batch: int = 1,
) -> DispatchReport:
    """Sends up to ``limit`` pending entries due at ``now`` through ``channel`` as ``worker``; see the module
    docstring for the steps and what a crash at each leaves behind. An exception from the channel (a programming
    error, by the port's contract) propagates and leaves the entry it was sending claimed, for :func:`recover`.

    With ``batch`` > 1, up to that many entries are claimed in one transaction and their results recorded in one
    (each entry's claim and result are still conditional on its own row, so the crash analysis is unchanged; a
    batch whose record meets a conflict is recorded again entry by entry)."""
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    policy = retry or RetryPolicy()
    tally = _Tally()
    with uow_factory() as uow:
        due = uow.outbox.pending(limit, due_at=now)
    for first in range(0, len(due), batch):
        chunk = due[first : first + batch]
        if batch == 1:
            with uow_factory() as uow:
                one = uow.outbox.claim(chunk[0].key, worker, now)
                log_dispatch(uow, [one] if one is not None else [], worker=worker, at=now)
                uow.commit()
            claimed = [one] if one is not None else []
        else:
            with uow_factory() as uow:
                claimed = list(uow.outbox.claim_many([e.key for e in chunk], worker, now))
                log_dispatch(uow, claimed, worker=worker, at=now)  # the addresses about to go to the channel
                uow.commit()
        held = {e.key for e in claimed}
        tally.skipped.extend(e.key for e in chunk if e.key not in held)
        sent = [(entry, channel.send(entry.message)) for entry in claimed]
        if len(sent) > 1 and _record_all(uow_factory, worker, sent, now=now, policy=policy, tally=tally):
            continue
        for entry, result in sent:
            _record(uow_factory, entry, result=result, now=now, policy=policy, tally=tally)
    return tally.report()


def _record_all(
    uow_factory: Callable[[], UnitOfWork],
    worker: str,
    sent: list[tuple[OutboxEntry, DeliveryResult]],
    *,
    now: datetime,
    policy: RetryPolicy,
    tally: _Tally,
) -> bool:
    """Records a batch's results in one transaction, in two statements; False (nothing kept) when one of the
    entries is no longer this worker's (the caller then records them one by one)."""
    endings = []
    history = []
    statuses: dict[str, int] = {}
    for entry, result in sent:
        ended, status, retry_at = _ending(entry, result, now=now, policy=policy)
        endings.append((entry.key, result, status, retry_at, now))
        if result.attempts > 0 or not result.retryable:
            history.append(
                ContactRecord(history_id(entry.key, entry.attempts), contact_event(entry.message, result, now))
            )
        {"sent": tally.sent, "failed": tally.failed, "retrying": tally.retrying}[ended].append(entry.key)
        statuses[ended] = statuses.get(ended, 0) + 1
    with uow_factory() as uow:
        try:
            uow.outbox.finish_many(worker, endings)
            seq = vouch_contacts(uow, history, actor=f"system:{worker}", at=now, statuses=statuses)
            uow.contacts.add_many(history, audit_seq=seq)
        except ConflictError:
            for lst in (tally.sent, tally.failed, tally.retrying):
                for key in [k for k, _, _, _, _ in endings if k in lst]:
                    lst.remove(key)
            return False
        uow.commit()
    return True


def _ending(
    entry: OutboxEntry, result: DeliveryResult, *, now: datetime, policy: RetryPolicy
) -> tuple[str, OutboxStatus, datetime | None]:
    """How a result ends an entry: (tally name, new status, retry_at)."""
    if result.retryable:
        retry_at = policy.retry_at(entry.attempts, now)
        if retry_at is not None:
            return "retrying", OutboxStatus.PENDING, retry_at
        return "failed", OutboxStatus.FAILED, None
    if result.outcome in _FAILURES:
        return "failed", OutboxStatus.FAILED, None
    return "sent", OutboxStatus.SENT, None


def recover(uow_factory: Callable[[], UnitOfWork], *, stale_before: datetime) -> tuple[str, ...]:
    """Hands entries claimed before ``stale_before`` and never finished back to pending (committed); their keys."""
    with uow_factory() as uow:
        keys = uow.outbox.recover(stale_before)
        uow.commit()
    return keys


def expire(uow_factory: Callable[[], UnitOfWork], *, now: datetime, grace: timedelta) -> tuple[str, ...]:
    """Fails, without sending, every pending message whose ``not_before`` is more than ``grace`` before ``now``:
    the gate allowed it for that instant, and sending it hours later could break a window or a cap the decision
    did not look at. The next cycle plans afresh. Nothing enters the history (nothing was sent). Their keys."""
    expired = []
    with uow_factory() as uow:
        for entry in uow.outbox.pending(10_000, due_at=now):
            planned = entry.message.not_before
            if planned is None or now - planned <= grace or entry.attempts > 0:
                continue
            if uow.outbox.claim(entry.key, "expiry", now) is None:
                continue
            late = f"expired: planned for {planned.isoformat()}, not sent by {(planned + grace).isoformat()}"
            uow.outbox.mark_failed(
                entry.key, DeliveryResult(entry.key, Outcome.FAILED, attempts=0, error=late), None, at=now
            )
            expired.append(entry.key)
        uow.commit()
    return tuple(expired)


def history_id(key: str, attempt: int) -> str:
    """The contact history id for try ``attempt`` of the message ``key``: ``<key>#<attempt>``, or, for a key too
    long for the history's id column, a digest of it in the key's place."""
    suffix = f"#{attempt}"
    if len(key) + len(suffix) <= _HISTORY_ID_LENGTH:
        return key + suffix
    return "outbox-" + hashlib.sha256(key.encode("ascii")).hexdigest()[:40] + suffix


def _record(
    uow_factory: Callable[[], UnitOfWork],
    entry: OutboxEntry,
    *,
    result: DeliveryResult,
    now: datetime,
    policy: RetryPolicy,
    tally: _Tally,
) -> None:
    with uow_factory() as uow:
        try:
            outcome = _finish(uow, entry, result=result, now=now, policy=policy)
        except ConflictError:
            # Our claim was recovered and another worker has finished the entry, or holds it now: its record
            # stands, and ours (same key, so the same message) is dropped with this transaction.
            tally.skipped.append(entry.key)
            return
        uow.commit()
    {"sent": tally.sent, "failed": tally.failed, "retrying": tally.retrying}[outcome].append(entry.key)


def _finish(uow: UnitOfWork, entry: OutboxEntry, *, result: DeliveryResult, now: datetime, policy: RetryPolicy) -> str:
    """Records ``result`` on ``entry`` and its contact event in the history, uncommitted; says how it ended."""
    if result.retryable:
        retry_at = policy.retry_at(entry.attempts, now)
        uow.outbox.mark_failed(entry.key, result, retry_at, at=now)
        ended = "retrying" if retry_at is not None else "failed"
    elif result.outcome in _FAILURES:
        uow.outbox.mark_failed(entry.key, result, None, at=now)
        ended = "failed"
    else:
        uow.outbox.mark_sent(entry.key, result, at=now)
        ended = "sent"
    history = (
        [ContactRecord(history_id(entry.key, entry.attempts), contact_event(entry.message, result, now))]
        if result.attempts > 0 or not result.retryable
        else []
    )
    worker = entry.claimed_by or "dispatch"
    seq = vouch_contacts(uow, history, actor=f"system:{worker}", at=now, statuses={ended: 1})
    for record in history:
        uow.contacts.add(record, audit_seq=seq)
    return ended
