"""Image bytes. Every picture has a `blobs` row (id, sha256, content type, size); the bytes live
either in that row (the database store, the embedded default) or in a file under
DREAMFACE_BLOB_ROOT (the filesystem store), and the row's `location` says which: NULL for the
row itself, else the file's path under the root. Reads follow the row, so rows written under
the database store stay readable after switching to files. Everything refers to a picture by
its blob id, wherever the bytes are.

The session-level functions (add_blob, read_blob, replace_blob, delete_blobs) work in the
caller's transaction, so a face and its picture are stored in one commit. The store they use is
the one the session's engine carries (`with_blob_store`, applied by storage.migrate.open_database
from the settings): the code that stores a picture never chooses where it goes.

Files, and what a transaction does to them:
- A put writes its file before the row is inserted (a temporary file in the same directory,
  fsync, os.replace, fsync of the directory), so a committed row always names a whole file.
  If the transaction rolls back, the files it wrote are removed when it ends. A process that
  dies in between (or a savepoint rolled back inside a transaction that commits) leaves an
  orphan file, which the clean-up removes once it is older than ORPHAN_GRACE_SECONDS and no
  row names it (`sweep_orphan_files`, one of BLOB_PARTS parts of the tree per clean-up run).
- A delete (or a replace) removes the row's old file only after its transaction commits, so a
  rolled-back delete still has its picture.
- Files are never shared: a location is `ab/cd/<sha256>-<random>`, so two puts of identical
  bytes get two files and deleting one row can never remove a file another row still names
  (no reference counts, and no race between a delete and a concurrent put of the same bytes).
  Deduplication would save little here: every face picture is stamped with its own face's id
  (facegen/provenance.py) and uploaded photos are rarely sent twice. A unique index on
  `location` holds the rule.
- Files are 0600 and directories 0700; several workers and chat processes may share one root
  (a shared volume): names are unique without coordination, and directories are never removed.

`BlobStore` is what a store of files implements; an S3-compatible one would map write / read /
remove / stale onto PutObject / GetObject / DeleteObjects / ListObjectsV2 (with the part as the
key prefix and LastModified as the age), keeping the same location format as object keys.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import secrets
import tempfile
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import NamedTuple, Protocol

from sqlalchemy import Select, delete, event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ground.config import ConfigError, PREFIX, Settings
from storage.models import Blob

log = logging.getLogger(__name__)

BLOB_ROOT_VARIABLE = f"{PREFIX}BLOB_ROOT"
BLOB_PARTS = 256                   # locations start with two hex digits: the sweep takes one part a run
ORPHAN_GRACE_SECONDS = 3600.0      # a file no row names is removed only when older than this
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
_STORE_OPTION = "dreamface_blob_store"   # the engine's execution option that carries the store
_FILE_CHANGES = "dreamface_blob_files"   # the session.info key of its transaction's file changes
_LOCATION = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/(?:[0-9a-f]{64}-[0-9a-f]{16}|\.tmp-[A-Za-z0-9_]+)")


class BlobNotFound(KeyError):
    """No blob with that id (never stored, or deleted)."""


class BlobData(NamedTuple):
    data: bytes
    content_type: str


class BlobStore(Protocol):
    """Where blob bytes live when not in their row. Locations are `ab/cd/<sha256>-<random>`."""

    async def write(self, sha256: str, data: bytes) -> str:
        """Store the bytes durably under a new location (never one that exists) and return it."""

    async def read(self, location: str) -> bytes:
        """The bytes at a location; FileNotFoundError when there are none."""

    def remove(self, locations: Collection[str]) -> None:
        """Remove these locations; a missing one is no error. Called as a transaction commits or
        ends (SQLAlchemy's session events, which cannot await), so it must be quick."""

    async def stale(self, part: int, older_than_seconds: float) -> list[str]:
        """Locations in part `part` (0 … BLOB_PARTS-1: the first two hex digits) written more than
        `older_than_seconds` ago, including unfinished temporary files."""


class FilesystemBlobStore:
    """BlobStore on a directory: `root/ab/cd/<sha256>-<random>`."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    @classmethod
    def open(cls, root: str) -> "FilesystemBlobStore":
        """The store at `root`, after proving it can write there: a missing or unwritable root is
        a ConfigError (the process stops at start with that line). A missing root is not created:
        it is usually a shared volume that is not mounted."""
        if not os.path.isdir(root):
            reason = "is not a directory" if os.path.exists(root) else "does not exist"
            raise ConfigError(f"{BLOB_ROOT_VARIABLE} {root} {reason} (create it, or mount the shared volume)")
        try:
            fd, probe = tempfile.mkstemp(dir=root, prefix=".tmp-probe")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise ConfigError(f"{BLOB_ROOT_VARIABLE} {root} is not writable ({exc.strerror or exc})") from None
        return cls(root)

    async def write(self, sha256: str, data: bytes) -> str:
        return await asyncio.to_thread(self._write, sha256, data)

    async def read(self, location: str) -> bytes:
        return await asyncio.to_thread(self._path(location).read_bytes)

    def remove(self, locations: Collection[str]) -> None:
        for location in locations:
            try:
                self._path(location).unlink(missing_ok=True)
            except OSError as exc:   # the orphan sweep tries again later
                log.warning("could not remove blob file %s: %s", location, exc)

    async def stale(self, part: int, older_than_seconds: float) -> list[str]:
        return await asyncio.to_thread(self._stale, part, time.time() - older_than_seconds)

    def _path(self, location: str) -> Path:
        if not _LOCATION.fullmatch(location):
            raise ValueError(f"not a blob file location: {location!r}")
        return self.root / location

    def _write(self, sha256: str, data: bytes) -> str:
        location = f"{sha256[:2]}/{sha256[2:4]}/{sha256}-{secrets.token_hex(8)}"
        directory = self.root / sha256[:2] / sha256[2:4]
        _make_directory(directory.parent)
        _make_directory(directory)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")   # mode 0600
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.root / location)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_directory(directory)
        return location

    def _stale(self, part: int, cutoff: float) -> list[str]:
        top = f"{part:02x}"
        found = []
        try:
            middles = os.listdir(self.root / top)
        except FileNotFoundError:
            return []
        for middle in middles:
            try:
                with os.scandir(self.root / top / middle) as entries:
                    for entry in entries:
                        location = f"{top}/{middle}/{entry.name}"
                        if _LOCATION.fullmatch(location) and entry.stat().st_mtime < cutoff:
                            found.append(location)
            except (FileNotFoundError, NotADirectoryError):
                continue
        return found


def _make_directory(path: Path) -> None:
    """One level, 0700 (os.makedirs gives the levels above the last the umask's mode)."""
    try:
        path.mkdir(mode=DIRECTORY_MODE)
    except FileExistsError:
        return
    _fsync_directory(path.parent)


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- which store: carried by the engine ------------------------------------------------------------

def open_blob_store(settings: Settings) -> BlobStore | None:
    """The configured store: files under DREAMFACE_BLOB_ROOT, or None (the database) when unset.
    Raises ConfigError for a root that is missing or not writable."""
    return FilesystemBlobStore.open(settings.blob_root) if settings.blob_root else None


def with_blob_store(engine: AsyncEngine, store: BlobStore | None) -> AsyncEngine:
    """The engine (the same pool) carrying the store that its sessions put new bytes in."""
    return engine.execution_options(**{_STORE_OPTION: store})


def blob_store_of(bind: AsyncSession | AsyncEngine) -> BlobStore | None:
    """The store a session's (or an engine's) new blobs go to; None: the database."""
    engine = bind.get_bind() if isinstance(bind, AsyncSession) else bind
    return engine.get_execution_options().get(_STORE_OPTION)


class _FileChanges:
    """Files the session's current transaction wrote (removed if it does not commit) and files
    whose rows it deleted (removed once it commits)."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self.written: list[str] = []
        self.dropped: list[str] = []

    def committed(self, _session) -> None:
        dropped, self.written, self.dropped = self.dropped, [], []
        self.store.remove(dropped)

    def ended(self, _session, transaction) -> None:
        if transaction.parent is None:   # the outermost transaction, without a commit before it
            written, self.written, self.dropped = self.written, [], []
            self.store.remove(written)


def _file_changes(session: AsyncSession, store: BlobStore) -> _FileChanges:
    sync = session.sync_session
    changes = sync.info.get(_FILE_CHANGES)
    if changes is None:
        changes = sync.info[_FILE_CHANGES] = _FileChanges(store)
        event.listen(sync, "after_commit", changes.committed)
        event.listen(sync, "after_transaction_end", changes.ended)
    return changes


async def _store_bytes(session: AsyncSession, data: bytes) -> tuple[bytes | None, str | None, str]:
    """(bytes for the row, location, sha256) of new bytes, in the session's store."""
    sha256 = hashlib.sha256(data).hexdigest()
    store = blob_store_of(session)
    if store is None:
        return data, None, sha256
    changes = _file_changes(session, store)
    location = await store.write(sha256, data)
    changes.written.append(location)
    return None, location, sha256


def _store_for_rows(session: AsyncSession, location: str | None) -> BlobStore:
    store = blob_store_of(session)
    if store is None:
        raise RuntimeError(f"a blob is a file ({location}) but {BLOB_ROOT_VARIABLE} is not set")
    return store


# --- in the caller's transaction ------------------------------------------------------------------

async def add_blob(session: AsyncSession, data: bytes, content_type: str) -> int:
    """Insert a blob in the caller's transaction and return its id."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"blob data must be bytes, got {type(data).__name__}")
    if "/" not in content_type:
        raise ValueError(f"content type must look like 'image/png', got {content_type!r}")
    data = bytes(data)
    in_row, location, sha256 = await _store_bytes(session, data)
    blob = Blob(sha256=sha256, content_type=content_type, size=len(data), data=in_row, location=location)
    session.add(blob)
    await session.flush()
    return blob.id


async def add_blobs(session: AsyncSession, pictures: Sequence[tuple[bytes, str]]) -> list[int]:
    """`add_blob` for many (bytes, content type) pairs in one multi-row insert; their ids, in order."""
    rows = []
    for data, content_type in pictures:
        if "/" not in content_type:
            raise ValueError(f"content type must look like 'image/png', got {content_type!r}")
        data = bytes(data)
        in_row, location, sha256 = await _store_bytes(session, data)
        rows.append(dict(sha256=sha256, content_type=content_type, size=len(data), data=in_row, location=location))
    if not rows:
        return []
    result = await session.execute(insert(Blob).returning(Blob.id, sort_by_parameter_order=True), rows)
    return list(result.scalars())


async def read_blob(session: AsyncSession, blob_id: int) -> BlobData:
    row = (await session.execute(
        select(Blob.data, Blob.location, Blob.content_type).where(Blob.id == blob_id))).one_or_none()
    if row is None:
        raise BlobNotFound(blob_id)
    if row.location is None:
        return BlobData(bytes(row.data), row.content_type)
    try:
        return BlobData(await _store_for_rows(session, row.location).read(row.location), row.content_type)
    except FileNotFoundError:   # deleted (and its file removed) since the row was read
        raise BlobNotFound(blob_id) from None


async def replace_blob(session: AsyncSession, blob_id: int, data: bytes) -> None:
    """Put new bytes under an existing blob id in the caller's transaction (a picture stamped
    with its face id once the face row exists: facegen/provenance.py)."""
    data = bytes(data)
    old = (await session.execute(select(Blob.location).where(Blob.id == blob_id))).one_or_none()
    if old is None:
        raise BlobNotFound(blob_id)
    in_row, location, sha256 = await _store_bytes(session, data)
    await session.execute(update(Blob).where(Blob.id == blob_id).values(
        data=in_row, location=location, size=len(data), sha256=sha256))
    if old.location is not None:
        _file_changes(session, _store_for_rows(session, old.location)).dropped.append(old.location)


async def delete_blobs(session: AsyncSession, ids: Collection[int] | Select) -> int:
    """Delete blobs (ids, or a select of ids) in the caller's transaction; their files go once
    it commits. Returns how many there were. The one way blob rows are deleted."""
    if not isinstance(ids, Select) and not ids:
        return 0
    locations = (await session.execute(
        delete(Blob).where(Blob.id.in_(ids)).returning(Blob.location)
        .execution_options(synchronize_session=False))).scalars().all()
    files = [location for location in locations if location is not None]
    if files:
        _file_changes(session, _store_for_rows(session, files[0])).dropped.extend(files)
    return len(locations)


async def delete_blob(session: AsyncSession, blob_id: int) -> bool:
    """Delete a blob in the caller's transaction; False if there was none."""
    return await delete_blobs(session, [blob_id]) > 0


async def sweep_orphan_files(session: AsyncSession, part: int) -> int:
    """Remove the files of part `part` that no row names and that are older than
    ORPHAN_GRACE_SECONDS (left by a process that died before its transaction ended). Returns
    how many. The grace is far longer than any transaction, so a file whose row is still to
    commit is never taken."""
    store = blob_store_of(session)
    if store is None:
        return 0
    stale = await store.stale(part % BLOB_PARTS, ORPHAN_GRACE_SECONDS)
    removed = 0
    for start in range(0, len(stale), 500):
        batch = stale[start:start + 500]
        named = set((await session.execute(select(Blob.location).where(Blob.location.in_(batch)))).scalars())
        orphans = [location for location in batch if location not in named]
        store.remove(orphans)
        removed += len(orphans)
    return removed


class Blobs:
    """Bytes in and out by blob id, each call its own transaction (tools and tests); the bytes
    go to the engine's store like every other put."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def put(self, data: bytes, content_type: str) -> int:
        async with self._sessions() as session, session.begin():
            return await add_blob(session, data, content_type)

    async def get(self, blob_id: int) -> BlobData:
        async with self._sessions() as session:
            return await read_blob(session, blob_id)

    async def delete(self, blob_id: int) -> None:
        async with self._sessions() as session, session.begin():
            if not await delete_blob(session, blob_id):
                raise BlobNotFound(blob_id)
