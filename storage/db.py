"""Engines and sessions: URL normalization and the per-database settings the queue relies on."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from ground.config import ConfigError

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
}
SQLITE_BUSY_TIMEOUT_MS = 30_000
DATA_FILE_MODE = 0o600   # the database holds users' faces and ids: readable by its owner only

log = logging.getLogger(__name__)


def normalize_url(url: str) -> str:
    """Accept the URL spellings operators use and return the async-driver form."""
    try:
        parsed = make_url(url)
    except Exception:
        raise ConfigError(f"DREAMFACE_DATABASE_URL is not a database URL: {url!r}") from None
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ConfigError(
            f"DREAMFACE_DATABASE_URL must start with sqlite:// or postgresql://, got {parsed.drivername}://")
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def is_sqlite(url_or_engine: str | AsyncEngine) -> bool:
    name = url_or_engine.dialect.name if isinstance(url_or_engine, AsyncEngine) else make_url(url_or_engine).get_backend_name()
    return name == "sqlite"


def create_engine(url: str, **kwargs) -> AsyncEngine:
    url = normalize_url(url)
    if is_sqlite(url):
        _create_private_file(make_url(url).database)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # No pool_pre_ping: on asyncpg it costs three round trips per checkout (BEGIN, ping,
    # ROLLBACK), more than a claim itself. A connection found dead instead raises a
    # disconnect error, which makes SQLAlchemy drop the whole pool; the worker and courier
    # loops retry through storage/outage.py, and a chat request that hits it gets an error
    # reply once. The outage test (tests/storage/test_outage.py) covers that path.
    kwargs.setdefault("pool_pre_ping", False)
    return create_async_engine(url, **kwargs)


def _create_private_file(database: str | None) -> None:
    """Create a SQLite database file with mode 0600 before SQLite does (it would follow the
    umask, usually world-readable). SQLite gives the WAL and shared-memory files the mode of
    the database file, so they are private too. An existing file is left as it is, with a
    warning when others may read it (`chmod 600 dreamface.db*` fixes one made before)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DATA_FILE_MODE))   # empty: a valid database
        return
    except FileExistsError:
        pass
    except OSError:   # no such directory, read-only place: SQLite will say so in its own words
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if mode & 0o077:
        log.warning("the database file %s can be read by other users (mode %o); chmod 600 it and its "
                    "-wal and -shm files", path, mode)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL (readers never block the writer), a busy timeout, foreign keys, and write
    transactions that take the lock at BEGIN (BEGIN IMMEDIATE) so two writers never
    deadlock upgrading a read lock."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        # The timeout first: switching a new file to WAL takes a write lock that a process
        # opening the same file at the same moment may hold.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
