"""What the gate is asked: an attempt, the history before it, and the facts it may need."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fairdun.domain.contact import AgreedWindow, Attempt, Consent, ContactEvent, OptOut

if TYPE_CHECKING:
    from fairdun.policy.pack import Pack


@dataclass(frozen=True, slots=True)
class Facts:
    """Facts about the debt and the people around it.

    ``None`` means *unknown*. A rule that needs an unknown fact answers ``indeterminate``, which fails closed:
    the gate never guesses that a guarantor is liable or that a contact has not refused.
    """

    debtor_unreachable: bool | None = None
    refused_parties: frozenset[str] | None = None
    opt_outs: tuple[OptOut, ...] | None = None
    consents: tuple[Consent, ...] | None = None
    agreed_windows: tuple[AgreedWindow, ...] | None = None
    guarantor_liable: bool | None = None
    represented_by_attorney: bool | None = None
    cease_requested: bool | None = None
    time_barred: bool | None = None

    @classmethod
    def known_clean(cls) -> Facts:
        """Every fact known and nothing standing in the way: the starting point of tests and simulations."""
        return cls(
            debtor_unreachable=False,
            refused_parties=frozenset(),
            opt_outs=(),
            consents=(),
            agreed_windows=(),
            guarantor_liable=False,
            represented_by_attorney=False,
            cease_requested=False,
            time_barred=False,
        )


FACT_NAMES: tuple[str, ...] = tuple(Facts.__dataclass_fields__)
BOOLEAN_FACTS: frozenset[str] = frozenset(
    {"debtor_unreachable", "guarantor_liable", "represented_by_attorney", "cease_requested", "time_barred"}
)


@dataclass(frozen=True, slots=True)
class ContactRequest:
    """One question for the gate. ``history`` is None when unknown (caps then answer indeterminate).

    The history is kept sorted by time with a parallel tuple of epoch seconds, so caps find their window by
    bisection instead of scanning everything.
    """

    attempt: Attempt
    history: tuple[ContactEvent, ...] | None
    facts: Facts
    pack: Pack | None = None
    history_ts: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.history is not None:
            ordered = tuple(sorted(self.history, key=_event_ts))
            object.__setattr__(self, "history", ordered)
            object.__setattr__(self, "history_ts", tuple(e.ts for e in ordered))
        else:
            object.__setattr__(self, "history_ts", ())

    @classmethod
    def presorted(
        cls,
        attempt: Attempt,
        history: Sequence[ContactEvent],
        history_ts: Sequence[float],
        facts: Facts,
        pack: Pack | None = None,
    ) -> ContactRequest:
        """A request whose history the caller keeps sorted by time, with ``history_ts`` its events' ``ts``: no
        sort and no copy per request (a day's planner asks hundreds of times about a history it keeps growing).
        The caller vouches for the order, and must not change the sequences until the decision is made;
        :func:`is_sorted_history` checks the order in tests."""
        request = object.__new__(cls)
        object.__setattr__(request, "attempt", attempt)
        object.__setattr__(request, "history", history)
        object.__setattr__(request, "facts", facts)
        object.__setattr__(request, "pack", pack)
        object.__setattr__(request, "history_ts", history_ts)
        return request


def is_sorted_history(request: ContactRequest) -> bool:
    """Whether the request's history is in time order and ``history_ts`` matches it."""
    history = request.history or ()
    ts = tuple(e.ts for e in history)
    return ts == tuple(request.history_ts) and all(a <= b for a, b in itertools.pairwise(ts))


def _event_ts(event: ContactEvent) -> float:
    return event.ts
