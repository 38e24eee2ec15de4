"""Telegram webhooks: Telegram POSTs each update to DREAMFACE_TELEGRAM_WEBHOOK_URL, served at
that URL's path on dreamface's own web server (`dreamface run`'s web port; `dreamface bot
telegram` opens the same host and port for it).

    POST <path>  ─► secret checked (403) ─► update claimed in the database ─► 200
                                                 └─► handled in the background, each chat's updates in order

The route (`WebhookInbox`) exists from the web server's start; the adapter listens on it while
it runs, and until then the route answers 503, which Telegram retries. An update is claimed
in the update cursor (storage/platform_cursors.py) before the answer, so a repeat — Telegram
missed our 200 and posts it again, to this process or another behind the same load balancer —
is answered 200 and dropped. The price: an update whose process dies after the claim is lost,
as it would be once Telegram has its 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, Update

from bot.telegram.polling import ALLOWED_UPDATES
from ground.config import Settings
from storage.platform_cursors import PlatformCursors

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DRAIN_SECONDS = 30.0   # on stopping, how long updates already accepted may take to finish

Listener = Callable[[dict[str, Any]], Awaitable[None]]


def webhook_path(url: str) -> str:
    """The path the webhook is served at: the URL's own (a reverse proxy passes it through)."""
    return urlsplit(url).path or "/"


class WebhookInbox:
    """The HTTP side of the webhook: checks Telegram's secret, then hands the update over."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self._listener: Listener | None = None

    @contextlib.contextmanager
    def listening(self, listener: Listener) -> Iterator[None]:
        self._listener = listener
        try:
            yield
        finally:
            self._listener = None

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            raise web.HTTPForbidden(reason="wrong secret token")
        if self._listener is None:
            raise web.HTTPServiceUnavailable(reason="the Telegram bot is not running")
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(reason="not JSON") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(reason="not an update")
        await self._listener(body)
        return web.json_response({"ok": True})


def mount_webhook(app: web.Application, settings: Settings) -> WebhookInbox | None:
    """Serve the webhook route on `app` when Telegram is set up for webhooks; None otherwise."""
    if not (settings.telegram_token and settings.telegram_webhook_url):
        return None
    inbox = WebhookInbox(settings.telegram_webhook_secret)
    app.router.add_post(webhook_path(settings.telegram_webhook_url), inbox.handle)
    return inbox


class WebhookUpdates:
    """The adapter's side: registers the webhook with Telegram, then handles what arrives."""

    def __init__(self, bot: Bot, inbox: WebhookInbox, cursors: PlatformCursors, name: str,
                 handle: Callable[[Update], Awaitable[None]], *, url: str, secret: str) -> None:
        self.bot = bot
        self.inbox = inbox
        self.cursors = cursors
        self.name = name              # the cursor's key, shared with long polling
        self.handle = handle
        self.url = url
        self.secret = secret
        self._last: dict[object, asyncio.Task] = {}   # each chat's latest update being handled
        self._running: set[asyncio.Task] = set()

    async def run(self, stop: asyncio.Event) -> None:
        await self.bot.set_webhook(self.url, secret_token=self.secret, allowed_updates=ALLOWED_UPDATES,
                                   drop_pending_updates=False)
        with self.inbox.listening(self.receive):
            await stop.wait()
        if self._running:   # accepted (Telegram has its 200): finish them
            await asyncio.wait(self._running, timeout=DRAIN_SECONDS)

    async def receive(self, body: dict[str, Any]) -> None:
        update = Update.de_json(body, self.bot)
        if update is None or not await self.cursors.claim(self.name, update.update_id):
            return   # a repeat
        chat = update.effective_chat
        key = chat.id if chat else ("update", update.update_id)
        task = asyncio.create_task(self._after(self._last.get(key), update), name=f"telegram update {update.update_id}")
        self._last[key] = task
        self._running.add(task)
        task.add_done_callback(lambda t: self._done(key, t))

    async def _after(self, previous: asyncio.Task | None, update: Update) -> None:
        """Handle `update` once the chat's previous update was handled."""
        if previous is not None:
            await asyncio.wait([previous])
        try:
            await self.handle(update)
        except Exception:  # the application logs through its error handler; this is the rest
            log.exception("telegram: handling update %s failed", update.update_id)

    def _done(self, key: object, task: asyncio.Task) -> None:
        self._running.discard(task)
        if self._last.get(key) is task:
            del self._last[key]
