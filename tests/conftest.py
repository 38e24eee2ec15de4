"""Shared fixtures. `database_url` runs a test once on SQLite and once on PostgreSQL.

PostgreSQL: DREAMFACE_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test) is
the admin connection; each test gets a scratch database of its own, dropped afterwards. With
CI=true the server is mandatory and a missing one fails the run; elsewhere those tests skip
with the reason.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

ADMIN_URL = os.environ.get("DREAMFACE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPO = Path(__file__).resolve().parent.parent
TESTDATA = Path(__file__).resolve().parent / "data"


def _admin_connect():
    import psycopg
    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    try:
        with _admin_connect():
            return True
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL is unreachable at {ADMIN_URL}: {exc}")
        pytest.skip(f"no PostgreSQL server at {ADMIN_URL} ({exc}); set DREAMFACE_TEST_POSTGRES_URL")
    return False


class ScratchPostgres:
    """Creates and drops databases next to the admin database."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def create(self) -> str:
        from sqlalchemy.engine import make_url
        name = f"dreamface_test_{uuid.uuid4().hex[:12]}"
        with _admin_connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with _admin_connect() as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


@pytest.fixture
def scratch_postgres(postgres_available) -> Iterator[ScratchPostgres]:
    scratch = ScratchPostgres()
    yield scratch
    scratch.drop_all()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """An empty database of each kind, as a DREAMFACE_DATABASE_URL a user would write."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dreamface.db'}"
    return request.getfixturevalue("scratch_postgres").create()


@pytest.fixture
async def engine(database_url) -> AsyncIterator:
    """An async engine on a database migrated to the current schema."""
    from storage.db import create_engine
    from storage.migrate import upgrade_database
    eng = create_engine(database_url)
    await upgrade_database(eng)
    yield eng
    await eng.dispose()
