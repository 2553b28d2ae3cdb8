"""A synthetic loan portfolio and its repayment behaviour, for the demo, benchmarks and tests.

Everything here is fictional and deterministic: :func:`generate_portfolio` and :func:`simulate_payments` draw
from a ``random.Random`` seeded by the caller, read no clock and do no I/O, so the same seed gives the same
borrowers, loans and payments on every machine.

The people are obviously made up:

* **Names** combine a fixed list of common surnames and given names (:data:`SURNAMES`, :data:`GIVEN_NAMES`).
* **Phone numbers** are E.164 numbers in the block ``+8613800000000`` to ``+8613800099999`` (:data:`PHONE_FIRST`,
  :data:`PHONE_BLOCK`). This is the *test range used by this project*, not a range reserved by any regulator or
  carrier: no real subscriber should ever be dialled by a demo, so nothing outside the block is ever generated,
  and every person (borrower or contact) gets a different number.
* **E-mail** addresses are on ``example.com`` (RFC 2606).
* **Resident ID numbers** are 18 characters in the GB 11643-1999 layout: a region code from a small fixed list
  (:data:`REGIONS`), the birth date (ages 20 to 60 on the portfolio date), a sequence number and the ISO 7064
  MOD 11-2 check character (:func:`resident_id_check`, :func:`validate_resident_id`). They are valid in form only.

The behaviour model: each loan gets a :class:`Behaviour` drawn with probabilities that depend on the borrower's
risk tier (:data:`BEHAVIOUR_MIX`). Good payers pay on the due date or a few days early; late payers a few days
after it; chronic payers pay one installment at a time, weeks late, so they stay behind; curers fall behind from
one installment on and then pay everything with a daily probability that rises with days past due (the effect of
collection contact, :func:`cure_hazard`); defaulters stop paying from one installment on and make only the odd
small partial payment.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

from fairdun.domain import identity
from fairdun.domain.contact import Consent
from fairdun.domain.errors import DomainError
from fairdun.domain.identity import resident_id_check
from fairdun.domain.ledger import PaymentReceived
from fairdun.domain.loans import Installment, Product, RepaymentMethod, build_schedule
from fairdun.domain.money import ZERO, quantize

CHINA = timezone(timedelta(hours=8), "CST")
ONE_DAY = timedelta(days=1)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN_NAMES = (
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "晓东", "文博", "思远", "雨桐",
)  # fmt: skip

#: The project's fictional phone block: ``PHONE_FIRST`` and the ``PHONE_BLOCK - 1`` numbers after it.
PHONE_FIRST = 8613800000000
PHONE_BLOCK = 100_000
#: Each borrower takes at most 1 + 3 numbers, so this many borrowers always fit in the block.
MAX_BORROWERS = PHONE_BLOCK // 4
# An affine permutation of the block (the multiplier is coprime to 100,000) so consecutive people get numbers
# that look scattered yet never repeat.
_PHONE_STEP = 37_813
_PHONE_OFFSET = 4_211


@dataclass(frozen=True, slots=True)
class Region:
    code: str  # the six-digit administrative division code that opens a resident ID
    province: str
    city: str


REGIONS = (
    Region("110101", "北京市", "北京市"),
    Region("310104", "上海市", "上海市"),
    Region("440106", "广东省", "广州市"),
    Region("440305", "广东省", "深圳市"),
    Region("330106", "浙江省", "杭州市"),
    Region("320102", "江苏省", "南京市"),
    Region("510107", "四川省", "成都市"),
    Region("420106", "湖北省", "武汉市"),
    Region("610113", "陕西省", "西安市"),
    Region("500103", "重庆市", "重庆市"),
    Region("370102", "山东省", "济南市"),
    Region("410105", "河南省", "郑州市"),
)

MIN_AGE, MAX_AGE = 20, 60
MAX_CONTACTS = 3
HISTORY_DAYS = 180  # loans are disbursed over this many days before the portfolio date
CONSENT_PURPOSE = "contact_relay"


class RiskTier(StrEnum):
    A = "A"  # prime
    B = "B"
    C = "C"
    D = "D"  # subprime


class Relationship(StrEnum):
    SPOUSE = "spouse"  # 配偶
    PARENT = "parent"  # 父母
    SIBLING = "sibling"  # 兄弟姐妹
    CHILD = "child"  # 子女
    RELATIVE = "relative"  # 其他亲属
    FRIEND = "friend"  # 朋友
    COLLEAGUE = "colleague"  # 同事


class Behaviour(StrEnum):
    GOOD = "good"
    LATE = "late"
    CHRONIC = "chronic"
    CURER = "curer"
    DEFAULTER = "defaulter"


_TIER_WEIGHTS = {RiskTier.A: 30, RiskTier.B: 35, RiskTier.C: 25, RiskTier.D: 10}

#: Per risk tier, the probability of each behaviour (they sum to 1).
BEHAVIOUR_MIX: Mapping[RiskTier, Mapping[Behaviour, float]] = {
    RiskTier.A: {Behaviour.GOOD: 0.80, Behaviour.LATE: 0.12, Behaviour.CHRONIC: 0.03, Behaviour.CURER: 0.04,
                 Behaviour.DEFAULTER: 0.01},
    RiskTier.B: {Behaviour.GOOD: 0.68, Behaviour.LATE: 0.16, Behaviour.CHRONIC: 0.06, Behaviour.CURER: 0.07,
                 Behaviour.DEFAULTER: 0.03},
    RiskTier.C: {Behaviour.GOOD: 0.55, Behaviour.LATE: 0.18, Behaviour.CHRONIC: 0.10, Behaviour.CURER: 0.10,
                 Behaviour.DEFAULTER: 0.07},
    RiskTier.D: {Behaviour.GOOD: 0.40, Behaviour.LATE: 0.20, Behaviour.CHRONIC: 0.14, Behaviour.CURER: 0.12,
                 Behaviour.DEFAULTER: 0.14},
}  # fmt: skip

_CONTACT_COUNT_WEIGHTS = (10, 35, 35, 20)  # 0, 1, 2 or 3 emergency contacts
_RELATIONSHIPS = tuple(Relationship)
_RELATIONSHIP_WEIGHTS = (25, 25, 15, 5, 10, 12, 8)  # in Relationship order
_WITHDRAWN_SHARE = 0.04

#: The catalogue: rates and penalties typical of licensed Chinese consumer finance (APR 7.2 % to 24 %; the
#: penalty daily rate 0.03 % to 0.06 %), over the three repayment methods.
PRODUCTS = (
    Product("PRIME-EI-24", 24, Decimal("0.072"), RepaymentMethod.EQUAL_INSTALLMENT,
            penalty_daily_rate=Decimal("0.0003"), grace_days=3),
    Product("CASH-EI-12", 12, Decimal("0.18"), RepaymentMethod.EQUAL_INSTALLMENT,
            penalty_daily_rate=Decimal("0.0005"), grace_days=3),
    Product("CASH-EP-12", 12, Decimal("0.15"), RepaymentMethod.EQUAL_PRINCIPAL,
            penalty_daily_rate=Decimal("0.0005"), grace_days=3),
    Product("INSTAL-EP-6", 6, Decimal("0.24"), RepaymentMethod.EQUAL_PRINCIPAL, installment_fee=Decimal("5.00"),
            penalty_daily_rate=Decimal("0.0006"), grace_days=1),
    Product("MICRO-EI-3", 3, Decimal("0.24"), RepaymentMethod.EQUAL_INSTALLMENT,
            penalty_daily_rate=Decimal("0.0006"), grace_days=0),
    Product("BIZ-IF-12", 12, Decimal("0.12"), RepaymentMethod.INTEREST_FIRST, upfront_fee=Decimal("50.00"),
            penalty_daily_rate=Decimal("0.0004"), grace_days=5),
)  # fmt: skip

# Which products each tier is sold (weights in PRODUCTS order): prime borrowers get the cheap long loans.
_PRODUCT_WEIGHTS = {
    RiskTier.A: (40, 25, 15, 5, 0, 15),
    RiskTier.B: (15, 30, 20, 15, 5, 15),
    RiskTier.C: (0, 30, 20, 25, 15, 10),
    RiskTier.D: (0, 15, 10, 35, 40, 0),
}


# --- the portfolio ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Borrower:
    id: str
    name: str
    phone: str  # E.164, in the project's fictional block
    email: str
    resident_id: str
    birth_date: date
    province: str
    city: str
    risk_tier: RiskTier
    tz: str = "Asia/Shanghai"


@dataclass(frozen=True, slots=True)
class EmergencyContact:
    """A person the borrower designated, with their own consent to be asked to relay a message."""

    id: str
    borrower_id: str
    name: str
    relationship: Relationship
    phone: str
    consent: Consent
    consent_evidence: str  # how the consent was captured, e.g. "app-consent-v3 checkbox, 2026-08-01T10:00:00+08:00"


@dataclass(frozen=True, slots=True)
class Profile:
    """How a loan will be repaid. ``trouble_from`` is the installment number from which a curer falls behind or
    a defaulter stops paying (None for the other behaviours)."""

    behaviour: Behaviour
    trouble_from: int | None = None


@dataclass(frozen=True, slots=True)
class Loan:
    id: str
    borrower_id: str
    product_code: str
    amount: Decimal
    disbursed_on: date
    schedule: tuple[Installment, ...]
    profile: Profile


@dataclass(frozen=True, slots=True)
class Portfolio:
    """A lender's book on ``start_date``. Loans were disbursed in the :data:`HISTORY_DAYS` days before it."""

    seed: int
    start_date: date
    products: tuple[Product, ...]
    borrowers: tuple[Borrower, ...]
    contacts: tuple[EmergencyContact, ...]
    loans: tuple[Loan, ...]

    def product(self, code: str) -> Product:
        for product in self.products:
            if product.code == code:
                return product
        raise KeyError(code)

    @property
    def history_start(self) -> date:
        """The earliest disbursement: simulate payments from here to give every loan its past."""
        return min((loan.disbursed_on for loan in self.loans), default=self.start_date)


