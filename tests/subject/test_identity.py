"""The sealed identity record (name, resident ID number, bank account, postal address) in data-subject requests:
exported to its owner only, corrected with validation and sealed again, unreadable after an erasure."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from fairdun.adapters.crypto import KeyringError
from fairdun.adapters.sqlalchemy.data_keys import DataKeyStore
from fairdun.adapters.sqlalchemy.models_identity import PartyProfileRow
from fairdun.application import subject_rights
from fairdun.application.subject_rights import SubjectError
from fairdun.cli.subject import validator

from .conftest import AT, SCHEDULE, START, Book, fixed_keyring

NEW_ID = "110105199003071239"  # invented, with a valid GB 11643 check character
NEW_NAME = "李四"  # the textbook placeholder name (like "John Doe")


def export(book: Book, party: str) -> dict[str, object]:
    return subject_rights.export_subject(book.uow(), party, actor="dpo-01", at=AT, on=START)


def correct(book: Book, party: str, field: str, value: str) -> str:
    return subject_rights.correct(
        book.uow(), party, field, value, actor="dpo-01", reason="DSR-11", at=AT, validate=validator(START)
    )


def test_the_export_holds_the_persons_own_identity_and_no_one_elses(book: Book) -> None:
    borrower = book.borrower(0)
    document = export(book, borrower.id)
    identity = document["identity"]
    assert isinstance(identity, dict)
    assert identity["name"] == borrower.name
    assert identity["resident_id"] == borrower.resident_id
    dumped = json.dumps(document, ensure_ascii=False)
    for other in book.portfolio.borrowers[1:]:
        assert other.resident_id not in dumped
    for contact in book.portfolio.contacts:
        assert contact.name not in dumped or contact.name == borrower.name  # the fixed list repeats names


def test_a_corrected_resident_id_is_sealed_again_and_found_by_its_index(book: Book) -> None:
    borrower = book.borrower(1)
    assert correct(book, borrower.id, "resident_id", NEW_ID) == "resident_id"
    with book.uow() as uow:
        identity = uow.identities.get(borrower.id)
        assert identity is not None
        assert identity.resident_id == NEW_ID
        assert uow.identities.find_by_resident_id(NEW_ID) == (borrower.id,)
        assert uow.identities.find_by_resident_id(borrower.resident_id) == ()
    with book.engine.connect() as connection:
        detail = connection.execute(
            text("SELECT detail FROM audit_log WHERE action = 'subject.corrected'")
        ).scalar_one()
    assert NEW_ID not in detail
    assert borrower.resident_id not in detail


def test_a_corrected_name_is_validated(book: Book) -> None:
    borrower = book.borrower(2)
    correct(book, borrower.id, "name", NEW_NAME)
    assert export(book, borrower.id)["identity"]["name"] == NEW_NAME  # type: ignore[index]
    with pytest.raises(SubjectError, match=r"^name: "):
        correct(book, borrower.id, "name", "R2-D2")
    with pytest.raises(SubjectError, match=r"^resident_id: "):
        correct(book, borrower.id, "resident_id", NEW_ID[:-1] + "0")  # a wrong check character
    assert export(book, borrower.id)["identity"]["name"] == NEW_NAME  # type: ignore[index]


def test_after_an_erasure_the_identity_cannot_be_opened(book: Book) -> None:
    borrower = book.borrower(3)
    book.settle(borrower.id)
    with Session(book.engine) as session:
        sealed = session.scalar(select(PartyProfileRow.name_ciphertext).where(PartyProfileRow.party == borrower.id))
    assert sealed is not None
    place = ("party_profiles", "name", borrower.id)
    with Session(book.engine) as session:
        assert DataKeyStore(session, fixed_keyring()).open_many([(bytes(sealed), place)]) == [borrower.name]

    explanation = subject_rights.erase(
        book.uow(), borrower.id, actor="dpo-01", reason="DSR-12", at=AT, on=START, schedule=SCHEDULE
    )

    assert explanation.status == "erased"
    with Session(book.engine) as session, pytest.raises(KeyringError, match="shredded"):
        DataKeyStore(session, fixed_keyring()).open_many([(bytes(sealed), place)])
    identity = export(book, borrower.id)["identity"]
    assert identity == {
        "name": "[erased]", "resident_id": "[erased]", "bank_account": "[erased]", "postal_address": "[erased]",
        "erased": True,
    }  # fmt: skip
    with pytest.raises(SubjectError, match="was erased"):
        correct(book, borrower.id, "name", NEW_NAME)
