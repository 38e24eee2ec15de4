"""`dreamface bot telegram|discord`: one chat platform's bot alone, with an in-process
worker unless --no-worker leaves jobs to separate `dreamface worker` processes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from pathlib import Path

from aiohttp import web

from bot.adapters import ADAPTERS, mount_webhooks, running_adapters
from bot.web.identity import load_or_create_secret
from dreamface.run import DEFAULT_SECRET_FILE, SECRET_FILE_HELP
from dreamface.health import ops_listener
from dreamface.serving import listening, serve_until_signal
from ground.config import Settings
from ground.logging import configure as configure_logging

log = logging.getLogger(__name__)

def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bot", help="run one chat platform's bot alone (with an in-process worker)")
    parser.add_argument("platform", choices=sorted(ADAPTERS))
    parser.add_argument("--no-worker", action="store_true", help="leave jobs to separate `dreamface worker` processes")
    parser.add_argument("--secret-file", type=Path, default=DEFAULT_SECRET_FILE, help=SECRET_FILE_HELP)
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    _, token = ADAPTERS[args.platform]
    if not getattr(settings, token):
        print(f"dreamface bot {args.platform}: set DREAMFACE_{token.upper()} first", file=sys.stderr)
        return 2
    configure_logging(settings)
    secret = load_or_create_secret(args.secret_file)
    return serve_until_signal(lambda stop: _serve(settings, args.platform, stop, with_worker=not args.no_worker,
                                                  secret=secret))


async def _serve(settings: Settings, platform: str, stop: asyncio.Event, *, with_worker: bool,
                 secret: bytes | None = None) -> int:
    from dreamface.app import open_app
    from storage.migrate import SchemaOutOfDate

    try:
        async with contextlib.AsyncExitStack() as stack:
            app = await stack.enter_async_context(open_app(settings, with_worker=with_worker, secret=secret))
            web_app = web.Application()   # the webhook routes, if any, on the web host and port
            options = mount_webhooks(web_app, settings, [platform])
            if options:
                await stack.enter_async_context(listening(web_app, settings.web_host, settings.web_port))
                log.info("serving webhooks on %s:%s", settings.web_host, settings.web_port)
            await stack.enter_async_context(ops_listener(settings, lambda _request: app.engine, _alive))
            await stack.enter_async_context(running_adapters(settings, app, [platform], options))
            log.info("dreamface %s bot running; Ctrl-C stops it", platform)
            await stop.wait()
    except SchemaOutOfDate as exc:
        print(f"dreamface bot {platform}: {exc}", file=sys.stderr)
        return 2
    return 0


async def _alive(request: web.Request) -> web.Response:
    """The bot's liveness on DREAMFACE_OPS_PORT: it answers while the process runs."""
    return web.json_response({"ok": True})
