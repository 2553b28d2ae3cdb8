"""``fairdun keys``: master keys for the personal data at rest (``docs/privacy.md``), and :func:`keyring_for`, which
every command that opens the database uses to build its keyring from the settings."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from fairdun.adapters.crypto import Keyring, KeyringError, MasterKey, generate_master_key, keyring_from_settings
from fairdun.adapters.crypto.keyring import NEW_MASTER_KEY, keyring_for_rotation
from fairdun.adapters.sqlalchemy import current_revision, head_revision, make_engine
from fairdun.adapters.sqlalchemy.data_keys import rotate_master_key
from fairdun.adapters.sqlalchemy.models import DataKeyRow
from fairdun.config.settings import Settings, SettingsError, load_settings

keys_app = typer.Typer(
    help="Master keys: personal data is sealed under per-party data keys wrapped by a master key (docs/privacy.md).",
    no_args_is_help=True,
)

DEV_KEY_SUFFIX = ".masterkey"


def fail(message: str) -> NoReturn:
    typer.echo(f"fairdun: error: {message}", err=True)
    raise typer.Exit(2)


def keyring_for(settings: Settings) -> Keyring:
    """The keyring the settings describe. With no master key set and a SQLite file database, a development key
    in a file beside the database (``<file>.masterkey``, created on first use, said so on stderr); a PostgreSQL
    database needs the setting. Errors are one line naming the setting."""
    try:
        if settings.master_key or settings.master_key_file:
            return keyring_from_settings(settings.master_key, settings.master_key_file, settings.new_master_key)
        url = make_url(settings.database_url)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return keyring_from_settings(None, None)  # raises, naming the setting
        path = Path(url.database + DEV_KEY_SUFFIX)
        if not path.exists():
            _write_key(path, generate_master_key())
            typer.echo(
                f"fairdun: FAIRDUN_MASTER_KEY is not set: created a development master key in {path} (beside the"
                " database, never in it); in production keep the key apart and set FAIRDUN_MASTER_KEY_FILE",
                err=True,
            )
        return keyring_from_settings(None, str(path), settings.new_master_key)
    except KeyringError as exc:
        fail(str(exc))


def _write_key(path: Path, key: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc))


@keys_app.command("generate")
def keys_generate(
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the key to this new file (mode 0600) instead of stdout.")
    ] = None,
) -> None:
    """Print a new random master key (32 bytes, base64) for FAIRDUN_MASTER_KEY, or write it to a key file."""
    key = generate_master_key()
    if out is None:
        typer.echo(key)
        return
    try:
        _write_key(out, key)
    except FileExistsError:
        fail(f"--out: {out} exists; a key file is never overwritten")
    except OSError as exc:
        fail(f"--out: cannot write {out} ({type(exc).__name__})")
    typer.echo(f"master key {MasterKey.parse(key, '--out').id} written to {out}", err=True)


@keys_app.command("status")
def keys_status() -> None:
    """How many data keys are wrapped under each master key id, and which id this process's key has (JSON)."""
    settings = _settings()
    keyring = keyring_for(settings)
    engine = _engine(settings.database_url)
    try:
        with Session(engine) as session:
            query = select(DataKeyRow.master_key_id, func.count()).group_by(DataKeyRow.master_key_id)
            by_key = {master_id: int(count) for master_id, count in session.execute(query)}
            shredded = session.scalar(
                select(func.count()).select_from(DataKeyRow).where(DataKeyRow.shredded_at.is_not(None))
            )
    finally:
        engine.dispose()
    payload = {"master_key_id": keyring.master_id, "data_keys": by_key, "shredded": int(shredded or 0)}
    typer.echo(json.dumps(payload, sort_keys=True))


@keys_app.command("rotate")
def keys_rotate(
    new_key_file: Annotated[
        Path | None,
        typer.Option(
            "--new-key-file", help=f"The new master key's file (default: {NEW_MASTER_KEY}).", show_default=False
        ),
    ] = None,
    batch: Annotated[int, typer.Option(help="Data keys per transaction.")] = 500,
) -> None:
    """Re-wrap every data key under a new master key, a batch per transaction, while the cycle may run.

    The data keys do not change, so no sealed field is rewritten; the contact points' blind indexes are recomputed
    under the new index key in the same transactions. Run every other process with FAIRDUN_NEW_MASTER_KEY set
    meanwhile; afterwards make the new key FAIRDUN_MASTER_KEY (or _FILE) and unset FAIRDUN_NEW_MASTER_KEY."""
    if batch < 1:
        fail(f"--batch: at least 1, got {batch}")
    settings = _settings()
    try:
        if new_key_file is not None:
            new = MasterKey.read(new_key_file, "--new-key-file")
        elif settings.new_master_key:
            new = MasterKey.parse(settings.new_master_key, NEW_MASTER_KEY)
        else:
            fail(f"--new-key-file or {NEW_MASTER_KEY}: the new master key is required")
    except KeyringError as exc:
        fail(str(exc))
    current = keyring_for(settings)
    rotation_keyring = keyring_for_rotation(current, new)
    if len(current.masters) == 1 and current.master_id == new.id:
        fail("the new master key is the current one: nothing to rotate to")
    engine = _engine(settings.database_url)
    try:
        done = rotate_master_key(
            engine, rotation_keyring, batch=batch, progress=lambda n: typer.echo(f"re-wrapped {n}", err=True)
        )
    except KeyringError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    payload = {
        "master_key_id": new.id,
        "rewrapped": done.rewrapped,
        "blind_indexes": done.indexes,
        "batches": done.batches,
        "remaining": done.remaining,
    }
    typer.echo(json.dumps(payload, sort_keys=True))
    if done.remaining:
        fail(f"{done.remaining} data key(s) were added under another master key meanwhile: run it again")


def _engine(url: str) -> Engine:
    try:
        revision = current_revision(url)
    except Exception as exc:  # the edge: a driver error becomes one line, without the URL
        fail(f"database: cannot be read: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    if revision != head_revision():
        fail(f"database: schema {revision or 'empty'}, this version needs {head_revision()}: run `fairdun db upgrade`")
    return make_engine(url)
