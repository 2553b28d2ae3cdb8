"""Settings, read from the environment by a function (never at import time)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from fairdun.config.packs import DEFAULT_PACK
from fairdun.domain.identity import CONTACTS_CEILING, DEFAULT_MAX_CONTACTS

LANGUAGES = ("zh", "en")
DEFAULT_DATABASE_URL = "sqlite:///./fairdun.db"


class SettingsError(ValueError):
    """An environment variable has a value fairdun cannot use."""


@dataclass(frozen=True)
class Settings:
    pack: str = DEFAULT_PACK
    """FAIRDUN_PACK: the pack used when a request names none (a built-in name or a path)."""
    lang: str = "zh"
    """FAIRDUN_LANG: the language of decision messages, zh or en."""
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)  # a URL may carry a password
    """FAIRDUN_DATABASE_URL: the database, as a SQLAlchemy URL (a SQLite file by default)."""
    master_key: str | None = field(default=None, repr=False)
    """FAIRDUN_MASTER_KEY: the master key personal data is encrypted under (32 bytes in base64); never stored in the
    database. Parsed by ``fairdun.adapters.crypto``, which names this setting when it is unusable."""
    master_key_file: str | None = None
    """FAIRDUN_MASTER_KEY_FILE: a file holding the master key instead (base64 text); set one of the two."""
    new_master_key: str | None = field(default=None, repr=False)
    """FAIRDUN_NEW_MASTER_KEY: during a rotation, the new master key: new data keys are wrapped under it, and keys
    wrapped under either are read (``fairdun keys rotate``)."""
    max_contacts: int = DEFAULT_MAX_CONTACTS
    """FAIRDUN_MAX_CONTACTS: how many designated contacts a borrower may have, 1 to 5 (3 by default): PIPL Art. 6
    allows no more than collection needs; the database refuses a sixth whatever this says (docs/identity.md)."""


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    lang = env.get("FAIRDUN_LANG", "zh")
    if lang not in LANGUAGES:
        raise SettingsError(f"FAIRDUN_LANG: expected one of {', '.join(LANGUAGES)}, got {lang!r}")
    database_url = env.get("FAIRDUN_DATABASE_URL", DEFAULT_DATABASE_URL) or DEFAULT_DATABASE_URL
    if "://" not in database_url:  # the value itself is not shown: it may hold a password
        raise SettingsError("FAIRDUN_DATABASE_URL: expected a URL such as sqlite:///./fairdun.db")
    return Settings(
        max_contacts=_max_contacts(env.get("FAIRDUN_MAX_CONTACTS") or str(DEFAULT_MAX_CONTACTS)),
        pack=env.get("FAIRDUN_PACK", DEFAULT_PACK) or DEFAULT_PACK,
        lang=lang,
        database_url=database_url,
        master_key=env.get("FAIRDUN_MASTER_KEY") or None,
        master_key_file=env.get("FAIRDUN_MASTER_KEY_FILE") or None,
        new_master_key=env.get("FAIRDUN_NEW_MASTER_KEY") or None,
    )


def _max_contacts(text: str) -> int:
    """FAIRDUN_MAX_CONTACTS as a number of 1 to the fixed ceiling of 5."""
    try:
        value = int(text.strip())
    except ValueError:
        raise SettingsError(f"FAIRDUN_MAX_CONTACTS: expected a whole number of 1 to {CONTACTS_CEILING}") from None
    if not 1 <= value <= CONTACTS_CEILING:
        raise SettingsError(
            f"FAIRDUN_MAX_CONTACTS: {value} designated contacts; 1 to {CONTACTS_CEILING}, and never more than"
            f" {CONTACTS_CEILING} (the ceiling the database enforces; PIPL Art. 6, minimum necessary)"
        )
    return value
