"""Fictional borrowers for the identity tests: names from the synthetic book's lists, phones in the project's test
block (docs/synthetic.md), resident ID numbers with valid check characters but invented, e-mail on example.com."""

from __future__ import annotations

from typing import Any

from fairdun.domain.identity import resident_id_check

BORROWER_ID_NUMBER = "11010519491231002X"  # GB 11643-1999's own worked example
SECOND_ID_NUMBER = "44010619900307001" + resident_id_check("44010619900307001")
CONTACT_PHONES = ("+8613800042024", "+8613800042025", "+8613800042026", "+8613800042027", "+8613800042028")
RELATIONSHIPS = ("sibling", "parent", "friend", "spouse", "colleague")


def contact(n: int) -> dict[str, Any]:
    return {
        "name": ("李娜", "王芳", "赵磊", "陈静", "周杰", "吴敏", "徐强")[n % 7],
        "phone": CONTACT_PHONES[n % 5] if n < 5 else f"+86138000420{30 + n}",
        "relationship": RELATIONSHIPS[n % 5],
        "consent": {"granted_at": "2026-11-01T10:00:00+08:00", "channel": "app", "evidence": f"app-consent-{n}"},
    }


def record(borrower: str = "B000123", contacts: int | list[dict[str, Any]] = 2, **changes: Any) -> dict[str, Any]:
    """A complete borrower record (the JSON ``fairdun borrower add`` takes) with ``contacts`` designated contacts."""
    base: dict[str, Any] = {
        "id": borrower,
        "name": "张三",
        "resident_id": BORROWER_ID_NUMBER,
        "phones": ["+8613800004211"],
        "email": "borrower000123@example.com",
        "postal_address": "北京市朝阳区示例街2号",
        "bank_account": "6222020000001234",
        "tz": "Asia/Shanghai",
        "risk_tier": "medium",
        "contacts": [contact(n) for n in range(contacts)] if isinstance(contacts, int) else contacts,
    }
    base.update(changes)
    return base
