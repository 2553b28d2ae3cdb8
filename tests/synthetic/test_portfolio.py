from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from fairdun.application.synthetic import (
    CHINA,
    CONSENT_PURPOSE,
    GIVEN_NAMES,
    HISTORY_DAYS,
    MAX_AGE,
    MAX_BORROWERS,
    MAX_CONTACTS,
    MIN_AGE,
    PHONE_BLOCK,
    PHONE_FIRST,
    REGIONS,
    SURNAMES,
    Behaviour,
    Portfolio,
    RiskTier,
    generate_portfolio,
    validate_resident_id,
)
from fairdun.domain.errors import DomainError
from fairdun.domain.loans import RepaymentMethod

from .conftest import SEED, START


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def test_the_same_seed_gives_the_same_portfolio(portfolio: Portfolio) -> None:
    assert generate_portfolio(2_000, SEED, START) == portfolio


def test_a_different_seed_gives_a_different_portfolio(portfolio: Portfolio) -> None:
    other = generate_portfolio(2_000, SEED + 1, START)
    assert other.borrowers != portfolio.borrowers
    assert other.loans != portfolio.loans
    assert sum(a.name != b.name for a, b in zip(other.borrowers, portfolio.borrowers, strict=True)) > 1_500


def test_counts(portfolio: Portfolio) -> None:
    assert len(portfolio.borrowers) == 2_000
    assert len({b.id for b in portfolio.borrowers}) == 2_000
    per_borrower = Counter(loan.borrower_id for loan in portfolio.loans)
    assert set(per_borrower) == {b.id for b in portfolio.borrowers}
    assert set(per_borrower.values()) == {1, 2}
    assert 2_300 <= len(portfolio.loans) <= 2_700  # a quarter of borrowers have two loans
    assert len({loan.id for loan in portfolio.loans}) == len(portfolio.loans)


def test_an_empty_portfolio_and_the_limits() -> None:
    assert generate_portfolio(0, 1, START).loans == ()
    for bad in (-1, MAX_BORROWERS + 1, True):
        with pytest.raises(DomainError, match="n_borrowers"):
            generate_portfolio(bad, 1, START)


def test_names_come_from_the_fixed_lists(portfolio: Portfolio) -> None:
    people = [b.name for b in portfolio.borrowers] + [c.name for c in portfolio.contacts]
    for name in people:
        assert name[0] in SURNAMES
        assert name[1:] in GIVEN_NAMES


def test_every_resident_id_is_valid_and_matches_the_birth_date_and_region(portfolio: Portfolio) -> None:
    regions = {r.code: r for r in REGIONS}
    for borrower in portfolio.borrowers:
        rid = borrower.resident_id
        assert validate_resident_id(rid), rid
        assert rid[6:14] == f"{borrower.birth_date:%Y%m%d}"
        region = regions[rid[:6]]
        assert (region.province, region.city) == (borrower.province, borrower.city)
        assert MIN_AGE <= _age(borrower.birth_date, START) <= MAX_AGE
    assert len({b.resident_id for b in portfolio.borrowers}) == 2_000


def test_ages_span_the_whole_range(portfolio: Portfolio) -> None:
    ages = {_age(b.birth_date, START) for b in portfolio.borrowers}
    assert min(ages) == MIN_AGE
    assert max(ages) == MAX_AGE


def test_phones_are_in_the_documented_block_and_never_shared(portfolio: Portfolio) -> None:
    phones = [b.phone for b in portfolio.borrowers] + [c.phone for c in portfolio.contacts]
    for phone in phones:
        assert phone.startswith("+86138000")
        assert PHONE_FIRST <= int(phone[1:]) < PHONE_FIRST + PHONE_BLOCK
    assert len(set(phones)) == len(phones)


def test_e_mail_is_on_example_com(portfolio: Portfolio) -> None:
    assert all(b.email.endswith("@example.com") for b in portfolio.borrowers)


def test_every_tier_is_present(portfolio: Portfolio) -> None:
    assert set(Counter(b.risk_tier for b in portfolio.borrowers)) == set(RiskTier)


