"""Alembic's entry point for fairdun's migrations, run by :mod:`fairdun.adapters.sqlalchemy.migrate`.

It migrates the connection passed in ``config.attributes["connection"]`` (inside the caller's transaction), or
else a new engine on the ``sqlalchemy.url`` option; in offline mode (``--sql``) it writes SQL for that URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from fairdun.adapters.sqlalchemy.engine import make_engine
from fairdun.adapters.sqlalchemy.models import Base


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite can alter little in place; batch mode copies a table to change it.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        if url is None:
            raise RuntimeError("offline migrations need a URL: alembic_config(url)")
        context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    if url is None:
        raise RuntimeError("no database: use fairdun.adapters.sqlalchemy.upgrade(url), or alembic_config(url)")
    engine = make_engine(url)
    try:
        with engine.begin() as new_connection:
            _configure(new_connection)
    finally:
        engine.dispose()


run()
