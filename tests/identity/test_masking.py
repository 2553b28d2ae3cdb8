"""Masking: every display of a personal field shows only what the collector needs, and a value that does not look
like its kind is hidden whole rather than shown."""

from __future__ import annotations

import pytest

from fairdun.domain.errors import DomainError
from fairdun.domain.identity import (
    HIDDEN,
    PersonalField,
    mask,
    mask_bank_account,
    mask_email,
    mask_name,
    mask_phone,
    mask_postal_address,
    mask_resident_id,
)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+8613800000001", "138****0001"),
        ("+86 138-0000-4211", "138****4211"),
        ("13800000001", "138****0001"),
        ("+14155550123", "+141****0123"),
        ("+861234", "**34"),
        ("not a number", HIDDEN),
        ("", HIDDEN),
    ],
)
def test_a_phone_number_shows_its_prefix_and_last_four_digits(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("王秀英", "王**"),
        ("李", "*"),
        ("买买提·艾力", "买**·**"),
        ("Alice Example", "A**** E******"),
        ("  ", HIDDEN),
    ],
)
def test_a_name_shows_only_its_first_character_or_initials(value: str, masked: str) -> None:
    assert mask_name(value) == masked


def test_a_resident_id_hides_the_birth_date() -> None:
    masked = mask_resident_id("11010519491231002X")
    assert masked == "110105********002X"
    assert "19491231" not in masked
    assert mask_resident_id("110105") == HIDDEN


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("zhang.san@example.com", "z***@example.com"),
        ("a@example.com", "a***@example.com"),
        ("no-at-sign.example.com", HIDDEN),
        ("@example.com", HIDDEN),
    ],
)
def test_an_email_address_shows_its_first_character_and_domain(value: str, masked: str) -> None:
    assert mask_email(value) == masked


def test_a_bank_account_shows_its_last_four_digits() -> None:
    assert mask_bank_account("6222 0200 0000 1234") == "****1234"
    assert mask_bank_account("1234") == HIDDEN


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("广东省广州市天河区示例路1号", "广东省***"),
        ("北京市朝阳区示例街2号", "北京市***"),
        ("新疆维吾尔自治区乌鲁木齐市示例路3号", "新疆维吾尔自治区***"),
        ("1 Example Road, Springfield, IL", "*** IL"),
        ("somewhere", HIDDEN),
    ],
)
def test_a_postal_address_shows_its_first_administrative_part_only(value: str, masked: str) -> None:
    assert mask_postal_address(value) == masked


def test_mask_dispatches_by_kind_and_keeps_none() -> None:
    assert mask(PersonalField.PHONE, "+8613800000001") == "138****0001"
    assert mask("name", "张三") == "张*"
    assert mask("address", "borrower000001@example.com") == "b***@example.com"
    assert mask("address", "+8613800004211") == "138****4211"
    assert mask(PersonalField.RESIDENT_ID, None) is None


def test_an_unknown_kind_is_refused_rather_than_shown() -> None:
    with pytest.raises(DomainError, match="kind: 'salary' is not a maskable field"):
        mask("salary", "12000")


@pytest.mark.parametrize("kind", list(PersonalField))
def test_no_mask_returns_the_value_itself(kind: PersonalField) -> None:
    samples = {
        PersonalField.NAME: "欧阳娜娜",
        PersonalField.RESIDENT_ID: "11010519491231002X",
        PersonalField.PHONE: "+8613800000001",
        PersonalField.EMAIL: "zhang.san@example.com",
        PersonalField.BANK_ACCOUNT: "6222020000001234",
        PersonalField.POSTAL_ADDRESS: "广东省广州市天河区示例路1号",
    }
    masked = mask(kind, samples[kind])
    assert masked is not None
    assert masked != samples[kind]
    assert "*" in masked
