"""Data files are private: a SQLite database dreamface creates, and the WAL and shared-memory
files SQLite makes beside it, are readable by their owner only (mode 0600), whatever the
umask; one made world-readable before (by an older release, or a copy) is named in a warning."""

from __future__ import annotations

import logging
import os
import stat

from sqlalchemy import text

from storage.db import create_engine
from storage.migrate import open_database


def _modes(folder) -> dict[str, int]:
    return {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()}


async def test_the_database_and_its_wal_and_shm_files_are_created_0600(tmp_path):
    old_umask = os.umask(0o022)   # the usual umask: files would be world-readable
    try:
        engine = await open_database(f"sqlite:///{tmp_path / 'dreamface.db'}")   # created and migrated
        try:
            async with engine.begin() as connection:
                await connection.execute(text("SELECT count(*) FROM faces"))
                modes = _modes(tmp_path)   # while connected: the WAL and shared-memory files exist
        finally:
            await engine.dispose()
    finally:
        os.umask(old_umask)
    assert {"dreamface.db", "dreamface.db-wal", "dreamface.db-shm"} <= set(modes), modes
    assert all(mode == 0o600 for mode in modes.values()), {k: oct(v) for k, v in modes.items()}


async def test_an_existing_readable_database_is_named_in_a_warning_and_left_alone(tmp_path, caplog):
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="storage.db"):
        engine = create_engine(f"sqlite:///{path}")
        await engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644   # the operator's file: not changed behind their back
    assert any(str(path) in r.getMessage() and "chmod 600" in r.getMessage() for r in caplog.records)


def test_memory_databases_and_missing_folders_create_nothing(tmp_path):
    for url in ("sqlite://", "sqlite:///:memory:", f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"):
        create_engine(url)
    assert list(tmp_path.iterdir()) == []
