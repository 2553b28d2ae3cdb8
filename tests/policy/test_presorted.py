"""The planner's presorted requests: the same decisions as requests that sort their own history."""

from __future__ import annotations

from datetime import datetime, timedelta

from fairdun.config.packs import PackLoader
from fairdun.domain.contact import Attempt, Channel, ContactEvent, Direction, Outcome, Purpose, Recipient, Role
from fairdun.policy import Facts, evaluate
from fairdun.policy.localtime import zone
from fairdun.policy.request import ContactRequest, is_sorted_history


def test_a_presorted_request_decides_as_the_request_that_sorts_its_history() -> None:

    pack = PackLoader().load("cn")
    at = datetime(2026, 11, 23, 15, 0, tzinfo=zone("Asia/Shanghai"))
    debtor = Recipient("B1", Role.DEBTOR, "B1/phone", "Asia/Shanghai")
    events = [
        ContactEvent(at - timedelta(minutes=17 * k), "L1", "B1", "B1/phone", Channel.CALL, Direction.OUTBOUND,
                     Outcome.CONVERSATION if k % 3 == 0 else Outcome.NO_ANSWER)
        for k in range(1, 12)
    ]  # fmt: skip
    attempt = Attempt(at, "L1", "B1", Channel.CALL, Purpose.COLLECT, debtor)
    sorting = ContactRequest(attempt, tuple(events), Facts.known_clean(), pack)
    ordered = tuple(sorted(events, key=lambda e: e.ts))
    presorted = ContactRequest.presorted(attempt, ordered, tuple(e.ts for e in ordered), Facts.known_clean(), pack)
    assert is_sorted_history(presorted)
    assert is_sorted_history(sorting)
    assert evaluate(presorted) == evaluate(sorting)
    assert evaluate(presorted).rules  # eleven calls today: the caps deny, so the comparison is not trivial
    unsorted = ContactRequest.presorted(attempt, tuple(events), tuple(e.ts for e in events), Facts.known_clean(), pack)
    assert not is_sorted_history(unsorted)
