"""Update cursors of chat platforms whose updates carry increasing ids (Telegram's).

A cursor says which updates were handled: every id below `position`, plus the ids in
`handled` at or above it (updates of one batch finish out of order). Long polling saves its
cursor after each update it handles and starts from it after a restart, so no update is
handled twice or skipped; only an update caught between its handling and that save can repeat.

Webhooks `claim` each update before handling it, in one transaction that locks the row: of
two processes handed the same update (Telegram retrying one whose answer it missed), only
one gets it. The same cursor serves both modes, so switching between them neither repeats
nor skips an update.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import session_factory
from storage.models import PlatformCursor


@dataclass(frozen=True)
class Cursor:
    position: int = 0                        # every update below this was handled
    handled: frozenset[int] = frozenset()    # handled ids at or above `position`

    def was_handled(self, update_id: int) -> bool:
        return update_id < self.position or update_id in self.handled

    def remembering(self, update_id: int, keep: int) -> "Cursor":
        """The cursor once `update_id` was handled too, keeping at most `keep` ids above
        `position`: the oldest are folded into it (ids arriving out of order lie close together)."""
        handled = sorted(self.handled | {update_id})
        if len(handled) <= keep:
            return Cursor(self.position, frozenset(handled))
        kept = handled[-keep:]
        return Cursor(max(self.position, kept[0]), frozenset(kept))


# Ids a webhook cursor keeps above its position. Telegram delivers a bot's updates in order,
# a few dozen at a time at most, so one older than the last 500 is no longer on its way.
WEBHOOK_KEEP = 500


class PlatformCursors:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    async def get(self, name: str) -> Cursor:
        """The saved cursor, or the start of the stream for a stream never read."""
        async with self._sessions() as session:
            row = (await session.execute(select(PlatformCursor).where(PlatformCursor.name == name))).scalar_one_or_none()
        return Cursor() if row is None else Cursor(row.position, frozenset(row.handled))

    async def save(self, name: str, cursor: Cursor) -> None:
        # One poller per stream writes its cursor (the platform refuses a second poller), so
        # merge's read-then-write needs no upsert.
        async with self._sessions() as session, session.begin():
            await session.merge(PlatformCursor(name=name, position=cursor.position, handled=sorted(cursor.handled)))

    async def claim(self, name: str, update_id: int, *, keep: int = WEBHOOK_KEEP) -> bool:
        """Mark one update handled; False if it already was (by this process or another)."""
        async with self._sessions() as session, session.begin():
            await session.execute(self._insert(PlatformCursor).values(name=name, position=0, handled=[])
                                  .on_conflict_do_nothing(index_elements=["name"]))
            # the row lock (PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers)
            row = (await session.execute(select(PlatformCursor).where(PlatformCursor.name == name)
                                         .with_for_update().execution_options(populate_existing=True))).scalar_one()
            cursor = Cursor(row.position, frozenset(row.handled))
            if cursor.was_handled(update_id):
                return False
            cursor = cursor.remembering(update_id, keep)
            row.position, row.handled = cursor.position, sorted(cursor.handled)
        return True
