"""Blob stores, on SQLite and PostgreSQL: the database store and the filesystem store
(DREAMFACE_BLOB_ROOT), their files on disk, what a rolled-back or committed transaction does to
them, the orphan sweep, and a root that cannot be used."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time

import pytest

from conftest import REPO, blob_files, each_blob_store, files_only, process_env
from ground.config import ConfigError, Settings
from storage.blobs import (ORPHAN_GRACE_SECONDS, BlobData, BlobNotFound, Blobs, FilesystemBlobStore, add_blob,
                           blob_store_of, delete_blob, open_blob_store, read_blob, replace_blob, sweep_orphan_files,
                           with_blob_store)
from storage.db import session_factory
from storage.gallery import GalleryRepository
from storage.migrate import open_database
from storage.models import Blob

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


@pytest.fixture
def blobs(engine) -> Blobs:
    return Blobs(session_factory(engine))


@each_blob_store
async def test_put_then_get_returns_the_same_bytes_and_type(blobs):
    blob_id = await blobs.put(PNG, "image/png")
    assert await blobs.get(blob_id) == BlobData(PNG, "image/png")


@each_blob_store
async def test_identical_images_are_separate_blobs_so_deleting_one_keeps_the_other(blobs, blob_store):
    first = await blobs.put(b"same picture", "image/jpeg")
    second = await blobs.put(b"same picture", "image/jpeg")
    assert first != second
    assert len(blob_files(blob_store)) == (0 if blob_store is None else 2)   # never a shared file
    await blobs.delete(first)
    with pytest.raises(BlobNotFound):
        await blobs.get(first)
    assert (await blobs.get(second)).data == b"same picture"
    assert len(blob_files(blob_store)) == (0 if blob_store is None else 1)


@each_blob_store
async def test_missing_blobs_are_reported(blobs):
    with pytest.raises(BlobNotFound):
        await blobs.get(12345)
    with pytest.raises(BlobNotFound):
        await blobs.delete(12345)


@each_blob_store
async def test_bad_input_is_refused(blobs):
    with pytest.raises(TypeError):
        await blobs.put("not bytes", "image/png")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="image/png"):
        await blobs.put(b"x", "png")


# --- the filesystem store --------------------------------------------------------------------------

@pytest.fixture
def files(engine, blob_store) -> FilesystemBlobStore:
    return blob_store


async def _row(engine, blob_id: int) -> Blob | None:
    async with session_factory(engine)() as session:
        return await session.get(Blob, blob_id)


@files_only
async def test_a_file_is_content_addressed_private_and_named_by_its_row(engine, files, blobs):
    blob_id = await blobs.put(PNG, "image/png")
    row = await _row(engine, blob_id)
    assert row.data is None and row.size == len(PNG)
    assert re.fullmatch(rf"{row.sha256[:2]}/{row.sha256[2:4]}/{row.sha256}-[0-9a-f]{{16}}", row.location)
    path = files.root / row.location
    assert path.read_bytes() == PNG
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    assert blob_files(files) == {row.location}   # no temporary file left beside it


@files_only
async def test_rows_from_the_database_store_stay_readable_after_switching_to_files(engine, files):
    in_database = Blobs(session_factory(with_blob_store(engine, None)))
    old = await in_database.put(b"from before", "image/png")
    blobs = Blobs(session_factory(engine))
    new = await blobs.put(b"from after", "image/png")
    assert (await _row(engine, old)).data == b"from before" and (await _row(engine, new)).data is None
    assert (await blobs.get(old)).data == b"from before" and (await blobs.get(new)).data == b"from after"
    await blobs.delete(old)
    assert len(blob_files(files)) == 1


@files_only
async def test_a_rolled_back_put_leaves_no_file(engine, files):
    with pytest.raises(RuntimeError):
        async with session_factory(engine)() as session, session.begin():
            await add_blob(session, PNG, "image/png")
            assert len(blob_files(files)) == 1   # written before the row commits
            raise RuntimeError("the face could not be stored")
    assert blob_files(files) == set()


@files_only
async def test_a_delete_removes_the_file_only_when_it_commits(engine, files, blobs):
    blob_id = await blobs.put(PNG, "image/png")
    with pytest.raises(RuntimeError):
        async with session_factory(engine)() as session, session.begin():
            assert await delete_blob(session, blob_id)
            raise RuntimeError("changed my mind")
    assert (await blobs.get(blob_id)).data == PNG          # rolled back: the picture is whole
    async with session_factory(engine)() as session, session.begin():
        await delete_blob(session, blob_id)
        assert len(blob_files(files)) == 1                  # still there until the commit
    assert blob_files(files) == set()


@files_only
async def test_replacing_bytes_writes_a_new_file_and_removes_the_old_one_on_commit(engine, files, blobs):
    blob_id = await blobs.put(b"unstamped", "image/png")
    before = (await _row(engine, blob_id)).location
    async with session_factory(engine)() as session, session.begin():
        await replace_blob(session, blob_id, b"stamped")
    row = await _row(engine, blob_id)
    assert row.location != before and blob_files(files) == {row.location}
    assert (await blobs.get(blob_id)).data == b"stamped"


@files_only
async def test_removing_a_gallery_entry_removes_its_photo_and_face_files(engine, files):
    async with session_factory(engine)() as session, session.begin():
        gallery = GalleryRepository(session)
        entry = await gallery.add_entry("Star", [], {"kind": "photo"}, fictional=False, photo=(b"photo", "image/jpeg"))
        await gallery.add_face(entry, backend="montage", checkpoint_id="m", code=b"code", image=b"face")
    assert len(blob_files(files)) == 2   # the photo and the face's picture
    async with session_factory(engine)() as session, session.begin():
        assert await GalleryRepository(session).remove("Star")
    assert blob_files(files) == set()


@files_only
async def test_the_sweep_removes_old_files_that_no_row_names(engine, files, blobs):
    kept = await blobs.put(PNG, "image/png")
    kept_location = (await _row(engine, kept)).location
    sha = kept_location[:2] + "0" * 62                           # the same part of the tree
    old_orphan = await files.write(sha, b"its transaction never ended")
    new_orphan = await files.write(sha, b"its transaction may still commit")
    temporary = files.root / kept_location[:5] / ".tmp-abandoned"
    temporary.write_bytes(b"half")
    long_ago = time.time() - ORPHAN_GRACE_SECONDS - 60
    for path in (files.root / kept_location, files.root / old_orphan, temporary):
        os.utime(path, (long_ago, long_ago))
    async with session_factory(engine)() as session:
        assert await sweep_orphan_files(session, int(kept_location[:2], 16)) == 2
        assert await sweep_orphan_files(session, (int(kept_location[:2], 16) + 1) % 256) == 0
    assert blob_files(files) == {kept_location, new_orphan}
    assert (await blobs.get(kept)).data == PNG


async def test_the_configured_store_reaches_every_session_of_the_engine(migrated_database_url, tmp_path):
    root = tmp_path / "shared-volume"
    root.mkdir()
    engine = await open_database(Settings(database_url=migrated_database_url, blob_root=str(root)))
    try:
        async with session_factory(engine)() as session, session.begin():
            assert isinstance(blob_store_of(session), FilesystemBlobStore)
            blob_id = await add_blob(session, PNG, "image/png")
        async with session_factory(engine)() as session:
            assert (await read_blob(session, blob_id)).data == PNG
        assert len(blob_files(blob_store_of(engine))) == 1
    finally:
        await engine.dispose()
    assert open_blob_store(Settings()) is None   # the embedded default: the database


# --- a root that cannot be used ---------------------------------------------------------------------

def _writable(path) -> bool:
    try:
        os.close(os.open(os.path.join(path, "probe"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:
        return False
    os.unlink(os.path.join(path, "probe"))
    return True


@pytest.fixture
def unwritable(tmp_path) -> str:
    """A directory this process cannot write in (root writes through modes: /sys then)."""
    path = tmp_path / "read-only"
    path.mkdir(mode=0o500)
    for candidate in (str(path), "/sys"):
        if os.path.isdir(candidate) and not _writable(candidate):
            return candidate
    pytest.skip("no unwritable directory for this user")


def test_a_missing_or_unwritable_root_is_a_clear_error(tmp_path, unwritable):
    with pytest.raises(ConfigError, match=r"DREAMFACE_BLOB_ROOT .*/nowhere does not exist"):
        FilesystemBlobStore.open(str(tmp_path / "nowhere"))
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ConfigError, match=r"DREAMFACE_BLOB_ROOT .*/a-file is not a directory"):
        FilesystemBlobStore.open(str(tmp_path / "a-file"))
    with pytest.raises(ConfigError, match=rf"DREAMFACE_BLOB_ROOT {unwritable} is not writable \(.+\)"):
        FilesystemBlobStore.open(unwritable)


@pytest.mark.parametrize("command", [["worker"], ["run", "--port", "0"], ["chat", "--no-worker"]])
def test_a_process_with_an_unusable_root_stops_at_start_with_one_line(command, tmp_path, unwritable):
    env = process_env()
    env.update(PYTHONPATH=str(REPO), DREAMFACE_DATABASE_URL=f"sqlite:///{tmp_path / 'dreamface.db'}",
               DREAMFACE_BLOB_ROOT=unwritable)
    done = subprocess.run([sys.executable, "-m", "dreamface.cli", *command], cwd=tmp_path, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert re.fullmatch(rf"dreamface: configuration error: DREAMFACE_BLOB_ROOT {unwritable} is not writable "
                        r"\([^\n]+\)\n", done.stderr), done.stderr
