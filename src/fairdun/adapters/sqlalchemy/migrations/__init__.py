"""fairdun's Alembic migrations: ``env.py``, the revision template and ``versions/``. Run them with
:func:`fairdun.adapters.sqlalchemy.upgrade`."""
