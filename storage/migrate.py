"""Migration policy: which schema a database must have before anything uses it.

The embedded default (a SQLite file) upgrades itself on start, so one command starts
everything. PostgreSQL is shared by many processes on many machines, so an operator
upgrades it once with `dreamface db upgrade`; every entry point refuses to start on an
out-of-date schema instead of racing to migrate it.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations
from ground.config import Settings
from storage.blobs import open_blob_store, with_blob_store
from storage.db import create_engine, is_sqlite

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent
# pg_advisory_xact_lock key serializing concurrent upgrades ("dreamfac" as a 64-bit int).
MIGRATION_LOCK_KEY = int.from_bytes(b"dreamfac", "big") & 0x7FFF_FFFF_FFFF_FFFF
UPGRADE_COMMAND = "dreamface db upgrade"


class SchemaOutOfDate(RuntimeError):
    """The database schema is not the one this version of dreamface needs."""


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None  # revision stored in the database; None for an empty database
    head: str            # revision this code needs
    known: bool          # False when the database was migrated by a newer dreamface

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def alembic_config(url: str | None = None) -> Config:
    """The Alembic configuration, built in code (no alembic.ini on disk)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.attributes["url"] = url
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, f"no migrations found in {MIGRATIONS_DIR}"
    return head


async def schema_status(engine: AsyncEngine) -> SchemaStatus:
    script = ScriptDirectory.from_config(alembic_config())
    async with engine.connect() as connection:
        current = await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision())
    known = current is None or current in {rev.revision for rev in script.walk_revisions()}
    return SchemaStatus(current=current, head=head_revision(), known=known)


# Alembic keeps the running migration in module globals, so one process runs one at a time.
_alembic_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


async def upgrade_database(engine: AsyncEngine, revision: str = "head") -> SchemaStatus:
    """Apply pending migrations in one transaction. A no-op at head; safe to run from several
    processes at once (PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE). A database
    already at head is only read, so processes starting together do not queue for its write
    lock."""
    status = await schema_status(engine)   # also loads the migration scripts before any lock is taken
    if status.up_to_date and revision == "head":
        return status
    lock = _alembic_locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock, engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)
    return await schema_status(engine)


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def open_database(settings_or_url: Settings | str) -> AsyncEngine:
    """The engine every entry point uses, after the migration policy is applied: SQLite is
    upgraded to head; PostgreSQL must already be at head or SchemaOutOfDate is raised. From
    settings, it carries the configured blob store (storage/blobs.py); a missing or unwritable
    DREAMFACE_BLOB_ROOT is a ConfigError."""
    if isinstance(settings_or_url, Settings):
        url, store = settings_or_url.database_url, open_blob_store(settings_or_url)   # a bad root stops us first
    else:
        url, store = settings_or_url, None
    engine = with_blob_store(create_engine(url), store)
    try:
        status = await schema_status(engine)
        if not status.known:
            raise SchemaOutOfDate(
                f"the database schema is at revision {status.current}, which this version of dreamface "
                f"does not know (it needs {status.head}); the database was upgraded by a newer dreamface")
        if not status.up_to_date:
            if not is_sqlite(engine):
                state = "empty" if status.current is None else f"at revision {status.current}"
                raise SchemaOutOfDate(
                    f"the database schema is {state} but this version of dreamface needs {status.head}; "
                    f"run `{UPGRADE_COMMAND}` (with the same DREAMFACE_DATABASE_URL) first")
            await upgrade_database(engine)
    except BaseException:
        await engine.dispose()
        raise
    return engine
