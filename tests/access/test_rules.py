"""The pure rules (domain/agency.py): training currency to the day, and every reason a placement is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from fairdun.domain.agency import (
    Agency,
    Contract,
    Evaluation,
    EvaluationResult,
    PlacementNotice,
    RefusalCode,
    Training,
    TrainingKind,
    one_year_on,
    placement_refusals,
    training_current,
)
from fairdun.domain.errors import DomainError

AT = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
DAY = AT.date()


def onboarding(passed: date, until: date | None = None) -> Training:
    return Training("collector-01", TrainingKind.ONBOARDING, passed, until or one_year_on(passed), "CERT-1", "admin")


def annual(passed: date) -> Training:
    return Training("collector-01", TrainingKind.ANNUAL, passed, one_year_on(passed), "CERT-2", "admin")


def test_a_year_of_training_ends_the_day_before_the_anniversary() -> None:
    assert one_year_on(date(2026, 3, 1)) == date(2027, 2, 28)
    assert one_year_on(date(2028, 2, 29)) == date(2029, 2, 27)


def test_a_collector_who_never_passed_onboarding_may_not_work_even_with_annual_training() -> None:
    reason = training_current([annual(date(2026, 1, 5))], DAY)
    assert reason is not None
    assert "onboarding training never passed" in reason
    assert "GB/T 45251-2025" in reason


def test_annual_training_holds_on_its_last_day_and_has_lapsed_the_next() -> None:
    trainings = [onboarding(date(2024, 5, 1)), annual(date(2025, 9, 2))]
    last = date(2026, 9, 1)
    assert training_current(trainings, last) is None
    reason = training_current(trainings, last + timedelta(days=1))
    assert reason is not None
    assert "annual training lapsed on 2026-09-02" in reason


def test_onboarding_covers_its_first_year_and_a_training_passed_later_does_not_count_yet() -> None:
    first = onboarding(date(2026, 8, 1))
    assert training_current([first], date(2026, 8, 1)) is None
    assert training_current([first], date(2026, 7, 31)) is not None  # not passed yet on that day
    assert training_current([onboarding(date(2025, 1, 1)), annual(date(2026, 10, 1))], DAY) is not None


def test_a_training_without_evidence_or_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(DomainError, match="evidence"):
        Training("c", TrainingKind.ANNUAL, DAY, one_year_on(DAY), " ", "admin")
    with pytest.raises(DomainError, match="valid_until"):
        Training("c", TrainingKind.ANNUAL, DAY, DAY - timedelta(days=1), "CERT", "admin")


APPROVED = Agency("agency-east", "East", AT - timedelta(days=30))
PASSED = Evaluation(
    "agency-east",
    DAY - timedelta(days=10),
    EvaluationResult.PASS,
    one_year_on(DAY - timedelta(days=10)),
    "compliance-1",
    "EV-1",
)
CONTRACT = Contract("agency-east", "DPA-1", DAY - timedelta(days=10), DAY + timedelta(days=300))
NOTICE = PlacementNotice("B1", "agency-east", AT - timedelta(days=5), "letter", "LTR-1")


def codes(**changes: object) -> set[RefusalCode]:
    facts: dict[str, object] = {
        "agency": APPROVED, "evaluations": [PASSED], "contracts": [CONTRACT], "notice": NOTICE,
        "agency_sharing_consent": False, "at": AT,
    }  # fmt: skip
    facts.update(changes)
    return {r.code for r in placement_refusals(**facts, agency_id="agency-east")}  # type: ignore[arg-type]


def test_an_approved_evaluated_contracted_agency_and_an_informed_borrower_allow_placement() -> None:
    assert codes() == set()


def test_an_unknown_or_unapproved_agency_is_refused_citing_the_approved_list() -> None:
    assert codes(agency=None) == {RefusalCode.NOT_APPROVED}
    assert codes(agency=Agency("agency-east", "East")) == {RefusalCode.NOT_APPROVED}
    assert codes(agency=Agency("agency-east", "East", AT + timedelta(hours=1))) == {RefusalCode.NOT_APPROVED}
    refusal = placement_refusals(None, [PASSED], [CONTRACT], NOTICE, False, AT, agency_id="agency-x")[0]
    assert "agency-x" in refusal.message
    assert "CBA 2026" in refusal.citation


def test_a_revoked_agency_is_refused_from_the_instant_of_revocation() -> None:
    revoked = Agency("agency-east", "East", AT - timedelta(days=30), AT)
    assert codes(agency=revoked) == {RefusalCode.REVOKED}
    assert codes(agency=Agency("agency-east", "East", AT - timedelta(days=30), AT + timedelta(seconds=1))) == set()


def test_no_current_evaluation_is_refused_and_a_later_failure_ends_an_earlier_pass() -> None:
    assert codes(evaluations=[]) == {RefusalCode.NO_EVALUATION}
    old = Evaluation("agency-east", date(2025, 9, 1), EvaluationResult.PASS, one_year_on(date(2025, 9, 1)), "c", "EV-0")
    assert old.valid_until == DAY - timedelta(days=1)
    assert codes(evaluations=[old]) == {RefusalCode.NO_EVALUATION}
    failed = Evaluation("agency-east", DAY - timedelta(days=1), EvaluationResult.FAIL, one_year_on(DAY), "c", "EV-2")
    assert codes(evaluations=[PASSED, failed]) == {RefusalCode.NO_EVALUATION}
    reason = placement_refusals(APPROVED, [], [CONTRACT], NOTICE, False, AT)[0]
    assert "GB/T 45251-2025" in reason.citation


def test_a_borrower_not_told_before_the_placement_is_refused_citing_art_41() -> None:
    assert codes(notice=None) == {RefusalCode.NOT_INFORMED}
    assert codes(notice=PlacementNotice("B1", "agency-east", AT, "letter", "LTR-1")) == {RefusalCode.NOT_INFORMED}
    reason = placement_refusals(APPROVED, [PASSED], [CONTRACT], None, False, AT)[0]
    assert "Art. 41" in reason.citation


def test_sharing_needs_separate_consent_or_an_entrusted_processing_contract_in_force() -> None:
    assert codes(contracts=[]) == {RefusalCode.NO_BASIS}
    assert codes(contracts=[], agency_sharing_consent=True) == set()
    expired = Contract("agency-east", "DPA-0", date(2025, 1, 1), DAY - timedelta(days=1))
    assert codes(contracts=[expired]) == {RefusalCode.NO_BASIS}
    reason = placement_refusals(APPROVED, [PASSED], [], NOTICE, False, AT)[0]
    assert "PIPL Art. 23" in reason.citation
    assert "Art. 21" in reason.citation


def test_every_reason_is_given_at_once() -> None:
    assert codes(agency=None, evaluations=[], contracts=[], notice=None) == set(RefusalCode) - {RefusalCode.REVOKED}


def test_an_agency_shares_only_known_fields_and_at_least_one() -> None:
    assert APPROVED.shared_fields == frozenset({"name", "phone"})
    with pytest.raises(DomainError, match="shared_fields: unknown address_book"):
        Agency("a", "A", shared_fields=frozenset({"name", "address_book"}))
    with pytest.raises(DomainError, match="shared_fields"):
        Agency("a", "A", shared_fields=frozenset())
