"""Live job status: the progress message of a queued or running job is re-rendered by the core
("#3 in line" → "#1 in line" → "working…") and pushed to the user's tabs, which replace the
message in place. The result, arriving through the outbox, ends the watch."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.replies import say
from bot.messages import Reply
from bot.web.hub import Hub
from bot.web.wire import reply_frame
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.presence import Presence
from storage.queue import Queue

log = logging.getLogger(__name__)

# The current progress Reply for a job, or None once the job has finished.
RenderProgress = Callable[[int], Awaitable[Reply | None]]

WORKING = {"ko": "지금 그리고 있어요…", "en": "Drawing it now…"}


def job_progress(engine: AsyncEngine, queue: Queue) -> RenderProgress:
    """Progress of a job in its owner's language: offline / #N in line / next (the core's
    words for a queued job), or working once a worker has it.

    The core words the first progress message (`Conversation._enqueue`) and has no public
    way to re-word it later; this mirrors its rule for queued jobs until it does. The first
    line of a progress message is its status; any lines after it (a morph's shares, say) are
    kept by the watcher."""
    presence, sessions = Presence(engine), session_factory(engine)

    async def render(job_id: int) -> Reply | None:
        job = await queue.get(job_id)
        if job is None or job.state not in ("queued", "running") or job.user_id is None:
            return None
        async with sessions() as session:
            user = await FaceRepository(session).get_user(job.user_id)
        if user is None:
            return None
        locale = user.locale
        if job.state == "running":
            return Reply(WORKING[locale], kind="progress", job_id=job_id)
        live = await presence.live("worker", serving=job.queue)
        if not live:
            text = say(locale, "offline")
        else:
            position = await queue.position(job_id, live_workers=len(live))
            place = None if position is None else position.place
            text = say(locale, "queued", place=place) if place and place > 1 else say(locale, "queued_next")
        return Reply(text, kind="progress", job_id=job_id)

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
        while not stop.is_set():
            await self.check_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_seconds)

    async def check_once(self) -> None:
        for job_id, watched in list(self._jobs.items()):
            if not self.hub.connected(watched.user_key):
                self._jobs.pop(job_id, None)   # a reconnecting tab gets the result from the outbox
                continue
            reply = await self.render(job_id)
            if job_id not in self._jobs:       # the result arrived meanwhile
                continue
            if reply is None or reply.kind != "progress":
                self._jobs.pop(job_id, None)
                continue
            if reply.text != watched.status:
                watched.status = reply.text
                text = "\n".join((reply.text, *watched.rest))
                await self.hub.send(watched.user_key, reply_frame(replace(reply, text=text)))
