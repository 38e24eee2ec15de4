"""Users and their face history tree.

`FaceRepository` works inside the caller's session and transaction, so the worker can store a
face, finish its job and queue the replies in one commit:

    async with sessions() as session, session.begin():
        faces = FaceRepository(session)
        user = await faces.get_or_create_user("telegram", "42", locale="ko")
        face = await faces.add_face(user, parent=None, operation="new", ...)

Users see their own numbering (#1, #2, …); look faces up by number for anything a user
typed or clicked, and by database id only for references the system made itself (jobs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.blobs import BlobData, add_blob, add_blobs, delete_blobs, read_blob
from storage.models import Face, Job, User, new_public_id, utcnow


class NotYourFace(ValueError):
    """A face that belongs to another user was used where only the user's own may be."""


@dataclass(frozen=True)
class UserRecord:
    id: int
    platform: str
    platform_user_id: str
    display_name: str | None
    locale: str
    locale_chosen: bool
    banned: bool
    current_face_id: int | None
    face_count: int  # the last number handed out; numbers are never reused
    created_at: datetime


@dataclass(frozen=True)
class FaceRecord:
    id: int                          # database id: for jobs, never shown to users
    user_id: int
    number: int                      # the user's own #n
    parent_id: int | None
    other_parent_id: int | None      # the second face of a morph or pick, possibly not the user's
    parent_number: int | None        # parents' numbers when they are the same user's faces
    other_parent_number: int | None
    operation: str
    params: dict[str, Any]
    backend: str
    checkpoint_id: str
    code: bytes                      # FaceCode.to_bytes()
    image_blob_id: int | None
    job_id: int | None
    hidden: bool
    flagged: bool
    created_at: datetime
    worker_id: str | None = None     # the worker process that rendered it (None: made in the chat process)
    public_id: str | None = None     # what its pictures carry (storage.models.new_public_id); None: made before


@dataclass(frozen=True)
class NewFace:
    """One face for `FaceRepository.add_faces`: `add_face`'s arguments, with the user by id."""
    user_id: int
    parent: FaceRecord | None
    other_parent: FaceRecord | None
    operation: str
    params: dict[str, Any]
    backend: str
    checkpoint_id: str
    code: bytes
    image: bytes
    image_content_type: str
    public_id: str
    job_id: int | None = None
    worker_id: str | None = None


@dataclass(frozen=True)
class DeletedData:
    faces: int
    images: int


_Parent = aliased(Face)
_OtherParent = aliased(Face)


def _select_faces():
    """Faces with their parents' numbers (only when the parent is the same user's face)."""
    return (
        select(Face, _Parent.number, _OtherParent.number)
        .outerjoin(_Parent, and_(_Parent.id == Face.parent_id, _Parent.user_id == Face.user_id))
        .outerjoin(_OtherParent, and_(_OtherParent.id == Face.other_parent_id, _OtherParent.user_id == Face.user_id))
    )


def _face_record(row) -> FaceRecord:
    face, parent_number, other_parent_number = row
    return FaceRecord(
        id=face.id, user_id=face.user_id, number=face.number,
        parent_id=face.parent_id, other_parent_id=face.other_parent_id,
        parent_number=parent_number, other_parent_number=other_parent_number,
        operation=face.operation, params=dict(face.params), backend=face.backend,
        checkpoint_id=face.checkpoint_id, code=bytes(face.code), image_blob_id=face.image_blob_id,
        job_id=face.job_id, hidden=face.hidden, flagged=face.flagged, created_at=face.created_at,
        worker_id=face.worker_id, public_id=face.public_id)


def _number_if_own(face: FaceRecord | None, user: UserRecord) -> int | None:
    return face.number if face is not None and face.user_id == user.id else None


def _user_record(user: User) -> UserRecord:
    return UserRecord(
        id=user.id, platform=user.platform, platform_user_id=user.platform_user_id,
        display_name=user.display_name, locale=user.locale, locale_chosen=user.locale_chosen,
        banned=user.banned, current_face_id=user.current_face_id, face_count=user.face_count,
        created_at=user.created_at)


