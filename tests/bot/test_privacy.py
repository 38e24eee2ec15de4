"""Privacy through the chat core, on SQLite and PostgreSQL, with images in the database and in
files: an uploaded photo is deleted once its job is done; after "delete my data" no row, blob or
blob file of that user is left (only an audit record that names nobody); the periodic clean-up
is queued once per period and expires old photos, generations (with their files) and moderator
sessions, and sweeps orphan files."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select, update

from conftest import blob_files, blob_files_without_rows, each_blob_store
from facegen.montage import MontageBackend
from bot.conversation import Conversation
from bot.gallery import ensure_default_gallery
from chat_harness import ChatHarness
from ground.config import Settings
from storage.cleanup import CLEANUP, CLEANUP_KIND, Cleanup, cleanup_scheduler, enqueue_cleanup
from storage.jobkinds import JobKinds
from storage.base import Base
from storage.blobs import ORPHAN_GRACE_SECONDS
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.gallery import GalleryRepository, log_real_person_morph
from storage.models import Blob, Face, Job, ModerationEvent, Moderator, ModeratorSession, Upload, User
from storage.moderation import REPORT, ModerationActions, Moderators, ModeratorSessions
from storage.privacy import ERASED_ACTOR, erase_user, sweep_uploads
from storage.queue import Queue

PORTRAIT = (Path(__file__).resolve().parent.parent / "data" / "obama_official_portrait.jpg").read_bytes()
ZED = "zed-4417"                      # a platform id no other value in the database contains
ZED_NAME = "Zed Quillfeather"

pytestmark = each_blob_store


class Chat(ChatHarness):
    def __init__(self, engine, *, photo_retention_seconds: float = 0.0) -> None:
        super().__init__(engine, photo_retention_seconds=photo_retention_seconds, display_names={ZED: ZED_NAME})
        self.sessions = session_factory(engine)

    async def count(self, model) -> int:
        async with self.sessions() as session:
            return (await session.execute(select(func.count()).select_from(model))).scalar()

    async def user(self, key: str):
        async with self.sessions() as session:
            return (await session.execute(select(User).where(User.platform_user_id == key))).scalar_one_or_none()


def _pressed(replies, label: str) -> str:
    return next(b.payload for r in replies for row in r.buttons for b in row if b.label == label)


async def test_an_uploaded_photo_is_deleted_when_its_job_is_done(engine, blob_store):
    chat = Chat(engine)
    await chat.start("pia")
    replies = await chat.send("pia", photo=PORTRAIT, run=False)
    assert replies[0].kind == "progress"
    assert (await chat.count(Upload), await chat.count(Blob)) == (1, 1)
    assert len(blob_files(blob_store)) == (1 if blob_store else 0)
    replies = await chat.send("pia", "history")
    assert await chat.count(Upload) == 0
    async with chat.sessions() as session:
        blobs = (await session.execute(select(Blob.sha256))).scalars().all()
        faces = (await session.execute(select(Face.code, Face.image_blob_id))).all()
    assert hashlib.sha256(PORTRAIT).hexdigest() not in blobs      # the photo is gone…
    assert len(faces) == 1 and faces[0].image_blob_id is not None  # …its latent code and picture stay
    assert await blob_files_without_rows(engine, blob_store) == set()


async def test_with_a_retention_the_clean_up_deletes_the_photo_later(engine, blob_store):
    chat = Chat(engine, photo_retention_seconds=3600)
    await chat.start("pia")
    await chat.send("pia", photo=PORTRAIT)
    assert await chat.count(Upload) == 1                           # kept after the job, for an hour
    now = await chat.conversation.queue.now()
    async with chat.sessions() as session, session.begin():
        assert await sweep_uploads(session, now=now, retention_seconds=3600) == 0
    async with chat.sessions() as session, session.begin():
        assert await sweep_uploads(session, now=now + 3601, retention_seconds=3600) == 1
    assert await chat.count(Upload) == 0 and await chat.count(Blob) == 1   # the face's picture stays
    assert len(blob_files(blob_store)) == (1 if blob_store else 0)


async def _everything_about(chat: Chat, user_id: int) -> set[str]:
    """Hashes of every blob that belongs to the user: face pictures, contact sheets, photos."""
    async with chat.sessions() as session:
        faces = select(Face.image_blob_id).where(Face.user_id == user_id)
        hashes = set((await session.execute(select(Blob.sha256).where(Blob.id.in_(faces)))).scalars())
        jobs = (await session.execute(select(Job.id).where(Job.user_id == user_id))).scalars().all()
    for job_id in jobs:
        for delivery in await chat.outbox.for_job(job_id):
            if "blob_id" in delivery.payload:
                async with chat.sessions() as session:
                    hashes |= set((await session.execute(
                        select(Blob.sha256).where(Blob.id == delivery.payload["blob_id"]))).scalars())
    return hashes | {hashlib.sha256(PORTRAIT).hexdigest()}


async def test_delete_my_data_leaves_no_row_or_blob_of_that_user_in_any_table(engine, blob_store):
    await ensure_default_gallery(engine, MontageBackend())
    chat = Chat(engine, photo_retention_seconds=3600)   # so the photo is still there to delete
    for user in ("amy", ZED):
        await chat.start(user)
        await chat.send(user, "new 1")
    zed = await chat.user(ZED)
    sheet = await chat.send(ZED, "show eyes")
    await chat.send(ZED, "2")
    await chat.send(ZED, "save smiley")
    await chat.send(ZED, photo=PORTRAIT)
    await chat.send(ZED, "new 5", run=False)                      # still queued when the data goes
    async with chat.sessions() as session, session.begin():     # what moderation adds about a user
        face_ids = list((await session.execute(select(Face.id).where(Face.user_id == zed.id))).scalars())
        await ModerationActions(session, actor="mia").set_flagged(face_ids[0], True, "look again")
        session.add(ModerationEvent(actor=f"user:{zed.id}", action=REPORT, target_face_id=face_ids[1],
                                    target_user_id=zed.id, reason="reported from the chat"))
        await log_real_person_morph(session, zed.id, (await GalleryRepository(session).entries())[0])
    theirs = await _everything_about(chat, zed.id)
    assert len(theirs) >= 5 and sheet[-1].pictures
    files_before = blob_files(blob_store)

    ask = await chat.send(ZED, "delete my data", run=False)
    done = await chat.send(ZED, button=_pressed(ask, "Yes, delete"))   # then the worker runs: nothing of theirs
    assert "deleted 3 faces" in done[0].text

    leftovers = []
    async with chat.sessions() as session:
        for table in Base.metadata.sorted_tables:
            to_users = {fk.parent.name for fk in table.foreign_keys if fk.column.table.name == "users"}
            to_faces = {fk.parent.name for fk in table.foreign_keys if fk.column.table.name == "faces"}
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    if column in to_users and value == zed.id or column in to_faces and value in face_ids \
                            or table.name == "users" and column == "id" and value == zed.id \
                            or isinstance(value, dict) and value.get("user_id") == zed.id \
                            or table.name == "blobs" and column == "sha256" and value in theirs \
                            or any(mark in str(value) for mark in (ZED, ZED_NAME, f"user:{zed.id}")):
                        leftovers.append((table.name, column, str(value)[:60]))
        audit = (await session.execute(select(ModerationEvent.actor, ModerationEvent.action,
                                              ModerationEvent.target_user_id))).all()
        amy_faces = (await session.execute(select(func.count()).select_from(Face).join(User, User.id == Face.user_id)
                                           .where(User.platform_user_id == "amy"))).scalar()
    assert leftovers == []
    assert await blob_files_without_rows(engine, blob_store) == set()   # their files went with their rows
    if blob_store is not None:
        assert len(files_before) - len(blob_files(blob_store)) >= 5
        assert not any(location.split("/")[2][:64] in theirs for location in blob_files(blob_store))
    assert (ERASED_ACTOR, "delete_data", None) in audit            # the anonymized record of it
    assert amy_faces == 1                                           # another user's data is untouched
    again = await chat.send(ZED, "history")                         # back as a new user: the notice
    assert "generated by AI" in again[0].text


async def test_a_banned_users_row_outlives_their_data_so_the_ban_holds(engine):
    chat = Chat(engine)
    await chat.start("bo")
    await chat.send("bo", "new 1")
    bo = await chat.user("bo")
    async with chat.sessions() as session, session.begin():
        await ModerationActions(session, actor="mia").set_banned(bo.id, True, "spam")
        record = await FaceRepository(session).get_user(bo.id)
        await erase_user(session, record, reason="test")
    assert await chat.count(Face) == 0
    assert (await chat.user("bo")).banned
    assert "suspended" in (await chat.send("bo", "new 2"))[0].text


async def test_clean_up_is_queued_once_per_period_by_any_number_of_processes(engine):
    queues = [Queue(engine, JobKinds({CLEANUP: CLEANUP_KIND})) for _ in range(3)]
    enqueued = [await enqueue_cleanup(q, 300) for q in queues for _ in range(2)]
    assert len({e.id for e in enqueued}) == 1 and sum(e.deduplicated for e in enqueued) == 5
    job = await queues[0].get(enqueued[0].id)
    assert job.run_at % 300 < 1.0                # waits for the period's end (plus the enqueue's own ms)
    assert job.run_at > await queues[0].now()


async def test_clean_up_expires_old_generations_and_ended_sessions(engine, blob_store):
    await ensure_default_gallery(engine, MontageBackend())
    chat = Chat(engine)
    await chat.start("old")
    await chat.send("old", "new 1")
    await chat.send("old", "new 2")
    gallery_faces = await chat.count(Face) - 2
    long_ago = datetime.now(timezone.utc) - timedelta(days=40)
    old = await chat.user("old")
    async with chat.sessions() as session, session.begin():
        first = (await session.execute(select(Face.id).where(Face.user_id == old.id)
                                       .order_by(Face.number))).scalars().first()
        await session.execute(update(Face).where(Face.id == first).values(created_at=long_ago))
        await session.execute(update(Face).where(Face.user_id != old.id)
                              .values(created_at=long_ago))   # gallery faces are old too, and stay
        mod = await Moderators(session).add("mia", "x")
        await ModeratorSessions(session).start(mod, "a" * 64, "c", lifetime=timedelta(hours=1), now=long_ago)
    files_before = blob_files(blob_store)
    counts = await Cleanup(engine, photo_retention_seconds=0, generation_retention_days=30).run()
    assert counts["faces"] == 1 and counts["sessions"] == 1
    assert await blob_files_without_rows(engine, blob_store) == set()   # the expired picture's file too
    assert len(blob_files(blob_store)) == max(len(files_before) - 1, 0)
    assert await chat.count(Face) == gallery_faces + 1
    assert await chat.count(ModeratorSession) == 0 and await chat.count(Moderator) == 1
    kept = await Cleanup(engine, photo_retention_seconds=0, generation_retention_days=0).run()
    assert kept["faces"] == 0                                       # 0 days: kept forever


async def test_schedulers_in_several_processes_queue_one_clean_up_and_run_nothing(engine):
    settings = Settings(cleanup_period_seconds=3600)
    chat = Chat(engine)

    async def cleanup_jobs() -> list[Job]:
        async with chat.sessions() as session:
            return list((await session.execute(select(Job).where(Job.kind == CLEANUP))).scalars())

    async with cleanup_scheduler(settings, engine), cleanup_scheduler(settings, engine):   # two "processes"
        for _ in range(100):
            if await cleanup_jobs():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
    jobs = await cleanup_jobs()
    assert len(jobs) == 1 and jobs[0].state == "queued"     # queued for the period's end; a worker runs it


async def test_the_clean_up_sweeps_orphan_files_of_its_periods_part(engine, blob_store):
    if blob_store is None:
        assert (await Cleanup(engine, photo_retention_seconds=0, generation_retention_days=0).run())["orphan_files"] == 0
        return
    orphan = await blob_store.write("7f" + "0" * 62, b"left by a process that died before its commit")
    long_ago = time.time() - ORPHAN_GRACE_SECONDS - 1
    os.utime(blob_store.root / orphan, (long_ago, long_ago))
    cleanup = Cleanup(engine, photo_retention_seconds=0, generation_retention_days=0)
    assert (await cleanup.run(period=0x7e))["orphan_files"] == 0      # another part of the tree
    assert (await cleanup.run(period=256 + 0x7f))["orphan_files"] == 1
    assert blob_files(blob_store) == set()
