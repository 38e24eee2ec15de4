"""Faces described back in the chat (issue #14 item 7): every face's picture carries its words
(the worker wrote them), "describe my face" / "내 얼굴 설명해줘" answers with them, and the web
frame carries them as the image's alt text."""

from __future__ import annotations

import pytest

from bot.commands import Describe, DescribeFace
from bot.grammar import parse
from bot.messages import Picture, Reply
from bot.web.wire import reply_frame
from chat_harness import ChatHarness


def text(replies) -> str:
    return "\n".join(r.text for r in replies)


@pytest.fixture
async def chat(engine):
    return ChatHarness(engine)


@pytest.mark.parametrize("said", ["describe my face", "describe this face", "Describe my face please",
                                  "내 얼굴 설명해줘", "이 얼굴 설명해줘", "얼굴 설명해 주세요", "내 얼굴 묘사해줘"])
def test_asking_for_the_face_in_words_wins_over_a_description(said):
    assert parse(said, "en") == DescribeFace()


@pytest.mark.parametrize("said", ["describe a round face with big eyes", "묘사 눈이 큰 둥근 얼굴", "설명 둥근 얼굴"])
def test_a_description_after_describe_is_still_a_new_face(said):
    assert isinstance(parse(said, "ko"), Describe)


async def test_describe_my_face_in_both_languages(chat):
    await chat.start("ann")
    assert "Make a face first" in text(await chat.send("ann", "describe my face"))
    made = await chat.send("ann", "describe a woman with short black hair and glasses")
    (face,) = [r for r in made if r.pictures]
    words = "a woman with short black hair and glasses"
    assert face.pictures[0].alt == words
    assert text(await chat.send("ann", "describe my face")) == f"#1: {words}"
    await chat.send("ann", "lang ko")
    assert text(await chat.send("ann", "내 얼굴 설명해줘")) == "#1: 여자, 짧은 검은 머리, 안경"
    await chat.send("ann", "new 42")
    assert text(await chat.send("ann", "이 얼굴 설명해줘")) == "#2: 무작위 얼굴 (시드 42)"


async def test_a_refined_face_says_its_edits(chat):
    await chat.start("bo")
    await chat.send("bo", "describe a man with a beard")
    edited = await chat.send("bo", "add glasses")
    (face,) = [r for r in edited if r.pictures]
    assert face.pictures[0].alt == "a man with a beard and glasses"


def test_the_web_frame_carries_the_words_as_alt_text():
    reply = Reply("#1: a new face.", (Picture(b"png", "dreamface-1.png", alt="a random face (seed 42)"),))
    (image,) = reply_frame(reply, str)["images"]
    assert image["alt"] == "a random face (seed 42)" and image["filename"] == "dreamface-1.png"
