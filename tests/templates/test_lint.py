"""The lint on submit: every rule fires on a template that breaks it, and a lawful template passes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fairdun.application.demo_templates import demo_templates
from fairdun.application.templates import VALIDATION_FIELDS, lint
from fairdun.config.packs import load_screener
from fairdun.config.strategies import load_strategy
from fairdun.domain.contact import Channel, Role
from fairdun.domain.templates import Template, draft
from fairdun.policy.screen import Screener

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def screener() -> Screener:
    return load_screener()


def template(body: str, *, role: Role = Role.DEBTOR, channel: Channel = Channel.SMS, pack: str = "cn") -> Template:
    subject = "{lender_name}: your statement" if channel is Channel.EMAIL else None
    return draft(
        "T-1", 1, channel=channel, role=role, pack=pack, language="zh-CN", subject=subject, body=body,
        author="writer-wang", at=T0,
    )  # fmt: skip


def rules(t: Template, screener: Screener, lender: str | None = None) -> list[str]:
    return [f.rule for f in lint(t, screener, lender_name=lender)]


def test_a_lawful_template_passes(screener: Screener) -> None:
    body = "【{lender_name}】{name}您好，您本期应还{overdue_amount}元尚未到账，如有困难请致电{service_phone}协商。"
    assert rules(template(body), screener) == []


def test_a_threat_is_found_by_the_screener_with_sample_values_in(screener: Screener) -> None:
    body = "【{lender_name}】{name}，再不还钱就去你单位找你，让你坐牢。"
    failures = lint(template(body), screener)
    assert {f.rule for f in failures} == {"TPL-SCREEN"}
    assert any("threat" in f.message or "false_consequence" in f.message for f in failures)


def test_a_message_that_does_not_say_who_sends_it_fails(screener: Screener) -> None:
    assert rules(template("{name}您好，您本期的还款尚未到账。"), screener) == ["TPL-SENDER"]


def test_the_lenders_name_written_out_is_a_sender(screener: Screener) -> None:
    body = "【示例消费金融】{name}您好，您本期的还款尚未到账。"
    assert rules(template(body), screener, lender="示例消费金融") == []
    assert rules(template(body), screener) == ["TPL-SENDER"]


def test_an_sms_or_email_under_us_needs_an_opt_out(screener: Screener) -> None:
    body = "{lender_name}: hello {name}, a payment on your account is past due. Call us to talk about options."
    assert rules(template(body, pack="us"), screener) == ["TPL-OPT-OUT"]
    assert rules(template(body, pack="us", channel=Channel.EMAIL), screener) == ["TPL-OPT-OUT"]
    assert rules(template(body + " Reply STOP to opt out.", pack="us"), screener) == []
    assert rules(template(body, pack="us", channel=Channel.CALL), screener) == []
    assert rules(template(body, pack="cn"), screener) == []


@pytest.mark.parametrize("role", [Role.CONTACT, Role.THIRD_PARTY])
def test_no_debt_variables_in_a_template_for_a_contact_or_third_party(screener: Screener, role: Role) -> None:
    body = "【{lender_name}】您好，请转告{name}尽快联系我们，待还{overdue_amount}元，已逾期{days_past_due}天。"
    failures = lint(template(body, role=role), screener)
    assert [f.rule for f in failures if f.rule == "TPL-DEBT-VARIABLE"] == ["TPL-DEBT-VARIABLE"]
    assert "{days_past_due}" in failures[-1].message
    assert "{overdue_amount}" in failures[-1].message
    assert "TPL-DEBT-VARIABLE" not in rules(template(body), screener)  # the debtor may be told


def test_every_failure_is_listed_at_once(screener: Screener) -> None:
    body = "Hello, you owe {amount}. Pay now."
    failures = lint(template(body, role=Role.CONTACT, pack="us"), screener)
    assert [f.rule for f in failures] == ["TPL-SCREEN", "TPL-SENDER", "TPL-OPT-OUT", "TPL-DEBT-VARIABLE"]
    assert "third_party_disclosure" in failures[0].message  # telling a contact "you owe" names the debt


def validation_notice(body: str) -> Template:
    return draft(
        "US-VALIDATION-NOTICE", 1, channel=Channel.LETTER, role=Role.DEBTOR, pack="us", language="en-US",
        subject=None, body=body, author="writer-wang", at=T0,
    )  # fmt: skip


def test_a_us_validation_notice_must_give_every_item_of_validation_information(screener: Screener) -> None:
    every = " ".join("{" + v + "}" for v in VALIDATION_FIELDS)
    assert rules(validation_notice(f"{{lender_name}} {every}"), screener) == []
    without = every.replace("{validation_end_date}", "").replace("{itemization_date}", "")
    failures = lint(validation_notice(f"{{lender_name}} {without}"), screener)
    assert [f.rule for f in failures] == ["TPL-VALIDATION-NOTICE"]
    assert "{itemization_date}, {validation_end_date}" in failures[0].message
    not_a_notice = draft(
        "US-LETTER-REMINDER", 1, channel=Channel.LETTER, role=Role.DEBTOR, pack="us", language="en-US",
        subject=None, body="{lender_name} {name}", author="writer-wang", at=T0,
    )  # fmt: skip
    assert rules(not_a_notice, screener) == []


@pytest.mark.parametrize("pack", ["cn", "us"])
def test_the_demo_templates_pass_the_whole_lint_and_cover_the_default_strategy(screener: Screener, pack: str) -> None:
    specs = demo_templates(pack)
    for s in specs:
        t = draft(
            s.id, 1, channel=s.channel, role=s.role, pack=s.pack, language=s.language, subject=s.subject,
            body=s.body, author=s.author, at=T0,
        )  # fmt: skip
        assert lint(t, screener) == (), s.id
    strategy = load_strategy("default")
    used = {(st.template, st.channel, st.role) for t in strategy.treatments.values() for st in t.steps}
    assert used == {(s.id, s.channel, s.role) for s in specs}
