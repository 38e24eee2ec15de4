"""The Telegram bot on a webhook: the fake Bot API server (tests/bot/telegram_fake.py) POSTs
updates to the route dreamface serves, with the secret header, as Telegram does."""

from __future__ import annotations

import asyncio
import contextlib
import io
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from sqlalchemy import func, select

from bot.adapters import mount_webhooks
from bot.telegram.adapter import TelegramAdapter
from dreamface.app import App, open_app
from ground.config import Settings
from dreamface.run import RunOptions, serve
from storage.db import session_factory
from storage.models import User
from storage.platform_cursors import Cursor, PlatformCursors
from telegram_fake import FakeTelegram, wait_until
from test_telegram import RENDER_SIZE, acknowledged, dreamface_process, result_of
from web_process import free_port

SECRET = "s3cret_for-tests"
PATH = "/telegram/7f3a9c"


@dataclass
class WebhookBot:
    app: App
    url: str


def _free_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def webhook_bot(fake: FakeTelegram, database_url: str, *, worker: bool = True) -> AsyncIterator[WebhookBot]:
    """The bot on a webhook served by its own web server (as `dreamface bot telegram` does)."""
    sock = _free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}{PATH}"
    settings = Settings.from_env({**fake.env, "DREAMFACE_DATABASE_URL": database_url,
                                  "DREAMFACE_WORKER_POLL_SECONDS": "0.05",
                                  "DREAMFACE_TELEGRAM_WEBHOOK_URL": url, "DREAMFACE_TELEGRAM_WEBHOOK_SECRET": SECRET})
    web_app = web.Application()
    options = mount_webhooks(web_app, settings)
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        async with open_app(settings, with_worker=worker, size=RENDER_SIZE) as app:
            adapter = TelegramAdapter(settings, app, courier_poll_seconds=0.05, progress_poll_seconds=0.1,
                                      **options["telegram"])
            stop = asyncio.Event()
            task = asyncio.create_task(adapter.run(stop))
            try:
                await wait_until(lambda: (fake.webhook or {}).get("url") == url or task.done(), 30)
                if task.done():
                    task.result()
                yield WebhookBot(app, url)
            finally:
                stop.set()
                await task
    finally:
        await runner.cleanup()


async def test_a_session_over_a_webhook(migrated_database_url):
    async with FakeTelegram() as fake, webhook_bot(fake, migrated_database_url) as bot:
        assert fake.webhook == {"url": bot.url, "secret_token": SECRET, "allowed_updates": ["message", "callback_query"],
                                "drop_pending_updates": False}
        minsu = fake.user("민수", language_code="ko")
        await acknowledged(minsu)

        count = len(minsu.inbox())
        await minsu.send("/describe 눈이 크고 얼굴이 둥근 30대 남자")
        described = await result_of(minsu, count)
        assert described.caption.startswith("#1: 묘사한 얼굴")

        count = len(minsu.inbox())
        assert await minsu.answer(await minsu.press(described, "눈")) == ""
        grid = await result_of(minsu, count)
        assert "눈 후보" in grid.caption and grid.labels == [str(n) for n in range(1, 11)]

        count = len(minsu.inbox())
        await minsu.press(grid, "3")
        picked = await result_of(minsu, count)
        assert picked.caption.startswith("#2: #1에서 눈 3번을 골랐어요")

        assert not fake.pending_updates
        assert {status for _, status in fake.webhook_posts} == {200}
        assert [r for r in fake.requests if r.method in ("getUpdates", "deleteWebhook")] == []
        assert fake.rejected == []


async def test_a_post_without_the_secret_is_refused_and_nothing_is_handled(migrated_database_url):
    async with FakeTelegram() as fake, webhook_bot(fake, migrated_database_url) as bot:
        mallory = fake.user("Mallory", language_code="en")
        forged = fake.updates[await mallory.send("help", deliver=False)]
        assert await fake.post_update(forged, secret="not-the-secret") == 403
        assert await fake.post_update(forged, secret=None) == 403
        assert await fake.post_update(forged, secret=SECRET[:-1]) == 403
        await asyncio.sleep(0.5)
        assert mallory.inbox() == []
        async with session_factory(bot.app.engine)() as db:
            assert (await db.execute(select(func.count()).where(User.platform == "telegram"))).scalar_one() == 0
        assert not (await PlatformCursors(bot.app.engine).get(f"telegram:{fake.bot_id}")).was_handled(
            forged["update_id"])

        # the same update with the secret is Telegram's own: answered
        assert await fake.post_update(forged) == 200
        await mallory.wait_for(lambda m: m.words.startswith("Welcome!"))


