"""A user banned from the dashboard gets a polite refusal in their own language, whatever they
send (text, photo or a button), and nothing is queued or stored; unbanned, they carry on."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.conversation import Conversation
from bot.conversation.replies import say
from bot.messages import Incoming
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.models import Blob, Job
from storage.moderation import ModerationActions


async def _count(engine, model) -> int:
    async with session_factory(engine)() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar()


async def _set_banned(engine, platform: str, key: str, banned: bool) -> None:
    async with session_factory(engine)() as session, session.begin():
        user = await FaceRepository(session).get_or_create_user(platform, key)
        await ModerationActions(session, actor="alice").set_banned(user.id, banned, "test")


async def test_a_banned_user_is_refused_politely_in_their_language(engine):
    conversation = Conversation(engine, size=64)

    async def send(key: str, locale: str, **what) -> list:
        return await conversation.handle(Incoming("telegram", key, f"chat-{key}", locale=locale, **what))

    for key, locale in (("ann", "en"), ("min", "ko")):
        await send(key, locale, text="hi")
        await send(key, locale, text="ok" if locale == "en" else "네")
        queued = await send(key, locale, text="new 1" if locale == "en" else "새 얼굴 1")
        assert queued[0].kind == "progress"
    before = (await _count(engine, Job), await _count(engine, Blob))

    await _set_banned(engine, "telegram", "ann", True)
    await _set_banned(engine, "telegram", "min", True)
    for key, locale, text in (("ann", "en", "new 2"), ("min", "ko", "새 얼굴 2")):
        for what in ({"text": text}, {"photo": b"\xff\xd8 not really a photo"}, {"button": "anything"}):
            replies = await send(key, locale, **what)
            assert [(r.kind, r.text) for r in replies] == [("error", say(locale, "banned"))]
    assert "Sorry" in say("en", "banned") and "죄송해요" in say("ko", "banned")
    assert (await _count(engine, Job), await _count(engine, Blob)) == before   # nothing queued, no photo kept

    await _set_banned(engine, "telegram", "ann", False)
    assert (await send("ann", "en", text="new 3"))[0].kind == "progress"
    assert (await send("min", "ko", text="새 얼굴 3"))[0].text == say("ko", "banned")   # still banned
