"""The database blob store, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from storage.blobs import BlobData, BlobNotFound, BlobStore, DatabaseBlobStore
from storage.db import session_factory


@pytest.fixture
def store(engine) -> BlobStore:
    return DatabaseBlobStore(session_factory(engine))


async def test_put_then_get_returns_the_same_bytes_and_type(store):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    blob_id = await store.put(png, "image/png")
    assert await store.get(blob_id) == BlobData(png, "image/png")


async def test_identical_images_are_separate_blobs_so_deleting_one_keeps_the_other(store):
    first = await store.put(b"same picture", "image/jpeg")
    second = await store.put(b"same picture", "image/jpeg")
    assert first != second
    await store.delete(first)
    with pytest.raises(BlobNotFound):
        await store.get(first)
    assert (await store.get(second)).data == b"same picture"


async def test_missing_blobs_are_reported(store):
    with pytest.raises(BlobNotFound):
        await store.get(12345)
    with pytest.raises(BlobNotFound):
        await store.delete(12345)


async def test_bad_input_is_refused(store):
    with pytest.raises(TypeError):
        await store.put("not bytes", "image/png")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="image/png"):
        await store.put(b"x", "png")
