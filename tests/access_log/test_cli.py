"""``fairdun person`` and ``fairdun incident`` through Typer's runner, on both databases: masked by default, an
unmask with a reason, refusals and bad input one line with exit status 2, the incident report as JSON and as a
table."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.ports import AccessAction
from fairdun.cli.main import app
from tests.access_log.people import AGENT, BORROWER, COLLECTOR, DPO, NAME_B1, OTHER_COLLECTOR, PHONES, SUPERVISOR, seed
from tests.login import run_cli, session_for
from tests.persistence.conftest import Database

runner = CliRunner()
INCIDENT = ["incident", "affected", "--actor", "x"]


@pytest.fixture
def env(database: Database, engine: Engine) -> dict[str, str]:
    seed(engine)
    return {
        "FAIRDUN_DATABASE_URL": database.url.render_as_string(hide_password=False),
        "FAIRDUN_MASTER_KEY": base64.b64encode(bytes(range(32))).decode(),  # the tests' fixed key
        "COLUMNS": "200",
    }


def invoke(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = run_cli(list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def actions(engine: Engine, party: str) -> list[AccessAction]:
    with SqlAlchemyUnitOfWork(engine) as uow:
        return [r.action for r in uow.access_log.for_party(party)]


def test_person_show_is_masked_by_default_and_unmasks_with_a_reason(env: dict[str, str], engine: Engine) -> None:
    code, out, err = invoke(env, "person", "show", "B1", "--as", SUPERVISOR.id, "--json")
    assert code == 0, err
    shown = {f["field"]: f["value"] for f in json.loads(out)["fields"]}
    assert shown["phone"] == "138****1234"
    assert shown["name"] == "张*"
    assert PHONES["B1"] not in out
    code, out, err = invoke(env, "person", "show", "B1", "--as", COLLECTOR.id, "--unmask", "--reason", "callback")
    assert code == 0, err
    assert PHONES["B1"] in out
    assert NAME_B1 in out
    assert actions(engine, "B1") == [AccessAction.VIEW, AccessAction.UNMASK]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["person", "show", "B1", "--as", "nobody"], "not logged in"),
        (["person", "show", "B1", "--as", COLLECTOR.id, "--unmask"], "unmasking needs a stated reason"),
        (["person", "show", "B1", "--as", OTHER_COLLECTOR.id], "no case of borrower 'B1' is assigned to them"),
        (["person", "show", "B2", "--as", AGENT.id, "--field", "email"], "does not share email"),
        (["person", "show", "B9", "--as", SUPERVISOR.id], "party 'B9': no such party"),
        (["person", "show", "B1", "--as", SUPERVISOR.id, "--field", "shoe"], "fields: unknown shoe"),
        (["person", "accesses", "B1", "--as", COLLECTOR.id], "may not read who accessed"),
        (
            [*INCIDENT, "--from", "2026-09-01T00:00:00", "--to", "2026-09-02T00:00:00Z", "--as", DPO.id],
            "--from: '2026-09-01T00:00:00' has no UTC offset",
        ),
        (
            [*INCIDENT, "--from", "2026-09-02T00:00:00Z", "--to", "2026-09-01T00:00:00Z", "--as", DPO.id],
            "is after --to",
        ),
        (
            [*INCIDENT, "--from", "2026-09-01T00:00:00Z", "--to", "2026-09-02T00:00:00Z", "--as", SUPERVISOR.id],
            "may not run an incident query",
        ),
    ],
)
def test_bad_input_and_refusals_are_one_line_with_exit_status_2(
    env: dict[str, str], args: list[str], message: str
) -> None:
    code, out, err = invoke(env, *args)
    assert code == 2
    assert err.startswith("fairdun: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_the_incident_report_names_the_people_read_as_json_and_as_a_table(env: dict[str, str]) -> None:
    assert invoke(env, "person", "show", "B1", "--as", SUPERVISOR.id)[0] == 0
    assert invoke(env, "person", "show", "B2", "--as", SUPERVISOR.id)[0] == 0
    window = ["--from", "2000-01-01T00:00:00+08:00", "--to", "2100-01-01T00:00:00Z", "--as", DPO.id]
    code, out, err = invoke(env, "incident", "affected", "--actor", SUPERVISOR.id, *window, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert [(a["party"], a["borrower"], a["reads"]) for a in report["affected"]] == [("B1", "B1", 1), ("B2", "B2", 1)]
    assert report["affected"][0]["fields"] == ["email", "name", "phone", "resident_id"]
    code, out, err = invoke(env, "incident", "affected", "--actor", SUPERVISOR.id, *window)
    assert code == 0, err
    assert "2 people" in out
    assert "B2" in out


def test_a_borrower_sees_who_read_their_data(env: dict[str, str]) -> None:
    assert invoke(env, "person", "show", "B1", "--as", COLLECTOR.id, "--unmask", "--reason", "callback")[0] == 0
    code, out, err = invoke(env, "person", "accesses", "B1", "--as", BORROWER.id, "--json")
    assert code == 0, err
    (row,) = json.loads(out)
    assert (row["actor"], row["action"], row["purpose"]) == (COLLECTOR.id, "unmask", "callback")


def test_a_deactivated_users_session_is_refused_before_anything_is_read(env: dict[str, str], engine: Engine) -> None:
    signed = {**env, "FAIRDUN_SESSION": session_for(env, SUPERVISOR.id)}
    assert runner.invoke(app, ["person", "show", "B1", "--json"], env=signed).exit_code == 0
    with SqlAlchemyUnitOfWork(engine) as uow:
        uow.access.set_active(SUPERVISOR.id, False)
        uow.commit()
    result = runner.invoke(app, ["person", "show", "B1", "--json"], env=signed)
    assert result.exit_code == 2
    assert "is not active" in result.stderr
    assert actions(engine, "B1") == [AccessAction.VIEW]  # only the read made while the account was active
