"""The celebrity gallery: operator-curated named faces users may morph with.

Each entry keeps one face per backend and checkpoint (`gallery_codes`), so a morph never mixes
latents of different models: computed when the entry is added, and by a worker of another model
the first time someone on that model morphs with it (from the entry's seed, description or kept
photo). Those faces are ordinary face rows owned by the gallery's own user (platform
"gallery"), which lets a morph job load them like any other second face. Works inside the
caller's session and transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.blobs import add_blob, delete_blob, delete_blobs
from storage.faces import FaceRepository, UserRecord
from storage.models import Face, GalleryCode, GalleryEntry, ModerationEvent
from storage.platforms import GALLERY_PLATFORM

GALLERY_USER = "gallery"


class GalleryNameTaken(ValueError):
    """Another entry already has this name or alias."""


@dataclass(frozen=True)
class GalleryEntryRecord:
    id: int
    name: str
    aliases: tuple[str, ...]
    source: dict[str, Any]
    fictional: bool
    faces: dict[tuple[str, str], int]    # (backend, checkpoint_id) → face id
    source_blob_id: int | None = None    # a photo entry's kept photo (None: not kept, or no photo)

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def refittable(self) -> bool:
        """Its face can be computed for any model: from its seed or description, or from its
        kept photo (photo entries added before photos were kept cannot)."""
        return self.source.get("kind") != "photo" or self.source_blob_id is not None

    def face_for(self, backend: str, checkpoint_id: str) -> int | None:
        return self.faces.get((backend, checkpoint_id))

    def available_for(self, backend: str, checkpoint_id: str) -> bool:
        """A morph on this model can use it: it has a face there, or a worker can fit one."""
        return self.face_for(backend, checkpoint_id) is not None or self.refittable


def _record(entry: GalleryEntry, faces: dict[tuple[str, str], int]) -> GalleryEntryRecord:
    return GalleryEntryRecord(entry.id, entry.name, tuple(entry.aliases or ()), dict(entry.source), entry.fictional,
                              faces, entry.source_blob_id)


class GalleryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def owner(self) -> UserRecord:
        """The user that owns gallery faces (created on first use)."""
        return await FaceRepository(self._session).get_or_create_user(GALLERY_PLATFORM, GALLERY_USER, locale="en")

    async def entries(self) -> list[GalleryEntryRecord]:
        rows = (await self._session.execute(select(GalleryEntry).order_by(GalleryEntry.name))).scalars().all()
        codes = (await self._session.execute(select(GalleryCode))).scalars().all()
        faces: dict[int, dict[tuple[str, str], int]] = {}
        for code in codes:
            faces.setdefault(code.entry_id, {})[(code.backend, code.checkpoint_id)] = code.face_id
        return [_record(e, faces.get(e.id, {})) for e in rows]

    async def get(self, entry_id: int) -> GalleryEntryRecord | None:
        entry = await self._session.get(GalleryEntry, entry_id)
        if entry is None:
            return None
        codes = (await self._session.execute(select(GalleryCode).where(GalleryCode.entry_id == entry_id))).scalars()
        return _record(entry, {(c.backend, c.checkpoint_id): c.face_id for c in codes})

    async def add_entry(self, name: str, aliases: list[str], source: dict[str, Any], *, fictional: bool,
                        photo: tuple[bytes, str] | None = None) -> GalleryEntryRecord:
        """A new entry; `photo` (bytes as uploaded, content type) is kept with it, for fitting
        it to other models later."""
        wanted = {s.casefold() for s in (name, *aliases)}
        for entry in await self.entries():
            clash = wanted & {s.casefold() for s in entry.spellings}
            if clash:
                raise GalleryNameTaken(f"{sorted(clash)[0]!r} already names {entry.name!r}")
        blob_id = None if photo is None else await add_blob(self._session, *photo)
        entry = GalleryEntry(name=name, aliases=list(aliases), source=dict(source), fictional=fictional,
                             source_blob_id=blob_id)
        self._session.add(entry)
        await self._session.flush()
        return _record(entry, {})

    async def add_face(self, entry: GalleryEntryRecord, *, backend: str, checkpoint_id: str, code: bytes,
                       image: bytes, image_content_type: str = "image/png", public_id: str | None = None,
                       worker_id: str | None = None) -> int:
        """Store the entry's face for one backend and checkpoint; returns the face id. Where
        another process stored that face first (even while this one was computing it), the
        first one's face id, and nothing is added. `public_id`: the one its picture carries
        (FaceRepository.add_face)."""
        stored = await self._face_id(entry.id, backend, checkpoint_id)
        if stored is not None:
            return stored
        owner = await self.owner()
        try:
            async with self._session.begin_nested():   # a lost race undoes only this face
                face = await FaceRepository(self._session).add_face(
                    owner, parent=None, operation="gallery", params={"entry": entry.name}, backend=backend,
                    checkpoint_id=checkpoint_id, code=code, image=image, image_content_type=image_content_type,
                    public_id=public_id, worker_id=worker_id)
                self._session.add(GalleryCode(entry_id=entry.id, backend=backend, checkpoint_id=checkpoint_id,
                                              face_id=face.id))
                await self._session.flush()
        except IntegrityError:   # PostgreSQL: the winner committed first, so its row is visible now
            stored = await self._face_id(entry.id, backend, checkpoint_id)
            if stored is None:
                raise
            return stored
        return face.id

    async def _face_id(self, entry_id: int, backend: str, checkpoint_id: str) -> int | None:
        return (await self._session.execute(select(GalleryCode.face_id).where(
            GalleryCode.entry_id == entry_id, GalleryCode.backend == backend,
            GalleryCode.checkpoint_id == checkpoint_id))).scalar()

    async def entry_for_face(self, face_id: int) -> GalleryEntryRecord | None:
        entry_id = (await self._session.execute(
            select(GalleryCode.entry_id).where(GalleryCode.face_id == face_id))).scalar()
        return None if entry_id is None else await self.get(entry_id)

    async def remove(self, name: str) -> bool:
        """Delete an entry (by name or alias) with its faces, pictures and kept photo."""
        key = name.casefold()
        entry = next((e for e in await self.entries() if key in {s.casefold() for s in e.spellings}), None)
        if entry is None:
            return False
        face_ids = list(entry.faces.values())
        if face_ids:
            blob_ids = (await self._session.execute(
                select(Face.image_blob_id).where(Face.id.in_(face_ids)))).scalars().all()
            await self._session.execute(delete(Face).where(Face.id.in_(face_ids)))
            await delete_blobs(self._session, [b for b in blob_ids if b is not None])
        await self._session.execute(delete(GalleryEntry).where(GalleryEntry.id == entry.id))
        if entry.source_blob_id is not None:
            await delete_blob(self._session, entry.source_blob_id)
        return True


async def log_real_person_morph(session: AsyncSession, user_id: int, entry: GalleryEntryRecord,
                                job_id: int | None = None) -> None:
    """Morphs with real people (entries an operator added from photos) are logged for moderators,
    with the request, so the audit log links the face it made once it exists."""
    session.add(ModerationEvent(actor=f"user:{user_id}", action="morph_real_person", target_user_id=user_id,
                                reason=f"morph with gallery entry {entry.name!r}", job_id=job_id))
    await session.flush()
