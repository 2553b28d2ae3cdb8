"""Decisions are values that explain themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Effect(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why one rule did not allow: its stable id, its source, and a message a person can read.

    ``missing`` names the facts an indeterminate rule needed (``facts.guarantor_liable``); ``detail`` adds
    what the rule found (``3 conversations on 2026-11-23``).
    """

    rule: str
    effect: Effect
    citation: str
    message_zh: str
    message_en: str
    detail: str | None = None
    missing: tuple[str, ...] = ()

    def message(self, lang: str) -> str:
        text = self.message_en if lang == "en" else self.message_zh
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True, slots=True)
class Decision:
    """The gate's answer.

    ``next_allowed_at`` is the earliest instant at or after the attempt's time at which the same attempt
    would be allowed if nothing else happened, in the recipient's local offset; None when waiting cannot
    help (a forbidden recipient, a missing fact) or when already allowed.
    """

    effect: Effect
    pack: str
    reasons: tuple[Reason, ...]
    next_allowed_at: datetime | None
    evaluated: tuple[str, ...]
    rules: tuple[str, ...] = field(init=False, compare=False, repr=False)
    """The ids of the rules that denied or were indeterminate, in pack order."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(r.rule for r in self.reasons))

    @property
    def allowed(self) -> bool:
        return self.effect is Effect.ALLOW
