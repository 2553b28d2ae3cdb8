"""The unit of work owns the transaction: nothing is kept unless it is committed."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.ports import PersistenceError, UnitOfWork

from .data import CASH_3, ODD, loan


def stored_codes(uow: UnitOfWork) -> list[str]:
    with uow:
        return [p.code for p in uow.products.all()]


def test_the_sqlalchemy_unit_of_work_is_a_unit_of_work(engine: Engine) -> None:
    uow: UnitOfWork = SqlAlchemyUnitOfWork(engine)  # checked by mypy against the Protocol
    assert stored_codes(uow) == []


def test_what_is_committed_is_kept(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        uow.products.add(CASH_3)
        uow.commit()
    assert stored_codes(uow) == ["CASH-3"]


def test_leaving_without_commit_rolls_back(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        uow.products.add(CASH_3)
        uow.loans.add(loan())
        assert uow.loans.get("L-0001") is not None  # visible inside the transaction
    assert stored_codes(uow) == []


class BoomError(Exception):
    pass


def add_two_and_fail(uow: UnitOfWork) -> None:
    with uow:
        uow.products.add(CASH_3)
        uow.commit()
        uow.products.add(ODD)
        raise BoomError


def test_an_exception_rolls_back_what_came_after_the_last_commit(uow: SqlAlchemyUnitOfWork) -> None:
    with pytest.raises(BoomError):
        add_two_and_fail(uow)
    assert stored_codes(uow) == ["CASH-3"]


def test_rollback_undoes_what_was_not_committed(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        uow.products.add(CASH_3)
        uow.rollback()
        uow.products.add(ODD)
        uow.commit()
    assert stored_codes(uow) == ["ODD-12"]


def test_two_units_of_work_do_not_see_each_others_uncommitted_writes(engine: Engine) -> None:
    writer, reader = SqlAlchemyUnitOfWork(engine), SqlAlchemyUnitOfWork(engine)
    with writer:
        writer.products.add(CASH_3)
        assert stored_codes(reader) == []
        writer.commit()
    assert stored_codes(reader) == ["CASH-3"]


def test_repositories_exist_only_inside_the_block(uow: SqlAlchemyUnitOfWork) -> None:
    with pytest.raises(PersistenceError, match="inside a `with` block"):
        uow.products.get("CASH-3")
    with uow:
        pass
    with pytest.raises(PersistenceError, match="inside a `with` block"):
        uow.commit()


def test_a_unit_of_work_is_not_reentrant(uow: SqlAlchemyUnitOfWork) -> None:
    with uow, pytest.raises(PersistenceError, match="already in use"), uow:
        pass
