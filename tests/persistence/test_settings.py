"""FAIRDUN_DATABASE_URL: where the database is."""

from __future__ import annotations

import pytest

from fairdun.config.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings


def test_the_default_database_is_a_sqlite_file_in_the_working_directory() -> None:
    assert load_settings({}).database_url == DEFAULT_DATABASE_URL == "sqlite:///./fairdun.db"
    assert load_settings({"FAIRDUN_DATABASE_URL": ""}).database_url == DEFAULT_DATABASE_URL


def test_the_database_url_comes_from_the_environment() -> None:
    url = "postgresql+psycopg://fairdun@db.example.com:5432/fairdun"
    assert load_settings({"FAIRDUN_DATABASE_URL": url}).database_url == url


def test_a_database_url_with_a_password_is_not_shown() -> None:
    settings = load_settings({"FAIRDUN_DATABASE_URL": "postgresql+psycopg://fairdun:s3cret@db.example.com/fairdun"})
    assert "s3cret" not in repr(settings)
    with pytest.raises(SettingsError, match="FAIRDUN_DATABASE_URL") as caught:
        load_settings({"FAIRDUN_DATABASE_URL": "fairdun:s3cret@db.example.com"})
    assert "s3cret" not in str(caught.value)
