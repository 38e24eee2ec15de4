"""Breeding on every platform (issue #21), each through its real adapter: Telegram (a 3 × 3 sheet
whose toggles tick ✓ in place) and Discord (18 faces, a multi-select menu) against their protocol
fakes, the web chat over its websocket (12 faces, toggles updated in place), the terminal chat by
typed commands. Each one selects three faces, breeds, locks the eyes, breeds again (the eyes then
the same in every face of both arrays), keeps a face and undoes it; an older array's buttons say
it is over; another user's are refused. The rules themselves: test_breeding_chat.py."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from bot.cli_chat import CliChat
from bot.messages import Reply
from bot.web.client import ChatClient, is_final
from discord_fake import FakeDiscord, running_bot as running_discord, settings_for as discord_settings
from dreamface.app import open_app
from facegen import breeding
from facegen.backends import load_backend
from facegen.facecode import FaceCode
from ground.config import Settings
from storage.chat_state import ChatStates
from storage.db import session_factory
from storage.faces import FaceRepository
from bot.telegram.ratelimit import ChatRateLimiter
from telegram_fake import FakeTelegram, Limits, wait_until
from test_telegram import acknowledged, result_of, running_bot as running_telegram
from web_served import POLL, acknowledge_notice, served

STALE = "This array is over; pick from the newest one."
NOT_YOURS = "That button belongs to someone else. Make your own face!"


@pytest.fixture
def sqlite_url(tmp_path, migrated_templates) -> str:
    path = tmp_path / "dreamface.db"
    shutil.copyfile(migrated_templates["sqlite"], path)
    return f"sqlite:///{path}"


async def eyes_stayed(engine, platform: str, user_id: str) -> bool:
    """Whether every face of the array shown and of the one before it has the same eyes (the
    eyes were locked in the one before, and stayed)."""
    async with session_factory(engine)() as session:
        repo = FaceRepository(session)
        user = await repo.find_user(platform, user_id)
        bred = (await ChatStates(session).get(user.id)).breeding
        anchor = FaceCode.from_bytes((await repo.get_face_by_id(bred.face_id)).code)
    backend = load_backend("montage")
    faces = breeding.breed(backend, anchor, bred.params) + breeding.breed(backend, anchor, bred.params["previous"])
    return bred.params["locks"] == ["eyes"] and all(np.array_equal(f.part("eyes"), faces[0].part("eyes")) for f in faces)


@pytest.fixture
def telegram_unthrottled(monkeypatch):
    """Each toggle edits the array's message, one more message of the chat's budget (a burst of
    8, then one a second: bot/telegram/ratelimit.py); the limits have their own tests, so here both
    sides allow a whole session at once."""
    from bot.telegram import adapter
    monkeypatch.setattr(adapter, "ChatRateLimiter", lambda: ChatRateLimiter(chat_burst=100))
    return Limits(chat_burst=100.0)


async def test_telegram_a_three_by_three_sheet_whose_toggles_tick_in_place(sqlite_url, telegram_unthrottled):
    async with FakeTelegram(limits=telegram_unthrottled) as fake, running_telegram(fake, sqlite_url) as app:
        ann, bob = fake.user("Ann", language_code="en"), fake.user("Bob", language_code="en")
        await acknowledged(ann)
        count = len(ann.inbox())
        await ann.send("/new 7")
        await result_of(ann, count)

        count = len(ann.inbox())
        await ann.send("/breed")
        first = await result_of(ann, count)
        assert first.caption.startswith("Breeding #1, round 1")
        assert [[b["text"] for b in row] for row in first.keyboard] == [
            ["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"], ["Next ▶", "Done", "Stop"]]
        for k in ("3", "5", "7"):
            assert await ann.answer(await ann.press(first, k)) == ""
        await wait_until(lambda: first.labels[:9] == ["1", "2", "✓ 3", "4", "✓ 5", "6", "✓ 7", "8", "9"])
        assert "Selected: 3, 5, 7 (most alike: 3)" in first.caption   # the same message, edited
        assert await bob.answer(await bob.press(first, "1")) == NOT_YOURS

        count = len(ann.inbox())
        await ann.press(first, "Next ▶")
        second = await result_of(ann, count)
        assert second.caption.startswith("Breeding #1, round 2") and len(second.keyboard) == 4
        assert await ann.answer(await ann.press(first, "2")) == STALE   # a toast; nothing changes

        count = len(ann.inbox())
        await ann.send("keep the eyes")
        locked = await result_of(ann, count)
        for k in ("4", "1"):
            await ann.answer(await ann.press(locked, k))
        count = len(ann.inbox())
        await ann.press(locked, "Next ▶")
        third = await result_of(ann, count)
        assert third.caption.startswith("Breeding #1, round 3") and "Kept as they are: eyes" in third.caption
        assert await eyes_stayed(app.engine, "telegram", str(ann.id))

        count = len(ann.inbox())
        await ann.send("done 2")
        kept = await result_of(ann, count)
        assert kept.caption.startswith("#2: bred from #1 (round 3, face 2).")
        count = len(ann.inbox())
        await ann.send("undo")
        back = await ann.wait_for(lambda m: m.photo is not None and m.words.startswith("Back to #1."), after=count)
        assert "Undo" not in back.labels   # #1 was where it started
        assert fake.rejected == []


async def test_discord_eighteen_faces_and_a_multi_select_menu(sqlite_url):
    async with FakeDiscord() as fake:
        ann, bob = fake.add_user("ann"), fake.add_user("bob")
        guild = fake.guild_channel.id   # where bob sees ann's array
        async with running_discord(fake, discord_settings(fake, sqlite_url)) as adapter:
            notice = await ann.slash("new", channel=guild)
            await fake.until(lambda: fake.response_of(notice) and fake.response_of(notice).components)
            await ann.press(fake.response_of(notice), "Got it")
            await fake.until(lambda: any(m.images for m in ann.bot_messages(guild)))

            breed = await ann.slash("breed", channel=guild)
            first = await fake.until(lambda: (m := fake.response_of(breed)) is not None and m.images and m)
            assert first.content.startswith("Breeding #1, round 1")
            menu = first.menu
            assert [o["value"] for o in menu["options"]] == [str(k) for k in range(1, breeding.DISCORD_ARRAY + 1)]
            assert (menu["min_values"], menu["max_values"]) == (0, breeding.MAX_PARENTS)
            assert first.button_rows[1:] == [["Next ▶", "Done", "Stop"]]

            await ann.choose(first, ["3", "5", "7"])
            await fake.until(lambda: "Selected: 3, 5, 7 (most alike: 3)" in first.content)
            assert [o["value"] for o in first.menu["options"] if o.get("default")] == ["3", "5", "7"]
            assert first.images, "the sheet stays on the message whose menu changed"

            for refused in (await bob.press(first, "Next ▶"), await bob.choose(first, ["1"])):
                answer = await fake.until(lambda: fake.followups_of(refused) and fake.followups_of(refused)[0])
                assert answer.content == NOT_YOURS and answer.ephemeral_for == bob.id

            pressed = await ann.press(first, "Next ▶")
            second = await fake.until(lambda: next((m for m in fake.followups_of(pressed) if m.images), None))
            assert second.content.startswith("Breeding #1, round 2")
            stale = await ann.choose(first, ["1"])
            answer = await fake.until(lambda: fake.followups_of(stale) and fake.followups_of(stale)[0])
            assert answer.content == STALE and answer.ephemeral_for == ann.id

            await ann.say("keep the eyes", channel=guild, mention=True)
            locked = await fake.until(lambda: next((m for m in ann.bot_messages(guild)
                                                    if m.images and "Kept as they are: eyes" in m.content), None))
            await ann.choose(locked, ["2", "1"])
            await fake.until(lambda: "Selected: 2, 1" in locked.content)
            pressed = await ann.press(locked, "Next ▶")
            third = await fake.until(lambda: next((m for m in fake.followups_of(pressed) if m.images), None))
            assert third.content.startswith("Breeding #1, round 3")
            assert await eyes_stayed(adapter.app.engine, "discord", str(ann.id))

            done = await ann.slash("pick", number=4, channel=guild)   # "pick 4" with the array in front selects it…
            await fake.until(lambda: (m := fake.response_of(done)) is not None and "Selected: 4" in m.content)
            kept = await ann.press(third, "Done")                      # …and Done keeps the face selected
            made = await fake.until(lambda: next((m for m in fake.followups_of(kept) if m.images), None))
            assert made.content.startswith("#2: bred from #1 (round 3, face 4).")
        assert fake.refusals == [] and fake.unmodelled == []


async def test_web_twelve_faces_toggled_in_place(tmp_path, migrated_templates):
    path = tmp_path / "dreamface.db"
    shutil.copyfile(migrated_templates["sqlite"], path)
    settings = Settings(database_url=f"sqlite:///{path}", worker_poll_seconds=POLL)
    async with served(settings, size=64) as server:
        url = str(server.make_url("/"))
        async with ChatClient(url) as ann, ChatClient(url) as bob:
            await acknowledge_notice(ann, "new 7")
            await ann.until(is_final)
            await ann.say("breed")
            first = (await ann.until(is_final))[-1]
            rows = first["buttons"]
            assert [[b["label"] for b in row] for row in rows[:-1]] == [[str(k) for k in range(r, r + 4)] for r in (1, 5, 9)]
            assert all(b.get("toggle") for row in rows[:-1] for b in row) and not any(b.get("toggle") for b in rows[-1])
            toggles = {b["label"]: b["payload"] for row in rows for b in row}
            for k in ("3", "5", "7"):
                await ann.press(toggles[k])
                update = await ann.receive()
            assert update["kind"] == "update" and "Selected: 3, 5, 7" in update["text"]
            assert update["buttons"][0][2]["label"] == "✓ 3"

            await acknowledge_notice(bob, "help")
            await bob.receive()
            await bob.press(toggles["Next ▶"])
            assert (await bob.receive())["text"] == NOT_YOURS

            await ann.press(toggles["Next ▶"])
            second = (await ann.until(is_final))[-1]
            assert second["text"].startswith("Breeding #1, round 2")
            await ann.press(toggles["1"])
            assert (await ann.receive())["text"] == STALE

            await ann.say("keep the eyes")
            await ann.until(is_final)
            await ann.say("next 2 1")
            third = (await ann.until(is_final))[-1]
            assert third["text"].startswith("Breeding #1, round 3") and "Kept as they are: eyes" in third["text"]
            await ann.say("done 5")
            made = (await ann.until(is_final))[-1]
            assert made["text"].startswith("#2: bred from #1 (round 3, face 5).")
            await ann.say("history")
            assert "#2 bred: round 3, face 5 ← #1" in (await ann.receive())["text"]


async def test_the_terminal_chat_by_typed_commands(tmp_path, sqlite_url):
    """`dreamface chat`'s session (bot/cli_chat.py) in this process: everything typed."""
    shown: list[Reply] = []
    settings = Settings(database_url=sqlite_url, worker_poll_seconds=0.02)
    async with open_app(settings, with_worker=True, size=64) as app:
        chat = CliChat(app.conversation, app.engine, "ann", tmp_path / "out", "ko", lambda reply, paths: shown.append(reply))

        async def say(line: str) -> list[Reply]:
            start = len(shown)
            await chat.send(await chat.line(line))
            assert await chat.wait_for_jobs(30)
            return shown[start:]

        await say("안녕")
        await say("네")
        await say("눈이 큰 둥근 얼굴의 30대 여자")   # a described face to start from
        first = (await say("교배"))[-1]
        assert first.text.startswith("#1 교배 1회차예요.") and len(first.buttons) == 4   # 9 as on Telegram: 3 × 3
        assert (await say("3번 5번 7번 골라"))[-1].text.splitlines()[1] == "고른 얼굴: 3, 5, 7 (가장 닮은 얼굴: 3번)"
        assert (await say("다음"))[-1].text.startswith("#1 교배 2회차예요.")
        assert "그대로 두는 곳: 눈" in (await say("눈은 그대로"))[-1].text
        third = (await say("다음 4 1"))[-1]
        assert third.text.startswith("#1 교배 3회차예요.")
        assert await eyes_stayed(app.engine, "cli", "ann")
        assert (await say("되돌리기"))[-1].text.startswith("#1 교배 2회차예요.")   # back a round
        assert (await say("/press 2"))[-1].kind == "update"                      # a toggle, pressed by number
        made = (await say("이걸로 3"))[-1]
        assert made.text.startswith("#2: #1에서 교배한 얼굴이에요 (2회차 3번).")
        assert (await say("되돌리기"))[-1].text.startswith("#1로 되돌렸어요.")
        files = sorted(p.name for p in (tmp_path / "out").iterdir())
        assert any("-breed-" in name for name in files)
