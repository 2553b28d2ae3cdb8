"""Running the migrations shipped in ``migrations/`` from Python: no ``alembic.ini`` is needed.

``upgrade(url)`` brings a database to the newest schema, ``downgrade(url, "base")`` removes it. Each runs in one
transaction on PostgreSQL and on SQLite alike (see :func:`make_engine`), so a failed migration leaves nothing
half done. For the ``alembic`` commands that have no wrapper here (``revision --autogenerate``, ``history``,
``upgrade --sql``), pass :func:`alembic_config` to :mod:`alembic.command`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL

from fairdun.adapters.sqlalchemy.engine import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | URL | None = None, *, connection: Connection | None = None) -> Config:
    """An Alembic configuration for fairdun's migrations, on ``connection`` (preferred) or ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if url is not None:
        # The ini-style options interpolate "%": a URL's escapes (%3D) must be doubled to survive.
        text = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
        config.set_main_option("sqlalchemy.url", text.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str | URL | Engine, revision: str = "head") -> None:
    """Migrates the database at ``url`` up to ``revision`` (default: the newest)."""
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str | URL | Engine, revision: str) -> None:
    """Migrates the database at ``url`` down to ``revision``; ``"base"`` drops every fairdun table."""
    _run(url, lambda config: command.downgrade(config, revision))


def current_revision(url: str | URL | Engine) -> str | None:
    """The revision the database at ``url`` is at; None for an empty database."""
    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if engine is not url:
            engine.dispose()


def head_revision() -> str:
    """The newest revision shipped with this version of fairdun."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations have no head"
    return head


def _run(url: str | URL | Engine, step: Callable[[Config], None]) -> None:
    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        with engine.begin() as connection:
            step(alembic_config(connection=connection))
    finally:
        if engine is not url:
            engine.dispose()
