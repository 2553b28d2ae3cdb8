"""The consent ledger on both databases: notices, grants, withdrawals, re-grants, refusals and opt-outs; history
that is never overwritten (by the use cases, the repository and the database itself); an audit entry for every
change, in the same transaction, chained and free of personal values."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.adapters.sqlalchemy.audit_log import verify_log
from fairdun.application import consent as ledger
from fairdun.application.consent import ConsentError, RefusalChannel
from fairdun.application.ports import ConflictError, UnitOfWork
from fairdun.domain.contact import Channel

from .data import DEBTOR, DEBTOR_PHONE, FRIEND, GIVEN, NOTICE_TEXT, SISTER, SISTER_PHONE, store_people

LATER = GIVEN + timedelta(days=30)


@pytest.fixture
def people(engine: Engine) -> Callable[[], UnitOfWork]:
    def factory() -> UnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    with factory() as uow:
        store_people(uow)
        uow.commit()
    return factory


def grant(uow: UnitOfWork, party: str = SISTER, purpose: str = "contact_relay", **changes: object) -> object:
    values: dict[str, object] = {
        "party": party,
        "purpose": purpose,
        "notice": "v1",
        "channel": "app",
        "evidence": "app consent screen, session ref S-0001",
        "actor": "system:app",
        "at": GIVEN,
    }
    values.update(changes)
    return ledger.grant_consent(uow, **values)  # type: ignore[arg-type]


def audit_rows(engine: Engine) -> list[tuple[str, str, dict[str, object]]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT action, subject, detail FROM audit_log ORDER BY seq")).all()
    return [(str(a), str(s), json.loads(d)) for a, s, d in rows]


def test_a_notice_is_published_once_with_the_digest_of_its_text(people: Callable[[], UnitOfWork]) -> None:
    with people() as uow:
        notice = uow.consents.notice("v1")
        assert notice is not None
        assert notice.sha256 == hashlib.sha256(NOTICE_TEXT.encode()).hexdigest()
        assert notice.language == "zh-CN"
        with pytest.raises(ConsentError, match=r"^version: notice v1 is already published"):
            ledger.publish_notice(uow, version="v1", language="zh-CN", text="改过的文字", actor="dpo-1", at=LATER)
        ledger.publish_notice(uow, version="v2", language="en", text="Fictional notice v2.", actor="dpo-1", at=LATER)
        uow.commit()
    with people() as uow:
        assert [n.version for n in uow.consents.notices()] == ["v1", "v2"]


def test_grant_withdraw_and_grant_again_keeps_every_row(people: Callable[[], UnitOfWork], engine: Engine) -> None:
    with people() as uow:
        first = grant(uow)
        uow.commit()
    with people() as uow:
        before = uow.consents.history(SISTER)
        withdrawn = ledger.withdraw_consent(
            uow, party=SISTER, purpose="contact_relay", channel="sms", evidence="inbound ref M-17",
            actor="system:sms", at=GIVEN + timedelta(days=3),
        )  # fmt: skip
        uow.commit()
    assert len(withdrawn) == 1
    with people() as uow, pytest.raises(ConsentError, match=r"^purpose: contact_relay consent of .* already withdrawn"):
        ledger.withdraw_consent(
            uow, party=SISTER, purpose="contact_relay", channel="app", evidence="x", actor="a", at=LATER
        )
    with people() as uow:
        again = grant(uow, at=LATER, channel="recorded_call", evidence="call recording R-0042")
        uow.commit()
    with people() as uow:
        history = uow.consents.history(SISTER)
    assert [c.id for c in history] == [before[0].id, again.id]  # type: ignore[attr-defined]
    old, new = history
    # The first row kept everything it had, and gained its withdrawal only.
    assert (old.party, old.purpose, old.granted_at, old.evidence, old.notice_version, old.channel) == (
        SISTER, "contact_relay", GIVEN, "app consent screen, session ref S-0001", "v1", "app",
    )  # fmt: skip
    assert old.withdrawn_at == GIVEN + timedelta(days=3)
    assert (old.withdrawal_channel, old.withdrawal_evidence) == ("sms", "inbound ref M-17")
    assert first.withdrawn_at is None  # type: ignore[attr-defined]
    assert new.withdrawn_at is None
    assert new.channel == "recorded_call"
    actions = [a for a, _, _ in audit_rows(engine)]
    assert actions == [ledger.NOTICE_ADDED, ledger.GRANTED, ledger.WITHDRAWN, ledger.GRANTED]
    assert verify_log(engine).ok


def test_the_repository_will_not_withdraw_a_withdrawn_consent_again(people: Callable[[], UnitOfWork]) -> None:
    with people() as uow:
        record = grant(uow)
        consent_id = record.id  # type: ignore[attr-defined]
        uow.consents.withdraw(consent_id, GIVEN + timedelta(hours=1), "app", "first")
        with pytest.raises(ConflictError, match="already withdrawn"):
            uow.consents.withdraw(consent_id, GIVEN + timedelta(hours=2), "app", "second")


def test_the_database_refuses_to_change_or_delete_history(people: Callable[[], UnitOfWork], engine: Engine) -> None:
    with people() as uow:
        grant(uow)
        ledger.refuse_contact(
            uow, party=FRIEND, channel=RefusalChannel.COLLECTOR, evidence="call R-7", actor="collector-3", at=LATER
        )
        uow.commit()
    attempts = [
        "UPDATE consents SET evidence = 'rewritten'",
        "UPDATE consents SET granted_at = withdrawn_at",
        "DELETE FROM consents",
        "UPDATE refusals SET channel = 'portal'",
        "DELETE FROM refusals",
        "UPDATE privacy_notices SET text = 'rewritten'",
        "DELETE FROM privacy_notices",
    ]
    for statement in attempts:
        with engine.connect() as connection, pytest.raises(IntegrityError):
            connection.execute(text(statement))
    with engine.begin() as connection:  # a withdrawal, once, is the one change allowed
        connection.execute(
            text(
                "UPDATE consents SET withdrawn_at = granted_at, withdrawal_channel = 'app', withdrawal_evidence = 'w'"
                " WHERE party = :p"
            ),
            {"p": SISTER},
        )
    with engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(text("UPDATE consents SET withdrawal_evidence = 'again' WHERE party = :p"), {"p": SISTER})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"party": "B999999"}, "^party: unknown party 'B999999'"),
        ({"purpose": "marketing"}, "^purpose: unknown purpose 'marketing'; expected one of collection_contact"),
        ({"notice": "v9"}, "^notice: unknown notice version 'v9'"),
        ({"channel": "carrier-pigeon"}, "^channel: unknown channel 'carrier-pigeon'"),
        ({"channel": "unrecorded"}, "^channel: unknown channel 'unrecorded'"),
        ({"evidence": "  "}, "^evidence: must not be empty"),
        ({"at": GIVEN - timedelta(days=30)}, "^notice: notice v1 was published at .*, after"),
    ],
)
def test_a_bad_grant_names_the_field_and_stores_nothing(
    people: Callable[[], UnitOfWork], engine: Engine, changes: dict[str, object], message: str
) -> None:
    with people() as uow, pytest.raises(ConsentError, match=message):
        grant(uow, **changes)
    with people() as uow:
        assert uow.consents.consents() == ()
    assert [a for a, _, _ in audit_rows(engine)] == [ledger.NOTICE_ADDED]


def test_each_purpose_is_its_own_consent(people: Callable[[], UnitOfWork]) -> None:
    with people() as uow:
        for purpose in ledger.ConsentPurpose:
            if purpose is not ledger.ConsentPurpose.CONTACT_RELAY:
                grant(uow, party=DEBTOR, purpose=purpose.value)
        with pytest.raises(ConsentError, match=r"^purpose: contact_relay is a designated contact's own consent"):
            grant(uow, party=DEBTOR, purpose="contact_relay")
        with pytest.raises(ConsentError, match="already in force"):
            grant(uow, party=DEBTOR, purpose="agency_sharing")
        ledger.withdraw_consent(
            uow, party=DEBTOR, purpose="agency_sharing", channel="web", evidence="form W-1", actor="a", at=LATER
        )
        uow.commit()
    with people() as uow:
        history = {c.purpose: c for c in uow.consents.history(DEBTOR)}
    assert set(history) == {"collection_contact", "agency_sharing", "sensitive_info"}
    assert [p for p, c in history.items() if c.withdrawn_at is not None] == ["agency_sharing"]


def test_a_contact_refusal_is_permanent_and_withdraws_their_consents(
    people: Callable[[], UnitOfWork], engine: Engine
) -> None:
    with people() as uow:
        grant(uow)
        refusal = ledger.refuse_contact(
            uow, party=SISTER, channel=RefusalChannel.PORTAL, evidence="portal request P-9", actor="portal", at=LATER
        )
        uow.commit()
    with people() as uow:
        assert uow.consents.refusal(SISTER) == refusal
        assert [c.withdrawn_at for c in uow.consents.history(SISTER)] == [LATER]
        with pytest.raises(ConsentError, match=f"^party: {SISTER} already refused further contact"):
            ledger.refuse_contact(
                uow, party=SISTER, channel=RefusalChannel.COLLECTOR, evidence="x", actor="c", at=LATER
            )
        with pytest.raises(ConsentError, match=r"refused further contact .* permanent"):
            grant(uow, at=LATER + timedelta(days=1))
        with pytest.raises(ConsentError, match=f"^party: {DEBTOR} is a debtor, not a designated contact"):
            ledger.refuse_contact(uow, party=DEBTOR, channel=RefusalChannel.PORTAL, evidence="x", actor="c", at=LATER)
    entries = audit_rows(engine)
    assert [a for a, _, _ in entries] == [ledger.NOTICE_ADDED, ledger.GRANTED, ledger.REFUSED, ledger.WITHDRAWN]
    assert entries[2][1:] == (f"party:{SISTER}", {"channel": "portal"})


@pytest.mark.parametrize(
    "message",
    [
        "退订",
        "TD",
        "td",
        "ｔｄ",
        "T",
        " Stop ",
        "ＳＴＯＰ！",
        "unsubscribe",
        "停止联系",
        "不要再联系我。",
        "别再打了!!",
    ],
)
def test_stop_keywords_are_recognised_in_every_form(message: str) -> None:
    assert ledger.stop_keyword(message) is not None


@pytest.mark.parametrize("message", ["我明天还款", "Tomorrow", "TDD", "谁在打电话", "", "好的 T"])
def test_other_texts_are_not_stop_keywords(message: str) -> None:
    assert ledger.stop_keyword(message) is None


def test_an_inbound_stop_from_a_contact_is_a_refusal_and_from_the_debtor_an_sms_opt_out(
    people: Callable[[], UnitOfWork], engine: Engine
) -> None:
    with people() as uow:
        grant(uow)
        contact = ledger.inbound_sms(uow, sender=SISTER_PHONE.removeprefix("+86"), text="ＴＤ", at=LATER, actor="sms")
        debtor = ledger.inbound_sms(uow, sender=DEBTOR_PHONE, text="退订", at=LATER, actor="sms")
        again = ledger.inbound_sms(uow, sender=DEBTOR_PHONE, text="STOP", at=LATER, actor="sms")
        uow.commit()
    assert contact.changes == ((SISTER, "refused"),)
    assert debtor.changes == ((DEBTOR, "opted_out"),)
    assert again.changes == ((DEBTOR, "already opted out"),)
    with people() as uow:
        refusal = uow.consents.refusal(SISTER)
        assert refusal is not None
        assert refusal.channel is RefusalChannel.INBOUND_KEYWORD
        assert uow.consents.refusal(DEBTOR) is None  # the debtor's stop ends SMS, not the debt
        [opt_out] = uow.consents.opt_outs()
        assert (opt_out.party, opt_out.channel, opt_out.address_ref) == (DEBTOR, Channel.SMS, f"{DEBTOR}/phone")
        # Matching the sender opened the contact point: logged as a read, naming the field, never the value.
        reads = uow.access_log.for_party(SISTER)
        assert [(r.action.value, r.fields, r.actor) for r in reads] == [("system_read", ("phone",), "sms")]
    dumped = json.dumps(audit_rows(engine), ensure_ascii=False)
    for number in (SISTER_PHONE, DEBTOR_PHONE, SISTER_PHONE[3:], DEBTOR_PHONE[3:]):
        assert number not in dumped
    assert verify_log(engine).ok


def test_an_unknown_number_or_a_text_without_a_keyword_changes_nothing(
    people: Callable[[], UnitOfWork], engine: Engine
) -> None:
    with people() as uow:
        unknown = ledger.inbound_sms(uow, sender="+8613800099998", text="退订", at=LATER, actor="sms")
        chatter = ledger.inbound_sms(uow, sender=SISTER_PHONE, text="请问是哪位？", at=LATER, actor="sms")
        uow.commit()
    assert (unknown.keyword, unknown.changes, unknown.note) == ("退订", (), "unknown number: nothing changed")
    assert (chatter.keyword, chatter.changes, chatter.note) == (None, (), "no stop keyword: nothing changed")
    with people() as uow:
        assert uow.consents.refusals() == ()
        assert uow.consents.opt_outs() == ()
    assert [a for a, _, _ in audit_rows(engine)] == [ledger.NOTICE_ADDED]
