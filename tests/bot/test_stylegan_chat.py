"""The chat on a stylegan checkpoint (a tiny random one) after montage faces were made: old
faces stay viewable, steps across generators are refused with a reply that says which, grids
and picks work, and edits without a direction are answered clearly (SQLite and PostgreSQL)."""

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


def on_backend(chat: ChatHarness, backend: str) -> ChatHarness:
    """The same database and worker, the chat now configured for `backend` (a restart with
    DREAMFACE_BACKEND changed)."""
    chat.conversation = Conversation(chat.engine, backend=backend, size=64)
    return chat


async def face_record(engine, user: str, number: int):
    async with session_factory(engine)() as session:
        repo = FaceRepository(session)
        return await repo.get_face_by_number(await repo.get_or_create_user("web", user), number)


async def test_switching_generators_keeps_old_faces_and_says_what_cannot_continue(engine, stylegan_checkpoint):
    chat = ChatHarness(engine)
    await chat.start("alice")
    first = await chat.send("alice", "new 1")
    await chat.send("alice", "show eyes")
    assert "#2: eyes 3 picked for #1" in text(await chat.send("alice", "3"))

    on_backend(chat, "stylegan")
    history = text(await chat.send("alice", "history"))
    assert "#1 new" in history and "#2 pick ← #1" in history
    back = await chat.send("alice", "back to 1")
    assert images(first) and images(back) == images(first), "an old face shows its stored picture, not a re-render"
    for ask in ("more smile", "show eyes", "remix style", "morph with #2 at 0.5"):
        refusal = text(await chat.send("alice", ask))
        assert "#1 was made by a different generator (montage/montage-2)" in refusal, ask
        assert "can't be edited, morphed, picked from or remixed with the current one (stylegan/stylegan2-" in refusal

    made = await chat.send("alice", "new 5")
    assert "#3: a new face." in text(made)
    assert (await face_record(engine, "alice", 3)).backend == "stylegan"
    assert "Pick 1–10: eyes for #3." in text(await chat.send("alice", "show eyes"))
    assert "#4: eyes 7 picked for #3" in text(await chat.send("alice", "7"))
    assert "#5: #4 edited." in text(await chat.send("alice", "more smile"))
    assert "#2 was made by a different generator (montage/montage-2)" in text(
        await chat.send("alice", "morph with #2 at 0.5"))

    on_backend(chat, "montage")
    assert images(await chat.send("alice", "back to 4"))
    assert "#4 was made by a different generator (stylegan/stylegan2-" in text(await chat.send("alice", "show nose"))


async def test_an_edit_without_a_direction_is_answered_in_both_languages(engine, stylegan_checkpoint):
    chat = on_backend(ChatHarness(engine), "stylegan")
    await chat.start("alice")
    await chat.send("alice", "new 2")
    assert text(await chat.send("alice", "add glasses")) == \
        "This model has no direction for 'glasses'. It can change: smile"
    await chat.send("alice", "언어 한국어")
    assert text(await chat.send("alice", "안경 씌워줘")) == "이 모델에는 '안경'을(를) 바꾸는 방향이 없어요. 바꿀 수 있는 것: 웃음"
    described = text(await chat.send("alice", "안경 쓴 웃는 얼굴"))
    assert "(이 모델에는 방향이 없어 반영하지 못했어요: 안경)" in described and "묘사한 얼굴이에요" in described

    # a job that reaches the worker anyway (a chat process with other directions) gets the same answer
    alice = await face_record(engine, "alice", 1)
    await chat.conversation.queue.enqueue(MAKE, {
        "user_id": alice.user_id, "backend": "stylegan", "size": 64, "operation": "edit", "parent_id": alice.id,
        "params": {"edits": [{"field": "beard", "value": "full"}]},
        "reply_to": {"platform": "web", "chat_id": "chat-alice", "target": "alice"}}, user_id=alice.user_id)
    assert text(await chat.run_jobs("alice")) == "이 모델에는 '수염'을(를) 바꾸는 방향이 없어요. 바꿀 수 있는 것: 웃음"
