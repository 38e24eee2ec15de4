"""Progress messages edited in place: a job's first reply ("#3 in line") is a message the
adapter can edit (an interaction's original response, a followup, or a plain message); the
board re-words it as the job moves (→ "#1 in line" → "working…") and hands it to the delivery
of the job's result, which replaces it with the face.

The board is memory only. After a restart results arrive as new messages, which is what the
outbox promises; only the live status of jobs already queued is lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import discord

from bot.discord.outgoing import Outgoing
from bot.loops import repeat_until_stopped
from bot.messages import Reply
from bot.web.progress import RenderProgress

log = logging.getLogger(__name__)

Edit = Callable[[Outgoing], Awaitable[None]]

# Discord accepts edits through an interaction's token for 15 minutes; stop a little earlier.
INTERACTION_EDIT_SECONDS = 14 * 60
# A finished job's message waits this long for its result (a job that ends without one lets go).
RESULT_GRACE_SECONDS = 120.0


@dataclass
class LiveMessage:
    """A message showing a job's progress, and how to edit it."""
    chat_id: str
    edit: Edit
    status: str                       # the first line as last shown
    rest: tuple[str, ...]             # lines after it (a morph's shares), kept through every update
    expires_at: float | None = None   # monotonic time after which `edit` stops working
    finished_at: float | None = None  # when the job was first seen finished, its result not yet here
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def usable(self) -> bool:
        return self.expires_at is None or time.monotonic() < self.expires_at


class ProgressBoard:
    def __init__(self, render: RenderProgress, *, poll_seconds: float = 1.0) -> None:
        self.render = render
        self.poll_seconds = poll_seconds
        self._live: dict[int, LiveMessage] = {}
        self._answering: Counter[str] = Counter()   # chats with a message being answered right now
        self._settled = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def answering(self, chat_id: str) -> AsyncIterator[None]:
        """Around handling a message and posting its replies: a result for this chat waits until
        the progress message it should replace is on the board."""
        self._answering[chat_id] += 1
        try:
            yield
        finally:
            async with self._settled:
                self._answering[chat_id] -= 1
                if not self._answering[chat_id]:
                    del self._answering[chat_id]
                self._settled.notify_all()

    async def settled(self, chat_id: str, timeout: float = 10.0) -> None:
        async with self._settled:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settled.wait_for(lambda: chat_id not in self._answering), timeout)

    def watch(self, chat_id: str, reply: Reply, edit: Edit, *, expires_in: float | None) -> None:
        """Follow the job of a progress reply just posted."""
        if reply.job_id is None:
            return
        status, *rest = reply.text.split("\n")
        expires_at = None if expires_in is None else time.monotonic() + expires_in
        self._live[reply.job_id] = LiveMessage(chat_id, edit, status, tuple(rest), expires_at)

    def take(self, job_id: int | None) -> LiveMessage | None:
        """The job's progress message, no longer watched (its result is about to replace it)."""
        live = None if job_id is None else self._live.pop(job_id, None)
        return live if live is not None and live.usable() else None

    @property
    def watching(self) -> frozenset[int]:
        return frozenset(self._live)

    async def run(self, stop: asyncio.Event) -> None:
        await repeat_until_stopped(self.check_once, stop, self.poll_seconds, "discord progress")

    async def check_once(self) -> None:
        now = time.monotonic()
        for job_id, live in list(self._live.items()):
            if not live.usable() or (live.finished_at is not None and now - live.finished_at > RESULT_GRACE_SECONDS):
                del self._live[job_id]
        if not self._live:
            return
        for job_id, reply in (await self.render(sorted(self._live))).items():
            live = self._live.get(job_id)
            if live is None:                     # the result arrived meanwhile
                continue
            if reply is None or reply.kind != "progress":
                live.finished_at = live.finished_at or now   # its result is on the way through the outbox
                continue
            if reply.text != live.status:
                async with live.lock:
                    if self._live.get(job_id) is not live:
                        continue
                    live.status = reply.text
                    try:
                        await live.edit(Outgoing("\n".join((reply.text, *live.rest))))
                    except discord.HTTPException as exc:   # deleted, or its token ran out
                        log.info("discord progress: job %s's message cannot be edited (%s)", job_id, exc)
                        self._live.pop(job_id, None)
