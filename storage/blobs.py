"""Image bytes. The default store keeps them in the database (the `blobs` table), so a face
and its picture are written in one transaction and an image is never an orphan file.

`BlobStore` is the interface for code that only needs bytes in and out; the session-level
functions below are for code that writes a blob together with other rows (storage/faces.py).
Blobs are not deduplicated: each put is its own row, so deleting one never affects another.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Blob


class BlobNotFound(KeyError):
    """No blob with that id (never stored, or deleted)."""


class BlobData(NamedTuple):
    data: bytes
    content_type: str


class BlobStore(Protocol):
    async def put(self, data: bytes, content_type: str) -> int: ...

    async def get(self, blob_id: int) -> BlobData: ...

    async def delete(self, blob_id: int) -> None: ...


async def add_blob(session: AsyncSession, data: bytes, content_type: str) -> int:
    """Insert a blob in the caller's transaction and return its id."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"blob data must be bytes, got {type(data).__name__}")
    if "/" not in content_type:
        raise ValueError(f"content type must look like 'image/png', got {content_type!r}")
    data = bytes(data)
    blob = Blob(sha256=hashlib.sha256(data).hexdigest(), content_type=content_type, size=len(data), data=data)
    session.add(blob)
    await session.flush()
    return blob.id


async def read_blob(session: AsyncSession, blob_id: int) -> BlobData:
    row = (await session.execute(select(Blob.data, Blob.content_type).where(Blob.id == blob_id))).one_or_none()
    if row is None:
        raise BlobNotFound(blob_id)
    return BlobData(bytes(row.data), row.content_type)


async def replace_blob(session: AsyncSession, blob_id: int, data: bytes) -> None:
    """Put new bytes under an existing blob id in the caller's transaction (a picture stamped
    with its face id once the face row exists: facegen/provenance.py)."""
    data = bytes(data)
    result = await session.execute(update(Blob).where(Blob.id == blob_id).values(
        data=data, size=len(data), sha256=hashlib.sha256(data).hexdigest()))
    if result.rowcount == 0:
        raise BlobNotFound(blob_id)


async def delete_blob(session: AsyncSession, blob_id: int) -> bool:
    """Delete a blob in the caller's transaction; False if there was none."""
    result = await session.execute(delete(Blob).where(Blob.id == blob_id))
    return result.rowcount > 0


class DatabaseBlobStore:
    """BlobStore on the `blobs` table; each call is its own transaction."""

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
