"""The fictional book's message templates: one per template id the built-in ``default`` strategy uses, in
Simplified Chinese, to the debtor, written for this project.

Each says who sends it (``{lender_name}``), threatens nothing, offers to talk about a payment plan, and each SMS
or e-mail says how to stop them ("回复TD退订"), so they pass the lint under any built-in pack. The demo registers
them through the workflow (written by ``template-author``, approved by ``compliance-officer``); the ``aggressive``
strategy's templates are not registered, since it only ever runs audit-only.
"""

from __future__ import annotations

from fairdun.application.templates import TemplateSpec
from fairdun.domain.contact import Channel, Role

AUTHOR = "template-author"
APPROVER = "compliance-officer"
LANGUAGE = "zh-CN"

_TEXTS: tuple[tuple[str, Channel, str | None, str], ...] = (
    (
        "M1-SMS-REMINDER", Channel.SMS, None,
        "【{lender_name}】{name}您好，您本期应还的{overdue_amount}元尚未到账，请方便时通过App或客服电话"
        "{service_phone}还款；如已还款请忽略。回复TD退订",
    ),
    (
        "M1-AI-REMINDER", Channel.AI_CALL, None,
        "您好，这里是{lender_name}的智能语音助手，提醒{name}本期还款{overdue_amount}元尚未到账。"
        "如有困难，可致电客服{service_phone}商量还款安排。",
    ),
    (
        "M1-AI-FOLLOW-UP", Channel.AI_CALL, None,
        "您好，这里是{lender_name}的智能语音助手，再次提醒{name}本期还款尚未到账；如已还款请忽略，"
        "需要帮助请致电客服{service_phone}。",
    ),
    (
        "M1-CALL-SCRIPT", Channel.CALL, None,
        "您好，我是{lender_name}的客服{agent_name}，请问是{name}本人吗？来电想和您确认本期{overdue_amount}元的"
        "还款安排；如果您暂时有困难，我们可以一起商量还款计划。",
    ),
    (
        "M2-SMS-NOTICE", Channel.SMS, None,
        "【{lender_name}】{name}您好，您的借款已逾期{days_past_due}天，待还{overdue_amount}元。"
        "如需协商还款计划，请致电{service_phone}。回复TD退订",
    ),
    (
        "M2-CALL-SCRIPT", Channel.CALL, None,
        "您好，我是{lender_name}的客服{agent_name}，请问是{name}本人吗？您的借款已逾期{days_past_due}天，"
        "我们想了解您的情况，和您商量可行的还款方式。",
    ),
    (
        "M2-CALL-SENIOR", Channel.CALL, None,
        "您好，我是{lender_name}的客户经理{agent_name}，请问是{name}本人吗？关于您{overdue_amount}元的逾期款项，"
        "我们可以为您提供分期还款等方案，想听听您的想法。",
    ),
    (
        "M2-EMAIL-STATEMENT", Channel.EMAIL, "{lender_name}：您的借款账户对账单",
        "{name}您好：\n您的借款目前逾期{days_past_due}天，待还金额{overdue_amount}元。如对账单有疑问，或希望"
        "协商还款计划，请致电客服{service_phone}。\n{lender_name}\n如不希望再收到此类邮件，回复TD退订。",
    ),
    (
        "LATE-SMS-NOTICE", Channel.SMS, None,
        "【{lender_name}】{name}您好，您的借款已逾期{days_past_due}天，待还{overdue_amount}元。"
        "我们仍愿意与您协商还款方案，请致电{service_phone}。回复TD退订",
    ),
    (
        "LATE-CALL-SCRIPT", Channel.CALL, None,
        "您好，我是{lender_name}的客服{agent_name}，请问是{name}本人吗？您的借款逾期时间较长，我们想了解您"
        "目前的困难，商量一个您能负担的还款计划。",
    ),
    (
        "LATE-LETTER-DEMAND", Channel.LETTER, None,
        "{name}：\n您在{lender_name}的借款已逾期{days_past_due}天，截至本函日期待还金额为{overdue_amount}元。"
        "请在方便时与我们联系，商定还款安排；如您对金额有疑问，可书面提出，我们会核实后答复。\n"
        "联系电话：{service_phone}\n{lender_name}",
    ),
    (
        "WO-LETTER-NOTICE", Channel.LETTER, None,
        "{name}：\n您在{lender_name}的借款待还金额为{overdue_amount}元。我们仍希望与您协商解决；如您有还款困难"
        "或对金额有疑问，请致电{service_phone}。\n{lender_name}",
    ),
)  # fmt: skip


def demo_templates(pack: str) -> tuple[TemplateSpec, ...]:
    """The fictional book's templates, for the pack the demo runs under."""
    return tuple(
        TemplateSpec(template_id, channel, Role.DEBTOR, pack, LANGUAGE, subject, body, AUTHOR)
        for template_id, channel, subject, body in _TEXTS
    )
