"""The celebrity gallery: operator-curated named faces users may morph with.

Each entry keeps one face per backend and checkpoint (`gallery_codes`), computed when it is
added, so a morph never mixes latents of different models. Those faces are ordinary face rows
owned by the gallery's own user (platform "gallery"), which lets a morph job load them like
any other second face. Works inside the caller's session and transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.blobs import replace_blob
from storage.faces import FaceRepository, UserRecord
from storage.models import Blob, Face, GalleryCode, GalleryEntry, ModerationEvent

GALLERY_PLATFORM = "gallery"
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

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def face_for(self, backend: str, checkpoint_id: str) -> int | None:
        return self.faces.get((backend, checkpoint_id))


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
        return [GalleryEntryRecord(e.id, e.name, tuple(e.aliases or ()), dict(e.source), e.fictional,
                                   faces.get(e.id, {})) for e in rows]

    async def add_entry(self, name: str, aliases: list[str], source: dict[str, Any], *,
                        fictional: bool) -> GalleryEntryRecord:
        wanted = {s.casefold() for s in (name, *aliases)}
        for entry in await self.entries():
            clash = wanted & {s.casefold() for s in entry.spellings}
            if clash:
                raise GalleryNameTaken(f"{sorted(clash)[0]!r} already names {entry.name!r}")
        entry = GalleryEntry(name=name, aliases=list(aliases), source=dict(source), fictional=fictional)
        self._session.add(entry)
        await self._session.flush()
        return GalleryEntryRecord(entry.id, name, tuple(aliases), dict(source), fictional, {})

    async def add_face(self, entry: GalleryEntryRecord, *, backend: str, checkpoint_id: str, code: bytes,
                       image: bytes, stamp: Callable[[bytes, int], bytes] | None = None) -> int:
        """Store the entry's face for one backend and checkpoint; returns the face id. `stamp`
        gives the picture its final bytes once the face id is known (the provenance chunk of
        facegen.provenance.stamp_face_id)."""
        face = await FaceRepository(self._session).add_face(
            await self.owner(), parent=None, operation="gallery", params={"entry": entry.name},
            backend=backend, checkpoint_id=checkpoint_id, code=code, image=image)
        if stamp is not None and face.image_blob_id is not None:
            await replace_blob(self._session, face.image_blob_id, stamp(image, face.id))
        self._session.add(GalleryCode(entry_id=entry.id, backend=backend, checkpoint_id=checkpoint_id,
                                      face_id=face.id))
        await self._session.flush()
        return face.id

    async def entry_for_face(self, face_id: int) -> GalleryEntryRecord | None:
        entry_id = (await self._session.execute(
            select(GalleryCode.entry_id).where(GalleryCode.face_id == face_id))).scalar()
        if entry_id is None:
            return None
        return next((e for e in await self.entries() if e.id == entry_id), None)

    async def remove(self, name: str) -> bool:
        """Delete an entry (by name or alias) with its faces and pictures."""
        key = name.casefold()
        entry = next((e for e in await self.entries() if key in {s.casefold() for s in e.spellings}), None)
        if entry is None:
            return False
        face_ids = list(entry.faces.values())
        if face_ids:
            blob_ids = (await self._session.execute(
                select(Face.image_blob_id).where(Face.id.in_(face_ids)))).scalars().all()
            await self._session.execute(delete(Face).where(Face.id.in_(face_ids)))
            await self._session.execute(delete(Blob).where(Blob.id.in_([b for b in blob_ids if b is not None])))
        await self._session.execute(delete(GalleryEntry).where(GalleryEntry.id == entry.id))
        return True


async def log_real_person_morph(session: AsyncSession, user_id: int, entry: GalleryEntryRecord) -> None:
    """Morphs with real people (entries an operator added from photos) are logged for moderators."""
    session.add(ModerationEvent(actor=f"user:{user_id}", action="morph_real_person", target_user_id=user_id,
                                reason=f"morph with gallery entry {entry.name!r}"))
    await session.flush()
