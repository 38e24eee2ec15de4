"""A face made from a photo, as the chat shows it, through the real conversation core and
worker on the montage backend: how near it came to the photo, in both languages, how much of it
a sheet's candidates keep, and morph shares that move the face toward "me"."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.conversation.render import likeness_kept_text
from bot.gallery import ensure_default_gallery
from chat_harness import ChatHarness
from facegen.facecode import FaceCode
from facegen.identity import drawn_distances, likeness_level
from facegen.montage.backend import MontageBackend
from storage.db import session_factory
from storage.faces import FaceRepository

PORTRAIT = (Path(__file__).resolve().parents[1] / "data" / "obama_official_portrait.jpg").read_bytes()
LEVELS_KO = {"high": "높음", "medium": "보통", "low": "낮음"}


def text(replies) -> str:
    return "\n".join(r.text for r in replies)


@pytest.fixture(params=[pytest.param("sqlite")])   # what the chat says, not the database: one kind
def db_kind(request) -> str:
    return request.param


@pytest.fixture
async def chat(engine):
    await ensure_default_gallery(engine, MontageBackend())
    return ChatHarness(engine)


async def stored_face(engine, user: str, number: int):
    async with session_factory(engine)() as session:
        repo = FaceRepository(session)
        return await repo.get_face_by_number(await repo.get_or_create_user("web", user, "en"), number)


def buttons(replies) -> dict[str, str]:
    return {b.label: b.payload for r in replies for row in r.buttons for b in row}


async def test_a_photo_face_says_how_near_it_came_and_its_sheets_and_morph_buttons_keep_to_it(chat, engine):
    """One photo's face, fitted once (the slow part), through the chat in both languages."""
    await chat.start("pia")
    replies = await chat.send("pia", photo=PORTRAIT)
    level = likeness_level((await stored_face(engine, "pia", 1)).params["likeness"])
    assert f"#1: made from your photo. Likeness to your photo: {level}" in text(replies)
    # a sheet around that face says how much of it each candidate keeps
    sheet = text(await chat.send("pia", "variations"))
    assert "Pick 1–10: variation for #1.\nLikeness to #1: " in sheet
    # +0.1 on a morph with a gallery face brings it nearer to "me" (the photo face), as the recogniser sees it
    morphed = await chat.send("pia", "morph me with Sora at 0.5")
    assert "you 50% · Sora Bae 50%" in text(morphed)
    raised = await chat.send("pia", button=buttons(morphed)["+0.1 (60%)"])
    assert "you 60% · Sora Bae 40%" in text(raised)
    me, half, more = [FaceCode.from_bytes((await stored_face(engine, "pia", n)).code) for n in (1, 2, 3)]
    at_half, at_more = drawn_distances(MontageBackend(), me, [half, more])
    assert at_more < at_half
    # in Korean, the photo face shown again; a sheet around a face not made from a photo says nothing of likeness
    await chat.send("pia", "언어 한국어")
    replies = await chat.send("pia", "1번으로")
    assert f"#1: 사진으로 만든 얼굴이에요. 사진과 닮은 정도: {LEVELS_KO[level]}" in text(replies)
    await chat.send("pia", "새 얼굴 7")
    assert "닮은 정도" not in text(await chat.send("pia", "변형"))


def test_a_sheet_groups_its_candidates_by_how_much_they_keep_in_both_languages():
    distances = [0.21, 0.65, None, 0.93, 0.35]   # None: no face found in that candidate
    assert likeness_kept_text("en", 3, distances) == "Likeness to #3: high 1, 5 · medium 2 · low 4 · nearest 1, 5, 2"
    assert likeness_kept_text("ko", 3, distances) == "#3과 닮은 정도: 높음 1, 5 · 보통 2 · 낮음 4 · 가장 닮은 후보 1, 5, 2"
    assert likeness_kept_text("en", 2, [0.2, 0.1]) == "Likeness to #2: high for all"
    assert likeness_kept_text("ko", 2, [0.2, 0.1]) == "#2와 닮은 정도: 모두 높음"
