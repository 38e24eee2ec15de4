"""Update cursors of chat platforms that are read as a stream (Telegram's getUpdates).

A cursor says which updates were handled: every id below `position`, plus the ids in
`handled` at or above it (updates of one batch finish out of order). A bot saves its cursor
after each update it handles and starts from it after a restart, so no update is handled
twice or skipped; only an update caught between its handling and that save can repeat.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import session_factory
from storage.models import PlatformCursor


@dataclass(frozen=True)
class Cursor:
    position: int = 0                        # every update below this was handled
    handled: frozenset[int] = frozenset()    # handled ids at or above `position`

    def was_handled(self, update_id: int) -> bool:
        return update_id < self.position or update_id in self.handled


class PlatformCursors:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)

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
