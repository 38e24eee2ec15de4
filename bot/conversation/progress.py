"""How a job's progress reads, in its owner's language: the one wording of the "on it" reply
the core answers with (`Conversation._enqueue`) and of every later re-wording of that message
(bot/delivery.py): the generator offline, #N in line, next, or drawing it now (with a
percentage when the job reports how far it has got, as a photo inversion does)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.replies import say
from bot.messages import Reply
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.presence import Presence
from storage.queue import JobControl, JobRecord


def working(locale: str, progress: float | None) -> str:
    """The running job's line, with its percentage when the job reports one."""
    return say(locale, "working") if progress is None else f"{say(locale, 'working')} {int(progress * 100)}%"


class ProgressWording:
    def __init__(self, engine: AsyncEngine, queue: JobControl) -> None:
        self.queue = queue
        self.presence = Presence(engine)
        self.sessions = session_factory(engine)
        self._locales: dict[int, str] = {}   # by user id; a job's owner is looked up once

    async def status(self, job: JobRecord, locale: str,
                     live: dict[tuple[str, str | None], int] | None = None) -> str:
        """The first line of the job's progress message. `live` caches the live workers per
        queue and route over one round of several jobs."""
        if job.state == "running":
            return working(locale, job.progress)
        return await self.in_line(job, locale, live)

    async def in_line(self, job: JobRecord, locale: str,
                      live: dict[tuple[str, str | None], int] | None = None) -> str:
        """Where a job waits: the generator offline, #N in line, or next. The core's first
        reply always says this ("on it"), even if a fast worker has already started the job."""
        live = {} if live is None else live
        serving = (job.queue, job.route)
        if serving not in live:
            live[serving] = len(await self.presence.live("worker", serving=job.queue, route=job.route))
        if not live[serving]:
            return say(locale, "offline")
        position = await self.queue.position(job.id, live_workers=live[serving])
        place = None if position is None else position.place
        return say(locale, "queued", place=place) if place and place > 1 else say(locale, "queued_next")

    async def replies(self, job_ids: Sequence[int]) -> dict[int, Reply | None]:
        """The current progress reply of each job; None for a job that has finished (or whose
        owner is gone)."""
        live: dict[tuple[str, str | None], int] = {}
        replies: dict[int, Reply | None] = {}
        for job_id in job_ids:
            job = await self.queue.get(job_id)
            locale = None if job is None or job.user_id is None else await self._locale_of(job.user_id)
            if job is None or locale is None or not job.unfinished:
                replies[job_id] = None
                continue
            replies[job_id] = Reply(await self.status(job, locale, live), kind="progress", job_id=job_id)
        return replies

    async def _locale_of(self, user_id: int) -> str | None:
        if user_id not in self._locales:
            async with self.sessions() as session:
                user = await FaceRepository(session).get_user(user_id)
            if user is None:
                return None
            self._locales[user_id] = user.locale
        return self._locales[user_id]
