"""`dreamface chat`: the conversation in a terminal (bot/cli_chat.py), on the embedded
default or beside separate workers (--no-worker).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.cli_chat import terminal_session
from bot.web.identity import DEFAULT_SECRET_FILE, load_or_create_secret
from dreamface.serving import serve_until_signal
from facegen.backend import DEFAULT_SIZE, MAX_SIZE
from ground.config import Settings
from ground.logging import configure as configure_logging


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("chat", help="chat with dreamface in the terminal (JSON lines when piped)")
    parser.add_argument("--user", default=None, help="who you are (default: your login name)")
    parser.add_argument("--out", type=Path, default=Path("dreamface-out"), help="where images are written")
    parser.add_argument("--photo", type=Path, help="send this photo first")
    parser.add_argument("--lang", choices=("ko", "en"), default=None, help="language (default: Korean)")
    parser.add_argument("--no-worker", action="store_true", help="leave jobs to separate `dreamface worker` processes")
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help=f"picture side in pixels (64 to {MAX_SIZE})")
    parser.add_argument("--wait", type=float, default=300.0, help="most seconds to wait for one message's jobs")
    parser.add_argument("--secret-file", type=Path, default=None,
                        help="the server secret's file, to share owner keys with `dreamface run` (default: the "
                             f"./{DEFAULT_SECRET_FILE} of `dreamface run` when it exists, else a secret for this chat only)")
    parser.set_defaults(func=run_command)


def _secret(args: argparse.Namespace) -> bytes | None:
    """The terminal user's buttons are pressed here only, so a secret for this run does; a key
    file is read when there is one, and never created (the chat leaves no file behind)."""
    path = args.secret_file or DEFAULT_SECRET_FILE
    if args.secret_file is None and not path.exists():
        return None
    return load_or_create_secret(path)


def run_command(args: argparse.Namespace) -> int:
    if not 64 <= args.size <= MAX_SIZE:
        print(f"dreamface chat: --size must be between 64 and {MAX_SIZE}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    configure_logging(settings, minimum="WARNING")   # the terminal is the conversation; only problems interrupt it
    return serve_until_signal(lambda stop: _chat(settings, args, stop))


async def _chat(settings: Settings, args: argparse.Namespace, stop: asyncio.Event) -> int:
    from dreamface.app import open_app
    from storage.migrate import SchemaOutOfDate
    try:
        async with open_app(settings, with_worker=not args.no_worker, size=args.size, secret=_secret(args)) as app:
            await terminal_session(app, args, stop)
    except SchemaOutOfDate as exc:
        print(f"dreamface chat: {exc}", file=sys.stderr)
        return 2
    return 0
