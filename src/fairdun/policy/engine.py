"""The contact gate.

Combining rule, the one place it is written down:

* every rule of the pack that applies to the attempt (its channel, recipient role and purpose) is evaluated;
  a rule's checks run in order and the first that does not allow gives the rule's answer;
* **any deny wins**: if one rule denies, the decision is ``deny``;
* otherwise, if any rule is ``indeterminate`` (a fact it needs is unknown), the decision is
  ``indeterminate``, which fails closed exactly like a deny but is reported apart: the fix is to supply the
  fact, not to wait;
* otherwise ``allow``.

``next_allowed_at`` is computed only for a deny whose every denying rule can change with time (hours, caps,
consents), by moving the attempt forward until every applicable check allows at the same instant.
"""

from __future__ import annotations

from fairdun.policy.checks import Check, Context
from fairdun.policy.decision import Decision, Effect, Reason
from fairdun.policy.localtime import to_local
from fairdun.policy.pack import Pack, Rule
from fairdun.policy.request import ContactRequest

HORIZON_SECONDS = 400 * 86_400
"""How far ahead ``next_allowed_at`` looks before it says waiting cannot help."""

_MAX_ROUNDS = 256


def evaluate(request: ContactRequest, pack: Pack | None = None, *, next_allowed: bool = True) -> Decision:
    """Decide one attempt. Pure: the answer depends only on the request and the pack.

    ``next_allowed=False`` skips the search for ``next_allowed_at`` (it is then None): an audit that only records
    what was denied, and why, does not need to know when it would have been allowed."""
    pack = pack or request.pack
    if pack is None:
        raise ValueError("evaluate() needs a pack: pass one, or build the request with its pack")
    ctx = Context(request)
    t = ctx.ts
    attempt = request.attempt
    evaluated: list[str] = []
    applicable: list[Rule] = []
    reasons: list[Reason] = []
    denied = indeterminate = False
    waitable = True
    key = (attempt.channel, attempt.recipient.role, attempt.purpose)
    for rule in pack.rules:
        if key not in rule.scope:
            continue
        evaluated.append(rule.id)
        applicable.append(rule)
        for check in rule.checks:
            verdict = check.verdict(ctx, t)
            if verdict.effect is Effect.ALLOW:
                continue
            if verdict.effect is Effect.DENY:
                denied = True
                waitable = waitable and check.time_dependent
            else:
                indeterminate = True
            reasons.append(
                Reason(
                    rule.id,
                    verdict.effect,
                    rule.citation,
                    rule.message_zh,
                    rule.message_en,
                    verdict.detail,
                    verdict.missing,
                )
            )
            break
    if denied:
        effect = Effect.DENY
    elif indeterminate:
        effect = Effect.INDETERMINATE
    else:
        effect = Effect.ALLOW
    next_at = None
    if next_allowed and denied and waitable and not indeterminate:
        # Time-independent checks all allowed already (one that denies makes waiting useless).
        found = _next_allowed(ctx, [c for r in applicable for c in r.checks if c.time_dependent])
        if found is not None:
            next_at = to_local(ctx.tz, found)
    return Decision(effect, pack.label, tuple(reasons), next_at, tuple(evaluated))


def _next_allowed(ctx: Context, checks: list[Check]) -> float | None:
    """The earliest instant >= the attempt's at which every check allows, or None within the horizon.

    Each check reports the earliest instant it alone would allow; taking the latest of those and asking
    again converges, because no check's earliest instant moves backwards as ``t`` grows.
    """
    start = t = ctx.ts
    for _ in range(_MAX_ROUNDS):
        moved = False
        for check in checks:
            nt = check.earliest(ctx, t)
            if nt is None:
                return None
            if nt > t:
                t = nt
                moved = True
        if t - start > HORIZON_SECONDS:
            return None
        if not moved:
            return t
    return None
