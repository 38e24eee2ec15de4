"""Long polling with the update offset kept in the database.

Each getUpdates batch is handled before the next is asked for (asking with a higher offset is
what tells Telegram to forget the earlier updates), chats concurrently and each chat's
updates in order. The cursor is saved after every handled update, so a bot killed mid-batch
starts again from the first unhandled update and skips those it had finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError

from storage.platform_cursors import Cursor, PlatformCursors

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "callback_query")
POLL_TIMEOUT = 25          # seconds Telegram holds an empty getUpdates open
ERROR_PAUSE = (1.0, 30.0)  # first and longest pause after a failed getUpdates


def after_handling(cursor: Cursor, batch: Sequence[int], update_id: int) -> Cursor:
    """The cursor once `update_id` of `batch` (ids fetched together) has been handled too."""
    handled = cursor.handled | {update_id}
    pending = [u for u in batch if u not in handled and u >= cursor.position]
    position = min(pending) if pending else max(max(batch) + 1, cursor.position)
    return Cursor(position, frozenset(u for u in handled if u >= position))


class UpdatePoller:
    def __init__(self, bot: Bot, cursors: PlatformCursors, name: str,
                 handle: Callable[[Update], Awaitable[None]], *, poll_timeout: int = POLL_TIMEOUT) -> None:
        self.bot = bot
        self.cursors = cursors
        self.name = name              # the cursor's key, e.g. "telegram:<bot id>"
        self.handle = handle
        self.poll_timeout = poll_timeout
        self._cursor = Cursor()
        self._saving = asyncio.Lock()

    async def run(self, stop: asyncio.Event) -> None:
        """Poll and handle until `stop` is set; a batch being handled is finished first."""
        self._cursor = await self.cursors.get(self.name)
        pause = ERROR_PAUSE[0]
        while not stop.is_set():
            try:
                updates = await _unless_stopped(stop, self.bot.get_updates(
                    offset=self._cursor.position or None, timeout=self.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES))
            except InvalidToken:
                raise
            except (Conflict, NetworkError, TelegramError) as exc:
                log.warning("telegram: getUpdates failed (%s); again in %.0f s", exc, pause)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                pause = min(pause * 2, ERROR_PAUSE[1])
                continue
            if updates is None:
                return
            pause = ERROR_PAUSE[0]
            await self._handle_batch(updates)

    async def _handle_batch(self, updates: Sequence[Update]) -> None:
        batch = [u.update_id for u in updates]
        by_chat: dict[object, list[Update]] = defaultdict(list)
        for update in updates:
            if self._cursor.was_handled(update.update_id):
                continue   # finished before a restart
            chat = update.effective_chat
            by_chat[chat.id if chat else ("update", update.update_id)].append(update)

        async def one_chat(chat_updates: list[Update]) -> None:
            for update in chat_updates:
                await self.handle(update)
                await self._mark(batch, update.update_id)

        await asyncio.gather(*(one_chat(u) for u in by_chat.values()))
        if batch:
            await self._save(Cursor(max(max(batch) + 1, self._cursor.position)))

    async def _mark(self, batch: list[int], update_id: int) -> None:
        async with self._saving:
            self._cursor = after_handling(self._cursor, batch, update_id)
            await self.cursors.save(self.name, self._cursor)

    async def _save(self, cursor: Cursor) -> None:
        async with self._saving:
            if cursor != self._cursor:
                self._cursor = cursor
                await self.cursors.save(self.name, cursor)


async def _unless_stopped(stop: asyncio.Event, call: Awaitable):
    """The call's result, or None when `stop` is set first (the call is cancelled)."""
    task = asyncio.ensure_future(call)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None
