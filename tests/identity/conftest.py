"""The identity tests run on SQLite and PostgreSQL with the persistence tests' fixtures (and their rule: under
``CI=true`` an unreachable PostgreSQL fails instead of skipping)."""

from tests.persistence.conftest import database, engine, fixed_keyring, postgres_server, uow

__all__ = ["database", "engine", "fixed_keyring", "postgres_server", "uow"]
