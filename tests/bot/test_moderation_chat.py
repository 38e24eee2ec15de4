"""A user banned from the dashboard gets a polite refusal in their own language, whatever they
send (text, photo or a button), and nothing is queued or stored; unbanned, they carry on."""

from __future__ import annotations

from bot.conversation.josa import attach_particles

from sqlalchemy import func, select

from bot.conversation import Conversation
from bot.conversation.replies import say
from bot.messages import Incoming
from storage.db import session_factory
from bot.conversation import payloads
from storage.faces import FaceRepository
from storage.models import Blob, Job, ModerationEvent, owner_key
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


# --- in-chat moderation and the report button --------------------------------------------------

ADMIN = "900"        # a Telegram admin (DREAMFACE_TELEGRAM_ADMIN_IDS)
MOD_ROLE_ID = "555"  # the Discord moderator role, configured by name below


class Group:
    """A Telegram group and a Discord guild channel on the real core and worker: everyone's
    results land in the chat, where anyone can press the buttons they see."""

    def __init__(self, engine) -> None:
        from bot.conversation.moderators import Moderators
        from facegen.handlers import FaceJobs
        from storage.worker import Worker
        from storage.outbox import Outbox
        self.engine = engine
        self.conversation = Conversation(engine, size=64, moderators=Moderators(frozenset({ADMIN}), "Moderators"))
        self.worker = Worker(engine, FaceJobs(engine).handlers(), queues=("default", "slow"))
        self.outbox = Outbox(engine)

    async def send(self, who: str, locale: str = "en", *, platform: str = "telegram", roles=(), **what) -> list:
        from storage.outbox import Routes
        incoming = Incoming(platform, who, "group-1", locale=locale, in_group=True, roles=tuple(roles),
                            display_name={ANN_DC: "Ann"}.get(who, who.upper()), **what)
        replies = await self.conversation.handle(incoming)
        while await self.worker.run_once():
            pass
        for delivery in await self.outbox.claim("test", Routes(platforms=(platform,)), 50, 30):
            replies += await self.conversation.render_delivery(delivery)
            await self.outbox.mark_sent(delivery, "test")
        return replies

    async def start(self, who: str, locale: str = "en", **kw) -> None:
        await self.send(who, locale, text="hi", **kw)
        await self.send(who, locale, text="ok" if locale == "en" else "네", **kw)

    async def face_id(self, who: str, number: int, platform: str = "telegram") -> int:
        async with session_factory(self.engine)() as session:
            repo = FaceRepository(session)
            return (await repo.get_face_by_number(await repo.get_or_create_user(platform, who), number)).id


def _texts(replies) -> list[tuple[str, str]]:
    return [(r.kind, r.text) for r in replies]


def _button(replies, label: str) -> str:
    return next(b.payload for r in replies for row in r.buttons for b in row if b.label == label)


async def _events(engine) -> list[tuple[str, str, int | None, int | None, str]]:
    async with session_factory(engine)() as session:
        rows = (await session.execute(select(ModerationEvent).order_by(ModerationEvent.id))).scalars()
        return [(e.actor, e.action, e.target_user_id, e.target_face_id, e.reason) for e in rows]


