"""The migrations: up, down to nothing, up again, on both databases, and no drift from the models."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, DateTime, Engine, MetaData, String, inspect, text
from sqlalchemy.exc import IntegrityError

from fairdun.adapters.sqlalchemy import (
    SqlAlchemyUnitOfWork,
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    upgrade,
)
from fairdun.adapters.sqlalchemy.models import NAMING_CONVENTION, Base

from .conftest import Database
from .data import CASH_3, RECORDED, loan

TABLES = {
    "products", "loans", "installments", "loan_events", "contact_events", "outbox",
    "parties", "contact_points", "consents", "case_events", "cycle_runs", "planned_contacts", "restatements",
    "data_keys", "audit_log", "templates", "template_transitions",
    "access_log",
    "party_profiles",
    "privacy_notices", "refusals", "opt_outs",
    "users", "trainings", "agencies", "agency_evaluations", "agency_contracts", "placement_notices",
    "retention_holds", "erasures",
    "complaints", "complaint_contacts", "complaint_transitions",
    "credentials", "sessions",
}  # fmt: skip


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def differences(engine: Engine, metadata: MetaData) -> list[Any]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))


def test_upgrade_downgrade_to_base_and_upgrade_again(database: Database) -> None:
    engine = make_engine(database.url)
    try:
        assert current_revision(database.url) is None
        upgrade(database.url)
        assert tables(engine) == TABLES | {"alembic_version"}
        assert current_revision(database.url) == head_revision()

        downgrade(database.url, "base")
        assert tables(engine) == {"alembic_version"}
        assert current_revision(database.url) is None

        upgrade(database.url)
        assert tables(engine) == TABLES | {"alembic_version"}
        assert current_revision(engine) == head_revision()
        uow = SqlAlchemyUnitOfWork(engine)
        with uow:
            uow.products.add(CASH_3)
            uow.loans.add(loan())
            uow.commit()
        with uow:
            assert uow.loans.get("L-0001") == loan()
    finally:
        engine.dispose()


def test_upgrading_a_database_at_head_changes_nothing(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == head_revision() == "0015"


def test_the_migrations_create_exactly_what_the_models_describe(engine: Engine) -> None:
    assert differences(engine, Base.metadata) == []


def test_the_drift_check_sees_a_difference(engine: Engine) -> None:
    changed = MetaData(naming_convention=NAMING_CONVENTION)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["loans"].append_column(Column("nickname", String(20)))
    changed.tables["products"].c.waterfall.type = String(32)
    changed.tables["installments"].c.due_on.type = DateTime(timezone=True)
    # compare_metadata gives a tuple per change, and a list of tuples per column whose type or nullability changed.
    found = [d for diff in differences(engine, changed) for d in (diff if isinstance(diff, list) else [diff])]
    assert sorted((d[0], d[3]) if d[0] == "modify_type" else (d[0], d[3].name) for d in found) == [
        ("add_column", "nickname"),
        ("modify_type", "due_on"),
        ("modify_type", "waterfall"),
    ]


def test_the_database_refuses_an_event_of_the_wrong_shape(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.products.add(CASH_3)
        uow.loans.add(loan())
        uow.commit()
    pause_without_end = text(
        "INSERT INTO loan_events (loan_id, kind, effective_on, recorded_at)"
        " VALUES ('L-0001', 'pause', '2024-03-01', :at)"
    )
    with engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(pause_without_end, {"at": RECORDED})


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    orphan = text(
        "INSERT INTO loans (id, product_code, borrower, principal_cents, disbursed_on)"
        " VALUES ('L-0001', 'NOPE', 'party-0001', 100, '2024-01-31')"
    )
    with engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(orphan)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///./fairdun.db", "CREATE TABLE loan_events"),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/test", "recorded_at TIMESTAMP WITH TIME ZONE NOT NULL"),
    ],
)
def test_the_migrations_can_be_written_as_sql_for_a_dba(
    url: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command.upgrade(alembic_config(url), "head", sql=True)  # offline: connects to nothing
    sql = capsys.readouterr().out
    assert expected in sql
    assert "CREATE TABLE contact_events" in sql
    assert "CREATE TABLE outbox" in sql
