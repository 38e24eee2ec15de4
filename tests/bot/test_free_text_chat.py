"""Free-text edits in the chat (issue #17): "make it look like a vampire" / "뱀파이어처럼 보이게"
through the real core, queue and worker, on the montage-trained 32-px StyleGAN with a tiny random
CLIP (its tokenizer trained on the words used here, in both languages or in English only). The
edit goes on the slow queue and comes back as a new face that undo leaves; a drawn face, a model
without a text model, Korean words for an English-only tokenizer and a blocked word are each
answered in the user's language; words a description skipped are offered as a button only where
the face's model reads them. DREAMFACE_TEXT_EDIT_STEPS=2 keeps each edit at a fraction of a second.
On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.conversation import Conversation
from chat_harness import ChatHarness
from clip_served import make_clips, served  # noqa: F401  (a fixture)
from facegen.backends import load_backend
from facegen.handlers import TEXT, FaceJobs, load
from ground.config import Settings
from ground.limits import Blocklist, Limits
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.moderation import LogFilter, ModerationLog
from storage.worker import Worker

WORDS = ["like a vampire", "a vampire", "purple horns", "spooky", "뱀파이어", "보라색 뿔"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    return make_clips(tmp_path_factory, WORDS)


async def photoreal_chat(engine, *, limits: Limits = Limits()) -> ChatHarness:
    chat = ChatHarness(engine)
    chat.worker = Worker(engine, load(Settings.from_env(), engine), queues=("default", "slow"))
    await chat.announce("stylegan")
    chat.conversation = Conversation(engine, default_backend="stylegan", size=64, limits=limits)
    await chat.start("alice")
    return chat


def text(replies) -> str:
    return "\n".join(r.text for r in replies)


async def face(engine, number: int):
    async with session_factory(engine)() as session:
        repo = FaceRepository(session)
        return await repo.get_face_by_number(await repo.get_or_create_user("web", "alice"), number)


async def test_free_words_edit_the_face_on_the_slow_queue_in_both_languages_and_undo_goes_back(
        engine, served, clips):
    served(clips["both"])
    chat = await photoreal_chat(engine)
    assert "#1: a new face." in text(await chat.send("alice", "new 3"))

    (progress,) = await chat.send("alice", "make it look like a vampire", run=False)
    job = await chat.conversation.queue.get(progress.job_id)
    assert progress.kind == "progress" and (job.kind, job.queue) == (TEXT, "slow")
    (made,) = await chat.run_jobs("alice")
    assert made.text == "#2: made it look like a vampire." and made.pictures   # 32 px: no likeness said
    edited = await face(engine, 2)
    assert (edited.operation, edited.parent_number, edited.backend) == ("text", 1, "stylegan")
    assert edited.params["text"] == "like a vampire" and edited.params["steps"] == 2
    assert set(edited.params["text_edit"]) == {"similarity_before", "similarity_after", "latent_distance", "seconds"}
    assert "identity_distance" not in edited.params   # the recogniser finds no face in a 32-px picture
    assert made.pictures[0].data != (await chat.send("alice", "back to 1"))[0].pictures[0].data

    await chat.send("alice", "back to 2")
    assert text(await chat.send("alice", "undo")).startswith("Back to #1.")
    korean = text(await chat.send("alice", "뱀파이어처럼 보이게 해줘"))
    assert "#3: '뱀파이어' 느낌으로 바꿨어요." in korean and (await face(engine, 3)).parent_number == 1
    assert "#3 자유 편집 “뱀파이어” ← #1" in text(await chat.send("alice", "기록"))
    assert text(await chat.send("alice", "되돌리기")).startswith("#1로 되돌렸어요.")

    async with session_factory(engine)() as session:   # the moderators' log: the words, like a description's
        logged = (await ModerationLog(session).generations(LogFilter(operation="text"))).rows
    assert [(e.number, e.params["text"]) for e in logged] == [(3, "뱀파이어"), (2, "like a vampire")]


async def test_the_chat_shows_the_edit_counting_up_and_says_the_likeness_where_the_recogniser_measures_it(
        engine, served, clips, monkeypatch):
    served(clips["both"])
    chat = await photoreal_chat(engine)
    chat.worker = Worker(engine, FaceJobs(engine, text_edit_steps=30, progress_interval=0.02).handlers(),
                         queues=("default", "slow"))
    monkeypatch.setattr("facegen.identity.drawn_distances", lambda *args: [0.312])   # as on a model of 256+ px
    await chat.send("alice", "new 6")
    (progress,) = await chat.send("alice", "make it look spooky", run=False)
    seen: list[str] = []
    running = asyncio.create_task(chat.run_jobs("alice"))
    while not running.done():
        reply = (await chat.conversation.job_progress([progress.job_id]))[progress.job_id]
        if reply is not None and (not seen or seen[-1] != reply.text):
            seen.append(reply.text)
        await asyncio.sleep(0.01)
    percents = [int(m.group(1)) for said in seen if (m := re.fullmatch(r"Drawing it now… (\d+)%", said))]
    assert len(percents) >= 2 and percents == sorted(percents) and 0 < percents[0] < 100
    assert [r.text for r in running.result()] == ["#2: made it look spooky. Likeness to #1: high"]
    assert (await face(engine, 2)).params["identity_distance"] == 0.312


async def test_a_drawn_face_or_a_model_without_a_text_model_says_what_would_work(engine, served, clips):
    chat = ChatHarness(engine)   # the montage, the default style
    await chat.start("alice")
    await chat.send("alice", "new 1")
    replies = await chat.send("alice", "make them look spooky")
    assert [r.kind for r in replies] == ["error"]
    assert text(replies) == ("Free-text edits need the photoreal style with a text model. For this face, try words "
                             "I know, like 'more smile', 'add glasses' or 'blonde'.")
    assert text(await chat.send("alice", "뱀파이어 느낌으로")).startswith("자유 편집은 글을 이해하는 모델이 있는 실사 화풍에서만")

    served(None)   # photoreal, but no DREAMFACE_CLIP_MODEL: it announces no languages
    chat = await photoreal_chat(engine)
    assert load_backend("stylegan").describe().text_edit_languages == ()
    await chat.send("alice", "new 2")
    refused = text(await chat.send("alice", "make it look like a vampire"))
    assert refused.startswith("Free-text edits need the photoreal")


async def test_korean_words_for_an_english_only_text_side_are_answered_with_english_to_try(engine, served, clips):
    served(clips["en"])
    chat = await photoreal_chat(engine)
    assert load_backend("stylegan").describe().text_edit_languages == ("en",)
    await chat.send("alice", "new 4")
    replies = await chat.send("alice", "뱀파이어처럼 보이게")
    assert [r.kind for r in replies] == ["error"]
    assert text(replies) == "지금 모델은 한국어 문장을 읽지 못해요. 영어로 말해 주세요. 예: 'make it look like a vampire'"
    assert text(await chat.send("alice", "make it look spooky")).endswith("\n#2: made it look spooky.")


async def test_a_blocked_word_is_refused_before_anything_is_queued(engine, served, clips):
    served(clips["both"])
    chat = await photoreal_chat(engine, limits=Limits(blocklist=Blocklist(("vampire", "뱀파이어"))))
    await chat.send("alice", "new 5")
    for message, said in (("make it look like a vampire", "Sorry, I can't use those words here."),
                          ("뱀파이어처럼 보이게", "죄송해요. 그 표현은 여기서 쓸 수 없어요.")):
        replies = await chat.send("alice", message)
        assert [r.kind for r in replies] == ["error"] and text(replies).startswith(said)
    assert await chat.conversation.pending_jobs("web", "alice") == [] and await face(engine, 2) is None


async def test_skipped_words_are_offered_as_a_free_text_edit_only_where_the_model_reads_them(engine, served, clips):
    def offer(replies) -> list[str]:
        return [b.label for r in replies for row in r.buttons for b in row if b.label.startswith("Try ")]

    chat = ChatHarness(engine)   # a drawn face: the words are only said
    await chat.start("alice")
    drawn = await chat.send("alice", "a man with purple horns")
    assert "(I skipped words I don't know: purple, horns)" in text(drawn) and offer(drawn) == []

    served(clips["both"])
    chat = await photoreal_chat(engine)
    described = await chat.send("alice", "describe a man with purple horns")
    face_reply = next(r for r in described if r.pictures)
    assert offer([face_reply]) == ["Try 'purple horns' as a free-text edit"]
    assert await chat.conversation.pending_jobs("web", "alice") == []   # nothing slow until it is pressed
    button = next(b for row in face_reply.buttons for b in row if b.label.startswith("Try "))
    pressed = await chat.send("alice", button=button.payload)
    assert [r.kind for r in pressed] == ["progress", "result"] and pressed[-1].text == "#3: made it look purple horns."
    assert (await face(engine, 3)).parent_number == 2

    korean = await chat.send("alice", "묘사 보라색 뿔 달린 남자")
    assert [b.label for r in korean for row in r.buttons for b in row if "자유 편집" in b.label] == \
        ["'보라색 뿔 달린'으로 자유 편집해 보기"]