async def test_an_update_posted_again_is_handled_once_even_by_another_process(migrated_database_url):
    async with FakeTelegram() as fake, webhook_bot(fake, migrated_database_url) as first:
        kim = fake.user("Kim", language_code="en")
        update = fake.updates[await kim.send("help")]
        await kim.wait_for(lambda m: m.words.startswith("Welcome!"))
        # Telegram missed the 200 and posts it again, here and to a second process behind the
        # same load balancer (the database is shared; the second one registers the webhook anew)
        async with webhook_bot(fake, migrated_database_url, worker=False) as second:
            statuses = await asyncio.gather(fake.post_update(update, url=first.url),
                                            fake.post_update(update, url=second.url),
                                            fake.post_update(update, url=second.url))
            assert statuses == [200, 200, 200]
            # a new update is handled by whichever process it reaches, once
            fresh = fake.updates[await kim.send("ok", deliver=False)]
            statuses = await asyncio.gather(fake.post_update(fresh, url=first.url),
                                            fake.post_update(fresh, url=second.url))
            assert statuses == [200, 200]
            await kim.wait_for(lambda m: m.words.startswith("Thanks!"))
            await kim.wait_for(lambda m: m.words.startswith("What I can do"))   # the help held by the notice
            await asyncio.sleep(1.0)   # time for a repeat, if there were one
        assert [m.words.split("\n")[0][:12] for m in kim.inbox()] == ["Welcome! Bef", "Thanks! Say ", "What I can d"]
        cursor = await PlatformCursors(first.app.engine).get(f"telegram:{fake.bot_id}")
        assert cursor.was_handled(update["update_id"]) and cursor.was_handled(fresh["update_id"])


async def test_switching_from_polling_to_a_webhook_repeats_nothing(migrated_database_url):
    """Updates long polling handled but had not yet confirmed to Telegram (no later getUpdates)
    come again through the webhook: the shared cursor drops them."""
    async with FakeTelegram() as fake:
        lee = fake.user("Lee", language_code="en")
        handled = await lee.send("help", deliver=False)
        async with webhook_bot(fake, migrated_database_url, worker=False) as bot:
            await PlatformCursors(bot.app.engine).save(f"telegram:{fake.bot_id}", Cursor(handled + 1))
            assert await fake.post_update(fake.updates[handled]) == 200
            await asyncio.sleep(0.5)
            assert lee.inbox() == []


async def test_claims_keep_a_bounded_window_of_ids(engine):
    cursors = PlatformCursors(engine)
    assert [await cursors.claim("t", u, keep=3) for u in (5, 7, 6, 7, 9, 10)] == [True, True, True, False, True, True]
    assert await cursors.get("t") == Cursor(7, frozenset({7, 9, 10}))
    assert not await cursors.claim("t", 6, keep=3)   # folded below the position: taken as handled
    assert await cursors.claim("t", 8, keep=3)


async def test_dreamface_run_serves_the_webhook_beside_the_web_chat(tmp_path):
    port = free_port()
    async with FakeTelegram() as fake:
        url = f"http://127.0.0.1:{port}{PATH}"
        settings = Settings.from_env({**fake.env, "DREAMFACE_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}",
                                      "DREAMFACE_TELEGRAM_WEBHOOK_URL": url,
                                      "DREAMFACE_TELEGRAM_WEBHOOK_SECRET": SECRET})
        stop, out = asyncio.Event(), io.StringIO()
        task = asyncio.create_task(serve(settings, RunOptions("127.0.0.1", port, secret_file=tmp_path / "k"),
                                         stop=stop, out=out))
        try:
            await wait_until(lambda: fake.webhook is not None or task.done(), 60, out.getvalue)
            assert fake.webhook["url"] == url
            ann = fake.user("Ann", language_code="en")
            await ann.send("help")
            await ann.wait_for(lambda m: m.words.startswith("Welcome!"))
            async with aiohttp.ClientSession() as client, client.get(f"http://127.0.0.1:{port}/") as page:
                assert page.status == 200   # the web chat, on the same port
        finally:
            stop.set()
            assert await task == 0, out.getvalue()


async def test_dreamface_bot_telegram_serves_the_webhook_on_the_web_port(tmp_path):
    port = free_port()
    async with FakeTelegram() as fake:
        url = f"http://127.0.0.1:{port}{PATH}"
        env = {**fake.env, "DREAMFACE_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}", "DREAMFACE_WEB_PORT": str(port),
               "DREAMFACE_TELEGRAM_WEBHOOK_URL": url, "DREAMFACE_TELEGRAM_WEBHOOK_SECRET": SECRET}
        with dreamface_process(tmp_path, env, "bot", "telegram", "--no-worker", log_name="bot.log") as bot:
            await wait_until(lambda: fake.webhook is not None or bot.poll() is not None, 90,
                             lambda: (tmp_path / "bot.log").read_text())
            ann = fake.user("Ann", language_code="en")
            await ann.send("help")
            await ann.wait_for(lambda m: m.words.startswith("Welcome!"))
            assert await fake.post_update(fake.updates[await ann.send("ok", deliver=False)], secret="guess") == 403
            bot.send_signal(signal.SIGINT)
            await asyncio.to_thread(bot.wait, 30)
        assert bot.returncode == 0, (tmp_path / "bot.log").read_text()
        assert fake.webhook["url"] == url, "stopping leaves the webhook set: Telegram keeps the updates meanwhile"
