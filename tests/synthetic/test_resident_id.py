from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairdun.application.synthetic import REGIONS, Region, resident_id_check, validate_resident_id
from fairdun.domain.errors import DomainError

# The worked example of GB 11643-1999 itself, and one whose check character is X by construction.
STANDARD_EXAMPLE = "11010519491231002X"


def test_the_standards_worked_example_is_valid() -> None:
    assert validate_resident_id(STANDARD_EXAMPLE)
    assert resident_id_check(STANDARD_EXAMPLE[:17]) == "X"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "11010519491231002",  # 17 characters
        "11010519491231002X0",  # 19
        "11010519491231002x",  # a lower-case x
        "110105194912310020",  # the wrong check digit
        "110105194902300021",  # 30 February 1949
        "110105180001010010",  # born before 1900
        "01010519491231002X",  # no region starts with 0
        "1101051949123100２X",  # a full-width digit
    ],
)
def test_malformed_ids_are_refused(value: str) -> None:
    assert not validate_resident_id(value)


def test_the_check_character_needs_seventeen_digits() -> None:
    with pytest.raises(DomainError, match="17 digits"):
        resident_id_check("1101051949123100")


def _first17(region: Region, born: date, sequence: int) -> str:
    return f"{region.code}{born:%Y%m%d}{sequence:03d}"


valid_ids = st.builds(
    _first17, st.sampled_from(REGIONS), st.dates(date(1950, 1, 1), date(2010, 12, 31)), st.integers(0, 999)
).map(lambda first17: first17 + resident_id_check(first17))


@given(valid_ids)
def test_an_id_with_its_check_character_is_valid(value: str) -> None:
    assert validate_resident_id(value)


@given(valid_ids, st.integers(0, 17), st.integers(1, 9))
def test_a_single_changed_character_is_always_detected(value: str, position: int, shift: int) -> None:
    alphabet = "0123456789X" if position == 17 else "0123456789"
    old = alphabet.index(value[position])
    changed = alphabet[(old + shift) % len(alphabet)]
    assert not validate_resident_id(value[:position] + changed + value[position + 1 :])