# --- resident ID numbers (GB 11643-1999) --------------------------------------------------------------------


def validate_resident_id(value: str) -> bool:
    """Whether ``value`` is well formed: 17 digits, a known province code, a real birth date (1900 or later) in
    places 7-14 and the right check character (``X`` upper case). It says nothing about whether such a person
    exists. The rules are :func:`fairdun.domain.identity.validate_resident_id`'s, less the date of today."""
    try:
        return identity.validate_resident_id(value, today=date.max) == value
    except DomainError:
        return False


def _resident_id(rng: random.Random, region: Region, born: date) -> str:
    first17 = f"{region.code}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + resident_id_check(first17)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def _birth_date(rng: random.Random, on: date) -> date:
    latest = _years_before(on, MIN_AGE)  # exactly MIN_AGE today
    earliest = _years_before(on, MAX_AGE + 1) + ONE_DAY  # MAX_AGE, a day short of MAX_AGE + 1
    return earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))


# --- generation ---------------------------------------------------------------------------------------------


def _phone(person: int) -> str:
    return f"+{PHONE_FIRST + (person * _PHONE_STEP + _PHONE_OFFSET) % PHONE_BLOCK}"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def _amount(rng: random.Random, tier: RiskTier) -> Decimal:
    """1,000 to 50,000 CNY in hundreds, most loans small; prime borrowers borrow more."""
    skew = {RiskTier.A: 1.5, RiskTier.B: 2.0, RiskTier.C: 2.5, RiskTier.D: 3.0}[tier]
    hundreds = 10 + round(490 * rng.random() ** skew)
    return quantize(Decimal(hundreds * 100))


