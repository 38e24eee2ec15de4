"""A user's photo on the stylegan backend, end to end: the real queue and worker run face.photo
with a tiny checkpoint, the chat's progress line counts up while the photo is inverted, and the
face is stored with the loss that fitted it. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.conversation.progress import ProgressWording
from ground.config import Settings
from facegen.backend import PhotoFitOptions
from facegen.handlers import PHOTO, FaceJobs, job_kinds, load
from storage.worker import Worker
from storage.blobs import add_blob
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.outbox import Outbox
from storage.queue import Queue
from stylegan_fixtures import served_tiny_stylegan

TESTDATA = Path(__file__).resolve().parent.parent / "data"
REPLY_TO = {"platform": "web", "chat_id": "c1", "target": "u1"}


@pytest.fixture
def stylegan(tmp_path, monkeypatch):
    """A tiny random StyleGAN, served beside the montage."""
    with served_tiny_stylegan(tmp_path, monkeypatch) as backend:
        yield backend


async def _photo_job(engine, locale: str, photo: str = "obama_official_portrait.jpg") -> tuple[Queue, int, int]:
    async with session_factory(engine)() as session, session.begin():
        user = await FaceRepository(session).get_or_create_user("web", "u1", locale)
        blob = await add_blob(session, (TESTDATA / photo).read_bytes(), "image/jpeg")
    queue = Queue(engine, job_kinds())
    job = await queue.enqueue(PHOTO, {"user_id": user.id, "reply_to": REPLY_TO, "size": 64, "backend": "stylegan",
                                      "operation": "photo", "photo_blob_id": blob, "params": {"seed": 1}},
                              user_id=user.id)
    return queue, job.id, user.id


@pytest.mark.parametrize("locale, words", [("en", "Drawing it now…"), ("ko", "지금 그리고 있어요…")])
async def test_progress_counts_up_while_the_photo_is_inverted_and_the_face_is_stored(engine, stylegan, locale, words):
    queue, job_id, user_id = await _photo_job(engine, locale)
    faces = FaceJobs(engine, photo_options=PhotoFitOptions(steps=120), progress_interval=0.05)
    worker = Worker(engine, faces.handlers(), queues=("slow",))
    render = ProgressWording(engine, queue).replies
    seen: list[str] = []
    running = asyncio.create_task(worker.run_once())
    while not running.done():
        reply = (await render([job_id]))[job_id]
        if reply is not None and (not seen or seen[-1] != reply.text):
            seen.append(reply.text)
        await asyncio.sleep(0.03)
    assert await running == 1

    percents = [int(m.group(1)) for text in seen if (m := re.fullmatch(re.escape(words) + r" (\d+)%", text))]
    assert len(percents) >= 3 and percents == sorted(percents) and percents[-1] > percents[0]
    assert (await render([job_id]))[job_id] is None                 # finished: the watch ends

    (reply,) = [d.payload for d in await Outbox(engine).for_job(job_id)]
    assert (reply["type"], reply["operation"]) == ("face", "photo")
    async with session_factory(engine)() as session:
        repo = FaceRepository(session)
        face = await repo.get_face_by_id(reply["face_id"])
    assert (face.backend, face.checkpoint_id) == ("stylegan", stylegan.checkpoint_id)
    assert face.params["inversion"]["loss"] == "pixel-ssim" and 1 <= face.params["inversion"]["steps"] <= 120
    assert (await queue.get(job_id)).result["inversion"]["loss"] == "pixel-ssim"


async def test_the_worker_takes_the_step_limit_from_the_settings(engine, stylegan, monkeypatch):
    monkeypatch.setenv("DREAMFACE_INVERSION_STEPS", "9")
    queue, job_id, _ = await _photo_job(engine, "en")
    worker = Worker(engine, load(Settings.from_env(), engine), queues=("slow",))
    assert await worker.run_once() == 1
    assert (await queue.get(job_id)).result["inversion"]["steps"] == 9


async def test_a_photo_with_two_faces_gets_the_same_error_reply_as_on_the_montage(engine, stylegan):
    queue, job_id, _ = await _photo_job(engine, "en", photo="two_faces.jpg")
    worker = Worker(engine, FaceJobs(engine, photo_options=PhotoFitOptions(steps=5)).handlers(), queues=("slow",))
    assert await worker.run_once() == 1
    (reply,) = [d.payload for d in await Outbox(engine).for_job(job_id)]
    assert (reply["type"], reply["code"]) == ("error", "several_faces")
