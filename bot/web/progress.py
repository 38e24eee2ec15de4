"""Live job status: the progress message of a queued or running job is re-rendered by the core
("#3 in line" → "#1 in line" → "working…") and pushed to the user's tabs, which replace the
message in place. The result, arriving through the outbox, ends the watch."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.messages import Reply
from bot.web.hub import Hub
from bot.web.wire import reply_frame

log = logging.getLogger(__name__)

# The core's current progress Reply for a job, or None once the job has finished.
RenderProgress = Callable[[int], Awaitable[Reply | None]]


@dataclass
class _Watched:
    user_key: str
    text: str


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
            self._jobs[reply.job_id] = _Watched(user_key, reply.text)

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
            if reply.text != watched.text:
                watched.text = reply.text
                await self.hub.send(watched.user_key, reply_frame(reply))
