"""The websockets connected to this process, by user, and the outbox's way to reach them.

A user may have several tabs open: every frame for that user goes to all of them. Results of
jobs arrive through the delivery outbox; this process claims only the deliveries addressed to
users connected here (`routes`), so the courier must be told whenever that set changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from storage.outbox import DeliveryFailed, Routes
from storage.platforms import WEB as PLATFORM

log = logging.getLogger(__name__)

# Courier.run takes the platforms it listens for from its first routes, so the routes are never
# empty: this key stands for nobody (cookie keys are never empty).
NOBODY = ""


class Hub:
    def __init__(self) -> None:
        # each tab's socket, with the connection under it (to drop a tab that stopped reading)
        self._sockets: dict[str, dict[web.WebSocketResponse, asyncio.BaseTransport | None]] = {}
        self.on_change: Callable[[Routes], None] = lambda routes: None

    @property
    def users(self) -> tuple[str, ...]:
        return tuple(self._sockets)

    @property
    def routes(self) -> Routes:
        return Routes(targets=((PLATFORM, NOBODY),) + tuple((PLATFORM, user) for user in self._sockets))

    def connected(self, user_key: str) -> bool:
        return bool(self._sockets.get(user_key))

    def tabs(self, user_key: str) -> int:
        return len(self._sockets.get(user_key, ()))

    def add(self, user_key: str, socket: web.WebSocketResponse,
            transport: asyncio.BaseTransport | None = None) -> None:
        first = user_key not in self._sockets
        self._sockets.setdefault(user_key, {})[socket] = transport
        if first:
            self.on_change(self.routes)

    def remove(self, user_key: str, socket: web.WebSocketResponse) -> None:
        sockets = self._sockets.get(user_key)
        if sockets is None:
            return
        sockets.pop(socket, None)
        if not sockets:
            del self._sockets[user_key]
            self.on_change(self.routes)

    async def send(self, user_key: str, frame: dict[str, Any]) -> int:
        """Send a frame to every open tab of one user; returns how many took it."""
        tabs = [(s, t) for s, t in self._sockets.get(user_key, {}).items() if not s.closed]
        results = await asyncio.gather(*(self._send_to_tab(s, t, frame) for s, t in tabs), return_exceptions=True)
        sent = 0
        for result in results:
            if isinstance(result, (ConnectionError, RuntimeError)):   # the tab closed meanwhile
                log.info("web: a tab of a user went away while sending (%s)", result)
            elif isinstance(result, BaseException):
                raise result
            else:
                sent += 1
        return sent

    @staticmethod
    async def _send_to_tab(socket: web.WebSocketResponse, transport: asyncio.BaseTransport | None,
                           frame: dict[str, Any]) -> None:
        try:
            await socket.send_json(frame)
        except asyncio.CancelledError:
            # a send timeout (bot/delivery.py) gave up on a tab that stopped reading: part of the
            # frame may sit in its buffer, so the tab is dropped (abort: close() would wait for that
            # buffer to drain) and the result goes out again when the user reconnects
            if transport is not None and not transport.is_closing():
                log.warning("web: dropped a tab that took no frame in time (it stopped reading)")
                transport.abort()
            raise

    def require(self, user_key: str | None) -> None:
        """Raise DeliveryFailed (retried later) unless the user has a tab open here."""
        if not user_key or not self.connected(user_key):
            raise DeliveryFailed("the user is not connected to this web process")

    async def send_or_fail(self, user_key: str | None, frames: list[dict[str, Any]]) -> None:
        """For the courier: deliver or raise DeliveryFailed so the outbox retries (the user may
        reconnect, possibly to another process)."""
        self.require(user_key)
        for frame in frames:
            if await self.send(user_key, frame) == 0:
                raise DeliveryFailed("every tab of the user closed while sending")

    async def close_all(self, message: str) -> None:
        sockets = [s for tabs in self._sockets.values() for s in tabs]
        await asyncio.gather(*(s.close(code=1001, message=message.encode()) for s in sockets),
                             return_exceptions=True)
