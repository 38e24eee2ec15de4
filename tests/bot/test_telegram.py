"""The Telegram bot against a local Bot API server (tests/bot/telegram_fake.py), driven by
simulated users; python-telegram-bot runs unmodified, pointed at the fake with base_url."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.conversation.replies import say
from bot.telegram.adapter import TelegramAdapter
from bot.telegram.polling import after_handling
from conftest import QUICK_PHOTO_FIT_EVALUATIONS, REPO, TESTDATA, process_env
from dreamface.app import App, open_app
from ground.config import Settings
from storage.db import create_engine, session_factory
from storage.faces import FaceRepository
from storage.models import Delivery
from storage.platform_cursors import Cursor, PlatformCursors
from telegram_fake import BOT_USERNAME, FakeTelegram, SimUser, Shown, wait_until

RENDER_SIZE = 128   # the tests read captions and buttons, not pixels
OBAMA = (TESTDATA / "obama_official_portrait.jpg").read_bytes()


@dataclass
class Running:
    fake: FakeTelegram
    app: App


def _settings(fake: FakeTelegram, database_url: str) -> Settings:
    return Settings.from_env({**fake.env, "DREAMFACE_DATABASE_URL": database_url,
                              "DREAMFACE_WORKER_POLL_SECONDS": "0.05",
                              "DREAMFACE_PHOTO_FIT_EVALUATIONS": str(QUICK_PHOTO_FIT_EVALUATIONS)})


@contextlib.asynccontextmanager
async def running_bot(fake: FakeTelegram, database_url: str, *, worker: bool = True) -> AsyncIterator[App]:
    """The bot (and an in-process worker) serving `fake` until the block ends."""
    settings = _settings(fake, database_url)
    async with open_app(settings, with_worker=worker, size=RENDER_SIZE) as app:
        adapter = TelegramAdapter(settings, app, poll_timeout=2, courier_poll_seconds=0.05,
                                  progress_poll_seconds=0.1)
        stop = asyncio.Event()
        task = asyncio.create_task(adapter.run(stop))
        try:
            await wait_until(lambda: fake.commands or task.done(), 30)
            if task.done():
                task.result()
            yield app
        finally:
            stop.set()
            await task


@pytest.fixture
async def telegram(tmp_path) -> AsyncIterator[Running]:
    async with FakeTelegram() as fake, running_bot(fake, f"sqlite:///{tmp_path / 'dreamface.db'}") as app:
        yield Running(fake, app)


async def acknowledged(user: SimUser) -> None:
    """Past the first-use notice."""
    await user.send("도움말" if user.user.get("language_code") == "ko" else "help")
    notice = await user.wait_for(lambda m: bool(m.keyboard))
    await user.answer(await user.press(notice, notice.labels[0]))


def _is_result(shown: Shown) -> bool:
    """A result: the placeholder photo replaced by it, or (when the job finished before the
    placeholder went out, so none was sent) the result photo itself, which starts '#N'."""
    replaced = "editMessageMedia" in shown.edits or "editMessageCaption" in shown.edits and shown.keyboard
    return replaced or (not shown.edits and shown.words.startswith("#"))


async def result_of(user: SimUser, progress_index: int) -> Shown:
    """The first photo from `progress_index` of the inbox — the progress placeholder — once the
    result replaced it (or the result itself, when it came before any placeholder)."""
    shown = await user.wait_for(lambda m: m.photo is not None, after=progress_index)
    await wait_until(lambda: _is_result(shown), 30, lambda: f"still {shown.words!r} {shown.edits}")
    return shown


async def test_a_whole_session_in_korean(telegram: Running):
    fake = telegram.fake
    minsu = fake.user("민수", language_code="ko")

    # describe in Korean: the first-use notice comes first, with a button; the request waits for it
    await minsu.send("/describe 눈이 크고 얼굴이 둥근 30대 남자")
    notice = await minsu.wait_for(lambda m: "AI" in m.words)
    assert notice.labels == ["알겠어요"]
    count = len(minsu.inbox())
    assert await minsu.answer(await minsu.press(notice, "알겠어요")) == ""
    thanks = await minsu.wait_for(lambda m: "고마워요" in m.words)
    described = await result_of(minsu, count)
    assert described.photo is not None and described.caption.startswith("#1: 묘사한 얼굴")
    assert described.caption.endswith("\n30대 남자, 둥근 얼굴, 큰 눈"), described.caption   # its words, where they fit
    assert described.labels[:4] == ["눈", "코", "입", "변형"]
    assert described.edits[-1:] in ([], ["editMessageMedia"])   # a placeholder replaced, unless the face came first
    document = await minsu.wait_for(lambda m: m.document is not None)
    assert document.document_name == "dreamface-1.png"
    assert thanks.keyboard == []

    # the eyes grid: one contact-sheet photo carrying the numbered keyboard, rows of five
    count = len(minsu.inbox())
    assert await minsu.answer(await minsu.press(described, "눈")) == ""
    grid = await result_of(minsu, count)
    assert "눈 후보" in grid.caption
    assert [[b["text"] for b in row] for row in grid.keyboard] == [["1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]

    count = len(minsu.inbox())
    await minsu.press(grid, "3")
    picked = await result_of(minsu, count)
    assert picked.caption.startswith("#2: #1에서 눈 3번을 골랐어요")
    assert "되돌리기" in picked.labels

    # a photo of oneself becomes a face
    count = len(minsu.inbox())
    await minsu.send_photo(OBAMA)
    mine = await result_of(minsu, count)
    assert mine.caption.startswith("#3: 사진으로 만든 얼굴"), mine.caption
    assert fake.downloads, "the bot downloads the largest size"

    # morph with a gallery face at 0.7: the ratio is the user's share; ± buttons for the next try
    count = len(minsu.inbox())
    await minsu.send("배소라랑 0.7 합성")
    morphed = await result_of(minsu, count)
    assert morphed.caption.startswith("#4: 합성했어요 — 나 70% · 배소라 30%"), morphed.caption
    assert morphed.labels[:3] == ["−0.1 (60%)", "비율 뒤집기 (30%)", "+0.1 (80%)"]

    # remix: a sheet of four to pick from
    count = len(minsu.inbox())
    await minsu.press(morphed, "스타일 바꾸기")
    remix = await result_of(minsu, count)
    assert "스타일" in remix.caption and remix.labels == ["1", "2", "3", "4"]
    count = len(minsu.inbox())
    await minsu.press(remix, "2")
    remixed = await result_of(minsu, count)
    assert remixed.caption.startswith("#5:")

    # undo: straight back to the morph, answered at once with its picture
    count = len(minsu.inbox())
    await minsu.press(remixed, "되돌리기")
    back = await minsu.wait_for(lambda m: m.photo is not None, after=count)
    assert back.caption.startswith("#4로 되돌렸어요.\n#4: 합성했어요"), back.caption
    assert back.edits == []

    assert fake.rejected == [], "Telegram refused nothing"
    assert fake.throttled() == []


async def test_fifty_users_at_once_each_get_their_own_face_within_the_rate_limits(telegram: Running):
    fake = telegram.fake
    users = [fake.user(f"user{i}", language_code="ko" if i % 2 else "en") for i in range(50)]

    async def session(user: SimUser) -> Shown:
        await acknowledged(user)
        count = len(user.inbox())
        await user.send(f"/new {700 + user.id}")
        return await result_of(user, count)

    results = await asyncio.wait_for(asyncio.gather(*(session(u) for u in users)), 120)

    async with telegram.app.conversation.sessions() as db:
        repo = FaceRepository(db)
        for user, shown in zip(users, results):
            owner = await repo.get_or_create_user("telegram", str(user.id))
            face = await repo.get_face_by_number(owner, 1)
            assert shown.photo == (await repo.face_image(face)).data, f"{user.id} was shown someone else's face"
            assert shown.caption.startswith("#1: 새 얼굴" if user.user["language_code"] == "ko" else "#1: a new face")
    assert len({shown.photo for shown in results}) == 50
    # the notice, its thanks, the help text, the result and its file: nothing more (a result's file
    # follows its photo, and chats are served at once, so the last files may still be on their way)
    for user in users:
        await wait_until(lambda: len(user.inbox()) >= 5, 10, lambda: [m.words for m in user.inbox()])
    await asyncio.sleep(0.5)
    for user in users:
        assert len(user.inbox()) == 5, [m.words for m in user.inbox()]
    assert fake.throttled() == [], "the bot kept within the flood limits without being told"
    # a bucket of 30 passes at most its 30 plus one second's refill in any second
    assert fake.peak_rate(1.0) <= 2 * fake.limits.overall_per_second
    assert max(fake.peak_rate(1.0, chat_id=u.id) for u in users) <= fake.limits.chat_burst + 1
    assert fake.rejected == []


async def test_malformed_input_gets_a_clear_localized_reply(telegram: Running):
    fake = telegram.fake
    ko, en = fake.user("지민", language_code="ko"), fake.user("Sam", language_code="en-GB")
    await asyncio.gather(acknowledged(ko), acknowledged(en))

    huge = b"\x89PNG\r\n\x1a\n" + bytes(21 * 1024 * 1024)   # an image file over the bot download limit
    await ko.send_document(huge, "huge.png", "image/png")
    assert (await ko.wait_for(lambda m: "너무 커요" in m.words, after=len(ko.inbox()) - 1)).keyboard == []
    await en.send_document(b"%PDF-1.4 not a face", "cv.pdf", "application/pdf")
    await en.wait_for(lambda m: m.words == "Please send a JPEG, PNG or WebP photo.")
    await en.send("a" * 5000)
    await en.wait_for(lambda m: m.words == "That message is too long; please keep it shorter.")
    await en.send_document(b"GIF89a broken", "face.gif", "image/gif")   # claims to be an image, is not one
    await en.wait_for(lambda m: "isn't an image" in m.words or "JPEG, PNG or WebP" in m.words, timeout=30,
                      after=len(en.inbox()) - 1)
    # a JPEG cut off inside its EXIF header (Telegram only lets such a file through as a document)
    await ko.send_document(OBAMA[:600], "cut.jpg", "image/jpeg")
    await ko.wait_for(lambda m: m.words == "그림 파일이 아니거나 손상됐어요.", after=len(ko.inbox()) - 1, timeout=30)
    assert fake.downloads and all(len(fake._files[f]) <= 20 * 1024 * 1024 for f in fake.downloads), \
        "the huge file was never downloaded"


async def test_edits_are_not_requests_and_stickers_or_voice_get_a_word_on_what_it_reads(telegram: Running, caplog):
    fake = telegram.fake
    ko, en = fake.user("지민", language_code="ko"), fake.user("Sam", language_code="en")
    await asyncio.gather(acknowledged(ko), acknowledged(en))
    await en.send_sticker()
    await en.wait_for(lambda m: m.words == "I can read text and photos only: describe a face, or send a photo.",
                      after=len(en.inbox()) - 1)
    await ko.send_voice()
    await ko.wait_for(lambda m: m.words == "글과 사진만 읽을 수 있어요. 얼굴을 글로 설명하거나 사진을 보내 주세요.",
                      after=len(ko.inbox()) - 1)
    # an edit of a message already answered is no new request, and no error either
    seen = len(en.inbox())
    sent = en.inbox()[0].message_id if en.inbox() else 1
    edit = await en.edit(sent, "describe a man with a beard")
    group = fake.group("friends")
    await en.send_sticker(chat=group)   # a sticker in a group is nobody's business
    await wait_until(lambda: edit not in fake.pending_updates, 30)
    await en.send("help")                # answered after both: they were passed over, not stuck
    await en.wait_for(lambda m: m.words.startswith("What I can do"), after=seen, timeout=30)
    assert [m.words.startswith("What I can do") for m in en.inbox()[seen:]] == [True]   # nothing for the edit
    assert fake.bot_messages(group) == []
    assert "handling an update failed" not in caplog.text


async def test_in_a_group_the_bot_answers_mentions_and_only_the_owner_may_press(telegram: Running):
    fake = telegram.fake
    group = fake.group("친구들")
    alice, bob = fake.user("Alice", language_code="en"), fake.user("Bob", language_code="en")
    await asyncio.gather(acknowledged(alice), acknowledged(bob))

    await alice.send("new", chat=group)                       # not addressed to the bot
    await alice.send(f"@{BOT_USERNAME} new", chat=group)      # addressed to it
    face = await _group_result(alice, group)
    assert face.caption.startswith("#1: a new face")
    await alice.wait_for(lambda m: m.document is not None, chat=group)
    await asyncio.sleep(0.3)
    assert len(fake.bot_messages(group)) == 2   # the face and its file; the unaddressed "new" got nothing

    answer = await bob.answer(await bob.press(face, "Eyes"))
    assert answer == say("en", "not_your_button")
    assert await alice.answer(await alice.press(face, "Eyes")) == ""
    await wait_until(lambda: any("Pick 1–10" in m.words for m in fake.bot_messages(group)), 30)

    await bob.send("/help", chat=group)                       # a command needs no mention
    await wait_until(lambda: any("help" in m.words.lower() or "describe" in m.words for m in
                                 fake.bot_messages(group)[3:]), 10)


async def _group_result(user: SimUser, group: int) -> Shown:
    shown = await user.wait_for(lambda m: m.photo is not None, chat=group)
    await wait_until(lambda: _is_result(shown), 30, lambda: f"still {shown.words!r} {shown.edits}")
    return shown


async def test_a_user_who_blocked_the_bot_ends_the_delivery_as_failed(telegram: Running):
    fake = telegram.fake
    leaver = fake.user("Leaver", language_code="en")
    await acknowledged(leaver)
    leaver.block()   # after asking, before the result
    await leaver.send("new")

    async def failed() -> list:
        async with telegram.app.conversation.sessions() as db:
            rows = (await db.execute(select(Delivery).where(Delivery.chat_id == str(leaver.id)))).scalars().all()
        return [(r.state, r.error) for r in rows]

    for _ in range(300):
        states = await failed()
        if states and states[0][0] != "pending" and states[0][0] != "sending":
            break
        await asyncio.sleep(0.05)
    assert states == [("failed", "telegram refused: Forbidden: bot was blocked by the user")]


# --- the update offset --------------------------------------------------------------------------

def test_the_cursor_moves_past_an_update_only_when_everything_before_it_was_handled():
    batch = [10, 11, 12, 13]
    cursor = after_handling(Cursor(10), batch, 12)
    assert cursor == Cursor(10, frozenset({12}))
    assert not cursor.was_handled(11) and cursor.was_handled(12) and cursor.was_handled(9)
    cursor = after_handling(cursor, batch, 10)
    assert cursor == Cursor(11, frozenset({12}))
    cursor = after_handling(after_handling(cursor, batch, 11), batch, 13)
    assert cursor == Cursor(14)


async def test_cursors_are_kept_in_the_database(engine):
    cursors = PlatformCursors(engine)
    assert await cursors.get("telegram:1") == Cursor()
    await cursors.save("telegram:1", Cursor(41, frozenset({43, 44})))
    await cursors.save("telegram:2", Cursor(7))
    await cursors.save("telegram:1", Cursor(42, frozenset({43, 44})))
    assert await PlatformCursors(engine).get("telegram:1") == Cursor(42, frozenset({43, 44}))
    assert await cursors.get("telegram:2") == Cursor(7)


async def test_the_offset_survives_restarts_no_update_twice_none_skipped(tmp_path):
    url = f"sqlite:///{tmp_path / 'dreamface.db'}"
    async with FakeTelegram() as fake:
        users = [fake.user(f"u{i}", language_code="en") for i in range(3)]
        async with running_bot(fake, url, worker=False):
            await users[0].send("hello")
            await users[0].wait_for(lambda m: "Welcome" in m.words)
        # while the bot is down: two new users write, and the bot's last batch is pretend-half-done
        sent_while_down = [await users[1].send("hi"), await users[2].send("hi")]
        engine = create_engine(url)
        try:
            cursors = PlatformCursors(engine)
            name = f"telegram:{fake.bot_id}"
            # as if the bot had died after handling the second of these two updates
            await cursors.save(name, Cursor(sent_while_down[0], frozenset({sent_while_down[1]})))
            async with running_bot(fake, url, worker=False):
                await users[1].wait_for(lambda m: "Welcome" in m.words)
                await wait_until(lambda: not fake.pending_updates, 10)
                await asyncio.sleep(0.5)
            saved = await cursors.get(name)
        finally:
            await engine.dispose()
    assert [len(u.inbox()) for u in users] == [1, 1, 0], "handled once each; the one handled before the crash not again"
    assert saved == Cursor(sent_while_down[1] + 1)


# --- `dreamface bot telegram` as a process --------------------------------------------------------

@contextlib.contextmanager
def dreamface_process(workdir: Path, env: dict[str, str], *args: str, log_name: str) -> Iterator[subprocess.Popen]:
    """`dreamface <args>` in `workdir` with `env`; killed (SIGKILL) if still running at the end."""
    environment = process_env()
    environment.update({"PYTHONPATH": str(REPO), **env})
    with open(workdir / log_name, "w") as log:
        child = subprocess.Popen([sys.executable, "-m", "dreamface.cli", *args], cwd=workdir, env=environment,
                                 stdout=log, stderr=subprocess.STDOUT)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


async def test_results_made_while_the_bot_was_killed_arrive_once_after_a_restart(tmp_path):
    url = f"sqlite:///{tmp_path / 'dreamface.db'}"
    async with FakeTelegram() as fake:
        env = {**fake.env, "DREAMFACE_DATABASE_URL": url, "DREAMFACE_WORKER_POLL_SECONDS": "0.1"}
        user = fake.user("Kim", language_code="ko")
        with dreamface_process(tmp_path, env, "bot", "telegram", "--no-worker", log_name="bot1.log") as bot:
            await wait_until(lambda: fake.commands or bot.poll() is not None, 90,
                             lambda: (tmp_path / "bot1.log").read_text())
            await acknowledged(user)
            asked = await user.send("새 얼굴")
            progress = await user.wait_for(lambda m: m.photo is not None, timeout=30)
            assert progress.caption.startswith("지금은 얼굴 그리기가 잠시 멈춰 있어요"), progress.caption
            # the update is handled once its offset is saved (a kill just before would repeat it)
            engine = create_engine(url)
            try:
                cursors = PlatformCursors(engine)
                for _ in range(600):
                    if (await cursors.get(f"telegram:{fake.bot_id}")).was_handled(asked):
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError("the bot never finished handling the request")
            finally:
                await engine.dispose()
            bot.kill()   # SIGKILL: nothing is flushed, nothing said goodbye
        # the job runs (and its result waits in the outbox) while the bot is down
        with dreamface_process(tmp_path, env, "worker", log_name="worker.log") as worker:
            engine = create_engine(url)
            try:
                async def waiting() -> list[str]:
                    async with session_factory(engine)() as db:
                        return list((await db.execute(select(Delivery.state))).scalars())
                for _ in range(600):
                    if await waiting() == ["pending"] or worker.poll() is not None:
                        break
                    await asyncio.sleep(0.1)
                assert await waiting() == ["pending"], (tmp_path / "worker.log").read_text()
            finally:
                await engine.dispose()
        seen = len(user.inbox())
        placeholder = progress.photo
        with dreamface_process(tmp_path, env, "bot", "telegram", "--no-worker", log_name="bot2.log") as bot:
            await user.wait_for(lambda m: m.document is not None, after=seen, timeout=90)
            await asyncio.sleep(1.5)   # time for a repeat, if there were one
            bot.send_signal(signal.SIGINT)
            await asyncio.to_thread(bot.wait, 30)
        assert bot.returncode == 0, (tmp_path / "bot2.log").read_text()
    # the killed process's placeholder became the result: nothing is left saying "offline"
    assert progress.caption.startswith("#1: 새 얼굴이에요.\n무작위 얼굴 (시드 ") and progress.edits == ["editMessageMedia"]
    assert progress.photo != placeholder and progress.labels[:3] == ["눈", "코", "입"]
    assert [m.words for m in user.inbox()[seen:]] == [""], "the result in place, then its file, once"
    assert not any("꺼져 있어요" in m.words for m in user.inbox())


async def test_history_is_one_contact_sheet_with_a_button_per_face(telegram: Running):
    from PIL import Image
    import io
    minsu = telegram.fake.user("민수", language_code="ko")
    await acknowledged(minsu)
    count = len(minsu.inbox())
    await minsu.send("/new 5")
    first = await result_of(minsu, count)
    count = len(minsu.inbox())
    await minsu.press(first, "눈")
    grid = await result_of(minsu, count)
    count = len(minsu.inbox())
    await minsu.press(grid, "3")
    await result_of(minsu, count)

    count = len(minsu.inbox())
    await minsu.send("기록")
    history = await minsu.wait_for(lambda m: m.photo is not None and "내 얼굴" in m.words, after=count)
    assert history.caption.split("\n")[1:3] == ["#2 눈 3번 고르기 ← #1  ← 지금", "#1 새 얼굴"]
    assert [[b["text"] for b in row] for row in history.keyboard] == [["#2", "#1"]]
    sheet = Image.open(io.BytesIO(history.photo))
    assert sheet.width > sheet.height                  # the two faces side by side, numbered #2 and #1

    count = len(minsu.inbox())
    await minsu.press(history, "#1")
    back = await minsu.wait_for(lambda m: m.photo is not None, after=count)
    assert back.caption.startswith("#1로 왔어요") and "#1: 새 얼굴" in back.caption
    assert telegram.fake.rejected == []


def test_every_menu_command_without_arguments_is_understood_or_asks_for_them():
    """The Telegram menu's commands, tapped bare: each is a command, or for /describe and
    /morph a clear "needs an argument" reply; bare /lang gets a suggestion naming "lang en"."""
    from bot import commands as c
    from bot.grammar.parse import parse
    from bot.telegram.commands import COMMANDS, command_text
    bare = {command.name: parse(command_text(command.name, []), "en") for command in COMMANDS}
    assert isinstance(bare["words"], c.DescribeFace)
    assert isinstance(bare["describe"], c.InvalidArgument) and isinstance(bare["morph"], c.InvalidArgument)
    assert "lang en" in bare["lang"].suggestions
    assert all(not isinstance(parsed, (c.NotUnderstood, c.InvalidArgument)) for name, parsed in bare.items()
               if name not in {"describe", "morph", "lang"})
