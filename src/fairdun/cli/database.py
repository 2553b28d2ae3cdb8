"""The database at ``FAIRDUN_DATABASE_URL`` for the commands that use it, opened one way: the schema must be the
newest (else one line saying to run ``fairdun db upgrade``), driver errors become one line without the URL, and
personal data is opened with the keyring the settings describe (``fairdun.cli.keys.keyring_for``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from sqlalchemy import Engine

from fairdun.adapters.crypto import KeyringError
from fairdun.adapters.sqlalchemy import current_revision, head_revision, make_engine
from fairdun.cli.keys import keyring_for
from fairdun.config.settings import SettingsError, load_settings


def fail(message: str) -> NoReturn:
    """One line on stderr naming what is wrong, exit status 2."""
    typer.echo(f"fairdun: error: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def open_database(*, personal_data: bool = True) -> Iterator[Engine]:
    """The engine, disposed of on leaving. ``personal_data=False`` for commands that read none (the audit log,
    templates, analytics): no keyring is asked for."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        fail(str(exc))
    url = settings.database_url
    try:
        revision = current_revision(url)
    except Exception as exc:  # the edge: a driver error becomes one line, without the URL
        fail(f"database: cannot be read: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    if revision != head_revision():
        fail(f"database: schema {revision or 'empty'}, this version needs {head_revision()}: run `fairdun db upgrade`")
    engine = make_engine(url, keyring=keyring_for(settings)) if personal_data else make_engine(url)
    try:
        yield engine
    except KeyringError as exc:  # a key not configured, a field altered or moved: one line, as every error
        fail(str(exc))
    finally:
        engine.dispose()
