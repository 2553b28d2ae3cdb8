"""The policy core: rule packs and the contact gate. Pure: standard library and ``fairdun.domain`` only.

>>> from fairdun.policy import evaluate   # evaluate(request) -> Decision
"""

from fairdun.policy.decision import Decision, Effect, Reason
from fairdun.policy.engine import evaluate
from fairdun.policy.errors import PackError, PolicyError, RequestError
from fairdun.policy.pack import Citation, Pack, Rule, build_pack
from fairdun.policy.request import ContactRequest, Facts

__all__ = [
    "Citation",
    "ContactRequest",
    "Decision",
    "Effect",
    "Facts",
    "Pack",
    "PackError",
    "PolicyError",
    "Reason",
    "RequestError",
    "Rule",
    "build_pack",
    "evaluate",
]
