"""`dreamface run`: everything in one process — the database (the embedded SQLite file is
migrated on start; PostgreSQL must already be upgraded), an in-process worker, and the web chat.

    dreamface run [--no-worker] [--host H] [--port P] [--secret-file PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from dataclasses import dataclass, replace
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from aiohttp import web

from bot.adapters import mount_webhooks
from bot.moderation.app import DashboardConfig, mount_dashboard
from bot.web.app import CORE, WebConfig, create_app, liveness
from bot.web.identity import DEFAULT_SECRET_FILE, load_or_create_secret
from ground.config import Settings
from dreamface.health import chat_rules, mount_ops_routes, ops_listener
from ground.logging import configure as configure_logging
from dreamface.serving import serve_until_signal
from storage.db import is_sqlite

if TYPE_CHECKING:
    from dreamface.app import App

log = logging.getLogger(__name__)

SECRET_FILE_HELP = ("file holding the server secret: it signs browser identities and keys the owners of buttons; "
                    f"created on first run (default: ./{DEFAULT_SECRET_FILE}); give every chat process the same one")
# SQLite has no LISTEN/NOTIFY, so the worker and the courier find new work only by looking.
# Measured (bench/README.md): 0.5 s polls give a p50 of ~520 ms from message to image, 0.1 s
# gives ~120 ms for ~4% of one core while idle (0.05 s: ~110 ms for ~7%).
EMBEDDED_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class RunOptions:
    host: str
    port: int
    with_worker: bool = True
    secret_file: Path = DEFAULT_SECRET_FILE


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="start the web chat with its database and worker (the embedded default)")
    parser.add_argument("--no-worker", action="store_true",
                        help="run no in-process worker; jobs wait for separate `dreamface worker` processes")
    parser.add_argument("--host", help="address to listen on (default: DREAMFACE_WEB_HOST)")
    parser.add_argument("--port", type=int, help="port to listen on (default: DREAMFACE_WEB_PORT)")
    parser.add_argument("--secret-file", type=Path, default=DEFAULT_SECRET_FILE,
                        help=SECRET_FILE_HELP)
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    configure_logging(settings)
    options = RunOptions(host=args.host or settings.web_host, port=args.port or settings.web_port,
                         with_worker=not args.no_worker, secret_file=args.secret_file)
    return serve_until_signal(lambda stop: serve(settings, options, stop=stop))


def embedded_settings(settings: Settings) -> Settings:
    """On SQLite the in-process worker polls as often as the web courier does."""
    if not is_sqlite(settings.database_url):
        return settings
    return replace(settings, worker_poll_seconds=min(settings.worker_poll_seconds, EMBEDDED_POLL_SECONDS))


def web_config(settings: Settings, options: RunOptions) -> WebConfig:
    poll = EMBEDDED_POLL_SECONDS if is_sqlite(settings.database_url) else 0.5
    return WebConfig(secret=load_or_create_secret(options.secret_file), courier_poll_seconds=poll,
                     trusted_proxies=settings.trusted_proxy_networks,
                     identities_per_hour=settings.web_identities_per_hour, tabs_per_user=settings.web_tabs_per_user,
                     login=settings.web_login)


def dashboard_config(settings: Settings, secret: bytes) -> DashboardConfig:
    return DashboardConfig(secret=secret, login_max_failures=settings.mod_login_max_failures,
                           login_address_max_failures=settings.mod_login_address_max_failures,
                           login_delay_seconds=settings.mod_login_delay_seconds,
                           login_lockout_seconds=settings.mod_login_lockout_seconds,
                           hash_threads=settings.mod_login_hash_threads, hash_queue=settings.mod_login_hash_queue)


async def serve(settings: Settings, options: RunOptions, *, stop: asyncio.Event | None = None,
                out: TextIO = sys.stdout) -> int:
    """Serve until `stop` is set (`serve_until_signal` sets it on SIGINT/SIGTERM); returns the
    exit status."""
    from storage.migrate import SchemaOutOfDate

    settings = embedded_settings(settings)
    config = web_config(settings, options)
    app = create_app(config, lambda: _open_with_adapters(settings, options.with_worker, adapter_options,
                                                         config.secret))
    adapter_options = mount_webhooks(app, settings)   # Telegram's webhook, when configured
    mount_dashboard(app, dashboard_config(settings, config.secret), lambda: app[CORE].engine)
    mount_ops_routes(app, lambda request: request.app[CORE].engine, chat_rules(settings), settings.ops_token)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)

    async def healthz(_request: web.Request) -> web.Response:   # the chat's own, on DREAMFACE_OPS_PORT
        return liveness(app)

    try:
        await runner.setup()   # opens the database (migration policy), the worker and the courier
    except SchemaOutOfDate as exc:
        print(f"dreamface run: {exc}", file=sys.stderr)
        return 2
    try:
        site = web.TCPSite(runner, options.host, options.port)
        try:
            await site.start()
        except OSError as exc:
            print(f"dreamface run: cannot listen on {options.host}:{options.port} ({exc.strerror or exc}); "
                  "set DREAMFACE_WEB_PORT or --port to another port", file=sys.stderr)
            return 2
        async with contextlib.AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(ops_listener(settings, lambda _request: app[CORE].engine, healthz))
            except OSError as exc:
                print(f"dreamface run: cannot listen on {settings.ops_host}:{settings.ops_port} ({exc.strerror or exc}); "
                      "set DREAMFACE_OPS_PORT to another port", file=sys.stderr)
                return 2
            stop = stop or asyncio.Event()
            worker = "an in-process worker" if options.with_worker else "no worker (jobs wait for `dreamface worker`)"
            print(f"dreamface is running with {worker}.\n"
                  f"Open {page_url(options.host, options.port)} in a browser. Press Ctrl-C to stop.", file=out, flush=True)
            await stop.wait()
            print("dreamface: stopping…", file=out, flush=True)
    finally:
        await runner.cleanup()
    print("dreamface: stopped.", file=out, flush=True)
    return 0


@contextlib.asynccontextmanager
async def _open_with_adapters(settings: Settings, with_worker: bool, adapter_options: dict[str, dict],
                              secret: bytes) -> AsyncIterator["App"]:
    """The start-up bundle, with the Telegram and Discord bots whose tokens are set."""
    from bot.adapters import running_adapters
    from dreamface.app import open_app
    async with open_app(settings, with_worker=with_worker, secret=secret) as core, \
            running_adapters(settings, core, options=adapter_options):
        yield core


def page_url(host: str, port: int) -> str:
    """Where a browser on this machine opens the chat (a wildcard address means localhost)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"
