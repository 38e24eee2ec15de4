"""`dreamface db upgrade` and `dreamface db check`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from alembic.util import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ground.config import Settings
from storage.db import create_engine
from storage.migrate import UPGRADE_COMMAND, SchemaStatus, schema_status, upgrade_database


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="database schema: upgrade, check")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply pending migrations (safe to repeat)")
    upgrade.set_defaults(func=run_upgrade)
    check = db_commands.add_parser("check", help="print the current and needed revision; exit 1 if behind")
    check.set_defaults(func=run_check)


def run_upgrade(_args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        status = asyncio.run(_with_engine(settings, upgrade_database))
    except (CommandError, DBAPIError, OSError) as exc:  # unreachable, or migrated by a newer dreamface
        print(f"dreamface: cannot upgrade {_safe_url(settings)}: {exc}", file=sys.stderr)
        return 1
    print(f"{_safe_url(settings)}: schema at {status.current} (head)")
    return 0


def run_check(_args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        status = asyncio.run(_with_engine(settings, schema_status))
    except (DBAPIError, OSError) as exc:
        print(f"dreamface: cannot read {_safe_url(settings)}: {exc}", file=sys.stderr)
        return 1
    print(f"database: {_safe_url(settings)}")
    print(f"current:  {status.current or '(empty)'}")
    print(f"head:     {status.head}")
    if status.up_to_date:
        print("up to date")
        return 0
    if not status.known:
        print("the database was migrated by a newer dreamface")
    else:
        print(f"behind: run `{UPGRADE_COMMAND}`")
    return 1


async def _with_engine(settings: Settings, action) -> SchemaStatus:
    engine = create_engine(settings.database_url)
    try:
        return await action(engine)
    finally:
        await engine.dispose()


def _safe_url(settings: Settings) -> str:
    return make_url(settings.database_url).render_as_string(hide_password=True)