def _profile(rng: random.Random, tier: RiskTier, schedule: Sequence[Installment], start: date) -> Profile:
    mix = BEHAVIOUR_MIX[tier]
    behaviour = rng.choices(tuple(mix), weights=tuple(mix.values()))[0]
    if behaviour not in (Behaviour.CURER, Behaviour.DEFAULTER):
        return Profile(behaviour)
    # Trouble starts with an installment due up to 90 days after the portfolio date, so the book holds both
    # loans already behind and loans that will fall behind while a demo runs.
    horizon = start + timedelta(days=90)
    candidates = [i.number for i in schedule if i.due <= horizon]
    return Profile(behaviour, rng.choice(candidates))


def _contact(
    rng: random.Random, borrower_id: str, number: int, *, phone: str, signed_up: datetime, before: datetime
) -> EmergencyContact:
    """A contact whose consent was given within a minute of ``signed_up``; a few withdrawn it before ``before``."""
    contact_id = f"{borrower_id}-C{number}"
    granted = signed_up + timedelta(seconds=rng.randrange(60))
    withdrawn = None
    if rng.random() < _WITHDRAWN_SHARE:
        withdrawn = granted + timedelta(seconds=rng.randrange(1, int((before - granted).total_seconds())))
    return EmergencyContact(
        id=contact_id,
        borrower_id=borrower_id,
        name=_name(rng),
        relationship=rng.choices(_RELATIONSHIPS, weights=_RELATIONSHIP_WEIGHTS)[0],
        phone=phone,
        consent=Consent(contact_id, CONSENT_PURPOSE, granted, withdrawn),
        consent_evidence=f"app-consent-v3 checkbox, {granted.isoformat()}",
    )


