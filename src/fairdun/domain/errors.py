"""The domain's errors. Each names the field that is wrong, so the edge can print one clear line."""

from __future__ import annotations


class DomainError(ValueError):
    """Bad input to a domain function. ``field`` is a dotted path (``product.grace_days``, ``events[3].amount``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem
