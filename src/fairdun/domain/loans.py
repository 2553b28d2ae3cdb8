"""Loan products and repayment schedules.

A :class:`Product` is what a lender sells: a term in months, an annual rate, a repayment method, fees, penalty
interest on overdue principal, grace days and the order in which a payment pays what is owed. A schedule is the
tuple of :class:`Installment` values :func:`build_schedule` derives from a product, an amount and a date.

Schedules are exact to the cent. Interest for a period is the monthly rate (annual / 12) times the principal
outstanding at the start of the period, rounded once by :func:`fairdun.domain.money.quantize`; the principal parts
add up to the loan amount exactly, and the last installment absorbs whatever rounding left over. Every period
counts as one month, whatever its length in days (the usual convention for Chinese consumer loans); an irregular
first period set with ``first_due`` is not prorated.

Due dates are monthly and anchored to one day of the month: a loan first due on 31 January falls due on 28 (or 29)
February and then on 31 March again, not on 28 March.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal, localcontext
from enum import StrEnum
from typing import TypeVar

from fairdun.domain.errors import DomainError
from fairdun.domain.money import ARITHMETIC, ZERO, is_cents, quantize, split, to_money

MAX_TERM_MONTHS = 600
MAX_GRACE_DAYS = 365

_E = TypeVar("_E", bound=StrEnum)


class RepaymentMethod(StrEnum):
    """How principal and interest are spread over the installments."""

    EQUAL_INSTALLMENT = "equal_installment"  # 等额本息: the same payment every month (an annuity)
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金: the same principal every month, interest on what is left
    INTEREST_FIRST = "interest_first"  # 先息后本: interest every month, all the principal with the last


class Component(StrEnum):
    """The parts of what an installment owes; a waterfall orders them."""

    PENALTY = "penalty"
    FEE = "fee"
    INTEREST = "interest"
    PRINCIPAL = "principal"


class AllocationOrder(StrEnum):
    """How a payment walks the overdue installments.

    ``by_installment`` pays the oldest installment in full (each component in waterfall order) before the next;
    ``by_component`` pays the first waterfall component on every installment, oldest first, before the second.
    """

    BY_INSTALLMENT = "by_installment"
    BY_COMPONENT = "by_component"


DEFAULT_WATERFALL = (Component.PENALTY, Component.FEE, Component.INTEREST, Component.PRINCIPAL)


def _check_rate(name: str, value: object, *, below: Decimal) -> None:
    if not isinstance(value, Decimal):
        raise DomainError(f"product.{name}", f"must be a Decimal, not {type(value).__name__} ({value!r})")
    if not value.is_finite() or not ZERO <= value < below:
        raise DomainError(f"product.{name}", f"must be a fraction from 0 up to (not including) {below}, got {value}")


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(f"product.{name}", f"must be an int, not {type(value).__name__} ({value!r})")
    if not low <= value <= high:
        raise DomainError(f"product.{name}", f"must be from {low} to {high}, got {value}")


def _check_fee(name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise DomainError(f"product.{name}", f"must be a Decimal, not {type(value).__name__} ({value!r})")
    if not is_cents(value) or value < 0:
        raise DomainError(f"product.{name}", f"must be a non-negative amount in whole cents, got {value}")


@dataclass(frozen=True, slots=True)
class Product:
    """A loan product. Rates are fractions: ``annual_rate=Decimal("0.18")`` is 18 % a year.

    ``installment_fee`` is charged with every installment; ``upfront_fee`` once, with the first installment
    (not deducted from the amount lent: taking charges out of the principal in advance is what the PRC Civil
    Code, art. 670, forbids for interest). ``penalty_daily_rate`` accrues on overdue principal from the day after
    ``grace_days`` have passed since the due date. ``waterfall`` orders the components a payment pays, and
    ``allocation`` says whether it walks installments or components first (see :class:`AllocationOrder`).
    """

    code: str
    term_months: int
    annual_rate: Decimal
    method: RepaymentMethod
    installment_fee: Decimal = ZERO
    upfront_fee: Decimal = ZERO
    penalty_daily_rate: Decimal = ZERO
    grace_days: int = 0
    waterfall: tuple[Component, ...] = DEFAULT_WATERFALL
    allocation: AllocationOrder = AllocationOrder.BY_INSTALLMENT

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code.strip() or self.code != self.code.strip():
            problem = f"must be a non-empty string without surrounding spaces, got {self.code!r}"
            raise DomainError("product.code", problem)
        _check_int("term_months", self.term_months, 1, MAX_TERM_MONTHS)
        # A rate of 1 or more is almost surely a percentage typed as a number (18 for 18 %).
        _check_rate("annual_rate", self.annual_rate, below=Decimal(1))
        if not isinstance(self.method, RepaymentMethod):
            choices = ", ".join(m.value for m in RepaymentMethod)
            raise DomainError("product.method", f"must be one of {choices}, got {self.method!r}")
        _check_fee("installment_fee", self.installment_fee)
        _check_fee("upfront_fee", self.upfront_fee)
        _check_rate("penalty_daily_rate", self.penalty_daily_rate, below=Decimal(1))
        _check_int("grace_days", self.grace_days, 0, MAX_GRACE_DAYS)
        if not isinstance(self.waterfall, tuple) or not all(isinstance(c, Component) for c in self.waterfall):
            raise DomainError("product.waterfall", f"must be a tuple of Component values, got {self.waterfall!r}")
        if set(self.waterfall) != set(Component) or len(self.waterfall) != len(Component):
            names = ", ".join(c.value for c in Component)
            got = ", ".join(c.value for c in self.waterfall)
            raise DomainError("product.waterfall", f"must name each of {names} exactly once, got ({got})")
        if not isinstance(self.allocation, AllocationOrder):
            choices = ", ".join(a.value for a in AllocationOrder)
            raise DomainError("product.allocation", f"must be one of {choices}, got {self.allocation!r}")

    @property
    def monthly_rate(self) -> Decimal:
        """The annual rate over twelve, to 34 digits (for the annuity formula; interest uses
        :func:`monthly_interest`, which keeps ties exact)."""
        with localcontext(ARITHMETIC):
            return self.annual_rate / 12


_DECIMAL_FIELDS = frozenset({"annual_rate", "penalty_daily_rate"})
_MONEY_FIELDS = frozenset({"installment_fee", "upfront_fee"})


def parse_product(data: Mapping[str, object]) -> Product:
    """A product from plain data (a parsed TOML or JSON table). Rates and fees are strings, ints or Decimals,
    never floats; ``method``, ``waterfall`` and ``allocation`` use the enums' string values. Errors name the key."""
    known = {f.name for f in fields(Product)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise DomainError(f"product.{unknown[0]}", f"unknown key; expected some of {', '.join(sorted(known))}")
    missing = [name for name in ("code", "term_months", "annual_rate", "method") if name not in data]
    if missing:
        raise DomainError(f"product.{missing[0]}", "is required")
    values: dict[str, object] = {}
    for key, raw in data.items():
        if key in _DECIMAL_FIELDS:
            values[key] = _parse_decimal(key, raw)
        elif key in _MONEY_FIELDS:
            if not isinstance(raw, str | int | Decimal):
                raise DomainError(f"product.{key}", f'must be a string such as "10.00", not {type(raw).__name__}')
            values[key] = to_money(raw, field=f"product.{key}")
        elif key == "method":
            values[key] = _parse_enum(key, raw, RepaymentMethod)
        elif key == "allocation":
            values[key] = _parse_enum(key, raw, AllocationOrder)
        elif key == "waterfall":
            if not isinstance(raw, list | tuple):
                raise DomainError("product.waterfall", f"must be a list such as {[c.value for c in DEFAULT_WATERFALL]}")
            values[key] = tuple(_parse_enum(f"waterfall[{i}]", item, Component) for i, item in enumerate(raw))
        else:
            values[key] = raw
    return Product(**values)  # type: ignore[arg-type]  # each field is checked in Product.__post_init__


def _parse_decimal(key: str, raw: object) -> Decimal:
    if isinstance(raw, float):
        raise DomainError(f"product.{key}", f'floats are not exact ({raw!r}); write it as a string: "{raw}"')
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        raise DomainError(f"product.{key}", f'must be a string such as "0.18", not {type(raw).__name__}')
    try:
        return Decimal(raw.strip() if isinstance(raw, str) else raw)
    except ArithmeticError:
        raise DomainError(f"product.{key}", f"not a number: {raw!r}") from None


def _parse_enum(key: str, raw: object, kind: type[_E]) -> _E:
    for member in kind:
        if raw == member.value:
            return member
    choices = ", ".join(str(m.value) for m in kind)
    raise DomainError(f"product.{key}", f"must be one of {choices}, got {raw!r}")


@dataclass(frozen=True, slots=True)
class Installment:
    """One scheduled installment: the period [``start``, ``due``) and what falls due on ``due``."""

    number: int
    start: date
    due: date
    principal: Decimal
    interest: Decimal
    fee: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fee


def add_months(day: date, months: int, *, anchor: int | None = None) -> date:
    """``day`` moved by ``months`` calendar months, on day ``anchor`` (default ``day.day``) or the month's last.

    >>> add_months(date(2024, 1, 31), 1)
    datetime.date(2024, 2, 29)
    >>> add_months(date(2024, 2, 29), 1, anchor=31)
    datetime.date(2024, 3, 31)
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    wanted = day.day if anchor is None else anchor
    return date(year, month + 1, min(wanted, calendar.monthrange(year, month + 1)[1]))


def due_dates(first_due: date, count: int, *, anchor: int | None = None) -> tuple[date, ...]:
    """``count`` monthly due dates from ``first_due``, each on day ``anchor`` (default ``first_due.day``)."""
    day = first_due.day if anchor is None else anchor
    return tuple(add_months(first_due, k, anchor=day) for k in range(count))


def level_payment(principal: Decimal, monthly_rate: Decimal, months: int) -> Decimal:
    """The equal-installment (annuity) payment ``P·r / (1 - (1 + r)^-n)`` in cents; ``P / n`` when ``r`` is 0."""
    with localcontext(ARITHMETIC):
        if monthly_rate == 0:
            return quantize(principal / months)
        return quantize(principal * monthly_rate / (1 - (1 + monthly_rate) ** -months))


def build_schedule(
    product: Product, principal: Decimal, disbursed_on: date, *, first_due: date | None = None
) -> tuple[Installment, ...]:
    """The repayment schedule of ``principal`` lent on ``disbursed_on`` under ``product``.

    The first installment falls due ``first_due`` (default: one month after ``disbursed_on``), the rest monthly
    on the same day of the month (or the month's last day). ``principal`` must be whole cents and positive.
    """
    if not isinstance(principal, Decimal) or not is_cents(principal) or principal <= 0:
        raise DomainError("principal", f"must be a positive Decimal in whole cents, got {principal!r}")
    if first_due is None:
        dues = tuple(add_months(disbursed_on, k + 1) for k in range(product.term_months))
    elif first_due <= disbursed_on:
        raise DomainError("first_due", f"must be after the disbursement date {disbursed_on}, got {first_due}")
    else:
        dues = due_dates(first_due, product.term_months)
    starts = (disbursed_on, *dues[:-1])
    principals, interests = _amortize(product, principal)
    fees = [product.installment_fee] * product.term_months
    fees[0] += product.upfront_fee
    return tuple(
        Installment(k + 1, starts[k], dues[k], principals[k], interests[k], fees[k]) for k in range(product.term_months)
    )


def _amortize(product: Product, principal: Decimal) -> tuple[list[Decimal], list[Decimal]]:
    """The principal and interest parts, installment by installment."""
    n, rate, annual = product.term_months, product.monthly_rate, product.annual_rate
    if product.method is RepaymentMethod.INTEREST_FIRST:
        interest = monthly_interest(principal, annual)
        return [ZERO] * (n - 1) + [principal], [interest] * n
    if product.method is RepaymentMethod.EQUAL_PRINCIPAL or rate == 0:
        principals = list(split(principal, n))
    else:
        payment = level_payment(principal, rate, n)
        principals, balance = [], principal
        for _ in range(n - 1):
            # Capped so a tiny loan over a long term, whose payment rounds up, never pays off more than it owes.
            part = min(payment - monthly_interest(balance, annual), balance)
            principals.append(part)
            balance -= part
        principals.append(balance)
    interests, balance = [], principal
    for part in principals:
        interests.append(monthly_interest(balance, annual))
        balance -= part
    return principals, interests


def monthly_interest(balance: Decimal, annual_rate: Decimal) -> Decimal:
    """One month's interest on ``balance``: ``balance × annual_rate / 12``, in cents.

    Multiplied before it is divided, so a tie stays a tie: 18.75 at 1.6 % is 0.025 a month, which rounds to
    0.03, where 18.75 × (0.016 / 12) would be 0.0249999... and round to 0.02.
    """
    with localcontext(ARITHMETIC):
        return quantize(balance * annual_rate / 12)
