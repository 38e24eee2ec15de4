"""The Telegram bot against a local Bot API server (tests/bot/telegram_fake.py), driven by
simulated users; python-telegram-bot runs unmodified, pointed at the fake with base_url."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.telegram.adapter import TelegramAdapter
from conftest import TESTDATA
from dreamface.app import App, open_app
from dreamface.config import Settings
from telegram_fake import BOT_USERNAME, FakeTelegram, SimUser, Shown, wait_until

RENDER_SIZE = 128   # the tests read captions and buttons, not pixels
OBAMA = (TESTDATA / "obama_official_portrait.jpg").read_bytes()


@dataclass
class Running:
    fake: FakeTelegram
    app: App


def _settings(fake: FakeTelegram, database_url: str) -> Settings:
    return Settings.from_env({**fake.env, "DREAMFACE_DATABASE_URL": database_url,
                              "DREAMFACE_WORKER_POLL_SECONDS": "0.05"})


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


async def result_of(user: SimUser, progress_index: int) -> Shown:
    """The first progress message (a placeholder photo) from `progress_index` of the inbox, once
    the result replaced it."""
    shown = await user.wait_for(lambda m: m.photo is not None, after=progress_index)
    await wait_until(lambda: "editMessageMedia" in shown.edits or "editMessageCaption" in shown.edits
                     and shown.keyboard, 30, lambda: f"still {shown.words!r} {shown.edits}")
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
    assert described.labels[:4] == ["눈", "코", "입", "변형"]
    assert described.edits[-1] == "editMessageMedia"
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
    assert back.caption.startswith("#4(으)로 되돌렸어요.\n#4: 합성했어요"), back.caption
    assert back.edits == []

    assert fake.rejected == [], "Telegram refused nothing"
    assert fake.throttled() == []
