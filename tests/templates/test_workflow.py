"""The template workflow: draft → in_review → approved → retired, four eyes, history kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from fairdun.application import templates as registry
from fairdun.application.ports import UnitOfWork
from fairdun.domain.contact import Channel, Role
from fairdun.domain.templates import TemplateError, TemplateStatus, draft, move

from .fakes import FakeTemplateUnitOfWork

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LAWFUL = "【{lender_name}】{name}您好，您本期的还款尚未到账，如有困难请致电{service_phone}商量还款安排。"


def spec(body: str = LAWFUL, **changes: Any) -> registry.TemplateSpec:
    fields: dict[str, Any] = {
        "id": "M1-SMS-REMINDER", "channel": Channel.SMS, "role": Role.DEBTOR, "pack": "cn", "language": "zh-CN",
        "subject": None, "body": body, "author": "writer-wang",
    }  # fmt: skip
    fields.update(changes)
    return registry.TemplateSpec(**fields)


def uow() -> UnitOfWork:
    return cast(UnitOfWork, FakeTemplateUnitOfWork())


def through_review(u: UnitOfWork, body: str = LAWFUL, at: datetime = T0) -> None:
    registry.add(u, spec(body), at=at)
    registry.submit(u, "M1-SMS-REMINDER", by="writer-wang", at=at, screener=None)


def test_a_template_goes_from_draft_to_review_to_approved_with_who_and_when() -> None:
    u = uow()
    with u:
        through_review(u)
        approved = registry.approve(u, "M1-SMS-REMINDER", by="officer-li", at=T0 + timedelta(hours=1))
    assert approved.status is TemplateStatus.APPROVED
    assert approved.ref == "M1-SMS-REMINDER@v1"
    assert [(h.status, h.by) for h in approved.history] == [
        (TemplateStatus.DRAFT, "writer-wang"),
        (TemplateStatus.IN_REVIEW, "writer-wang"),
        (TemplateStatus.APPROVED, "officer-li"),
    ]
    assert approved.by(TemplateStatus.APPROVED) is not None
    assert approved.history[-1].at == T0 + timedelta(hours=1)


def test_the_author_cannot_approve_their_own_template() -> None:
    u = uow()
    with u:
        through_review(u)
        with pytest.raises(TemplateError) as refused:
            registry.approve(u, "M1-SMS-REMINDER", by="writer-wang", at=T0)
    assert refused.value.rule == "TPL-FOUR-EYES"
    assert "four-eyes" in str(refused.value)


def test_approving_a_new_version_retires_the_one_approved_before_and_keeps_its_history() -> None:
    u = uow()
    with u:
        through_review(u)
        registry.approve(u, "M1-SMS-REMINDER", by="officer-li", at=T0)
        through_review(u, LAWFUL + "如已还款请忽略。", at=T0 + timedelta(days=1))
        second = registry.approve(u, "M1-SMS-REMINDER", by="officer-zhao", at=T0 + timedelta(days=1))
        first, again = u.templates.versions("M1-SMS-REMINDER")
        approved = [t.ref for t in u.templates.all(TemplateStatus.APPROVED)]
    assert second.version == 2
    assert again == second
    assert first.status is TemplateStatus.RETIRED
    assert first.body == LAWFUL  # the text of version 1 is untouched
    assert [h.status for h in first.history] == [
        TemplateStatus.DRAFT, TemplateStatus.IN_REVIEW, TemplateStatus.APPROVED, TemplateStatus.RETIRED,
    ]  # fmt: skip
    assert first.history[-1].by == "officer-zhao"
    assert approved == ["M1-SMS-REMINDER@v2"]


def test_a_draft_cannot_be_approved_without_review_and_a_retired_version_is_final() -> None:
    t = draft(
        "X-1", 1, channel=Channel.SMS, role=Role.DEBTOR, pack="cn", language="zh-CN", subject=None,
        body="{lender_name}", author="a", at=T0,
    )  # fmt: skip
    with pytest.raises(TemplateError) as skipped:
        move(t, TemplateStatus.APPROVED, by="b", at=T0)
    assert skipped.value.rule == "TPL-TRANSITION"
    retired = move(t, TemplateStatus.RETIRED, by="a", at=T0)
    with pytest.raises(TemplateError, match="final"):
        move(retired, TemplateStatus.IN_REVIEW, by="a", at=T0)


def test_retire_takes_the_approved_version_out_of_what_may_be_sent() -> None:
    u = uow()
    with u:
        through_review(u)
        registry.approve(u, "M1-SMS-REMINDER", by="officer-li", at=T0)
        registry.retire(u, "M1-SMS-REMINDER", by="officer-li", at=T0)
        assert registry.approved_index(u.templates.all()) == {}


def test_an_unknown_template_and_a_missing_subject_on_email_are_refused() -> None:
    u = uow()
    with u:
        with pytest.raises(TemplateError) as unknown:
            registry.submit(u, "NOPE", by="x", at=T0, screener=None)
        with pytest.raises(TemplateError) as subject:
            registry.add(u, spec(channel=Channel.EMAIL), at=T0)
    assert unknown.value.rule == "TPL-NOT-FOUND"
    assert subject.value.rule == "TPL-FIELD"
    assert "subject" in str(subject.value)


def test_every_step_of_a_template_is_in_the_audit_log_with_a_digest_of_its_words() -> None:
    fake = FakeTemplateUnitOfWork()
    u = cast(UnitOfWork, fake)
    with u:
        through_review(u)
        registry.approve(u, "M1-SMS-REMINDER", by="officer-li", at=T0)
        through_review(u, LAWFUL + "如已还款请忽略。", at=T0 + timedelta(days=1))
        registry.approve(u, "M1-SMS-REMINDER", by="officer-zhao", at=T0 + timedelta(days=1))
        registry.retire(u, "M1-SMS-REMINDER", by="officer-li", at=T0 + timedelta(days=2))
        u.commit()
    steps = [(e.action, e.subject, e.actor) for e in fake._logged]
    assert steps == [
        ("template.drafted", "M1-SMS-REMINDER@v1", "writer-wang"),
        ("template.submitted", "M1-SMS-REMINDER@v1", "writer-wang"),
        ("template.approved", "M1-SMS-REMINDER@v1", "officer-li"),
        ("template.drafted", "M1-SMS-REMINDER@v2", "writer-wang"),
        ("template.submitted", "M1-SMS-REMINDER@v2", "writer-wang"),
        ("template.retired", "M1-SMS-REMINDER@v1", "officer-zhao"),
        ("template.approved", "M1-SMS-REMINDER@v2", "officer-zhao"),
        ("template.retired", "M1-SMS-REMINDER@v2", "officer-li"),
    ]
    digests = {e.subject: e.detail["text_sha256"] for e in fake._logged}
    assert digests["M1-SMS-REMINDER@v1"] != digests["M1-SMS-REMINDER@v2"]


def test_a_refused_step_leaves_nothing_in_the_audit_log() -> None:
    fake = FakeTemplateUnitOfWork()
    u = cast(UnitOfWork, fake)
    with u:
        through_review(u)
        u.commit()
    with u, pytest.raises(TemplateError):
        registry.approve(u, "M1-SMS-REMINDER", by="writer-wang", at=T0)
    assert [e.action for e in fake._logged] == ["template.drafted", "template.submitted"]