def generate_portfolio(n_borrowers: int, seed: int, start_date: date) -> Portfolio:
    """A portfolio of ``n_borrowers`` fictional borrowers on ``start_date``, the same for the same arguments.

    Each borrower has 0-3 emergency contacts (each with a ``contact_relay`` consent granted the day of the
    borrower's first loan; a few withdrawn since) and 1-2 loans of 1,000-50,000 CNY disbursed in the
    :data:`HISTORY_DAYS` days before ``start_date``, from the :data:`PRODUCTS` catalogue.
    """
    if isinstance(n_borrowers, bool) or not isinstance(n_borrowers, int) or not 0 <= n_borrowers <= MAX_BORROWERS:
        raise DomainError("n_borrowers", f"must be an int from 0 to {MAX_BORROWERS}, got {n_borrowers!r}")
    rng = random.Random(seed)
    tiers, tier_weights = tuple(_TIER_WEIGHTS), tuple(_TIER_WEIGHTS.values())
    start_midnight = datetime.combine(start_date, time(), CHINA)
    borrowers: list[Borrower] = []
    contacts: list[EmergencyContact] = []
    loans: list[Loan] = []
    person = 0
    for b in range(1, n_borrowers + 1):
        borrower_id = f"B{b:06d}"
        tier = rng.choices(tiers, weights=tier_weights)[0]
        region = rng.choice(REGIONS)
        born = _birth_date(rng, start_date)
        borrowers.append(
            Borrower(
                id=borrower_id,
                name=_name(rng),
                phone=_phone(person),
                email=f"borrower{b:06d}@example.com",
                resident_id=_resident_id(rng, region, born),
                birth_date=born,
                province=region.province,
                city=region.city,
                risk_tier=tier,
            )
        )
        person += 1
        disbursals = sorted(
            start_date - timedelta(days=rng.randint(1, HISTORY_DAYS)) for _ in range(1 if rng.random() < 0.75 else 2)
        )
        for k, disbursed_on in enumerate(disbursals, start=1):
            product = rng.choices(PRODUCTS, weights=_PRODUCT_WEIGHTS[tier])[0]
            amount = _amount(rng, tier)
            schedule = build_schedule(product, amount, disbursed_on)
            profile = _profile(rng, tier, schedule, start_date)
            loans.append(Loan(f"L{b:06d}-{k}", borrower_id, product.code, amount, disbursed_on, schedule, profile))
        signed_up = datetime.combine(disbursals[0], time(9), CHINA) + timedelta(minutes=rng.randrange(13 * 60))
        count = rng.choices(range(MAX_CONTACTS + 1), weights=_CONTACT_COUNT_WEIGHTS)[0]
        for c in range(1, count + 1):
            phone = _phone(person)
            contacts.append(_contact(rng, borrower_id, c, phone=phone, signed_up=signed_up, before=start_midnight))
            person += 1
    return Portfolio(seed, start_date, PRODUCTS, tuple(borrowers), tuple(contacts), tuple(loans))


# --- repayment behaviour ------------------------------------------------------------------------------------


def cure_hazard(dpd: int) -> float:
    """The daily probability that a curer pays everything owed, ``dpd`` days past due: it rises with every day
    of collection contact (about half cure by DPD 15, nine in ten by DPD 30) and is capped at 25 %."""
    return min(0.25, 0.006 * dpd) if dpd > 0 else 0.0


_DEFAULTER_PARTIAL_HAZARD = 0.01  # a defaulter's daily chance of a small partial payment


