"""Checking attempts against the gate, one or many at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fairdun.policy import Decision, evaluate
from fairdun.policy.errors import PolicyError
from fairdun.policy.request import ContactRequest
from fairdun.policy.wire import PackResolver, parse_request


class BatchError(PolicyError):
    """Request number ``index`` (1-based) of a batch is invalid; nothing of the batch was decided."""

    def __init__(self, index: int, error: PolicyError) -> None:
        super().__init__(f"request {index}: {error}")
        self.index = index
        self.error = error


@dataclass
class GateService:
    """Parses and decides gate requests. ``resolve`` finds packs by name or path."""

    resolve: PackResolver
    default_pack: str = "cn"
    override: bool = False
    """When set, ``default_pack`` is used for every request, whatever pack the request names."""

    def parse(self, document: object) -> ContactRequest:
        return parse_request(document, self.resolve, self.default_pack, override=self.override)

    def check(self, document: object) -> Decision:
        return evaluate(self.parse(document))

    def check_all(self, documents: Sequence[object]) -> list[Decision]:
        """Every request is validated before any is decided: a bad one fails the whole batch."""
        requests = []
        for i, document in enumerate(documents, start=1):
            try:
                requests.append(self.parse(document))
            except PolicyError as exc:
                raise BatchError(i, exc) from None
        return [evaluate(r) for r in requests]
