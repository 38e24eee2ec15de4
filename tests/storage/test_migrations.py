"""Migrations, the migration policy and `dreamface db …`, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from dreamface import cli
from ground.config import ConfigError, Settings
from storage.base import Base
from storage.db import create_engine, normalize_url, session_factory
from storage.gallery import GalleryRepository
from storage.migrate import (SchemaOutOfDate, alembic_config, head_revision, open_database, schema_status,
                             upgrade_database)
from storage.blobs import BlobData, FilesystemBlobStore, add_blob, read_blob, with_blob_store
from storage.models import Blob, User

REPO = Path(__file__).resolve().parents[2]


async def _differences(engine) -> list:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda sync: compare_metadata(
            MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata))


async def _tables(engine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


@pytest.fixture
def db_cli(monkeypatch):
    """The real `dreamface` entry point, with only the storage commands registered (the other
    command modules are not under test here), run with DREAMFACE_DATABASE_URL set."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["storage.commands"])

    def run(url: str, *argv: str) -> int:
        monkeypatch.setenv("DREAMFACE_DATABASE_URL", url)
        return cli.main(["db", *argv])
    return run


async def test_migrated_database_matches_the_models(database_url):
    engine = create_engine(database_url)
    try:
        status = await upgrade_database(engine)
        assert status.current == head_revision() and status.up_to_date
        assert await _differences(engine) == []
    finally:
        await engine.dispose()


async def test_upgrading_twice_keeps_the_data(database_url):
    engine = create_engine(database_url)
    try:
        await upgrade_database(engine)
        async with engine.begin() as conn:
            await conn.execute(User.__table__.insert().values(
                platform="web", platform_user_id="u1", locale="en", locale_chosen=False, banned=False, face_count=0))
        status = await upgrade_database(engine)
        assert status.up_to_date
        async with engine.connect() as conn:
            assert (await conn.execute(select(User.platform_user_id))).scalars().all() == ["u1"]
    finally:
        await engine.dispose()


async def test_downgrade_to_base_removes_every_table(database_url):
    engine = create_engine(database_url)
    try:
        await upgrade_database(engine)

        def down(sync) -> None:
            config = alembic_config()
            config.attributes["connection"] = sync
            command.downgrade(config, "base")
        async with engine.begin() as conn:
            await conn.run_sync(down)
        assert await _tables(engine) <= {"alembic_version"}
        assert (await upgrade_database(engine)).up_to_date
        assert await _differences(engine) == []
    finally:
        await engine.dispose()


async def test_face_jobs_queued_before_routing_go_to_a_worker_of_their_backend(database_url):
    """0002 gives unfinished face jobs their backend as route: a montage worker never takes a
    stylegan job queued before the upgrade, and the clean-up stays anyone's."""
    engine = create_engine(database_url)

    def migrate(revision: str):
        def run(sync) -> None:
            config = alembic_config()
            config.attributes["connection"] = sync
            command.upgrade(config, revision)
        return run

    try:
        async with engine.begin() as conn:
            await conn.run_sync(migrate("0001"))
        async with engine.begin() as conn:
            for kind, state, backend in [("face.make", "queued", "stylegan"), ("face.photo", "queued", "montage"),
                                         ("face.make", "done", "stylegan"), ("maintenance.cleanup", "queued", None)]:
                payload = "{}" if backend is None else f'{{"backend": "{backend}", "user_id": 1}}'
                await conn.execute(text(
                    "INSERT INTO jobs (kind, queue, batch_key, priority, payload, state, attempt, max_attempts, "
                    "run_at, cancel_requested, created_at) VALUES (:kind, 'default', :kind, 0, :payload, :state, "
                    "0, 3, 0, FALSE, 0)"), {"kind": kind, "payload": payload, "state": state})
        async with engine.begin() as conn:
            await conn.run_sync(migrate("head"))
        async with engine.connect() as conn:
            routes = (await conn.execute(text("SELECT kind, state, route FROM jobs ORDER BY id"))).all()
        assert [tuple(r) for r in routes] == [("face.make", "queued", "stylegan"), ("face.photo", "queued", "montage"),
                                              ("face.make", "done", None), ("maintenance.cleanup", "queued", None)]
    finally:
        await engine.dispose()


