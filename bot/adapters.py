"""Chat platform adapters (Telegram, Discord) and how they are started.

An adapter translates between one platform and the conversation core; it is built from the
settings and the open start-up bundle (`dreamface.app.App`) and runs until `stop` is set,
delivering the outbox's replies for its platform meanwhile. `dreamface run` starts every
adapter whose token is set; `dreamface bot telegram` / `dreamface bot discord` run one alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from dreamface.config import Settings
from dreamface.logging import configure as configure_logging
from dreamface.serving import serve_until_signal

if TYPE_CHECKING:
    from dreamface.app import App

log = logging.getLogger(__name__)

# platform → (class path, the setting that enables it)
ADAPTERS = {
    "telegram": ("bot.telegram.adapter:TelegramAdapter", "telegram_token"),
    "discord": ("bot.discord.adapter:DiscordAdapter", "discord_token"),
}


class ChatAdapter(Protocol):
    platform: str

    async def run(self, stop: asyncio.Event) -> None:
        """Serve the platform until `stop` is set."""


def build_adapter(platform: str, settings: Settings, app: "App", **options: Any) -> ChatAdapter:
    path, _ = ADAPTERS[platform]
    module_name, class_name = path.split(":")
    return getattr(importlib.import_module(module_name), class_name)(settings, app, **options)


def mount_webhooks(web_app: web.Application, settings: Settings, platforms: list[str] | None = None
                   ) -> dict[str, dict[str, Any]]:
    """Serve the webhook routes of these platforms (default: the enabled ones) on `web_app`;
    returns the options that connect each adapter to its route. Only Telegram has one."""
    from bot.telegram.webhook import mount_webhook
    wanted = enabled_platforms(settings) if platforms is None else platforms
    inbox = mount_webhook(web_app, settings) if "telegram" in wanted else None
    return {} if inbox is None else {"telegram": {"webhook": inbox}}


def enabled_platforms(settings: Settings) -> list[str]:
    return [platform for platform, (_, token) in ADAPTERS.items() if getattr(settings, token)]


@contextlib.asynccontextmanager
async def running_adapters(settings: Settings, app: "App", platforms: list[str] | None = None,
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


# --- `dreamface bot telegram|discord` -----------------------------------------------------------

def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bot", help="run one chat platform's bot alone (with an in-process worker)")
    parser.add_argument("platform", choices=sorted(ADAPTERS))
    parser.add_argument("--no-worker", action="store_true", help="leave jobs to separate `dreamface worker` processes")
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    _, token = ADAPTERS[args.platform]
    if not getattr(settings, token):
        print(f"dreamface bot {args.platform}: set DREAMFACE_{token.upper()} first", file=sys.stderr)
        return 2
    configure_logging(settings)
    return serve_until_signal(lambda stop: _serve(settings, args.platform, stop, with_worker=not args.no_worker))


async def _serve(settings: Settings, platform: str, stop: asyncio.Event, *, with_worker: bool) -> int:
    from dreamface.app import open_app
    from storage.migrate import SchemaOutOfDate

    try:
        async with contextlib.AsyncExitStack() as stack:
            app = await stack.enter_async_context(open_app(settings, with_worker=with_worker))
            web_app = web.Application()   # the webhook routes, if any, on the web host and port
            options = mount_webhooks(web_app, settings, [platform])
            if options:
                await stack.enter_async_context(serving(web_app, settings.web_host, settings.web_port))
            await stack.enter_async_context(running_adapters(settings, app, [platform], options))
            log.info("dreamface %s bot running; Ctrl-C stops it", platform)
            await stop.wait()
    except SchemaOutOfDate as exc:
        print(f"dreamface bot {platform}: {exc}", file=sys.stderr)
        return 2
    return 0


@contextlib.asynccontextmanager
async def serving(web_app: web.Application, host: str, port: int) -> AsyncIterator[None]:
    runner = web.AppRunner(web_app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("serving webhooks on %s:%s", host, port)
        yield
    finally:
        await runner.cleanup()
