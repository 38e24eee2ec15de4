"""Live job status: the progress message of a queued or running job is re-rendered by the core
("#3 in line" → "#1 in line" → "working…") and pushed to the user's tabs, which replace the
message in place. The result, arriving through the outbox, ends the watch."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.replies import say
from bot.loops import repeat_until_stopped
from bot.messages import Reply
from bot.web.hub import Hub
from bot.web.wire import reply_frame
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.presence import Presence
from storage.queue import Queue

# The current progress Reply of each job asked about; None for a job that has finished.
RenderProgress = Callable[[Sequence[int]], Awaitable[Mapping[int, Reply | None]]]

WORKING = {"ko": "지금 그리고 있어요…", "en": "Drawing it now…"}


def working(locale: str, progress: float | None) -> str:
    """The running job's line, with its percentage when the job reports one (photo inversion)."""
    return WORKING[locale] if progress is None else f"{WORKING[locale]} {int(progress * 100)}%"


def job_progress(engine: AsyncEngine, queue: Queue) -> RenderProgress:
    """Progress of jobs in their owners' languages: offline / #N in line / next (the core's
    words for a queued job), or working once a worker has it, with a percentage when the
    job reports how far it has got.

    The core words the first progress message (`Conversation._enqueue`) and has no public
    way to re-word it later; this mirrors its rule for queued jobs until it does. The first
    line of a progress message is its status; any lines after it (a morph's shares, say) are
    kept by the watcher."""
    presence, sessions = Presence(engine), session_factory(engine)
    locales: dict[int, str] = {}   # by user id; a job's owner is looked up once

    async def locale_of(user_id: int) -> str | None:
        if user_id not in locales:
            async with sessions() as session:
                user = await FaceRepository(session).get_user(user_id)
            if user is None:
                return None
            locales[user_id] = user.locale
        return locales[user_id]

    async def render(job_ids: Sequence[int]) -> dict[int, Reply | None]:
        live: dict[tuple[str, str | None], int] = {}   # live workers per queue and route, looked up once per call
        replies: dict[int, Reply | None] = {}
        for job_id in job_ids:
            job = await queue.get(job_id)
            locale = None if job is None or job.user_id is None else await locale_of(job.user_id)
            if job is None or locale is None or job.state not in ("queued", "running"):
                replies[job_id] = None
                continue
            if job.state == "running":
                text = working(locale, job.progress)
            else:
                serving = (job.queue, job.route)
                if serving not in live:
                    live[serving] = len(await presence.live("worker", serving=job.queue, route=job.route))
                if not live[serving]:
                    text = say(locale, "offline")
                else:
                    position = await queue.position(job_id, live_workers=live[serving])
                    place = None if position is None else position.place
                    text = say(locale, "queued", place=place) if place and place > 1 else say(locale, "queued_next")
            replies[job_id] = Reply(text, kind="progress", job_id=job_id)
        return replies

    return render


@dataclass
class _Watched:
    user_key: str
    status: str            # the first line of the message as last sent
    rest: tuple[str, ...]  # the lines after it, kept through every update


class ProgressWatcher:
    def __init__(self, render: RenderProgress, hub: Hub, *, poll_seconds: float = 0.5) -> None:
        self.render = render
        self.hub = hub
        self.poll_seconds = poll_seconds
        self._jobs: dict[int, _Watched] = {}

    @property
    def watching(self) -> frozenset[int]:
        return frozenset(self._jobs)

    def watch(self, user_key: str, reply: Reply) -> None:
        """Follow the job of a progress reply just sent to `user_key`."""
        if reply.job_id is not None:
            status, *rest = reply.text.split("\n")
            self._jobs[reply.job_id] = _Watched(user_key, status, tuple(rest))

    def finished(self, job_id: int) -> None:
        self._jobs.pop(job_id, None)

    async def run(self, stop: asyncio.Event) -> None:
        await repeat_until_stopped(self.check_once, stop, self.poll_seconds, "web progress")

    async def check_once(self) -> None:
        for job_id, watched in list(self._jobs.items()):
            if not self.hub.connected(watched.user_key):
                del self._jobs[job_id]   # a reconnecting tab gets the result from the outbox
        if not self._jobs:
            return
        replies = await self.render(sorted(self._jobs))
        for job_id, reply in replies.items():
            watched = self._jobs.get(job_id)
            if watched is None:                  # the result arrived meanwhile
                continue
            if reply is None or reply.kind != "progress":
                del self._jobs[job_id]
                continue
            if reply.text != watched.status:
                watched.status = reply.text
                text = "\n".join((reply.text, *watched.rest))
                await self.hub.send(watched.user_key, reply_frame(replace(reply, text=text)))