class _Tracker:
    """What the borrower believes they owe: a cheap running estimate of the ledger, never below it.

    Penalty is estimated on each uncovered installment's whole scheduled principal, which is at least the
    principal the ledger charges it on, so a payment of the estimate always brings the loan current.
    """

    __slots__ = ("cum", "daily_penalty", "dues", "grace", "next", "paid", "penalty")

    def __init__(self, product: Product, schedule: Sequence[Installment]) -> None:
        self.dues = [i.due for i in schedule]
        running = ZERO
        self.cum: list[Decimal] = []
        for inst in schedule:
            running += inst.total
            self.cum.append(running)
        self.daily_penalty = [quantize(i.principal * product.penalty_daily_rate) for i in schedule]
        self.grace = timedelta(days=product.grace_days)
        self.paid = ZERO
        self.penalty = ZERO
        self.next = 0  # the oldest installment the payments have not covered

    def accrue(self, day: date) -> None:
        j = self.next
        while j < len(self.dues) and self.dues[j] + self.grace < day:
            self.penalty += self.daily_penalty[j]
            j += 1

    def owed_through(self, index: int) -> Decimal:
        return max(ZERO, self.cum[index] + self.penalty - self.paid)

    def owed_on(self, day: date) -> Decimal:
        """Everything due by ``day`` (at least the oldest uncovered installment), with the penalty."""
        j = self.next
        while j + 1 < len(self.dues) and self.dues[j + 1] <= day:
            j += 1
        return self.owed_through(j)

    def pay(self, amount: Decimal) -> None:
        self.paid += amount
        credit = self.paid - self.penalty
        while self.next < len(self.cum) and self.cum[self.next] <= credit:
            self.next += 1

    @property
    def done(self) -> bool:
        return self.next >= len(self.cum)


def _plan(rng: random.Random, behaviour: Behaviour, due: date, last_paid: date | None) -> date:
    """The day a borrower who means to pay the installment due ``due`` pays it."""
    if behaviour is Behaviour.GOOD:
        if rng.random() < 0.04:
            return due + timedelta(days=rng.randint(1, 5))
        return due - timedelta(days=0 if rng.random() < 0.8 else rng.randint(1, 3))
    if behaviour is Behaviour.LATE:
        return due + timedelta(days=rng.randint(1, 12))
    # Chronic: weeks after the due date or the last payment, whichever is later, so they never catch up.
    base = due if last_paid is None else max(due, last_paid + ONE_DAY)
    return base + timedelta(days=rng.randint(3, 40))


