"""A tiny fictional book for the ledger tests: one borrower and two people they designated, with test-range phone
numbers (the project's block, docs/synthetic.md) and a notice to consent under."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fairdun.application import consent as ledger
from fairdun.application.ports import ContactPoint, Party, UnitOfWork
from fairdun.domain.contact import Channel, Role

CHINA = ZoneInfo("Asia/Shanghai")
PUBLISHED = datetime(2026, 8, 1, 9, 0, tzinfo=CHINA)
GIVEN = datetime(2026, 8, 2, 10, 0, tzinfo=CHINA)
DEBTOR = "B900001"
SISTER = "B900001-C1"
FRIEND = "B900001-C2"
DEBTOR_PHONE = "+8613800090001"
SISTER_PHONE = "+8613800090002"
FRIEND_PHONE = "+8613800090003"
NOTICE_TEXT = "隐私政策（示例，虚构）：我们仅在您同意的范围内处理您的个人信息。您可随时撤回同意。"


def store_people(uow: UnitOfWork) -> None:
    """The borrower and two designated contacts with their phones, and notice v1 (uncommitted)."""
    uow.parties.add(Party(DEBTOR, DEBTOR, Role.DEBTOR, "Asia/Shanghai", None, "medium"))
    uow.parties.add(Party(SISTER, DEBTOR, Role.CONTACT, "Asia/Shanghai", "sibling"))
    uow.parties.add(Party(FRIEND, DEBTOR, Role.CONTACT, "Asia/Shanghai", "friend"))
    both = frozenset({Channel.CALL, Channel.SMS})
    uow.parties.add_contact_point(ContactPoint(f"{DEBTOR}/phone", DEBTOR, DEBTOR_PHONE, both, 0))
    uow.parties.add_contact_point(ContactPoint(f"{SISTER}/phone", SISTER, SISTER_PHONE, both, 0))
    uow.parties.add_contact_point(ContactPoint(f"{FRIEND}/phone", FRIEND, FRIEND_PHONE, both, 0))
    ledger.publish_notice(uow, version="v1", language="zh-CN", text=NOTICE_TEXT, actor="dpo-1", at=PUBLISHED)
