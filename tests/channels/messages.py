"""Test data for the channel tests: obviously fictional parties, test-range phone numbers, example.com mail."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from fairdun.application.channels import OutboundMessage
from fairdun.domain.contact import Channel

T0 = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai

SMS = OutboundMessage(
    key="cycle:2024-05-06:D-0001:sms:1",
    channel=Channel.SMS,
    address="+86 170 0000 0001",
    party="P-0001",
    debt="D-0001",
    body="张伟您好：您的借款已逾期3天，请尽快还款。",
    created_at=T0,
    template="sms.reminder.d3",
)

EMAIL = OutboundMessage(
    key="cycle:2024-05-06:D-0002:email:1",
    channel=Channel.EMAIL,
    address="li.na@example.com",
    party="P-0002",
    debt="D-0002",
    subject="还款提醒：您的借款已逾期",
    body="李娜您好：\n\n您尾号0002的借款已逾期3天，应还金额1,234.56元。\n如已还款，请忽略本邮件。\n",
    created_at=T0,
    template="email.reminder.d3",
)


def sms(key: str = SMS.key, **changes: object) -> OutboundMessage:
    return replace(SMS, key=key, **changes)  # type: ignore[arg-type]


def email(key: str = EMAIL.key, **changes: object) -> OutboundMessage:
    return replace(EMAIL, key=key, **changes)  # type: ignore[arg-type]


@dataclass
class FakeClock:
    """A clock the test moves by hand."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
