"""Chat platform adapters (Telegram, Discord) and how they are started.

An adapter translates between one platform and the conversation core; it is built from the
settings and a running chat side (`ChatCore`: the conversation core and its database) and runs
until `stop` is set, delivering the outbox's replies for its platform meanwhile. `dreamface
run` starts every adapter whose token is set; `dreamface bot telegram` / `dreamface bot
discord` (dreamface/bot.py) run one alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from ground.config import Settings
from storage.platforms import DISCORD, TELEGRAM

if TYPE_CHECKING:
    from bot.conversation import Conversation

log = logging.getLogger(__name__)

# platform → (class path, the setting that enables it)
ADAPTERS = {
    TELEGRAM: ("bot.telegram.adapter:TelegramAdapter", "telegram_token"),
    DISCORD: ("bot.discord.adapter:DiscordAdapter", "discord_token"),
}


class ChatCore(Protocol):
    """What an adapter needs of the running chat side (dreamface.app.App is one)."""

    @property
    def engine(self) -> AsyncEngine:
        """The database: the outbox its courier reads, the progress messages it keeps."""

    @property
    def conversation(self) -> "Conversation":
        """The conversation core every message and delivery goes through."""


class ChatAdapter(Protocol):
    platform: str

    async def run(self, stop: asyncio.Event) -> None:
        """Serve the platform until `stop` is set."""


def build_adapter(platform: str, settings: Settings, app: ChatCore, **options: Any) -> ChatAdapter:
    path, _ = ADAPTERS[platform]
    module_name, class_name = path.split(":")
    return getattr(importlib.import_module(module_name), class_name)(settings, app, **options)


def mount_webhooks(web_app: web.Application, settings: Settings, platforms: list[str] | None = None
                   ) -> dict[str, dict[str, Any]]:
    """Serve the webhook routes of these platforms (default: the enabled ones) on `web_app`;
    returns the options that connect each adapter to its route. Only Telegram has one."""
    from bot.telegram.webhook import mount_webhook
    wanted = enabled_platforms(settings) if platforms is None else platforms
    inbox = mount_webhook(web_app, settings) if TELEGRAM in wanted else None
    return {} if inbox is None else {TELEGRAM: {"webhook": inbox}}


def enabled_platforms(settings: Settings) -> list[str]:
    return [platform for platform, (_, token) in ADAPTERS.items() if getattr(settings, token)]


@contextlib.asynccontextmanager
async def running_adapters(settings: Settings, app: ChatCore, platforms: list[str] | None = None,
                           options: dict[str, dict[str, Any]] | None = None) -> AsyncIterator[list[ChatAdapter]]:
    """Run the adapters (default: those whose tokens are set) beside the caller; stop them on exit.
    `options` holds extra constructor arguments per platform (see `mount_webhooks`)."""
    options = options or {}
    adapters = [build_adapter(p, settings, app, **options.get(p, {}))
                for p in (enabled_platforms(settings) if platforms is None else platforms)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(a.run(stop), name=f"{a.platform} adapter") for a in adapters]
    try:
        yield adapters
    finally:
        stop.set()
        for adapter, task in zip(adapters, tasks):
            try:
                await task
            except Exception:
                log.exception("the %s adapter stopped with an error", adapter.platform)
