"""Money: ``Decimal`` amounts in whole cents (fen), and the one rounding rule.

Every amount fairdun stores or shows has exactly two decimal places. Arithmetic on the way (a monthly rate times
a balance, a daily penalty) may carry more digits; the result is brought back to cents by :func:`quantize`, which
rounds half up (0.005 -> 0.01), the convention of Chinese bank statements and of most loan contracts. That is the
only place a rounding mode is applied. Floats are refused everywhere: ``0.1 + 0.2`` is not ``0.3``.

:func:`split` divides an amount into parts that add up exactly. It hands out whole cents rather than rounding,
so it needs no rounding mode of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

from fairdun.domain.errors import DomainError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ROUNDING = ROUND_HALF_UP

#: The context for intermediate arithmetic (rates, powers, products): enough digits that only :func:`quantize`
#: ever loses precision. Use it as ``with decimal.localcontext(ARITHMETIC): ...``.
ARITHMETIC = Context(prec=34, rounding=ROUND_HALF_UP)


def quantize(value: Decimal | int) -> Decimal:
    """``value`` rounded to the cent, half up. The one rounding rule; every amount passes through here."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise DomainError("amount", f"must be a Decimal or an int, not {type(value).__name__}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise DomainError("amount", f"must be a finite number, got {amount}")
    return amount.quantize(CENT, rounding=ROUNDING, context=ARITHMETIC)


def is_cents(value: Decimal) -> bool:
    """Whether ``value`` is a finite amount with nothing below the cent."""
    return value.is_finite() and value == value.quantize(CENT, rounding=ROUNDING, context=ARITHMETIC)


def to_money(value: str | int | Decimal, *, field: str = "amount") -> Decimal:
    """An exact amount from a string (``"1234.50"``), an int (whole units) or a Decimal, as cents.

    Never rounds: ``"10.005"`` is refused, because an amount with a part of a cent is a mistake upstream, not
    something to fix silently. Floats (and bools) are refused with an error naming ``field``.
    """
    if isinstance(value, float):
        raise DomainError(field, f"floats are not money ({value!r}); pass a string such as {str(value)!r}")
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise DomainError(field, f"must be a string, an int or a Decimal, not {type(value).__name__}")
    if isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise DomainError(field, f"not an amount: {value!r}") from None
    else:
        amount = Decimal(value)
    if not amount.is_finite():
        raise DomainError(field, f"must be a finite number, got {value!r}")
    if not is_cents(amount):
        raise DomainError(field, f"has a fraction of a cent: {value!r}")
    return amount.quantize(CENT, context=ARITHMETIC)


def total(amounts: Iterable[Decimal]) -> Decimal:
    """The sum of ``amounts``, as cents (``0.00`` for none). The parts should already be cents."""
    result = ZERO
    for amount in amounts:
        result += amount
    return quantize(result)


def split(amount: Decimal, parts: int) -> tuple[Decimal, ...]:
    """``amount`` divided into ``parts`` amounts that add up to it exactly.

    Each part but the last is the whole number of cents in an even share; the last takes what is left (at most
    ``parts - 1`` cents more). So no early part is ever more than an even share and none is negative: 100.00 in
    six is five times 16.66 and 16.70.
    """
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        raise DomainError("parts", f"must be a positive int, got {parts!r}")
    if not isinstance(amount, Decimal) or not is_cents(amount) or amount < 0:
        raise DomainError("amount", f"must be a non-negative amount in cents, got {amount!r}")
    cents = int(amount.scaleb(2))
    share = cents // parts
    each = quantize(Decimal(share).scaleb(-2))
    last = quantize(Decimal(cents - share * (parts - 1)).scaleb(-2))
    return (each,) * (parts - 1) + (last,)
