"""fairdun's persistence on SQLAlchemy 2 and Alembic: SQLite by default, PostgreSQL in production.

- :func:`make_engine` makes an engine (called by bootstrap, never at import time);
- :class:`SqlAlchemyUnitOfWork` implements :class:`fairdun.application.ports.UnitOfWork`;
- :func:`upgrade`, :func:`downgrade`, :func:`current_revision` and :func:`head_revision` run the migrations shipped
  in ``migrations/``.

The schema, how migrations run and how to point fairdun at PostgreSQL: ``docs/persistence.md``.
"""

from fairdun.adapters.sqlalchemy.engine import make_engine
from fairdun.adapters.sqlalchemy.migrate import alembic_config, current_revision, downgrade, head_revision, upgrade
from fairdun.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork

__all__ = [
    "SqlAlchemyUnitOfWork",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "make_engine",
    "upgrade",
]
