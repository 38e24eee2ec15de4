"""`dreamface mod add NAME` and `dreamface mod list`: moderator accounts are made here, on the
server's command line, and nowhere else (no web route creates or changes one). And
`dreamface mod picture`: which face a picture shows, from the id in its provenance.

    dreamface mod add alice            asks for the password twice (hidden)
    echo "$PASSWORD" | dreamface mod add alice      reads it from stdin when that is not a terminal
    dreamface mod picture df-k3j9qa7fz2mcab12       or the file itself: dreamface mod picture face.jpg (or .png)

And blocks of networks on the web chat (storage/network_bans.py):

    dreamface mod block 203.0.113.0/24 --hours 24 --reason "identity farm"
    dreamface mod blocks               the blocks in force
    dreamface mod unblock 3            by the number `blocks` shows
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from bot.moderation.passwords import WeakPassword, check_password_rules, hash_password
from facegen.provenance import FACE_KEY, read_provenance
from ground.config import Settings
from storage.db import session_factory
from storage.network_bans import BadNetwork, BlockRecord, NetworkBans, parse_network
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
    block = sub.add_parser("block", help="close the web chat to an address or network (CIDR) for a time")
    block.add_argument("network", help="an address or network, e.g. 203.0.113.7 or 203.0.113.0/24 or 2001:db8::/48")
    block.add_argument("--hours", type=float, default=24.0, help="how long (default 24; at most a year)")
    block.add_argument("--reason", default="", help="why, for the audit log")
    block.set_defaults(func=block_command)
    blocks = sub.add_parser("blocks", help="list the network blocks in force")
    blocks.set_defaults(func=blocks_command)
    unblock = sub.add_parser("unblock", help="lift a network block (its number from `dreamface mod blocks`)")
    unblock.add_argument("block", type=int, help="the block's number")
    unblock.set_defaults(func=unblock_command)


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
    """The provenance id: read from the picture (PNG, JPEG or WebP) when `argument` names a
    file, else the argument."""
    path = Path(argument)
    if not path.is_file():
        return argument.strip()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    return read_provenance(data).get(FACE_KEY)   # none in a file that is no picture


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


# --- network blocks ---------------------------------------------------------------------------

CLI_ACTOR = "cli"   # who the audit log names for a block made on the server's command line


async def _in_session(settings: Settings, work):
    from storage.migrate import open_database
    engine = await open_database(settings)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await work(NetworkBans(session, CLI_ACTOR))
    finally:
        await engine.dispose()


def _show(block: BlockRecord) -> str:
    return f"{block.id}\t{block.target}\tuntil {block.until:%Y-%m-%d %H:%M} UTC\tby {block.actor}\t{block.reason}"


def block_command(args: argparse.Namespace) -> int:
    try:
        parse_network(args.network)
        hours = timedelta(hours=args.hours)
        block = asyncio.run(_in_session(Settings.from_env(),
                                        lambda bans: bans.block_network(args.network, hours, args.reason)))
    except (ValueError, OverflowError) as exc:   # BadNetwork, or --hours nan
        print(f"dreamface mod block: {exc}", file=sys.stderr)
        return 2
    print(f"blocked: {_show(block)}")
    return 0


def blocks_command(args: argparse.Namespace) -> int:
    for block in asyncio.run(_in_session(Settings.from_env(), lambda bans: bans.active())):
        print(_show(block))
    return 0


def unblock_command(args: argparse.Namespace) -> int:
    if not asyncio.run(_in_session(Settings.from_env(), lambda bans: bans.unblock(args.block))):
        print(f"dreamface mod unblock: no block {args.block} (see `dreamface mod blocks`)", file=sys.stderr)
        return 1
    print(f"block {args.block} lifted")
    return 0
