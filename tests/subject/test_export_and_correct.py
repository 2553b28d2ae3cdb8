"""Export (PIPL Arts. 44-45) holds every category of record about the person and nothing of another subject;
correction (Art. 46) validates, seals again and audits without the values."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from fairdun.adapters.report.subject_html import subject_page
from fairdun.adapters.sqlalchemy.audit_log import verify_log
from fairdun.adapters.sqlalchemy.models import ContactPointRow
from fairdun.application import subject_rights
from fairdun.application.subject_rights import EXPORT_FORMAT, EXPORT_VERSION, SubjectError
from fairdun.cli.subject import validator
from fairdun.domain.cases import PromiseMade

from .conftest import AT, START, Book, days_before

TEST_PHONE = "+8613800009999"  # the project's fictional 138-0000 block


def export(book: Book, party: str) -> dict[str, object]:
    return subject_rights.export_subject(book.uow(), party, actor="dpo-01", at=AT, on=START)


def every_string(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def test_an_export_holds_every_category_of_the_borrowers_records(book: Book) -> None:
    borrower = book.borrower(0)
    loan = book.loan_of(borrower.id)
    book.add_contact("h-1", borrower.id, loan, days_before(START, 3))
    with book.uow() as uow:
        uow.case_events.append(loan, PromiseMade(START, Decimal("100.00"), START + timedelta(days=3)), recorded_at=AT)
        uow.commit()
    first = export(book, borrower.id)
    document = export(book, borrower.id)  # the second export sees the first in the access log

    assert document["format"] == EXPORT_FORMAT
    assert document["version"] == EXPORT_VERSION
    assert document["party_record"]["role"] == "debtor"
    assert [p["address"] for p in document["contact_points"]] == [borrower.phone, borrower.email]
    assert {x.id for x in book.portfolio.loans if x.borrower_id == borrower.id} == {x["id"] for x in document["loans"]}
    assert all(x["schedule"] for x in document["loans"])
    assert any(x["events"] for x in document["loans"]) or not any(
        p.borrower_id == borrower.id for p in book.portfolio.loans
    )
    assert document["cases"][0]["events"][0]["kind"] == "PromiseMade"
    assert [h["id"] for h in document["contact_history"]] == ["h-1"]
    assert [a["action"] for a in document["access_log"]] == ["export"]
    assert len(first["access_log"]) == 0
    slots = document["designated_contacts"]
    assert [s["party"] for s in slots] == book.contacts_of(borrower.id)
    assert all(s["relationship"] for s in slots)
    assert [s["slot"] for s in slots] == list(range(1, len(slots) + 1))
    assert document["not_included"]
    assert isinstance(document["consents"], list)
    assert isinstance(document["refusals"], list)


def test_an_export_holds_nothing_of_another_data_subject(book: Book) -> None:
    borrower = book.borrower(0)
    text_ = every_string(export(book, borrower.id))
    assert borrower.phone in text_  # the search below can find a number
    others = [b for b in book.portfolio.borrowers if b.id != borrower.id]
    for other in others:
        assert other.phone not in text_
        assert other.email not in text_
        assert f'"{other.id}"' not in text_
    for contact in book.portfolio.contacts:
        assert contact.phone not in text_  # their own contacts' numbers too: another subject's data
        assert contact.name not in text_


def test_a_designated_contacts_export_leaves_out_the_borrowers_debt(book: Book) -> None:
    borrower = book.borrower(1)
    contact = next(c for c in book.portfolio.contacts if c.borrower_id == borrower.id)
    document = export(book, contact.id)
    assert [p["address"] for p in document["contact_points"]] == [contact.phone]
    assert document["loans"] == []
    assert document["cases"] == []
    assert borrower.phone not in every_string(document)
    assert any("not included" in n for n in document["not_included"])


def test_an_export_is_audited_and_logged_as_an_access(book: Book) -> None:
    borrower = book.borrower(2)
    export(book, borrower.id)
    with book.engine.connect() as connection:
        audited = connection.execute(
            text("SELECT actor, subject FROM audit_log WHERE action = 'subject.exported'")
        ).all()
        accessed = connection.execute(text("SELECT actor, action, party FROM access_log")).all()
    assert [tuple(r) for r in audited] == [("dpo-01", borrower.id)]
    assert [tuple(r) for r in accessed] == [("dpo-01", "export", borrower.id)]
    assert verify_log(book.engine).ok


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.sources: list[str] = []
        self.scripts = 0
        self.text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in = tag
        self.scripts += tag == "script"
        self.sources += [v or "" for k, v in attrs if k in ("src", "href")]

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in == "h2":
            self.headings.append(data)


def test_the_html_page_is_readable_bilingual_escaped_and_self_contained(book: Book, tmp_path: Path) -> None:
    borrower = book.borrower(3)
    document = export(book, borrower.id)
    document["party_record"]["relationship"] = "<script>alert(1)</script>"  # escaping: it must stay text
    page = _Page()
    page.feed(subject_page(document, AT))
    assert "联系方式 / Contact details" in page.headings
    assert "借款 / Loans" in page.headings
    assert "谁查看了您的信息 / Who read your data" in page.headings
    assert page.scripts == 0
    assert page.sources == []
    assert borrower.phone in "".join(page.text)
    assert "<script>alert(1)</script>" in "".join(page.text)
    for contact in book.portfolio.contacts:
        assert contact.phone not in "".join(page.text)


def test_an_unknown_party_cannot_be_exported(book: Book) -> None:
    with pytest.raises(SubjectError, match=r"^party: no party 'B404'"):
        export(book, "B404")


# --- correction ---------------------------------------------------------------------------------------------


def correct(book: Book, party: str, field: str, value: str) -> str:
    return subject_rights.correct(
        book.uow(), party, field, value, actor="dpo-01", reason="DSR-9", at=AT, validate=validator(date(2026, 9, 1))
    )


def test_a_corrected_phone_is_sealed_again_found_by_its_new_number_and_audited_without_values(book: Book) -> None:
    borrower = book.borrower(4)
    with Session(book.engine) as session:
        before = session.scalar(
            select(ContactPointRow.address_ciphertext).where(ContactPointRow.ref == f"{borrower.id}/phone")
        )
    assert correct(book, borrower.id, "phone", "138 0000 9999") == f"{borrower.id}/phone"
    with Session(book.engine) as session:
        after = session.scalar(
            select(ContactPointRow.address_ciphertext).where(ContactPointRow.ref == f"{borrower.id}/phone")
        )
    assert after != before
    with book.uow() as uow:
        found = uow.parties.find_contact_points(TEST_PHONE)
        assert [p.party for p in found] == [borrower.id]
        assert found[0].address == TEST_PHONE
        assert uow.parties.find_contact_points(borrower.phone) == ()
    with book.engine.connect() as connection:
        detail = connection.execute(
            text("SELECT detail FROM audit_log WHERE action = 'subject.corrected'")
        ).scalar_one()
    assert json.loads(detail) == {"field": "phone", "target": f"{borrower.id}/phone", "reason": "DSR-9"}
    assert "9999" not in detail
    assert borrower.phone.removeprefix("+86") not in detail
    assert verify_log(book.engine).ok


def test_a_corrected_email_is_sealed_again(book: Book) -> None:
    borrower = book.borrower(5)
    correct(book, borrower.id, "email", "new.address@example.com")
    document = export(book, borrower.id)
    assert [p["address"] for p in document["contact_points"]] == [borrower.phone, "new.address@example.com"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "12", "^phone: "),
        ("email", "not-an-address", "^email: "),
        ("shoe_size", "42", "^field: one of phone, email"),
    ],
)
def test_a_bad_correction_names_the_field_and_changes_nothing(book: Book, field: str, value: str, message: str) -> None:
    borrower = book.borrower(6)
    with pytest.raises(SubjectError, match=message):
        correct(book, borrower.id, field, value)
    document = export(book, borrower.id)
    assert [p["address"] for p in document["contact_points"]] == [borrower.phone, borrower.email]
    with book.engine.connect() as connection:
        assert (
            connection.execute(text("SELECT count(*) FROM audit_log WHERE action = 'subject.corrected'")).scalar() == 0
        )
