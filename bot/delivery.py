"""One delivery-and-progress runtime for every chat platform. An adapter only translates: it
posts, edits and reopens messages on its platform (a `Surface`); this module owns the rest.

    a turn      the adapter hands a message to the core inside `turn(chat)` and posts the
                replies; a progress reply ("#3 in line") goes through `show`, which follows
                its job from then on
    progress    every `poll_seconds` the jobs followed are worded again by the core
                (Conversation.job_progress) and a changed status is edited into its message;
                lines after the status (a morph's shares) are kept
    results     the courier claims the platform's outbox deliveries; each is rendered by the
                core and handed to the surface with the job's progress message, which the
                first result replaces

Progress messages are remembered in the database where the platform can edit them later
(storage/progress_messages.py): after a restart, in another chat process, or once an edit
handle expires (a Discord interaction token), a result still replaces its message. Three races
are settled here: a result waits until the turn that posts its progress message is over
(`turn`); a result that went out with no progress message keeps a late one from being posted
(`show`); and where several processes share the platform, a job's results go out through the
process that answered its turn while that process lives (`answering`), since only it knows
when its progress message is posted and when its status edits land."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from bot.loops import repeat_until_stopped
from bot.messages import Incoming, Reply
from storage.courier import Courier
from storage.outbox import DeliveryFailed, DeliveryRecord, Routes
from storage.progress_messages import ProgressMessageRecord, ProgressMessageStore

if TYPE_CHECKING:
    from bot.conversation import Conversation

log = logging.getLogger(__name__)

TURN_WAIT_SECONDS = 10.0      # how long a result waits for the turn that posts its progress message
SEND_WAIT_SECONDS = 30.0      # …and for that message, once its posting has begun
RESULT_GRACE_SECONDS = 120.0  # a finished job's message waits this long for its result
FORGET_SECONDS = 3600.0       # a progress message followed this long is let go
# longest one result or progress edit may take to go out: past it the result is retried later
# (the web also drops the tab, bot/web/hub.py). Above the bot libraries' own upload timeouts
# (python-telegram-bot's is 20 s), so there it only catches a send that hangs.
SEND_TIMEOUT_SECONDS = 30.0


class MessageGone(Exception):
    """The platform can no longer edit this message (deleted, or its edit handle expired)."""


@dataclass
class Shown:
    """A progress message as the platform posted it."""
    edit: Callable[[str], Awaitable[bool]]   # re-word it in place; False: not now (rate limited), try again
    target: Any = None                       # what the surface's `deliver` needs to replace it with a result
    message_id: str | None = None            # kept in the database, to reopen the message later
    expires_at: float | None = None          # monotonic time after which `edit` stops working


class Surface:
    """What one platform does for the runtime; its adapter subclasses this."""
    platform: str

    def reopen(self, chat_id: str, message_id: str) -> Shown | None:
        """An earlier progress message, editable again through its chat (None: it cannot be)."""
        return None

    def following(self, chat_id: str) -> bool:
        """Whether progress in this chat is still worth wording (the web: a tab is open)."""
        return True

    async def accept(self, delivery: DeliveryRecord) -> None:
        """Before rendering: raise storage.outbox.DeliveryFailed if the delivery cannot go out now."""

    async def deliver(self, delivery: DeliveryRecord, replies: Sequence[Reply], shown: Shown | None) -> None:
        """Send a delivery's replies; `shown` is the job's progress message for the first one to
        replace. Raise storage.outbox.DeliveryFailed when it could not go out."""
        raise NotImplementedError


@dataclass
class _Followed:
    chat_id: str
    status: str                                   # the first line as last shown
    rest: tuple[str, ...]                         # the lines after it, kept through every update
    shown: Shown | None = None                    # None until posted (or if posting failed)
    posted: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    since: float = field(default_factory=time.monotonic)
    finished_at: float | None = None              # when the job was first seen finished, its result not yet here

    def text(self, status: str | None = None) -> str:
        return "\n".join((self.status if status is None else status, *self.rest))


def _split(text: str) -> tuple[str, tuple[str, ...]]:
    status, *rest = text.split("\n")
    return status, tuple(rest)


class Deliveries:
    def __init__(self, conversation: "Conversation", surface: Surface, *, routes: Routes | None = None,
                 store: ProgressMessageStore | None = None, poll_seconds: float = 0.5,
                 courier_poll_seconds: float = 0.5, send_timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        self.conversation = conversation
        self.surface = surface
        self.store = store
        self.poll_seconds = poll_seconds
        self.send_timeout = send_timeout
        self.courier = Courier(conversation.engine, routes or Routes(platforms=(surface.platform,)), self.send,
                               poll_seconds=courier_poll_seconds)
        self._followed: dict[int, _Followed] = {}
        self._answered: dict[int, float] = {}   # jobs whose result went out with no progress message
        self._turns: Counter[str] = Counter()  # chats with a turn being answered right now
        self._settled = asyncio.Condition()

    @property
    def following_jobs(self) -> frozenset[int]:
        return frozenset(self._followed)

    # --- running -------------------------------------------------------------------------------

    def start(self, stop: asyncio.Event) -> list[asyncio.Task]:
        """The courier and the progress loop as tasks ("<platform> courier", "<platform> progress"),
        running until `stop` (call `restore` first where progress messages are remembered)."""
        platform = self.surface.platform
        return [asyncio.create_task(self.courier.run(stop), name=f"{platform} courier"),
                asyncio.create_task(repeat_until_stopped(self.check_once, stop, self.poll_seconds, f"{platform} progress"),
                                    name=f"{platform} progress")]

    async def run(self, stop: asyncio.Event) -> None:
        """Restore, then deliver results and word progress until `stop`; a loop that dies raises here."""
        await self.restore()
        loops = self.start(stop)
        try:
            done, _ = await asyncio.wait(loops, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            stop.set()
            await asyncio.gather(*loops, return_exceptions=True)

    async def restore(self) -> None:
        """Follow the progress messages an earlier process posted (before any result arrives)."""
        if self.store is None:
            return
        live = await self.courier.presence.live("chat")   # their messages are theirs to edit
        for record in await self.store.shown(followed_by=live):
            followed = self._reopened(record)
            if followed is not None:
                self._followed.setdefault(record.job_id, followed)

    def _reopened(self, record: ProgressMessageRecord) -> _Followed | None:
        shown = self.surface.reopen(record.chat_id, str(record.message_id))
        if shown is None:
            return None
        status, rest = _split(record.text)
        followed = _Followed(record.chat_id, status, rest, shown)
        followed.posted.set()
        return followed

    # --- a turn ---------------------------------------------------------------------------------

    def answering(self, incoming: Incoming) -> Incoming:
        """`incoming` as this process answers it: the jobs its turn queues name this process, and
        no other process's courier claims their results while this one lives (storage/queries.py
        CLAIM_DELIVERIES), so each result waits for its progress message (`turn`) and no status
        edit lands on top of it."""
        return replace(incoming, process=self.courier.owner)

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: str) -> AsyncIterator[None]:
        """Around handing a message to the core and posting its replies: a result for this chat
        waits until the progress message it should replace has been posted."""
        self._turns[chat_id] += 1
        try:
            yield
        finally:
            async with self._settled:
                self._turns[chat_id] -= 1
                if not self._turns[chat_id]:
                    del self._turns[chat_id]
                self._settled.notify_all()

    async def show(self, chat_id: str, reply: Reply, post: Callable[[], Awaitable[Shown | None]], *,
                   always: bool = False) -> None:
        """Post a progress reply through `post` and follow its job. A job whose result already
        went out is not followed, nor posted unless `always` (a platform that must answer)."""
        if reply.job_id is None:
            await post()
            return
        if self._answered.pop(reply.job_id, None) is not None:
            if always:
                await post()
            return
        status, rest = _split(reply.text)
        followed = self._followed[reply.job_id] = _Followed(chat_id, status, rest)
        try:
            followed.shown = await post()
            if followed.shown is not None and followed.shown.message_id is not None and self.store is not None:
                # recorded at once: the only window left in which a kill strands the message (its
                # result then comes as a new one) is between the platform accepting it and this write
                await self.store.remember(reply.job_id, chat_id, followed.shown.message_id, reply.text,
                                          process=self.courier.owner)
        finally:
            followed.posted.set()

    # --- results --------------------------------------------------------------------------------

    async def send(self, delivery: DeliveryRecord) -> None:
        """The courier's send: render the delivery, then hand it to the platform with the job's
        progress message, held so that no status edit lands after the result."""
        await self.surface.accept(delivery)
        await self._turn_over(delivery.chat_id)
        replies = await self.conversation.render_delivery(delivery)
        job_id = next((reply.job_id for reply in replies if reply.job_id is not None), delivery.job_id)
        async with self._taken(job_id) as shown:
            try:
                await asyncio.wait_for(self.surface.deliver(delivery, replies, shown), self.send_timeout)
            except TimeoutError:
                log.warning("%s: delivery %s got no answer within %g s; it is sent again later",
                            self.surface.platform, delivery.id, self.send_timeout)
                raise DeliveryFailed(f"no answer within {self.send_timeout:g} s") from None

    async def _turn_over(self, chat_id: str) -> None:
        async with self._settled:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settled.wait_for(lambda: chat_id not in self._turns),
                                       TURN_WAIT_SECONDS)

    @contextlib.asynccontextmanager
    async def _taken(self, job_id: int | None) -> AsyncIterator[Shown | None]:
        followed = None if job_id is None else self._followed.pop(job_id, None)
        if followed is None and job_id is not None and self.store is not None:   # posted by another process?
            record = await self.store.get(job_id)
            followed = None if record is None else self._reopened(record)
        if followed is None:
            if job_id is not None:
                self._answered[job_id] = time.monotonic()
            yield None
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(followed.posted.wait(), SEND_WAIT_SECONDS)
        async with followed.lock:
            yield self._renewed(followed)
        if self.store is not None and job_id is not None:
            await self.store.forget(job_id)

    def _renewed(self, followed: _Followed) -> Shown | None:
        """The message's edit handle, reopened through its chat once it has expired."""
        shown = followed.shown
        if shown is None or shown.expires_at is None or time.monotonic() < shown.expires_at:
            return shown
        followed.shown = None if shown.message_id is None else self.surface.reopen(followed.chat_id, shown.message_id)
        return followed.shown

    # --- progress -------------------------------------------------------------------------------

    async def check_once(self) -> None:
        """Word the followed jobs again and edit the messages whose status changed."""
        now = time.monotonic()
        for job_id, followed in list(self._followed.items()):
            if (now - followed.since > FORGET_SECONDS or not self.surface.following(followed.chat_id)
                    or (followed.finished_at is not None and now - followed.finished_at > RESULT_GRACE_SECONDS)):
                del self._followed[job_id]
        for job_id, answered in list(self._answered.items()):
            if now - answered > FORGET_SECONDS:
                del self._answered[job_id]
        shown = sorted(job_id for job_id, followed in self._followed.items() if followed.shown is not None)
        if not shown:
            return
        edits = []
        for job_id, reply in (await self.conversation.job_progress(shown)).items():
            followed = self._followed.get(job_id)
            if followed is None:                 # the result arrived meanwhile
                continue
            if reply is None or reply.kind != "progress":
                followed.finished_at = followed.finished_at or now   # its result is on its way
            elif reply.text != followed.status:
                edits.append(self._edit(job_id, followed, reply.text))
        await asyncio.gather(*edits)   # each chat waits for its own rate limit only

    async def _edit(self, job_id: int, followed: _Followed, status: str) -> None:
        async with followed.lock:
            if self._followed.get(job_id) is not followed:   # the result took it meanwhile
                return
            shown = self._renewed(followed)
            try:
                if shown is None:
                    raise MessageGone("no longer editable")
                if await asyncio.wait_for(shown.edit(followed.text(status)), self.send_timeout):
                    followed.status = status
            except TimeoutError:   # kept: the next round tries again
                log.warning("%s progress: job %s's message took over %g s to edit", self.surface.platform, job_id,
                            self.send_timeout)
            except MessageGone as exc:
                log.info("%s progress: job %s's message is gone (%s)", self.surface.platform, job_id, exc)
                self._followed.pop(job_id, None)

    async def post_replies(self, chat_id: str, replies: Sequence[Reply],
                           post: Callable[[Reply], Awaitable[Shown | None]], *, always: bool = False) -> None:
        """Post a turn's replies in order, the progress ones followed (see `show`)."""
        for reply in replies:
            if reply.kind == "progress" and reply.job_id is not None:
                await self.show(chat_id, reply, lambda reply=reply: post(reply), always=always)
            else:
                await post(reply)
