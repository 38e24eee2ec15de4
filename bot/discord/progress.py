"""Progress messages edited in place: a job's first reply ("#3 in line") is a message the
adapter can edit (an interaction's original response, a followup, or a plain message); the
board re-words it as the job moves (→ "#1 in line" → "working…") and hands it to the delivery
of the job's result, which replaces it with the face.

Each progress message is also remembered in the database (storage/progress_messages.py) by
its channel and message id: once an interaction's token has run out (15 minutes), after a
restart, or in another chat process, the message is edited through the channel instead, so
the result still replaces it and no placeholder is left behind."""

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
from storage.progress_messages import ProgressMessageRecord, ProgressMessageStore

log = logging.getLogger(__name__)

Edit = Callable[[Outgoing], Awaitable[object]]
# How to edit a message later through its channel: (channel id, message id) → Edit.
Reopen = Callable[[str, int], Edit]


@dataclass(frozen=True)
class Posted:
    """A message the adapter posted: how to edit it now, and its id (None: unknown)."""
    edit: Edit
    message_id: int | None

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
    message_id: int | None = None     # for editing through the channel instead
    finished_at: float | None = None  # when the job was first seen finished, its result not yet here
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def usable(self) -> bool:
        return self.expires_at is None or time.monotonic() < self.expires_at


class ProgressBoard:
    def __init__(self, render: RenderProgress, store: ProgressMessageStore, reopen: Reopen, *,
                 poll_seconds: float = 1.0) -> None:
        self.render = render
        self.store = store
        self.reopen = reopen
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

    async def post(self, chat_id: str, reply: Reply, posting: Awaitable[Posted], *,
                   expires_in: float | None) -> None:
        """Post a progress reply (`posting` sends it) and follow its job, recorded in the database
        as soon as its id is known: the only window left in which a kill strands the placeholder
        (its result then comes as a new message) is between Discord accepting it and that write."""
        posted = await posting
        if reply.job_id is None:
            return
        status, *rest = reply.text.split("\n")
        expires_at = None if expires_in is None else time.monotonic() + expires_in
        self._live[reply.job_id] = LiveMessage(chat_id, posted.edit, status, tuple(rest), expires_at,
                                               posted.message_id)
        if posted.message_id is not None:
            await self.store.remember(reply.job_id, chat_id, posted.message_id, reply.text)

    async def restore(self) -> None:
        """On start: follow the progress messages an earlier process posted."""
        for record in await self.store.shown():
            self._live.setdefault(record.job_id, self._sent_earlier(record))

    def _sent_earlier(self, record: ProgressMessageRecord) -> LiveMessage:
        status, *rest = record.text.split("\n")
        message_id = int(record.message_id)
        return LiveMessage(record.chat_id, self.reopen(record.chat_id, message_id), status, tuple(rest),
                           message_id=message_id)

    async def take(self, job_id: int | None) -> LiveMessage | None:
        """The job's progress message, no longer watched (its result is about to replace it);
        call `forget` once the result is out."""
        if job_id is None:
            return None
        live = self._live.pop(job_id, None)
        if live is None:   # posted by an earlier or another process?
            record = await self.store.get(job_id)
            return None if record is None else self._sent_earlier(record)
        return live if self._renewed(live) else None

    async def forget(self, job_id: int | None) -> None:
        if job_id is not None:
            await self.store.forget(job_id)

    def _renewed(self, live: LiveMessage) -> bool:
        """Still editable: its interaction token works, or (once expired) through the channel."""
        if live.usable():
            return True
        if live.message_id is None:
            return False
        live.edit, live.expires_at = self.reopen(live.chat_id, live.message_id), None
        return True

    @property
    def watching(self) -> frozenset[int]:
        return frozenset(self._live)

    async def run(self, stop: asyncio.Event) -> None:
        await repeat_until_stopped(self.check_once, stop, self.poll_seconds, "discord progress")

    async def check_once(self) -> None:
        now = time.monotonic()
        for job_id, live in list(self._live.items()):
            if not self._renewed(live) or (live.finished_at is not None and now - live.finished_at > RESULT_GRACE_SECONDS):
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