def test_at_most_three_contacts_each_with_its_own_consent(portfolio: Portfolio) -> None:
    first_loan = {}
    for loan in portfolio.loans:
        first_loan.setdefault(loan.borrower_id, loan.disbursed_on)
        first_loan[loan.borrower_id] = min(first_loan[loan.borrower_id], loan.disbursed_on)
    per_borrower = Counter(c.borrower_id for c in portfolio.contacts)
    assert max(per_borrower.values()) == MAX_CONTACTS
    assert Counter(per_borrower.values()).keys() == {1, 2, 3}
    assert len(per_borrower) < len(portfolio.borrowers)  # some borrowers named nobody
    start = datetime.combine(START, time(), CHINA)
    for contact in portfolio.contacts:
        consent = contact.consent
        assert consent.party == contact.id
        assert consent.purpose == CONSENT_PURPOSE
        assert consent.granted_at.date() == first_loan[contact.borrower_id]
        assert consent.granted_at.utcoffset() == timedelta(hours=8)
        assert contact.consent_evidence == f"app-consent-v3 checkbox, {consent.granted_at.isoformat()}"
        if consent.withdrawn_at is not None:
            assert consent.granted_at < consent.withdrawn_at < start
    withdrawn = sum(c.consent.withdrawn_at is not None for c in portfolio.contacts)
    assert 0.01 * len(portfolio.contacts) < withdrawn < 0.1 * len(portfolio.contacts)


def test_loans_have_realistic_amounts_and_dates(portfolio: Portfolio) -> None:
    for loan in portfolio.loans:
        assert 1_000 <= loan.amount <= 50_000
        assert START - timedelta(days=HISTORY_DAYS) <= loan.disbursed_on < START
    amounts = sorted(loan.amount for loan in portfolio.loans)
    assert amounts[len(amounts) // 2] < 25_000  # most loans are small


def test_schedules_pay_back_each_amount_exactly(portfolio: Portfolio) -> None:
    for loan in portfolio.loans:
        product = portfolio.product(loan.product_code)
        assert len(loan.schedule) == product.term_months
        assert sum(i.principal for i in loan.schedule) == loan.amount
        assert loan.schedule[0].start == loan.disbursed_on


def test_the_catalogue_covers_every_method_with_realistic_terms(portfolio: Portfolio) -> None:
    assert {p.method for p in portfolio.products} == set(RepaymentMethod)
    for product in portfolio.products:
        assert 3 <= product.term_months <= 24
        assert Decimal("0.072") <= product.annual_rate <= Decimal("0.24")
        assert 0 < product.penalty_daily_rate <= Decimal("0.001")
    assert {loan.product_code for loan in portfolio.loans} == {p.code for p in portfolio.products}
    with pytest.raises(KeyError):
        portfolio.product("NO-SUCH")


def test_profiles_mix_behaviours_and_trouble_starts_with_an_installment(portfolio: Portfolio) -> None:
    shares = Counter(loan.profile.behaviour for loan in portfolio.loans)
    assert set(shares) == set(Behaviour)
    assert 0.5 < shares[Behaviour.GOOD] / len(portfolio.loans) < 0.8
    for loan in portfolio.loans:
        troubled = loan.profile.behaviour in (Behaviour.CURER, Behaviour.DEFAULTER)
        assert (loan.profile.trouble_from is not None) == troubled
        if loan.profile.trouble_from is not None:
            assert 1 <= loan.profile.trouble_from <= len(loan.schedule)


def test_riskier_tiers_default_more(portfolio: Portfolio) -> None:
    tier = {b.id: b.risk_tier for b in portfolio.borrowers}

    def bad_share(t: RiskTier) -> float:
        loans = [loan for loan in portfolio.loans if tier[loan.borrower_id] is t]
        return sum(loan.profile.behaviour is Behaviour.DEFAULTER for loan in loans) / len(loans)

    assert bad_share(RiskTier.A) < bad_share(RiskTier.D)
