"""``fairdun notice``, ``consent``, ``contact refuse`` and ``inbound sms`` on a SQLite file: each command's output,
and bad input as one line naming the field, exit 2, nothing stored."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fairdun.adapters.crypto import Keyring, MasterKey
from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork, make_engine
from fairdun.adapters.sqlalchemy.audit_log import verify_log
from fairdun.application.ports import ContactPoint, Party
from fairdun.domain.access import User, UserRole
from fairdun.domain.cases import CollectorAssigned
from fairdun.domain.contact import Channel, Role
from tests.login import run_cli
from tests.persistence.data import CASH_3, loan

from .data import DEBTOR, DEBTOR_PHONE, FRIEND, SISTER, SISTER_PHONE

runner = CliRunner()
KEY = bytes(range(32, 64))  # fictional
AT = datetime(2026, 8, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'consent.db'}"
    environment = {"FAIRDUN_DATABASE_URL": url, "FAIRDUN_MASTER_KEY": base64.b64encode(KEY).decode(), "COLUMNS": "200"}
    assert run_cli(["db", "upgrade"], env=environment).exit_code == 0
    engine = make_engine(url, keyring=Keyring(MasterKey(KEY)))
    with SqlAlchemyUnitOfWork(engine) as uow:
        uow.parties.add(Party(DEBTOR, DEBTOR, Role.DEBTOR, "Asia/Shanghai"))
        both = frozenset({Channel.CALL, Channel.SMS})
        for party in (SISTER, FRIEND):
            uow.parties.add(Party(party, DEBTOR, Role.CONTACT, "Asia/Shanghai", "sibling"))
        uow.parties.add_contact_point(ContactPoint(f"{DEBTOR}/phone", DEBTOR, DEBTOR_PHONE, both))
        uow.parties.add_contact_point(ContactPoint(f"{SISTER}/phone", SISTER, SISTER_PHONE, both))
        for user in (
            User("dpo-1", UserRole.COMPLIANCE),
            User("collector-7", UserRole.COLLECTOR),
            User("collector-8", UserRole.COLLECTOR),
            User("auditor-1", UserRole.AUDITOR),
            User("gone-1", UserRole.COMPLIANCE, active=False),
        ):
            uow.access.add_user(user, at=datetime(2026, 7, 1, tzinfo=UTC))  # fmt: skip
        uow.products.add(CASH_3)  # the debtor's loan, its case assigned to collector-7
        uow.loans.add(loan("L-C1", borrower=DEBTOR))
        uow.case_events.append("L-C1", CollectorAssigned(date(2026, 8, 1), "collector-7"), recorded_at=AT)
        uow.commit()
    engine.dispose()
    notice = tmp_path / "notice.txt"
    notice.write_text("隐私政策（虚构示例）第一版。", encoding="utf-8")
    published = invoke(
        environment,
        "notice",
        "publish",
        str(notice),
        "--version",
        "v1",
        "--by",
        "dpo-1",
        "--at",
        "2026-08-01T09:00+08:00",
    )
    assert published["version"] == "v1"
    return environment


def invoke(env: dict[str, str], *args: str) -> dict[str, object]:
    result = run_cli(list(args), env=env)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout.splitlines()[-1]))


def refused(env: dict[str, str], *args: str) -> str:
    result = run_cli(list(args), env=env)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    return lines[0]


def history(env: dict[str, str], party: str) -> list[dict[str, object]]:
    result = run_cli(["consent", "history", party], env=env)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


GRANT = ("--notice", "v1", "--channel", "app", "--evidence", "app consent A-1", "--by", "dpo-1")


def test_notices_are_listed_and_shown_and_never_published_twice(env: dict[str, str], tmp_path: Path) -> None:
    shown = invoke(env, "notice", "show", "v1")
    assert shown["text"] == "隐私政策（虚构示例）第一版。"
    assert invoke(env, "notice", "list")["sha256"] == shown["sha256"]
    other = tmp_path / "other.txt"
    other.write_text("changed words", encoding="utf-8")
    message = refused(env, "notice", "publish", str(other), "--version", "v1", "--by", "dpo-1")
    assert message == "fairdun: error: version: notice v1 is already published; a new text needs a new version"
    assert refused(env, "notice", "show", "v9") == "fairdun: error: version: unknown notice version 'v9'"


def test_grant_withdraw_regrant_and_history_newest_last(env: dict[str, str]) -> None:
    invoke(env, "consent", "grant", SISTER, "contact_relay", *GRANT, "--at", "2026-08-02T10:00+08:00")
    invoke(env, "consent", "withdraw", SISTER, "contact_relay", "--channel", "portal", "--evidence", "P-1",
           "--by", "dpo-1", "--at", "2026-08-03T10:00+08:00")  # fmt: skip
    message = refused(
        env, "consent", "withdraw", SISTER, "contact_relay", "--channel", "portal", "--evidence", "P-2", "--by", "dpo-1"
    )
    assert "already withdrawn" in message
    invoke(env, "consent", "grant", SISTER, "contact_relay", *GRANT, "--at", "2026-08-04T10:00+08:00")
    rows = history(env, SISTER)
    assert [(r["granted_at"], r["withdrawn_at"], r["withdrawal_channel"]) for r in rows] == [
        ("2026-08-02T02:00:00+00:00", "2026-08-03T02:00:00+00:00", "portal"),
        ("2026-08-04T02:00:00+00:00", None, None),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("B999999", "contact_relay", *GRANT), "party: unknown party 'B999999'"),
        ((SISTER, "marketing", *GRANT), "purpose: unknown purpose 'marketing'"),
        (
            (SISTER, "contact_relay", "--notice", "v7", "--channel", "app", "--evidence", "x", "--by", "dpo-1"),
            "notice: unknown notice",
        ),
        ((SISTER, "contact_relay", *GRANT[:-1], "auditor-1"), "user 'auditor-1' (auditor) may not manage consent"),
        ((SISTER, "contact_relay", *GRANT[:-1], "gone-1"), "not logged in"),  # an inactive account cannot log in
        ((SISTER, "contact_relay", *GRANT[:-1], "nobody"), "not logged in"),
        ((SISTER, "contact_relay", *GRANT, "--at", "yesterday"), "--at: not an ISO 8601 instant"),
        ((SISTER, "contact_relay", *GRANT, "--at", "2026-08-02T10:00"), "--at: give a zone offset"),
    ],
)
def test_a_bad_grant_is_one_line_and_stores_nothing(env: dict[str, str], args: tuple[str, ...], message: str) -> None:
    assert refused(env, "consent", "grant", *args).startswith(f"fairdun: error: {message}")
    assert history(env, SISTER) == []


def test_a_collector_records_a_refusal_and_an_inbound_stop_opts_the_debtor_out(env: dict[str, str]) -> None:
    done = invoke(env, "contact", "refuse", FRIEND, "--evidence", "call recording R-9", "--by", "collector-7")
    assert (done["party"], done["channel"]) == (FRIEND, "collector")
    assert "already refused" in refused(env, "contact", "refuse", FRIEND, "--evidence", "again", "--by", "collector-7")
    assert "not a designated contact" in refused(
        env, "contact", "refuse", DEBTOR, "--evidence", "x", "--by", "collector-7"
    )
    assert "may not record outcome" in refused(env, "contact", "refuse", SISTER, "--evidence", "x", "--by", "dpo-1")
    assert "may not see a case of" in refused(
        env, "contact", "refuse", SISTER, "--evidence", "x", "--by", "collector-8"
    )  # not their case

    stop = invoke(env, "inbound", "sms", "--from", SISTER_PHONE[3:], "--text", "退订")
    assert stop == {"keyword": "退订", "changes": [{"party": SISTER, "recorded": "refused"}], "note": None}
    debtor = invoke(env, "inbound", "sms", "--from", DEBTOR_PHONE, "--text", "ＳＴＯＰ")
    assert debtor["changes"] == [{"party": DEBTOR, "recorded": "opted_out"}]
    unknown = invoke(env, "inbound", "sms", "--from", "+8613800099997", "--text", "TD")
    assert unknown == {"keyword": "TD", "changes": [], "note": "unknown number: nothing changed"}
    chatter = invoke(env, "inbound", "sms", "--from", DEBTOR_PHONE, "--text", "明天还")
    assert chatter == {"keyword": None, "changes": [], "note": "no stop keyword: nothing changed"}
    engine = make_engine(env["FAIRDUN_DATABASE_URL"])
    try:
        assert verify_log(engine).ok
    finally:
        engine.dispose()