class LoanPayer:
    """One loan's borrower, a day at a time: :meth:`step` says what they pay on a day, if anything.

    Days must be stepped in order (a skipped day is a day nothing could happen; :attr:`wake` is the next day
    anything can). ``pressure`` scales a curer's daily cure probability (:func:`cure_hazard`): 1.0 is the
    behaviour model as calibrated; the demo lowers it for debtors that collection has not reached lately
    (:func:`contact_pressure`). With ``pressure`` always 1.0 the payments are those of :func:`simulate_payments`.
    """

    __slots__ = ("cured", "last_paid", "loan", "pay_day", "planned_for", "rng", "tracker", "troubled", "wake")

    def __init__(self, loan: Loan, product: Product, from_date: date, seed: int) -> None:
        self.loan = loan
        self.rng = random.Random(f"{seed}/{loan.id}")
        self.tracker = _Tracker(product, loan.schedule)
        self.troubled = loan.profile.behaviour in (Behaviour.CURER, Behaviour.DEFAULTER)
        self.cured = False
        self.planned_for = -1
        self.pay_day = date.max
        self.last_paid: date | None = None
        self.wake = max(from_date, loan.disbursed_on + ONE_DAY)

    @property
    def done(self) -> bool:
        return self.tracker.done

    def in_trouble(self) -> bool:
        """Whether the borrower is now in the curer's or defaulter's trouble (pressure matters only then)."""
        profile = self.loan.profile
        return (
            self.troubled
            and not self.cured
            and profile.trouble_from is not None
            and not self.tracker.done
            and self.tracker.next + 1 >= profile.trouble_from
        )

    def step(self, day: date, pressure: float = 1.0) -> PaymentReceived | None:
        """The payment made on ``day`` (None: none). ``day`` must not be before the previous day stepped."""
        if day < self.wake or self.tracker.done:
            return None
        rng, tracker, profile = self.rng, self.tracker, self.loan.profile
        tracker.accrue(day)
        index = tracker.next
        due = tracker.dues[index]
        in_trouble = self.in_trouble()
        amount = ZERO
        if in_trouble:
            dpd = (day - due).days
            if profile.behaviour is Behaviour.CURER:
                if rng.random() < cure_hazard(dpd) * pressure:
                    amount, self.cured = tracker.owed_on(day), True
            elif dpd > 0 and rng.random() < _DEFAULTER_PARTIAL_HAZARD:
                share = Decimal(rng.randint(10, 30)) / 100
                amount = quantize(tracker.owed_on(day) * share)
        else:
            if self.planned_for != index:
                behaviour = Behaviour.GOOD if self.troubled else profile.behaviour
                self.pay_day, self.planned_for = _plan(rng, behaviour, due, self.last_paid), index
            if day >= self.pay_day:
                if day < due or profile.behaviour is Behaviour.CHRONIC:
                    amount = tracker.owed_through(index)  # this installment only
                else:
                    amount = tracker.owed_on(day)
                if profile.behaviour is Behaviour.CHRONIC and rng.random() < 0.25:
                    amount = quantize(amount / 2)  # a partial payment; the rest is planned afresh
                    self.planned_for = -1
        payment = None
        if amount > 0:
            payment = PaymentReceived(f"{self.loan.id}-{day:%Y%m%d}", day, amount)
            tracker.pay(amount)
            self.last_paid = day
        overdue = not tracker.done and tracker.dues[tracker.next] < day + ONE_DAY
        if overdue or in_trouble or tracker.done or self.planned_for != tracker.next:
            self.wake = day + ONE_DAY
        else:
            # Nothing can happen before the planned day or the day after the next due date: sleep until then.
            self.wake = max(day + ONE_DAY, min(self.pay_day, tracker.dues[tracker.next] + ONE_DAY))
        return payment


def contact_pressure(reached: float) -> float:
    """The demo's model of what collection contact does: a curer's cure probability is scaled by
    ``0.4 + 0.6 * min(1, reached / 3)``, where ``reached`` counts the contacts that reached the debtor in the
    last seven days (a conversation or a delivered message: 1; a message relayed through an emergency contact:
    0.5). Never reached: 40 % of the calibrated hazard (debtors also cure on their own); three or more: all of
    it; more contact than that adds nothing. This is an assumption of the simulation, stated so the demo's
    comparison can be read for what it is, not a finding."""
    return 0.4 + 0.6 * min(1.0, max(0.0, reached) / 3)


def _simulate_loan(
    loan: Loan, product: Product, from_date: date, to_date: date, seed: int
) -> list[tuple[str, PaymentReceived]]:
    payer = LoanPayer(loan, product, from_date, seed)
    payments: list[tuple[str, PaymentReceived]] = []
    day = payer.wake
    while day <= to_date and not payer.done:
        payment = payer.step(day)
        if payment is not None:
            payments.append((loan.id, payment))
        day = payer.wake
    return payments


def simulate_payments(
    portfolio: Portfolio, from_date: date, to_date: date, seed: int
) -> list[tuple[str, PaymentReceived]]:
    """The payments the portfolio's borrowers make from ``from_date`` to ``to_date`` (both included), day by day
    as their loans' profiles say, as ``(loan_id, payment)`` pairs in date order, then loan id.

    Each loan's simulation starts with nothing paid, so start it at a date before the loan's first due date
    (:attr:`Portfolio.history_start` gives every loan its past). A payment id is ``{loan_id}-{yyyymmdd}``: at
    most one payment per loan per day. The payments up to a day do not depend on ``to_date``.
    """
    if to_date < from_date:
        raise DomainError("to_date", f"must not be before from_date {from_date}, got {to_date}")
    products = {p.code: p for p in portfolio.products}
    payments: list[tuple[str, PaymentReceived]] = []
    for loan in portfolio.loans:
        payments.extend(_simulate_loan(loan, products[loan.product_code], from_date, to_date, seed))
    payments.sort(key=lambda pair: (pair[1].on, pair[0]))
    return payments
