"""`dreamface mod add NAME` and `dreamface mod list`: moderator accounts are made here, on the
server's command line, and nowhere else (no web route creates or changes one). And
`dreamface mod picture`: which face a picture shows, from the id in its provenance chunk.

    dreamface mod add alice            asks for the password twice (hidden)
    echo "$PASSWORD" | dreamface mod add alice      reads it from stdin when that is not a terminal
    dreamface mod picture df-k3j9qa7fz2mcab12       or the PNG file itself: dreamface mod picture face.png
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path
from typing import TextIO

from bot.moderation.passwords import WeakPassword, check_password_rules, hash_password
from facegen.provenance import FACE_KEY, read_provenance
from ground.config import Settings
from storage.db import session_factory
from storage.moderation import BadModeratorName, ModerationLog, ModeratorNameTaken, Moderators, check_moderator_name


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("mod", help="moderator accounts for the dashboard at /mod")
    sub = parser.add_subparsers(dest="mod_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="create a moderator (password from a prompt, or stdin when piped)")
    add.add_argument("name", help="2–32 lowercase letters, digits, '_', '.', '-'")
    add.set_defaults(func=add_command)
    listing = sub.add_parser("list", help="list moderators")
    listing.set_defaults(func=list_command)
    picture = sub.add_parser("picture", help="the face a picture shows: its provenance id (dreamface:face) or the PNG")
    picture.add_argument("picture", help="the id a picture carries (df-…), or a PNG file dreamface made")
    picture.set_defaults(func=picture_command)


def read_password(stdin: TextIO | None = None) -> str:
    """From a hidden prompt (asked twice) on a terminal, else the first line of stdin."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise WeakPassword("the two passwords differ")
        return first
    return stdin.readline().rstrip("\r\n")


def add_command(args: argparse.Namespace) -> int:
    try:
        check_moderator_name(args.name)
        password = read_password()
        check_password_rules(password)
    except (BadModeratorName, WeakPassword) as exc:
        print(f"dreamface mod add: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_add(Settings.from_env(), args.name, hash_password(password)))
    except ModeratorNameTaken as exc:
        print(f"dreamface mod add: {exc}", file=sys.stderr)
        return 1
    print(f"moderator {args.name} added; log in at /mod/ on the web chat's address")
    return 0


async def _add(settings: Settings, name: str, password_hash: str) -> None:
    from storage.migrate import open_database
    engine = await open_database(settings)
    try:
        async with session_factory(engine)() as session, session.begin():
            await Moderators(session).add(name, password_hash)
    finally:
        await engine.dispose()


def list_command(args: argparse.Namespace) -> int:
    for moderator in asyncio.run(_list(Settings.from_env())):
        last = moderator.last_login_at.strftime("%Y-%m-%d %H:%M") if moderator.last_login_at else "never"
        print(f"{moderator.name}\tadded {moderator.created_at:%Y-%m-%d}\tlast login {last}")
    return 0


async def _list(settings: Settings):
    from storage.migrate import open_database
    engine = await open_database(settings)
    try:
        async with session_factory(engine)() as session:
            return await Moderators(session).all()
    finally:
        await engine.dispose()


def picture_id(argument: str) -> str | None:
    """The provenance id: read from the PNG when `argument` names a file, else the argument."""
    path = Path(argument)
    if not path.is_file():
        return argument.strip()
    try:
        return read_provenance(path.read_bytes()).get(FACE_KEY)
    except (OSError, ValueError, SyntaxError) as exc:   # PIL raises SyntaxError for some broken PNGs
        raise ValueError(f"cannot read {path}: {exc}") from None


def picture_command(args: argparse.Namespace) -> int:
    try:
        wanted = picture_id(args.picture)
    except ValueError as exc:
        print(f"dreamface mod picture: {exc}", file=sys.stderr)
        return 2
    if not wanted:
        print(f"dreamface mod picture: {args.picture} carries no dreamface face id", file=sys.stderr)
        return 1
    entry = asyncio.run(_picture(Settings.from_env(), wanted))
    if entry is None:
        print(f"dreamface mod picture: no face carries {wanted!r} (deleted, or not made here)", file=sys.stderr)
        return 1
    print(f"face {entry.face_id}\tuser {entry.user_id} ({entry.platform}:{entry.platform_user_id}) #{entry.number}"
          f"\t{entry.operation}\tmade {entry.created_at:%Y-%m-%d %H:%M}\tdashboard /mod/faces/{entry.face_id}")
    return 0


async def _picture(settings: Settings, wanted: str):
    from storage.migrate import open_database
    engine = await open_database(settings)
    try:
        async with session_factory(engine)() as session:
            return await ModerationLog(session).face_by_picture_id(wanted)
    finally:
        await engine.dispose()
