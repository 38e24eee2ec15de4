"""The chat with a stylegan model (a tiny random checkpoint) announced beside the montage: new
faces take the default style, every later step of a face runs on the model that made it, a
morph across styles is refused with a reply that says which, grids and picks work, and edits
without a direction are answered clearly (SQLite and PostgreSQL)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from bot.conversation import Conversation
from chat_harness import ChatHarness
from facegen.backends import load_backend
from facegen.handlers import MAKE
from facegen.stylegan.loaders import save_safetensors
from storage.db import session_factory
from storage.faces import FaceRepository

sys.path.insert(0, str(Path(__file__).parents[1] / "facegen"))
from stylegan_fixtures import tiny_sg2  # noqa: E402


def text(replies) -> str:
    return "\n".join(r.text for r in replies)


def images(replies) -> list[bytes]:
    return [picture.data for r in replies for picture in r.pictures]


@pytest.fixture
def stylegan_checkpoint(tmp_path, monkeypatch):
    save_safetensors(tiny_sg2(), tmp_path / "g.safetensors")
    (tmp_path / "directions").mkdir()
    smile = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    np.save(tmp_path / "directions" / "stylegan_ffhq_smile_w_boundary.npy", smile[None])
    monkeypatch.setenv("DREAMFACE_STYLEGAN_CKPT", str(tmp_path / "g.safetensors"))
    monkeypatch.setenv("DREAMFACE_STYLEGAN_DIRECTIONS", str(tmp_path / "directions"))
    load_backend.cache_clear()
    yield
    load_backend.cache_clear()


async def on_backend(chat: ChatHarness, backend: str) -> ChatHarness:
    """The same database and worker, the chat now giving new faces the `backend` style (a
    restart with DREAMFACE_DEFAULT_BACKEND changed), its model announced by a worker."""
    await chat.announce(backend)
    chat.conversation = Conversation(chat.engine, default_backend=backend, size=64)
    return chat


async def face_record(engine, user: str, number: int):
    async with session_factory(engine)() as session:
        repo = FaceRepository(session)
        return await repo.get_face_by_number(await repo.get_or_create_user("web", user), number)


async def test_each_face_stays_on_its_model_and_morphs_across_styles_are_refused(engine, stylegan_checkpoint):
    chat = ChatHarness(engine)
    await chat.start("alice")
    first = await chat.send("alice", "new 1")
    await chat.send("alice", "show eyes")
    assert "#2: eyes 3 picked for #1" in text(await chat.send("alice", "3"))

    await on_backend(chat, "stylegan")
    history = text(await chat.send("alice", "history"))
    assert "#1 new" in history and "#2 eyes 3 ← #1" in history
    back = await chat.send("alice", "back to 1")
    assert images(first) and images(back) == images(first), "an old face shows its stored picture, not a re-render"
    assert "#3: #1 edited (more smile)." in text(await chat.send("alice", "more smile"))       # still a montage face
    assert "#4: eyes 2 picked for #3" in text(await chat.send("alice", "show eyes") + await chat.send("alice", "2"))
    assert {(await face_record(engine, "alice", n)).backend for n in (3, 4)} == {"montage"}

    assert "#5: a new face." in text(await chat.send("alice", "new 5"))              # the new default style
    new = await face_record(engine, "alice", 5)
    assert new.backend == "stylegan" and new.worker_id is not None
    assert "Pick 1–10: eyes for #5." in text(await chat.send("alice", "show eyes"))
    assert "#6: eyes 7 picked for #5" in text(await chat.send("alice", "7"))
    assert "#7: #6 edited (more smile)." in text(await chat.send("alice", "more smile"))
    assert (await face_record(engine, "alice", 7)).backend == "stylegan"
    assert text(await chat.send("alice", "morph with #2 at 0.5")) == \
        "#2 is a drawn face and #7 a photoreal one: faces of different styles can't be morphed together."

    chat.conversation = Conversation(chat.engine, default_backend="montage", size=64)
    assert images(await chat.send("alice", "back to 6"))
    assert "Pick 1–10: nose for #6." in text(await chat.send("alice", "show nose"))   # still on its stylegan model


async def test_an_edit_without_a_direction_is_answered_in_both_languages(engine, stylegan_checkpoint):
    chat = await on_backend(ChatHarness(engine), "stylegan")
    await chat.start("alice")
    await chat.send("alice", "new 2")
    assert text(await chat.send("alice", "add glasses")) == \
        "This model has no direction for 'glasses'. It can change: smile"
    await chat.send("alice", "언어 한국어")
    assert text(await chat.send("alice", "안경 씌워줘")) == "이 모델에는 '안경'을 바꾸는 방향이 없어요. 바꿀 수 있는 것: 웃음"
    described = text(await chat.send("alice", "묘사 안경 쓴 웃는 얼굴"))   # a new face: a refinement would refuse
    assert "(이 모델에는 방향이 없어 반영하지 못했어요: 안경)" in described and "묘사한 얼굴이에요" in described

    # a job that reaches the worker anyway (a chat process with other directions) gets the same answer
    alice = await face_record(engine, "alice", 1)
    await chat.conversation.queue.enqueue(MAKE, {
        "user_id": alice.user_id, "backend": "stylegan", "model": alice.checkpoint_id, "size": 64,
        "operation": "edit", "parent_id": alice.id,
        "params": {"edits": [{"field": "beard", "value": "full"}]},
        "reply_to": {"platform": "web", "chat_id": "chat-alice", "target": "alice"}}, user_id=alice.user_id)
    assert text(await chat.run_jobs("alice")) == "이 모델에는 '수염'을 바꾸는 방향이 없어요. 바꿀 수 있는 것: 웃음"


class RecordingBot:
    """A telegram.Bot stand-in that records each call's method and file name."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None]] = []

    def __getattr__(self, method: str):
        async def call(*args, **kwargs):
            self.sent.append((method, kwargs.get("filename")))
        return call


