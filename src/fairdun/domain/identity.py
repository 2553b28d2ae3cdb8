"""Who a person is: validating names, resident ID numbers, e-mail, bank accounts and postal addresses, masking
them for display, and the limit on designated contacts.

Pure: no clock (the date a birth date must not be after is passed in), no I/O, the standard library only. Phone
numbers are validated in ``fairdun.application.identity`` through the ``phonenumbers`` library (its metadata is
the only reliable source of which number ranges exist); masking a phone number needs none of it.

Errors are :class:`DomainError` naming the field and what is wrong, never echoing the value: an error message
ends up in logs and terminals, and a resident ID number in a log is a leak.

Masking fails closed: a value that does not look like its kind is masked whole (``***``), never shown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from enum import StrEnum

from fairdun.domain.errors import DomainError


class PersonalField(StrEnum):
    """The personal fields fairdun holds about a person, by the name used in errors, masks and the audit log."""

    NAME = "name"
    RESIDENT_ID = "resident_id"
    PHONE = "phone"
    EMAIL = "email"
    BANK_ACCOUNT = "bank_account"
    POSTAL_ADDRESS = "postal_address"


# --- resident ID numbers (GB 11643-1999) --------------------------------------------------------------------

#: The first two digits of a resident ID number: the province-level division of GB/T 2260 where it was issued
#: (71 Taiwan, 81 Hong Kong and 82 Macao for residence permits, 83 for Taiwan residents' permits since 2018).
PROVINCES: Mapping[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
    "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区", "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
    "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区",
    "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区", "83": "台湾居民居住证",
}  # fmt: skip

EARLIEST_BIRTH = date(1900, 1, 1)
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2
_ID_CHECK = "10X98765432"  # ISO 7064 MOD 11-2: the check character for each value of the weighted sum mod 11
_DIGITS = frozenset("0123456789")


def resident_id_check(first17: str, field: str = "resident_id") -> str:
    """The ISO 7064 MOD 11-2 check character of a resident ID's first 17 digits (``0``-``9`` or ``X``)."""
    if len(first17) != 17 or not set(first17) <= _DIGITS:
        raise DomainError(field, "needs exactly 17 digits before the check character")
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def validate_resident_id(value: str, *, today: date, field: str = "resident_id") -> str:
    """``value`` as stored and indexed (spaces around it dropped, a final ``x`` upper-cased), or a
    :class:`DomainError` naming what is wrong: not 18 characters, not 17 ASCII digits and a check character, an
    unknown province code, a birth date that does not exist, is before 1900 or after ``today``, or the wrong
    check character (``resident_id: check character is 5, expected X``)."""
    text = value.strip()
    if len(text) != 18:
        raise DomainError(field, f"{len(text)} characters, expected 18")
    text = text[:17] + text[17].upper()
    if not set(text[:17]) <= _DIGITS or text[17] not in _DIGITS | {"X"}:
        raise DomainError(field, "expected 17 digits (0-9) and a check character (0-9 or X)")
    if text[:2] not in PROVINCES:
        raise DomainError(field, f"province code {text[:2]} is not a province-level division of GB/T 2260")
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise DomainError(field, f"birth date {text[6:10]}-{text[10:12]}-{text[12:14]} does not exist") from None
    if born < EARLIEST_BIRTH:
        raise DomainError(field, f"birth date {born.isoformat()} is before {EARLIEST_BIRTH.year}")
    if born > today:
        raise DomainError(field, f"birth date {born.isoformat()} is in the future")
    expected = resident_id_check(text[:17], field)
    if text[17] != expected:
        raise DomainError(field, f"check character is {text[17]}, expected {expected}")
    return text


# --- names, e-mail, bank accounts, postal addresses ---------------------------------------------------------

NAME_MAX = 64
"""Characters in a name: longer than any real one (the longest Chinese names, transliterated ones with ``·``,
are well under it) and short enough that a name field cannot carry a document."""
_NAME_PUNCTUATION = frozenset(" ·•.'-\u2019")


def validate_name(value: str, field: str = "name") -> str:
    """``value`` in Unicode NFC with surrounding spaces dropped and inner runs of spaces made one, or a
    :class:`DomainError`: empty, longer than :data:`NAME_MAX`, or holding a digit or any character that is not a
    letter, a combining mark, a space or ``· . ' -``."""
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if not text:
        raise DomainError(field, "empty")
    if len(text) > NAME_MAX:
        raise DomainError(field, f"{len(text)} characters, at most {NAME_MAX}")
    for char in text:
        category = unicodedata.category(char)
        if category == "Nd" or char.isdigit():
            raise DomainError(field, "contains a digit, which a name does not")
        if category[0] not in "LM" and char not in _NAME_PUNCTUATION:
            raise DomainError(field, f"contains {char!r} ({unicodedata.name(char, category)}), which a name does not")
    return text