async def test_telegram_admins_hide_and_unhide_faces_by_id_in_both_languages(engine):
    group = Group(engine)
    await group.start("ann")
    await group.send("ann", text="new 1")
    face = await group.face_id("ann", 1)
    await group.start(ADMIN, "ko")
    await group.start("bo")

    # a regular member: the same polite refusal for a real face and for one that does not exist
    for target in (face, face + 1000):
        assert _texts(await group.send("bo", text=f"/hide {target} spam")) == [("error", say("en", "only_moderators"))]
    assert _texts(await group.send("bo", text="ban @ann")) == [("error", say("en", "only_moderators"))]

    hidden = await group.send(ADMIN, "ko", text=f"숨기기 {face} 스팸 그림")
    assert _texts(hidden) == [("message", attach_particles(f"얼굴 {face}을(를) 숨겼어요 (사용자 {(await _owner(engine, face))}의 #1)."))]
    assert _texts(await group.send(ADMIN, "ko", text=f"{face}번 숨겨 줘")) == [
        ("message", attach_particles(f"얼굴 {face}은(는) 이미 숨겨져 있어요."))]
    # the owner going back to the hidden face sees the text, not the picture
    back = await group.send("ann", text="back to 1")
    assert not back[0].pictures and say("en", "face_hidden") in back[0].text

    assert _texts(await group.send(ADMIN, "ko", text=f"/unhide {face} 실수였어요")) == [
        ("message", attach_particles(f"얼굴 {face}을(를) 다시 보이게 했어요."))]
    assert (await group.send("ann", text="back to 1"))[0].pictures
    assert _texts(await group.send(ADMIN, "ko", text="숨기기 987654321")) == [
        ("error", say("ko", "mod_no_face", face_id=987654321))]
    assert (await group.send(ADMIN, "ko", text="차단 @ann"))[0].text == say("ko", "invalid_bad_target", value="@ann")

    owner = await _owner(engine, face)
    assert [e for e in await _events(engine) if e[1] in ("hide", "unhide")] == [
        (f"telegram:{ADMIN}", "hide", owner, face, "스팸 그림"),
        (f"telegram:{ADMIN}", "hide", owner, face, ""),
        (f"telegram:{ADMIN}", "unhide", owner, face, "실수였어요")]


async def _owner(engine, face_id: int) -> int:
    async with session_factory(engine)() as session:
        return (await FaceRepository(session).get_face_by_id(face_id)).user_id


ANN_DC, CY_DC, DEE_DC = "4101", "4102", "4103"   # Discord user ids


async def test_discord_moderators_ban_and_unban_by_mention_or_dashboard_id(engine):
    group = Group(engine)
    await group.start(ANN_DC, platform="discord")
    await group.send(ANN_DC, platform="discord", text="new 1")
    async with session_factory(engine)() as session:
        ann = await FaceRepository(session).get_or_create_user("discord", ANN_DC)
    mod = {"platform": "discord", "roles": (MOD_ROLE_ID, "moderators")}   # the role's id and name, as discord.py has them
    await group.start(CY_DC, **mod)
    await group.start(DEE_DC, platform="discord", roles=("777", "artists"))

    assert _texts(await group.send(DEE_DC, platform="discord", roles=("777", "artists"), text=f"ban {ann.id}")) == [
        ("error", say("en", "only_moderators"))]
    assert _texts(await group.send(CY_DC, platform="discord", text=f"ban {ann.id}")) == [   # no roles: a DM
        ("error", say("en", "only_moderators"))]

    queued = await group.conversation.handle(Incoming("discord", ANN_DC, "group-1", text="new 2", locale="en"))
    assert queued[0].kind == "progress"   # waiting when the ban comes
    banned = await group.send(CY_DC, text="ban <@4101> posting faces of classmates", **mod)
    assert _texts(banned) == [("message", f"User {ann.id} (discord:4101, Ann) is banned; 1 waiting request(s) cancelled.")]
    assert _texts(await group.send(ANN_DC, platform="discord", text="new 3")) == [("error", say("en", "banned"))]
    assert "was already banned" in (await group.send(CY_DC, text=f"/ban {ann.id}", **mod))[0].text
    assert _texts(await group.send(CY_DC, text="차단 해제 discord:4101 소명 확인", **mod)) == [   # written in Korean
        ("message", f"사용자 {ann.id}(discord:4101, Ann)의 차단을 풀었어요.")]
    assert [r.kind for r in await group.send(ANN_DC, platform="discord", text="new 3")] == ["progress", "result"]
    assert _texts(await group.send(CY_DC, text="ban discord:nobody", **mod)) == [
        ("error", "There's no such user: discord:nobody")]
    assert [e for e in await _events(engine) if e[1] in ("ban", "unban")] == [
        (f"discord:{CY_DC}", "ban", ann.id, None, "posting faces of classmates"),
        (f"discord:{CY_DC}", "ban", ann.id, None, ""),
        (f"discord:{CY_DC}", "unban", ann.id, None, "소명 확인")]