async def test_photoreal_pictures_are_jpeg_files_everywhere_and_drawn_ones_png(engine, stylegan_checkpoint):
    """The format follows the backend that drew the picture (facegen.provenance.picture_format):
    a StyleGAN face, its full-resolution file and its sheets are JPEG with their provenance and
    reach each platform named .jpg with that type; a montage face stays PNG."""
    from bot.discord.outgoing import outgoing
    from bot.telegram.outgoing import send_reply
    from bot.web.wire import reply_frame
    from facegen.provenance import AI_SOURCE_TYPE, FACE_KEY, SOURCE_TYPE_KEY, read_provenance

    chat = ChatHarness(engine)
    await chat.start("alice")
    (drawn,) = [p for r in await chat.send("alice", "new 1") for p in r.pictures]
    await on_backend(chat, "stylegan")
    face_reply = next(r for r in await chat.send("alice", "new 2") if r.pictures)
    (sheet,) = [p for r in await chat.send("alice", "show eyes") for p in r.pictures]
    (photo,) = face_reply.pictures

    assert (drawn.filename, drawn.content_type, drawn.as_file) == ("dreamface-1.png", "image/png", True)
    assert (photo.filename, photo.content_type, photo.as_file) == ("dreamface-2.jpg", "image/jpeg", True)
    assert (sheet.filename, sheet.content_type) == ("dreamface-2-region.jpg", "image/jpeg")
    meta = read_provenance(photo.data)
    assert meta[FACE_KEY] == (await face_record(engine, "alice", 2)).public_id
    assert meta[SOURCE_TYPE_KEY] == AI_SOURCE_TYPE and read_provenance(sheet.data)[FACE_KEY] == meta[FACE_KEY]

    telegram = RecordingBot()
    await send_reply(telegram, "42", face_reply)   # a photo with the buttons, then the file itself
    assert telegram.sent == [("send_photo", "dreamface-2.jpg"), ("send_document", "dreamface-2.jpg")]
    assert [f.filename for f in outgoing(face_reply).files] == ["dreamface-2.jpg"]
    (image,) = reply_frame(face_reply, str)["images"]
    assert (image["filename"], image["content_type"], image["as_file"]) == ("dreamface-2.jpg", "image/jpeg", True)