EMAIL_MAX = 254
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def validate_email(value: str, field: str = "email") -> str:
    """``value`` with its domain lower-cased (the local part keeps its case: RFC 5321 lets a server tell cases
    apart, though the blind index does not), or a :class:`DomainError` naming what is wrong. ASCII addresses
    only: an internationalised domain is given in its ``xn--`` form."""
    text = value.strip()
    if not text:
        raise DomainError(field, "empty")
    if len(text) > EMAIL_MAX:
        raise DomainError(field, f"{len(text)} characters, at most {EMAIL_MAX}")
    if text.count("@") != 1:
        raise DomainError(field, "an e-mail address has exactly one @")
    local, domain = text.split("@")
    domain = domain.lower()
    if not local or len(local) > 64 or not _LOCAL.fullmatch(local):
        raise DomainError(field, "the part before @ is not a valid mailbox name")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise DomainError(field, "the part after @ is not a domain name (labels of a-z, 0-9 and -, dot-separated)")
    if not labels[-1].isalpha() and not labels[-1].startswith("xn--"):
        raise DomainError(field, "the domain's last label is not a top-level domain")
    return f"{local}@{domain}"


BANK_ACCOUNT_DIGITS = (10, 30)
"""Digits in a bank account or card number: UnionPay cards have 16-19, settlement accounts up to about 25."""


def validate_bank_account(value: str, field: str = "bank_account") -> str:
    """The account number's digits (spaces and dashes dropped), or a :class:`DomainError`."""
    text = value.strip().replace(" ", "").replace("-", "")
    if not text:
        raise DomainError(field, "empty")
    if not set(text) <= _DIGITS:
        raise DomainError(field, "an account number is digits (spaces and dashes between them are dropped)")
    low, high = BANK_ACCOUNT_DIGITS
    if not low <= len(text) <= high:
        raise DomainError(field, f"{len(text)} digits, expected {low} to {high}")
    return text


ADDRESS_MAX = 200


def validate_postal_address(value: str, field: str = "postal_address") -> str:
    """``value`` with whitespace runs made one space, or a :class:`DomainError`: empty, longer than
    :data:`ADDRESS_MAX`, or holding control characters."""
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if not text:
        raise DomainError(field, "empty")
    if len(text) > ADDRESS_MAX:
        raise DomainError(field, f"{len(text)} characters, at most {ADDRESS_MAX}")
    if any(unicodedata.category(c) in {"Cc", "Cf"} for c in text):
        raise DomainError(field, "contains a control character")
    return text


# --- the designated-contact limit ---------------------------------------------------------------------------

DEFAULT_MAX_CONTACTS = 3
CONTACTS_CEILING = 5
"""No configuration may allow more designated contacts than this; the database refuses a sixth (``parties.slot``
is 1 to 5 and unique per borrower)."""

ADDRESS_BOOK_FIELDS = ("address_book", "call_log", "contacts_book")
"""Field names of address-book data: fairdun has nowhere to put them, and an import that carries them is refused
whole, naming them, so a lender learns the data should never have been collected (PIPL Art. 6)."""


def check_contact_limit(limit: int, field: str = "max_contacts") -> int:
    """``limit`` if it is 1 to :data:`CONTACTS_CEILING`, else a :class:`DomainError` naming the ceiling."""
    if not 1 <= limit <= CONTACTS_CEILING:
        raise DomainError(
            field, f"{limit} designated contacts; 1 to {CONTACTS_CEILING} (the ceiling of {CONTACTS_CEILING} is fixed)"
        )
    return limit


def too_many_contacts(borrower: str, count: int, limit: int) -> str | None:
    """The refusal when a borrower designates more than ``limit`` contacts, or None. It names PIPL Art. 6: more
    contacts than the collection needs is excessive collection of other people's personal information."""
    if count <= limit:
        return None
    return f"borrower {borrower}: {count} designated contacts, at most {limit} (PIPL Art. 6, minimum necessary)"


# --- masking ------------------------------------------------------------------------------------------------

HIDDEN = "***"
"""What a value that does not look like its kind is masked to: all of it."""


def mask_phone(value: str) -> str:
    """``+8613800000001`` -> ``138****0001``: the network prefix and the last four digits. A number of another
    country keeps its ``+`` and first digits (``+1415****0123``); anything shorter than eight digits shows only
    its last two."""
    text = value.strip().replace(" ", "").replace("-", "")
    prefix = ""
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("+"):
        prefix, text = "+", text[1:]
    if not text or not set(text) <= _DIGITS:
        return HIDDEN
    if len(text) < 8:
        return prefix + "*" * max(len(text) - 2, 1) + text[-2:]
    return f"{prefix}{text[:3]}****{text[-4:]}"


