"""Shared fixtures. Tests that take `database_url` (an empty database), `migrated_database_url`
or `engine` (the current schema) run once on SQLite and once on PostgreSQL.

PostgreSQL: DREAMFACE_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test) is
the admin connection; each test gets a scratch database of its own, dropped afterwards. With
CI=true the server is mandatory and a missing one fails the run; elsewhere those tests skip
with the reason.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

ADMIN_URL = os.environ.get("DREAMFACE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPO = Path(__file__).resolve().parent.parent
TESTDATA = Path(__file__).resolve().parent / "data"


# Multi-process and load tests with time bounds: `make test` runs them alone, after the rest
# has run a worker per core, so their bounds measure dreamface and not the other tests.
SERIAL = ("tests/ops/", "tests/storage/test_crash.py", "tests/storage/test_outage.py",
          "tests/storage/test_worker_batches.py", "tests/bot/test_web_load.py", "tests/bot/test_discord_load.py")


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if item.nodeid.startswith(SERIAL):
            item.add_marker(pytest.mark.serial)


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
    """Creates databases next to the admin database (empty, or copies of a template) and drops
    them when the test ends. Dropping takes ~0.4 s of fsync on the server, so it happens on a
    background thread that the session waits for at its end."""

    def __init__(self, dropper: ThreadPoolExecutor) -> None:
        self.created: list[str] = []
        self._dropper = dropper

    def create(self, template: str | None = None) -> str:
        from sqlalchemy.engine import make_url
        name = f"dreamface_test_{uuid.uuid4().hex[:12]}"
        with _admin_connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.created.append(name)
        return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        names, self.created = self.created, []
        self._dropper.submit(_drop_databases, names)


def _drop_databases(names: list[str]) -> None:
    with _admin_connect() as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _database_dropper() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-db") as pool:
        yield pool   # leaving the block waits for every pending drop


@pytest.fixture
def scratch_postgres(postgres_available, _database_dropper) -> Iterator[ScratchPostgres]:
    scratch = ScratchPostgres(_database_dropper)
    yield scratch
    scratch.drop_all()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request) -> str:
    return request.param


@pytest.fixture
def database_url(db_kind, tmp_path, request) -> str:
    """An empty database of each kind, as a DREAMFACE_DATABASE_URL a user would write."""
    if db_kind == "sqlite":
        return f"sqlite:///{tmp_path / 'dreamface.db'}"
    return request.getfixturevalue("scratch_postgres").create()


async def _migrate(url: str) -> None:
    from storage.db import create_engine
    from storage.migrate import upgrade_database
    eng = create_engine(url)
    try:
        await upgrade_database(eng)
    finally:
        await eng.dispose()


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory) -> Iterator[dict[str, str]]:
    """Databases migrated once per run and copied for each test: running the migrations per
    test would cost about a second on PostgreSQL. Keyed by kind: a SQLite file path, and the
    name of a PostgreSQL template database (created on first use)."""
    sqlite_file = tmp_path_factory.mktemp("template") / "dreamface.db"
    asyncio.run(_migrate(f"sqlite:///{sqlite_file}"))
    templates = {"sqlite": str(sqlite_file)}
    yield templates
    if "postgres" in templates:
        with _admin_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{templates["postgres"]}" WITH (FORCE)')


def _postgres_template(templates: dict[str, str]) -> str:
    if "postgres" not in templates:
        from sqlalchemy.engine import make_url
        name = f"dreamface_template_{uuid.uuid4().hex[:12]}"
        with _admin_connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        asyncio.run(_migrate(make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)))
        templates["postgres"] = name
    return templates["postgres"]


@pytest.fixture
def migrated_database_url(db_kind, tmp_path, migrated_templates, request) -> str:
    """A database of each kind holding the current schema (a copy of the run's migrated
    template), as a URL to hand to other processes."""
    if db_kind == "sqlite":
        path = tmp_path / "dreamface.db"
        shutil.copy(migrated_templates["sqlite"], path)   # with its mode: 0600, as dreamface creates it
        return f"sqlite:///{path}"
    scratch = request.getfixturevalue("scratch_postgres")   # first: it skips (or fails in CI) without a server
    return scratch.create(template=_postgres_template(migrated_templates))


@pytest.fixture
def blob_store(request, tmp_path):
    """Where the `engine` fixture's image bytes go: the database (None, the default) or files
    under a fresh root. A test or a module runs on both with `each_blob_store`."""
    if getattr(request, "param", "database") == "database":
        return None
    from storage.blobs import FilesystemBlobStore
    root = tmp_path / "blobs"
    root.mkdir(mode=0o700)
    return FilesystemBlobStore(root)


each_blob_store = pytest.mark.parametrize("blob_store", ["database", "filesystem"], indirect=True)
files_only = pytest.mark.parametrize("blob_store", ["filesystem"], indirect=True)


def blob_files(store) -> set[str]:
    """The locations of every file in a filesystem blob store (empty for the database)."""
    if store is None:
        return set()
    return {str(path.relative_to(store.root)) for path in store.root.rglob("*") if path.is_file()}


async def blob_files_without_rows(engine, store) -> set[str]:
    """Files in the store that no blob row names: what a delete must not leave behind."""
    from sqlalchemy import select
    from storage.models import Blob
    async with engine.connect() as conn:
        named = set((await conn.execute(select(Blob.location).where(Blob.location.is_not(None)))).scalars())
    return blob_files(store) - named


@pytest.fixture
async def engine(migrated_database_url, blob_store) -> AsyncIterator:
    """An async engine on a database migrated to the current schema, carrying `blob_store`."""
    from storage.blobs import with_blob_store
    from storage.db import create_engine
    eng = create_engine(migrated_database_url)
    yield with_blob_store(eng, blob_store)
    await eng.dispose()


QUICK_PHOTO_FIT_EVALUATIONS = 8   # candidates a test's photo fit scores (a worker's default: 48)


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a dreamface process a test starts: this one's without the developer's
    DREAMFACE_* settings, but with the suite's quick photo fits, and with `extra`."""
    return ({k: v for k, v in os.environ.items() if not k.startswith("DREAMFACE_")}
            | {"DREAMFACE_PHOTO_FIT_EVALUATIONS": str(QUICK_PHOTO_FIT_EVALUATIONS)} | extra)


@pytest.fixture(autouse=True, scope="session")
def _quick_photo_fits() -> Iterator[None]:
    """A face made from a photo scores QUICK_PHOTO_FIT_EVALUATIONS candidates in the montage's
    identity fit instead of its 48: the same code path, seconds sooner. In this process (the
    backend's default, and DREAMFACE_PHOTO_FIT_EVALUATIONS for Settings.from_env(); Settings
    built from given values name it too, as the chat tests' builders do) and in every dreamface
    process a test starts (the variable: inherited, or through `process_env`). Tests of that
    fit name their own count."""
    from facegen.montage import identity_fit
    saved, identity_fit.EVALUATIONS = identity_fit.EVALUATIONS, QUICK_PHOTO_FIT_EVALUATIONS
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DREAMFACE_PHOTO_FIT_EVALUATIONS", str(QUICK_PHOTO_FIT_EVALUATIONS))
        yield
    identity_fit.EVALUATIONS = saved
