"""What dreamface keeps about people, and for how long.

- An uploaded photo is kept only for its job (`Upload` rows): the job's own result write
  deletes it, or the periodic clean-up does once the retention after the job has passed
  (`sweep_uploads`); a photo no job ever took is swept after UNCLAIMED_UPLOAD_SECONDS.
- Generations older than the configured retention expire (`expire_generations`): faces with
  their pictures, finished jobs with their replies and contact sheets. Gallery faces stay.
- "Delete my data" (`erase_user`) removes every row and blob of the user (and blob files, once
  the transaction commits: storage/blobs.py delete_blobs); the only trace is an audit record
  that names nobody. A banned user's row stays (with nothing else), so the ban holds.

Like FaceRepository, everything here works inside the caller's session and transaction.
`now` is the database clock in seconds since the epoch (Queue.now()), as in the queue tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import and_, delete, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.blobs import delete_blobs
from storage.chat_state import ChatStates
from storage.faces import DeletedData, FaceRepository, UserRecord
from storage.models import FINISHED_STATES, Delivery, Face, GalleryCode, Job, ModerationEvent, Upload, User
from storage.outbox import picture_of
from storage.queries import CLOCK

UNCLAIMED_UPLOAD_SECONDS = 3600.0   # a photo held by the first-use notice, or refused a job
SWEEP_BATCH = 500                   # rows per clean-up statement, so no transaction grows large
ERASED_ACTOR = "user:erased"        # what a deleted user's own audit rows say instead of their id


# --- uploaded photos -------------------------------------------------------------------------------

async def keep_upload(session: AsyncSession, blob_id: int, user_id: int) -> None:
    """Record a just-stored photo blob as a user's upload (so it will be deleted)."""
    clock = text(CLOCK[session.get_bind().dialect.name])
    await session.execute(insert(Upload).values(blob_id=blob_id, user_id=user_id, created_at=clock))


async def attach_upload(session: AsyncSession, blob_id: int, job_id: int) -> None:
    """The job that uses the photo: the photo lives until that job is finished."""
    await session.execute(update(Upload).where(Upload.blob_id == blob_id).values(job_id=job_id))


async def drop_upload(session: AsyncSession, blob_id: int) -> bool:
    """Delete an uploaded photo now (its Upload row goes with the blob)."""
    return await delete_blobs(session, select(Upload.blob_id).where(Upload.blob_id == blob_id)) > 0


async def sweep_uploads(session: AsyncSession, *, now: float, retention_seconds: float) -> int:
    """Delete photos whose job finished `retention_seconds` ago, and photos no job took."""
    finished = select(Job.id).where(Job.state.in_(FINISHED_STATES), Job.finished_at <= now - retention_seconds)
    due = (select(Upload.blob_id)
           .where(or_(Upload.job_id.in_(finished),
                      and_(Upload.job_id.is_(None), Upload.created_at <= now - UNCLAIMED_UPLOAD_SECONDS)))
           .limit(SWEEP_BATCH))
    ids = list((await session.execute(due)).scalars())
    if not ids:
        return 0
    return await delete_blobs(session, ids)


# --- generation retention --------------------------------------------------------------------------

@dataclass(frozen=True)
class Expired:
    faces: int
    jobs: int
    pictures: int


async def expire_generations(session: AsyncSession, *, now: float, retention_days: float) -> Expired:
    """Delete up to SWEEP_BATCH faces and SWEEP_BATCH finished jobs older than the retention,
    with their pictures and replies. Faces in the gallery are never expired."""
    cutoff = now - retention_days * 86400.0
    gallery = select(GalleryCode.face_id)
    old_faces = list((await session.execute(
        select(Face.id, Face.image_blob_id)
        .where(Face.created_at <= _as_datetime(cutoff), Face.id.not_in(gallery)).limit(SWEEP_BATCH))).all())
    face_ids = [face_id for face_id, _ in old_faces]
    blob_ids = {blob_id for _, blob_id in old_faces if blob_id is not None}
    if face_ids:
        await session.execute(update(User).where(User.current_face_id.in_(face_ids)).values(current_face_id=None))
        await session.execute(delete(Face).where(Face.id.in_(face_ids)))
    old_jobs = list((await session.execute(
        select(Job.id).where(Job.state.in_(FINISHED_STATES), Job.finished_at <= cutoff).limit(SWEEP_BATCH))).scalars())
    blob_ids |= await _delete_jobs(session, old_jobs)
    pictures = await delete_blobs(session, blob_ids)
    return Expired(len(face_ids), len(old_jobs), pictures)


def _as_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


async def _delete_jobs(session: AsyncSession, job_ids: list[int]) -> set[int]:
    """Delete jobs with their replies; returns the pictures they held, for the caller to delete:
    the photo each job was given (its upload, `attach_upload`) and the picture each reply
    carried (a contact sheet, storage.outbox.PICTURE)."""
    if not job_ids:
        return set()
    blob_ids = set((await session.execute(select(Upload.blob_id).where(Upload.job_id.in_(job_ids)))).scalars())
    replies = (await session.execute(select(Delivery.payload).where(Delivery.job_id.in_(job_ids)))).scalars()
    blob_ids |= {blob_id for blob_id in map(picture_of, replies) if blob_id is not None}
    await session.execute(delete(Delivery).where(Delivery.job_id.in_(job_ids)))
    await session.execute(delete(Job).where(Job.id.in_(job_ids)))
    return blob_ids


# --- delete my data ---------------------------------------------------------------------------------

async def erase_user(session: AsyncSession, user: UserRecord, *, reason: str,
                     actor: str = ERASED_ACTOR) -> DeletedData:
    """Everything stored about `user`: faces, pictures, uploads, saved names, chat state, jobs
    and their replies (a job still running is deleted too; its worker's finish then writes
    nothing), and their name in audit rows they wrote. One audit record says that a user's
    data was deleted, without saying whose. Unless the user is banned, their row goes too."""
    deleted = await FaceRepository(session).delete_user_data(user)
    await ChatStates(session).forget(user.id)    # saved names, chat state
    jobs = list((await session.execute(select(Job.id).where(Job.user_id == user.id))).scalars())
    blob_ids = await _delete_jobs(session, jobs)
    blob_ids |= set((await session.execute(select(Upload.blob_id).where(Upload.user_id == user.id))).scalars())
    pictures = await delete_blobs(session, blob_ids)
    await session.execute(update(ModerationEvent).where(ModerationEvent.actor == f"user:{user.id}")
                          .values(actor=ERASED_ACTOR))
    if user.banned:
        session.add(ModerationEvent(actor=actor, action="delete_data", target_user_id=user.id, reason=reason))
    else:
        await session.execute(update(ModerationEvent).where(ModerationEvent.target_user_id == user.id)
                              .values(target_user_id=None))
        await session.execute(delete(User).where(User.id == user.id))
        session.add(ModerationEvent(actor=actor, action="delete_data", reason=reason))
    await session.flush()
    return DeletedData(deleted.faces, deleted.images + pictures)
