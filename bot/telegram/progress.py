"""Progress messages: one placeholder photo per job whose caption follows the job
("#3 in line" → "coming up" → "drawing it now") until the result replaces it.

The core words each state (bot.web.progress.job_progress renders them for any chat); this
module remembers which Telegram message shows which job, in memory and in the database
(storage/progress_messages.py): after a restart, or in another chat process, the result
still replaces its placeholder. A result can arrive through the outbox before its progress
message was even sent; `ProgressMessages` settles that race on the event loop: either the
result waits for the message and edits it, or the message is never sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from telegram import Bot
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.loops import repeat_until_stopped
from bot.messages import Reply
from bot.telegram.outgoing import placeholder_png
from bot.web.progress import RenderProgress
from storage.progress_messages import ProgressMessageRecord, ProgressMessageStore

log = logging.getLogger(__name__)

SEND_WAIT_SECONDS = 30.0      # how long a result waits for its progress message to be sent
FORGET_SECONDS = 3600.0       # a progress message whose result never came is forgotten


@dataclass
class ProgressMessage:
    chat_id: str
    status: str                          # the first line as last shown
    rest: tuple[str, ...]                # lines after it (a morph's shares), kept through updates
    message_id: int | None = None        # None until sent (or if sending failed)
    sent: asyncio.Event = field(default_factory=asyncio.Event)
    editing: asyncio.Lock = field(default_factory=asyncio.Lock)
    since: float = field(default_factory=time.monotonic)

    @property
    def caption(self) -> str:
        return "\n".join((self.status, *self.rest))

    @classmethod
    def sent_earlier(cls, record: ProgressMessageRecord) -> "ProgressMessage":
        """A progress message remembered in the database (sent by an earlier process)."""
        status, *rest = record.text.split("\n")
        entry = cls(record.chat_id, status, tuple(rest), int(record.message_id))
        entry.sent.set()
        return entry


class ProgressMessages:
    def __init__(self, bot: Bot, render: RenderProgress, store: ProgressMessageStore, *,
                 poll_seconds: float = 0.5) -> None:
        self.bot = bot
        self.render = render
        self.store = store
        self.poll_seconds = poll_seconds
        self._jobs: dict[int, ProgressMessage] = {}
        self._answered: dict[int, float] = {}   # jobs whose result went out with no progress message
        self._placeholder: str | bytes = placeholder_png()   # bytes until Telegram gives a file_id

    async def show(self, chat_id: str, reply: Reply) -> None:
        """Send a progress reply as a placeholder photo (unless its result already went out)."""
        assert reply.job_id is not None
        if self._answered.pop(reply.job_id, None) is not None:
            return
        status, *rest = reply.text.split("\n")
        entry = self._jobs[reply.job_id] = ProgressMessage(chat_id, status, tuple(rest))
        try:
            message = await self.bot.send_photo(chat_id, self._placeholder, caption=entry.caption,
                                                filename="dreamface-working.png")
            entry.message_id = message.message_id
            # recorded before anything else: the only window left in which a kill strands the
            # placeholder is between Telegram accepting it and this write
            await self.store.remember(reply.job_id, chat_id, message.message_id, reply.text)
            if isinstance(self._placeholder, bytes) and message.photo:
                self._placeholder = message.photo[-1].file_id
        finally:
            entry.sent.set()

    async def restore(self) -> None:
        """On start: follow the progress messages an earlier process sent (and left behind)."""
        for record in await self.store.shown():
            self._jobs.setdefault(record.job_id, ProgressMessage.sent_earlier(record))

    @contextlib.asynccontextmanager
    async def take(self, job_id: int | None):
        """For a job's result: the progress message to replace (None: send anew), held so no
        status edit lands after the result; forgotten once the result is out."""
        entry = None if job_id is None else self._jobs.pop(job_id, None)
        if entry is None and job_id is not None:   # sent by an earlier or another process?
            record = await self.store.get(job_id)
            entry = None if record is None else ProgressMessage.sent_earlier(record)
        if entry is None:
            if job_id is not None:
                self._answered[job_id] = time.monotonic()
            yield None
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(entry.sent.wait(), SEND_WAIT_SECONDS)
        async with entry.editing:
            yield entry if entry.message_id is not None else None
        await self.store.forget(job_id)

    async def run(self, stop: asyncio.Event) -> None:
        await repeat_until_stopped(self.check_once, stop, self.poll_seconds, "telegram progress")

    async def check_once(self) -> None:
        now = time.monotonic()
        for job_id, entry in list(self._jobs.items()):
            if now - entry.since > FORGET_SECONDS:
                del self._jobs[job_id]
        for job_id, answered in list(self._answered.items()):
            if now - answered > FORGET_SECONDS:
                del self._answered[job_id]
        shown = [job_id for job_id, entry in self._jobs.items() if entry.message_id is not None]
        if not shown:
            return
        changed = []
        for job_id, reply in (await self.render(shown)).items():
            entry = self._jobs.get(job_id)
            # a finished job keeps its entry: its result, on the way, replaces the message
            if entry is not None and reply is not None and reply.kind == "progress" and reply.text != entry.status:
                changed.append(self._edit(job_id, entry, reply.text))
        await asyncio.gather(*changed)   # each chat waits for its own rate limit only

    async def _edit(self, job_id: int, entry: ProgressMessage, status: str) -> None:
        async with entry.editing:
            if self._jobs.get(job_id) is entry:   # else the result took it meanwhile
                entry.status = status
                await self._send_edit(job_id, entry)

    async def _send_edit(self, job_id: int, entry: ProgressMessage) -> None:
        try:
            await self.bot.edit_message_caption(chat_id=entry.chat_id, message_id=entry.message_id,
                                                caption=entry.caption)
        except RetryAfter:
            entry.status = ""   # shown again next round
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.info("telegram progress: job %s message gone (%s)", job_id, exc.message)
                self._jobs.pop(job_id, None)
        except TelegramError as exc:
            log.warning("telegram progress: editing job %s failed: %s", job_id, exc)
