"""Which chat message shows a job's progress ("#3 in line…"), kept beside the job.

A chat adapter remembers the message when it sends it and takes it back when the result
replaces it. A bot restarted while jobs run reads the remembered ones again, so their
results still land in place and no placeholder is left saying "in line" forever. Each row
names the process that follows it: a process starting beside live ones takes over only the
messages of processes that are gone, so no two processes edit one message (a status edit
landing after another process's result would put the placeholder back over the face). A row goes
with its job (deleting a job, by retention or a user's erase, deletes it).
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import session_factory
from storage.models import Job, ShownProgress

KEEP_SECONDS = 24 * 3600.0   # a placeholder older than this is not worth editing any more


@dataclass(frozen=True)
class ProgressMessageRecord:
    job_id: int
    chat_id: str
    message_id: str
    text: str


class ProgressMessageStore:
    """One platform's remembered progress messages."""

    def __init__(self, engine: AsyncEngine, platform: str) -> None:
        self._sessions = session_factory(engine)
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self.platform = platform

    async def remember(self, job_id: int, chat_id: str, message_id: str | int, text: str,
                       process: str | None = None) -> None:
        values = dict(platform=self.platform, chat_id=chat_id, message_id=str(message_id), text=text,
                      created_at=time.time(), process=process)
        async with self._sessions() as session, session.begin():
            if await session.get(Job, job_id) is None:
                return   # the job is gone already (its user erased their data)
            await session.execute(self._insert(ShownProgress).values(job_id=job_id, **values)
                                  .on_conflict_do_update(index_elements=["job_id"], set_=values))

    async def get(self, job_id: int) -> ProgressMessageRecord | None:
        async with self._sessions() as session:
            row = await session.get(ShownProgress, job_id)
        if row is None or row.platform != self.platform:
            return None
        return ProgressMessageRecord(row.job_id, row.chat_id, row.message_id, row.text)

    async def forget(self, job_id: int) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(delete(ShownProgress).where(ShownProgress.job_id == job_id))

    async def shown(self, *, followed_by: Collection[str] = ()) -> list[ProgressMessageRecord]:
        """This platform's progress messages, oldest first, but those the live processes
        `followed_by` still follow; drops those too old to edit."""
        async with self._sessions() as session, session.begin():
            too_old = time.time() - KEEP_SECONDS
            await session.execute(delete(ShownProgress).where(ShownProgress.platform == self.platform,
                                                              ShownProgress.created_at < too_old))
            rows = (await session.execute(select(ShownProgress).where(ShownProgress.platform == self.platform)
                                          .order_by(ShownProgress.created_at))).scalars().all()
        return [ProgressMessageRecord(r.job_id, r.chat_id, r.message_id, r.text) for r in rows
                if r.process is None or r.process not in followed_by]