async def test_anyone_shown_a_face_can_report_it_once_and_moderators_see_it(engine):
    from storage.moderation import LogFilter, ModerationLog
    group = Group(engine)
    await group.start("ann")
    made = await group.send("ann", text="new 1")
    assert [[b.label for b in row] for row in made[-1].buttons] == [["Eyes", "Nose", "Mouth", "Variations"],
                                                                    ["Remix", "🚩 Report"]]
    report = _button(made, "🚩 Report")
    await group.send("ann", text="new 2")
    face = await group.face_id("ann", 1)
    await group.start("bo", "ko")

    # bo, who saw ann's face in the group, may press its report button, and no other of its buttons
    assert _texts(await group.send("bo", "ko", button=_button(made, "Eyes"))) == [
        ("error", say("ko", "not_your_button"))]
    assert _texts(await group.send("bo", "ko", button=report)) == [("notice", say("ko", "report_thanks"))]
    # pressed again: the very same thanks, so the answer never tells which faces exist or were reported
    assert _texts(await group.send("bo", "ko", button=report)) == [("notice", say("ko", "report_thanks"))]
    assert all(r.private for r in await group.send("bo", "ko", button=report))   # a toast, not a group message
    # a forged report (another number, someone else's key) is thanked the same and changes nothing
    assert _texts(await group.send("bo", "ko", button=report.replace(":1", ":2"))) == [("notice", say("ko", "report_thanks"))]
    for forged in (report.replace(":1", ":77"), payloads.report(owner_key(b"another secret", "telegram", "nobody"), 1)):
        assert _texts(await group.send("bo", "ko", button=forged)) == [("notice", say("ko", "report_thanks"))]
    assert _texts(await group.send("ann", button=report)) == [("notice", say("en", "report_thanks"))]

    async with session_factory(engine)() as session:
        moderation = ModerationLog(session)
        reported = (await moderation.generations(LogFilter(reported=True))).rows
        flagged = (await moderation.generations(LogFilter(flagged=True))).rows
    assert [(e.face_id, e.reports, e.flagged) for e in reported] == [(face + 1, 1, True), (face, 2, True)]
    assert {e.face_id for e in flagged} == {face, face + 1}
    bo, ann = (await _user_id(engine, "bo")), (await _user_id(engine, "ann"))
    assert [e[:4] for e in await _events(engine) if e[1] == "report"] == [
        (f"user:{bo}", "report", ann, face), (f"user:{bo}", "report", ann, face + 1), (f"user:{ann}", "report", ann, face)]

    # a moderator's press reports nothing: it answers with the ids the commands take
    answer = await group.send(ADMIN, button=report)
    assert _texts(answer) == [("notice", f"Face {face} (user {ann}'s #1, 2 report(s)). Hide: /hide {face} · ban: /ban {ann}")]
    assert len([e for e in await _events(engine) if e[1] == "report"]) == 3


async def _user_id(engine, key: str, platform: str = "telegram") -> int:
    async with session_factory(engine)() as session:
        return (await FaceRepository(session).get_or_create_user(platform, key)).id


async def test_a_banned_user_can_still_delete_their_data(engine):
    conversation = Conversation(engine, size=64)

    async def send(**what) -> str:
        return "\n".join(r.text for r in await conversation.handle(Incoming("telegram", "ann", "chat-ann", locale="en",
                                                                            **what)))

    await send(text="hi")
    await send(text="ok")
    async with session_factory(engine)() as session, session.begin():   # a face of theirs (no worker runs here)
        repo = FaceRepository(session)
        await repo.add_face(await repo.get_or_create_user("telegram", "ann"), parent=None, operation="new",
                            params={}, backend="montage", checkpoint_id="m", code=b"code", image=b"png")
    await _set_banned(engine, "telegram", "ann", True)
    assert await send(text="new 2") == say("en", "banned")
    assert await send(text="yes") == say("en", "banned")   # nothing was asked: a bare yes is still refused
    asked = await conversation.handle(Incoming("telegram", "ann", "chat-ann", locale="en", text="delete my data"))
    assert asked[0].text == say("en", "delete_ask")
    yes = next(b.payload for row in asked[0].buttons for b in row if b.label == say("en", "yes"))
    assert (await send(button=yes)).startswith("Done: deleted 1 faces")
    async with session_factory(engine)() as session:
        user = await FaceRepository(session).get_or_create_user("telegram", "ann")
    assert user.banned   # the row stays, so the ban holds
    assert await send(text="new 3") == say("en", "banned")