async def test_gallery_entries_from_before_kept_photos_stay_and_cannot_be_refit(database_url):
    """0004 adds the kept photo: an entry added earlier keeps everything it had and has no
    photo (so it cannot be fitted for another model); downgrading keeps the entries."""
    engine = create_engine(database_url)

    def migrate(step, revision: str):
        def run(sync) -> None:
            config = alembic_config()
            config.attributes["connection"] = sync
            step(config, revision)
        return run

    try:
        async with engine.begin() as conn:
            await conn.run_sync(migrate(command.upgrade, "0003"))
            await conn.execute(text(
                "INSERT INTO gallery_entries (name, aliases, source, fictional, created_at) "
                "VALUES ('Old Star', '[]', '{\"kind\": \"photo\", \"seed\": 0}', FALSE, CURRENT_TIMESTAMP)"))
        async with engine.begin() as conn:
            await conn.run_sync(migrate(command.upgrade, "head"))
        async with session_factory(engine)() as session:
            (old,) = await GalleryRepository(session).entries()
        assert (old.name, old.source, old.source_blob_id, old.refittable) == \
            ("Old Star", {"kind": "photo", "seed": 0}, None, False)
        async with engine.begin() as conn:
            await conn.run_sync(migrate(command.downgrade, "0003"))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT name FROM gallery_entries"))).scalars().all() == ["Old Star"]
    finally:
        await engine.dispose()


async def test_blobs_from_before_files_stay_readable_under_the_filesystem_store(database_url, tmp_path):
    """0008 lets a blob's bytes be a file: a blob stored earlier keeps its bytes in its row and
    reads the same once DREAMFACE_BLOB_ROOT is set; new blobs go to files."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_migrate(command.upgrade, "0006"))
            await conn.execute(text("INSERT INTO blobs (sha256, content_type, size, data, created_at) "
                                    "VALUES ('x', 'image/png', 3, :data, CURRENT_TIMESTAMP)"), {"data": b"old"})
        async with engine.begin() as conn:
            await conn.run_sync(_migrate(command.upgrade, "head"))
        (tmp_path / "blobs").mkdir()
        files = with_blob_store(engine, FilesystemBlobStore(tmp_path / "blobs"))
        async with session_factory(files)() as session, session.begin():
            old_id = (await session.execute(select(Blob.id))).scalar_one()
            assert await read_blob(session, old_id) == BlobData(b"old", "image/png")
            new_id = await add_blob(session, b"new", "image/png")
        async with session_factory(files)() as session:
            assert (await session.get(Blob, new_id)).data is None
            assert (await read_blob(session, new_id)).data == b"new"
    finally:
        await engine.dispose()


def _migrate(step, revision: str):
    def run(sync) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync
        step(config, revision)
    return run


# Each process waits for the same moment, then upgrades: the schema is created once.
_UPGRADE_AT = """
import asyncio, sys, time
from storage.db import create_engine
from storage.migrate import upgrade_database

async def main(url, start):
    engine = create_engine(url)
    time.sleep(max(0.0, start - time.time()))
    print((await upgrade_database(engine)).current)
    await engine.dispose()