def _is_han(char: str) -> bool:
    return unicodedata.name(char, "").startswith("CJK")


def mask_name(value: str) -> str:
    """A Chinese name keeps its first character (``张三`` -> ``张*``, ``欧阳娜娜`` -> ``欧***``); a name in
    Latin letters keeps each word's initial (``Alice Example`` -> ``A**** E******``); a one-character name is
    ``*``."""
    text = " ".join(value.split())
    if not text:
        return HIDDEN
    if " " in text or not any(_is_han(c) for c in text):
        return " ".join(word[0] + "*" * (len(word) - 1) for word in text.split(" "))
    return text[0] + "".join(c if c in _NAME_PUNCTUATION else "*" for c in text[1:]) if len(text) > 1 else "*"


def mask_resident_id(value: str) -> str:
    """The issuing area (first six) and the last four: ``110105********002X``. The birth date, the sequence's
    first digit and so age and sex are hidden."""
    text = value.strip()
    if len(text) != 18:
        return HIDDEN
    return f"{text[:6]}{'*' * 8}{text[-4:]}"


def mask_email(value: str) -> str:
    """``zhang.san@example.com`` -> ``z***@example.com``: the first character and the domain; the stars do not
    say how long the mailbox name is."""
    text = value.strip()
    if text.count("@") != 1 or text.startswith("@"):
        return HIDDEN
    local, domain = text.split("@")
    return f"{local[0]}***@{domain}" if domain else HIDDEN


def mask_bank_account(value: str) -> str:
    """The last four digits: ``****1234``."""
    text = value.strip().replace(" ", "")
    return f"****{text[-4:]}" if len(text) >= 8 else HIDDEN


_TOP_LEVEL = re.compile(r"^(.+?(?:特别行政区|自治区|省|市))")


def mask_postal_address(value: str) -> str:
    """The first administrative part only: ``广东省广州市天河区…`` -> ``广东省***``, ``北京市朝阳区…`` ->
    ``北京市***``. An address written in Latin letters keeps its last comma-separated part (where the state or
    country goes): ``1 Example Road, Springfield, IL`` -> ``*** IL``."""
    text = " ".join(value.split())
    found = _TOP_LEVEL.match(text)
    if found is not None and len(found.group(1)) <= 10:
        return found.group(1) + HIDDEN
    if "," in text:
        last = text.rsplit(",", 1)[1].strip()
        return f"{HIDDEN} {last}" if last else HIDDEN
    return HIDDEN


def mask_address(value: str) -> str:
    """A contact point's address, whichever kind it is: a phone number, an e-mail address or a postal address."""
    text = value.strip()
    if text.startswith("+") and text[1:].replace(" ", "").replace("-", "").isdigit():
        return mask_phone(text)
    if "@" in text:
        return mask_email(text)
    return mask_postal_address(text)


MASKS: Mapping[str, Callable[[str], str]] = {
    PersonalField.NAME: mask_name,
    PersonalField.RESIDENT_ID: mask_resident_id,
    PersonalField.PHONE: mask_phone,
    PersonalField.EMAIL: mask_email,
    PersonalField.BANK_ACCOUNT: mask_bank_account,
    PersonalField.POSTAL_ADDRESS: mask_postal_address,
    "address": mask_address,
}


def mask(kind: str, value: str | None) -> str | None:
    """``value`` masked as a ``kind`` (a :class:`PersonalField` or ``address``, a contact point's address of any
    kind); None stays None (nothing held, or erased). An unknown kind is a :class:`DomainError`: a display must
    never fall back to showing the value."""
    masker = MASKS.get(kind)
    if masker is None:
        raise DomainError("kind", f"{kind!r} is not a maskable field ({', '.join(MASKS)})")
    return None if value is None else masker(value)


__all__ = [
    "ADDRESS_BOOK_FIELDS",
    "CONTACTS_CEILING",
    "DEFAULT_MAX_CONTACTS",
    "HIDDEN",
    "MASKS",
    "PROVINCES",
    "PersonalField",
    "check_contact_limit",
    "mask",
    "mask_address",
    "mask_bank_account",
    "mask_email",
    "mask_name",
    "mask_phone",
    "mask_postal_address",
    "mask_resident_id",
    "resident_id_check",
    "too_many_contacts",
    "validate_bank_account",
    "validate_email",
    "validate_name",
    "validate_postal_address",
    "validate_resident_id",
]
