"""Abuse limits as a user meets them through the chat core (SQLite and PostgreSQL): a per-user
rate on top of the cap, an operator's blocklist for descriptions and names, photo limits
checked before anything is stored."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select, update

from bot.conversation import Conversation
from bot.conversation.replies import say
from bot.messages import Incoming
from ground.config import ConfigError, Settings
from ground.limits import Blocklist, Limits
from storage.db import session_factory
from storage.models import Blob, Job, Upload

import pytest


class Chat:
    def __init__(self, engine, limits: Limits) -> None:
        self.engine = engine
        self.conversation = Conversation(engine, size=64, user_job_cap=50, limits=limits)

    async def send(self, user: str, locale: str = "en", **what):
        return await self.conversation.handle(Incoming("telegram", user, f"c-{user}", locale=locale, **what))

    async def start(self, user: str, locale: str = "en") -> None:
        await self.send(user, locale, text="hi")
        await self.send(user, locale, text="ok" if locale == "en" else "네")

    async def count(self, model) -> int:
        async with session_factory(self.engine)() as session:
            return (await session.execute(select(func.count()).select_from(model))).scalar()


async def test_a_user_over_the_rate_is_told_to_wait_and_nothing_is_queued(engine):
    chat = Chat(engine, Limits(user_rate_per_minute=3))
    await chat.start("ann")
    await chat.start("kim", "ko")
    for i in range(3):
        assert (await chat.send("ann", text=f"new {i + 1}"))[0].kind == "progress"
    await chat.conversation.queue.cancel(1)                      # finished jobs still count in the window
    refused = await chat.send("ann", text="new 9")
    assert [(r.kind, r.text) for r in refused] == [("error", say("en", "rate", limit=3))]
    assert "at most 3 a minute" in refused[0].text
    assert (await chat.send("kim", "ko", text="새 얼굴"))[0].kind == "progress"   # the rate is per user
    assert await chat.count(Job) == 4
    async with session_factory(engine)() as session, session.begin():   # a minute later
        await session.execute(update(Job).values(created_at=Job.created_at - 61))
    assert (await chat.send("ann", text="new 9"))[0].kind == "progress"


async def test_a_rate_limited_photo_is_not_kept(engine):
    chat = Chat(engine, Limits(user_rate_per_minute=1))
    await chat.start("pat")
    await chat.send("pat", text="new 1")
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), "tan").save(buffer, "JPEG")
    refused = await chat.send("pat", photo=buffer.getvalue())
    assert refused[0].text == say("en", "rate", limit=1)
    assert (await chat.count(Blob), await chat.count(Upload)) == (0, 0)


async def test_blocked_words_get_a_polite_refusal_in_the_users_language(engine):
    chat = Chat(engine, Limits(blocklist=Blocklist(("gore", "욕설", "bad name"))))
    await chat.start("ann")
    await chat.start("kim", "ko")
    for user, locale, text in (("ann", "en", "describe a face covered in GORE"),
                               ("ann", "en", "save my bad\u200b name"),          # zero-width space inside
                               ("ann", "en", "morph me with gore at 0.5"),
                               ("kim", "ko", "묘사 욕설이 적힌 둥근 얼굴")):
        replies = await chat.send(user, locale, text=text)
        assert [(r.kind, r.text) for r in replies] == [("error", say(locale, "blocked"))], text
    assert "Sorry" in say("en", "blocked") and "죄송해요" in say("ko", "blocked")
    assert (await chat.send("ann", text="describe a gorgeous round face"))[0].kind == "progress"   # not a word
    assert await chat.count(Job) == 1


def test_blocklist_words_match_as_words_or_anywhere_in_korean(tmp_path):
    listing = tmp_path / "blocked.txt"
    listing.write_text("# operator's list\nass\n\n바보\n", encoding="utf-8")
    blocklist = Blocklist.from_file(listing)
    assert blocklist.words == ("ass", "바보")
    assert blocklist.blocks("what an ASS") and blocklist.blocks("ａｓｓ")        # case and full-width
    assert not blocklist.blocks("a classic face") and not blocklist.blocks("")
    assert blocklist.blocks("바보같은 얼굴") and blocklist.blocks("바\u200b보")
    settings = Settings.from_env({"DREAMFACE_BLOCKLIST_FILE": str(listing), "DREAMFACE_USER_RATE_PER_MINUTE": "7"})
    assert Limits.from_settings(settings) == Limits(7, blocklist)
    with pytest.raises(ConfigError, match="DREAMFACE_BLOCKLIST_FILE"):
        Settings.from_env({"DREAMFACE_BLOCKLIST_FILE": str(tmp_path / "missing.txt")})