def _hidden_by_descent(parent: FaceRecord | None, other_parent: FaceRecord | None) -> bool:
    """A face made from one the moderators hid (its job ran while they hid it) is hidden too,
    and flagged for review: no visible near-copy of a hidden face."""
    return any(p is not None and p.hidden for p in (parent, other_parent))


class FaceRepository:
    """Users and faces, read and written in the caller's transaction (nothing here commits)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- users ---------------------------------------------------------------------------

    async def get_or_create_user(self, platform: str, platform_user_id: str, locale: str = "ko",
                                 display_name: str | None = None, *, owner_key: str | None = None,
                                 address_key: str | None = None) -> UserRecord:
        """The user for a platform identity, created on first contact. Safe when two messages
        from a new user arrive at once. A changed display name is updated, and so is a changed
        `owner_key` (storage.models.owner_key: after an upgrade or a new secret the stored one
        is rewritten at the user's next message); locale is only the initial one (the
        conversation decides when it changes). A web user's `address_key` (the key of the address
        they write from, storage/network_bans.py) is kept when given."""
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        key = {} if owner_key is None else {"owner_key": owner_key}
        await self._session.execute(
            insert(User)
            .values(platform=platform, platform_user_id=platform_user_id, locale=locale,
                    display_name=display_name, locale_chosen=False, banned=False, face_count=0, **key)
            .on_conflict_do_nothing(index_elements=["platform", "platform_user_id"]))
        user = (await self._session.execute(
            select(User).where(User.platform == platform, User.platform_user_id == platform_user_id)
            .execution_options(populate_existing=True))).scalar_one()
        changed = False
        if display_name is not None and user.display_name != display_name:
            user.display_name, changed = display_name, True
        if owner_key is not None and user.owner_key != owner_key:
            user.owner_key, changed = owner_key, True
        if address_key is not None and user.address_key != address_key:
            user.address_key, changed = address_key, True
        if changed:
            await self._session.flush()
        return _user_record(user)

    async def find_user(self, platform: str, platform_user_id: str) -> UserRecord | None:
        """The user of a platform identity, if they have written before (nobody is created)."""
        user = (await self._session.execute(
            select(User).where(User.platform == platform, User.platform_user_id == platform_user_id)
            .execution_options(populate_existing=True))).scalar_one_or_none()
        return None if user is None else _user_record(user)

    async def get_user(self, user_id: int) -> UserRecord | None:
        user = await self._session.get(User, user_id, populate_existing=True)
        return None if user is None else _user_record(user)

    async def job_owner(self, job_id: int) -> UserRecord | None:
        """The user a job was made for (one statement); None when the job or the user is gone."""
        user = (await self._session.execute(
            select(User).join(Job, Job.user_id == User.id).where(Job.id == job_id)
            .execution_options(populate_existing=True))).scalar_one_or_none()
        return None if user is None else _user_record(user)

    # --- faces ---------------------------------------------------------------------------

    async def add_face(self, user: UserRecord, *, parent: FaceRecord | None, operation: str,
                       params: dict[str, Any], backend: str, checkpoint_id: str, code: bytes,
                       image: bytes, image_content_type: str = "image/png",
                       other_parent: FaceRecord | None = None, job_id: int | None = None,
                       worker_id: str | None = None, public_id: str | None = None) -> FaceRecord:
        """Store a new face node with its image and give it the user's next number. The
        counter row is locked by the UPDATE until commit, so concurrent adds for one user
        get distinct numbers on both databases. `public_id` is the one its picture already
        carries (chosen with storage.models.new_public_id before encoding); None: a new one."""
        if parent is not None and parent.user_id != user.id:
            raise NotYourFace(f"face {parent.id} does not belong to user {user.id}")
        number = (await self._session.execute(
            update(User).where(User.id == user.id).values(face_count=User.face_count + 1)
            .returning(User.face_count).execution_options(synchronize_session=False))).scalar_one()
        blob_id = await add_blob(self._session, image, image_content_type)
        inherited = _hidden_by_descent(parent, other_parent)
        face = Face(
            user_id=user.id, number=number, operation=operation, params=dict(params), backend=backend,
            checkpoint_id=checkpoint_id, code=bytes(code), image_blob_id=blob_id, job_id=job_id, worker_id=worker_id,
            public_id=public_id or new_public_id(), parent_id=None if parent is None else parent.id,
            other_parent_id=None if other_parent is None else other_parent.id,
            # made from a face the moderators hid (the job ran while they hid it): hidden too, and for review
            hidden=inherited, flagged=inherited)
        self._session.add(face)
        await self._session.flush()
        # every column is known here, so no read back: the parents' numbers as _select_faces joins
        # them, and the time as the database gives it back (SQLite keeps no time zone)
        created_at = face.created_at if self._dialect == "postgresql" else face.created_at.replace(tzinfo=None)
        return replace(_face_record((face, None, None)), created_at=created_at,
                       parent_number=_number_if_own(parent, user), other_parent_number=_number_if_own(other_parent, user))

    async def add_faces(self, new: Sequence[NewFace]) -> list[FaceRecord | None]:
        """Store many new faces (a worker's batch), each as `add_face` does and made its user's
        current face, in four statements whatever their number: the users read and locked (in id
        order, so two batches never wait on each other in a circle), the images, the faces, then
        every user's counter and current face. None for a face whose user is gone."""
        user_ids = sorted({face.user_id for face in new})
        counts = dict((await self._session.execute(
            select(User.id, User.face_count).where(User.id.in_(user_ids)).order_by(User.id)
            .with_for_update())).all())
        kept = [face for face in new if face.user_id in counts]
        for face in kept:
            if face.parent is not None and face.parent.user_id != face.user_id:
                raise NotYourFace(f"face {face.parent.id} does not belong to user {face.user_id}")
        blob_ids = await add_blobs(self._session, [(face.image, face.image_content_type) for face in kept])
        created_at = utcnow()
        rows = []
        for face, blob_id in zip(kept, blob_ids):
            counts[face.user_id] += 1
            rows.append(dict(
                user_id=face.user_id, number=counts[face.user_id], operation=face.operation,
                params=dict(face.params), backend=face.backend, checkpoint_id=face.checkpoint_id,
                code=bytes(face.code), image_blob_id=blob_id, job_id=face.job_id, worker_id=face.worker_id,
                public_id=face.public_id, parent_id=None if face.parent is None else face.parent.id,
                other_parent_id=None if face.other_parent is None else face.other_parent.id,
                hidden=_hidden_by_descent(face.parent, face.other_parent),
                flagged=_hidden_by_descent(face.parent, face.other_parent), created_at=created_at))
        face_ids = list((await self._session.execute(
            insert(Face).returning(Face.id, sort_by_parameter_order=True), rows)).scalars()) if rows else []
        current = {row["user_id"]: face_id for row, face_id in zip(rows, face_ids)}   # each user's last
        if current:
            await self._session.execute(update(User), [
                {"id": user_id, "face_count": counts[user_id], "current_face_id": face_id}
                for user_id, face_id in sorted(current.items())])
        shown_at = created_at if self._dialect == "postgresql" else created_at.replace(tzinfo=None)
        made = iter(zip(rows, face_ids))
        out: list[FaceRecord | None] = []
        for face in new:
            if face.user_id not in counts:
                out.append(None)
                continue
            row, face_id = next(made)
            out.append(FaceRecord(
                id=face_id, user_id=face.user_id, number=row["number"], parent_id=row["parent_id"],
                other_parent_id=row["other_parent_id"],
                parent_number=face.parent.number if face.parent is not None else None,
                other_parent_number=(face.other_parent.number if face.other_parent is not None
                                     and face.other_parent.user_id == face.user_id else None),
                operation=face.operation, params=row["params"], backend=face.backend,
                checkpoint_id=face.checkpoint_id, code=row["code"], image_blob_id=row["image_blob_id"],
                job_id=face.job_id, hidden=row["hidden"], flagged=row["flagged"], created_at=shown_at,
                worker_id=face.worker_id, public_id=face.public_id))
        return out

    async def get_face_by_number(self, user: UserRecord, number: int) -> FaceRecord | None:
        """The user's face #number: the lookup for anything a user typed or clicked."""
        return await self._one(Face.user_id == user.id, Face.number == number)

    async def get_face_by_id(self, face_id: int) -> FaceRecord | None:
        """For ids the system stored itself (job payloads); never for user input."""
        return await self._one(Face.id == face_id)

    async def set_current_face(self, user: UserRecord, face: FaceRecord) -> None:
        if face.user_id != user.id:
            raise NotYourFace(f"face {face.id} does not belong to user {user.id}")
        await self._session.execute(
            update(User).where(User.id == user.id).values(current_face_id=face.id)
            .execution_options(synchronize_session=False))

    async def current_face(self, user: UserRecord) -> FaceRecord | None:
        current = select(User.current_face_id).where(User.id == user.id).scalar_subquery()
        return await self._one(Face.id == current)

    async def history(self, user: UserRecord, limit: int = 10, include_hidden: bool = False) -> list[FaceRecord]:
        """The user's faces, newest first (hidden ones left out unless asked for)."""
        query = _select_faces().where(Face.user_id == user.id)
        if not include_hidden:
            query = query.where(Face.hidden.is_(False))
        return await self._many(query.order_by(Face.number.desc()).limit(limit))

    async def children(self, face: FaceRecord) -> list[FaceRecord]:
        """Faces made from this one (as either parent), oldest first."""
        query = _select_faces().where(or_(Face.parent_id == face.id, Face.other_parent_id == face.id))
        return await self._many(query.order_by(Face.created_at, Face.id))

    async def parents(self, face: FaceRecord) -> list[FaceRecord]:
        """The face's parent, then its other parent, where they still exist."""
        ids = [i for i in (face.parent_id, face.other_parent_id) if i is not None]
        if not ids:
            return []
        found = {f.id: f for f in await self._many(_select_faces().where(Face.id.in_(ids)))}
        return [found[i] for i in ids if i in found]

    async def morph_base(self, face: FaceRecord) -> FaceRecord:
        """"Me" in a morph: the face the morph chain ending at `face` started from, the nearest
        ancestor (or `face` itself) that is not a morph; a morph's first parent is its "me"
        side. So a second typed morph re-morphs that face rather than compounding the first,
        and the share a reply states is the true one (DESIGN.md)."""
        seen = {face.id}
        while face.operation == "morph" and face.parent_id is not None and face.parent_id not in seen:
            parent = await self.get_face_by_id(face.parent_id)
            if parent is None:   # deleted: the chain starts here now
                break
            seen.add(parent.id)
            face = parent
        return face

    async def face_image(self, face: FaceRecord) -> BlobData | None:
        return None if face.image_blob_id is None else await read_blob(self._session, face.image_blob_id)

    async def delete_user_data(self, user: UserRecord) -> DeletedData:
        """Delete the user's faces and images and forget their display name. The user row
        stays, so a ban survives and face numbers are never reused for old buttons."""
        await self._session.execute(
            update(User).where(User.id == user.id).values(current_face_id=None, display_name=None)
            .execution_options(synchronize_session=False))
        images = await delete_blobs(self._session, select(Face.image_blob_id).where(Face.user_id == user.id))
        faces = (await self._session.execute(
            delete(Face).where(Face.user_id == user.id).execution_options(synchronize_session=False))).rowcount
        return DeletedData(faces=faces, images=images)

    # --- helpers -------------------------------------------------------------------------

    @property
    def _dialect(self) -> str:
        return self._session.get_bind().dialect.name

    async def _one(self, *where) -> FaceRecord | None:
        row = (await self._session.execute(
            _select_faces().where(*where).execution_options(populate_existing=True))).one_or_none()
        return None if row is None else _face_record(row)

    async def _many(self, query) -> list[FaceRecord]:
        rows = (await self._session.execute(query.execution_options(populate_existing=True))).all()
        return [_face_record(row) for row in rows]
