"""Validation of identity fields: each bad value is refused with an error naming the field and what is wrong,
never echoing the value."""

from __future__ import annotations

from datetime import date

import pytest

from fairdun.domain.errors import DomainError
from fairdun.domain.identity import (
    check_contact_limit,
    resident_id_check,
    too_many_contacts,
    validate_bank_account,
    validate_email,
    validate_name,
    validate_postal_address,
    validate_resident_id,
)

TODAY = date(2026, 12, 2)
STANDARD_EXAMPLE = "11010519491231002X"  # GB 11643-1999's own worked example


def with_check(first17: str) -> str:
    return first17 + resident_id_check(first17)


def test_the_standards_worked_example_is_valid_and_a_lower_case_x_is_upper_cased() -> None:
    assert validate_resident_id(STANDARD_EXAMPLE, today=TODAY) == STANDARD_EXAMPLE
    assert validate_resident_id(" 11010519491231002x ", today=TODAY) == STANDARD_EXAMPLE


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("110105194912310025", "resident_id: check character is 5, expected X"),
        ("11010519491231002", "resident_id: 17 characters, expected 18"),
        ("1101051949123100２X", "resident_id: expected 17 digits"),
        ("11010519491231002Y", "resident_id: expected 17 digits"),
        (with_check("99010519491231002"), "resident_id: province code 99 is not a province-level division"),
        (with_check("01010519491231002"), "resident_id: province code 01"),
        (with_check("11010519490230002"), "resident_id: birth date 1949-02-30 does not exist"),
        (with_check("11010518991231002"), "resident_id: birth date 1899-12-31 is before 1900"),
        (with_check("11010520270101002"), "resident_id: birth date 2027-01-01 is in the future"),
    ],
)
def test_a_bad_resident_id_is_refused_naming_what_is_wrong(value: str, problem: str) -> None:
    with pytest.raises(DomainError, match=problem) as caught:
        validate_resident_id(value, today=TODAY)
    assert caught.value.field == "resident_id"
    assert value[:17] not in str(caught.value)


def test_a_birth_date_of_today_is_accepted_and_tomorrow_is_not() -> None:
    born_today = with_check("110105" + TODAY.strftime("%Y%m%d") + "001")
    assert validate_resident_id(born_today, today=TODAY) == born_today
    with pytest.raises(DomainError, match="in the future"):
        validate_resident_id(born_today, today=date(2026, 12, 1))


def test_the_field_name_is_the_callers() -> None:
    with pytest.raises(DomainError, match=r"contacts\[0\].resident_id: 3 characters"):
        validate_resident_id("123", today=TODAY, field="contacts[0].resident_id")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张三", "张三"),
        ("  欧阳   娜娜 ", "欧阳 娜娜"),
        ("买买提·艾力", "买买提·艾力"),
        ("Anne-Marie O'Example", "Anne-Marie O'Example"),
    ],
)
def test_names_are_accepted_and_tidied(value: str, expected: str) -> None:
    assert validate_name(value) == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "name: empty"),
        ("   ", "name: empty"),
        ("张三3", "name: contains a digit"),
        ("张三٣", "name: contains a digit"),
        ("张" * 65, "name: 65 characters, at most 64"),
        ("zhang@san", "name: contains '@'"),
    ],
)
def test_a_bad_name_is_refused(value: str, problem: str) -> None:
    with pytest.raises(DomainError, match=problem):
        validate_name(value)


def test_an_email_domain_is_lower_cased_and_the_mailbox_kept() -> None:
    assert validate_email(" Zhang.San@Example.COM ") == "Zhang.San@example.com"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "email: empty"),
        ("zhang.example.com", "exactly one @"),
        ("a@b@example.com", "exactly one @"),
        (".zhang@example.com", "before @ is not a valid mailbox"),
        ("zh..ang@example.com", "before @ is not a valid mailbox"),
        ("zhang@localhost", "after @ is not a domain name"),
        ("zhang@-example.com", "after @ is not a domain name"),
        ("zhang@example.123", "not a top-level domain"),
        ("张三@example.com", "before @ is not a valid mailbox"),
    ],
)
def test_a_bad_email_is_refused(value: str, problem: str) -> None:
    with pytest.raises(DomainError, match=problem):
        validate_email(value)


def test_bank_accounts_and_postal_addresses() -> None:
    assert validate_bank_account("6222 0200-0000 1234") == "6222020000001234"
    with pytest.raises(DomainError, match="bank_account: 4 digits, expected 10 to 30"):
        validate_bank_account("1234")
    with pytest.raises(DomainError, match="bank_account: an account number is digits"):
        validate_bank_account("6222O20000001234")
    assert validate_postal_address(" 广东省广州市\n天河区示例路1号 ") == "广东省广州市 天河区示例路1号"
    with pytest.raises(DomainError, match="postal_address: contains a control character"):
        validate_postal_address("广东省\x00广州市")
    with pytest.raises(DomainError, match="postal_address: empty"):
        validate_postal_address(" ")


def test_the_contact_limit_is_one_to_five_and_names_pipl_art_6() -> None:
    assert check_contact_limit(3) == 3
    assert check_contact_limit(5) == 5
    for bad in (0, 6, 10):
        with pytest.raises(DomainError, match="the ceiling of 5 is fixed"):
            check_contact_limit(bad)
    assert too_many_contacts("B000123", 3, 3) is None
    assert too_many_contacts("B000123", 7, 3) == (
        "borrower B000123: 7 designated contacts, at most 3 (PIPL Art. 6, minimum necessary)"
    )