asyncio.run(main(sys.argv[1], float(sys.argv[2])))
"""


async def test_concurrent_upgrades_from_several_processes(database_url):
    start = time.time() + 2.0  # after every interpreter has imported everything
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-c", _UPGRADE_AT, database_url, str(start), cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE) for _ in range(3)]
    results = [await p.communicate() for p in procs]
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err.decode()[-2000:]
        assert out.decode().strip() == head_revision()
    engine = create_engine(database_url)
    try:
        assert await _differences(engine) == []
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_sqlite_file_upgrades_itself_on_start(tmp_path):
    engine = await open_database(Settings(database_url=f"sqlite:///{tmp_path / 'new.db'}"))
    try:
        assert (await schema_status(engine)).up_to_date
        assert {"users", "faces", "blobs", "moderation_events"} <= await _tables(engine)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_postgres_refuses_an_empty_schema_until_db_upgrade(scratch_postgres, db_cli, capsys):
    url = scratch_postgres.create()
    with pytest.raises(SchemaOutOfDate, match="run `dreamface db upgrade`"):
        await open_database(url)
    # refusing must not have created anything
    probe = create_engine(url)
    assert await _tables(probe) == set()
    await probe.dispose()

    assert await asyncio.to_thread(db_cli, url, "check") == 1
    assert "behind: run `dreamface db upgrade`" in capsys.readouterr().out
    assert await asyncio.to_thread(db_cli, url, "upgrade") == 0
    assert await asyncio.to_thread(db_cli, url, "check") == 0
    assert f"current:  {head_revision()}" in capsys.readouterr().out

    engine = await open_database(url)
    assert (await schema_status(engine)).up_to_date
    await engine.dispose()


@pytest.mark.postgres
async def test_postgres_refuses_a_schema_from_a_newer_dreamface(scratch_postgres, db_cli, capsys):
    url = scratch_postgres.create()
    assert await asyncio.to_thread(db_cli, url, "upgrade") == 0
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    await engine.dispose()
    with pytest.raises(SchemaOutOfDate, match="newer dreamface"):
        await open_database(url)
    assert await asyncio.to_thread(db_cli, url, "upgrade") == 1
    assert "from_the_future" in capsys.readouterr().err


async def test_unreachable_database_is_reported_not_a_traceback(db_cli, capsys):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://postgres:secret@127.0.0.1:{port}/dreamface"
    assert await asyncio.to_thread(db_cli, url, "upgrade") == 1
    err = capsys.readouterr().err
    assert f"cannot upgrade postgresql://postgres:***@127.0.0.1:{port}/dreamface" in err
    assert "secret" not in err


@pytest.mark.parametrize("written, expected", [
    ("sqlite:///data/dreamface.db", "sqlite+aiosqlite:///data/dreamface.db"),
    ("sqlite+aiosqlite:///data/dreamface.db", "sqlite+aiosqlite:///data/dreamface.db"),
    ("postgresql://bot:secret@db.example:5432/dreamface", "postgresql+asyncpg://bot:secret@db.example:5432/dreamface"),
    ("postgresql+asyncpg://bot@db.example/dreamface", "postgresql+asyncpg://bot@db.example/dreamface"),
])
def test_database_urls_are_normalized_to_async_drivers(written, expected):
    assert normalize_url(written) == expected


@pytest.mark.parametrize("bad", ["mysql://root@localhost/dreamface", "not a url"])
async def test_unusable_database_url_is_a_clear_config_error(bad, db_cli, capsys):
    with pytest.raises(ConfigError, match="DREAMFACE_DATABASE_URL"):
        await open_database(Settings.from_env({"DREAMFACE_DATABASE_URL": bad}))
    assert await asyncio.to_thread(db_cli, bad, "upgrade") == 2
    assert "DREAMFACE_DATABASE_URL" in capsys.readouterr().err


async def test_pictures_are_stored_without_a_compression_try_on_postgresql(database_url):
    """0010: JPEG and PNG bytes are compressed already; PostgreSQL keeps them out of line
    without trying pglz first (EXTERNAL), and back to its default on a downgrade."""
    engine = create_engine(database_url)
    storage = text("SELECT CAST(attstorage AS text) FROM pg_attribute "
                   "WHERE attrelid = 'blobs'::regclass AND attname = 'data'")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_migrate(command.upgrade, "head"))
        if engine.dialect.name != "postgresql":
            return   # SQLite has no such setting: the revision is a no-op there
        async with engine.connect() as conn:
            assert (await conn.execute(storage)).scalar_one() == "e"
        async with engine.begin() as conn:
            await conn.run_sync(_migrate(command.downgrade, "0009"))
        async with engine.connect() as conn:
            assert (await conn.execute(storage)).scalar_one() == "x"
    finally:
        await engine.dispose()
