"""Wake-up hints for idle workers and chat processes: LISTEN/NOTIFY on PostgreSQL (its own
asyncpg connection, re-established after a loss), plain polling always, so a lost hint only
costs one poll interval. SQLite only polls."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0       # how often the listening connection is checked
RECONNECT_MAX_SECONDS = 10.0


class Wakeup:
    def __init__(self, engine: AsyncEngine, channel: str, poll_seconds: float,
                 wanted: Callable[[str], bool] = lambda payload: True) -> None:
        self.channel = channel
        self.poll_seconds = poll_seconds
        self.wanted = wanted
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._dsn = (engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                     if engine.dialect.name == "postgresql" else None)

    async def __aenter__(self) -> "Wakeup":
        if self._dsn is not None:
            self._task = asyncio.create_task(self._listen(), name=f"listen {self.channel}")
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def poke(self) -> None:
        self._event.set()

    async def wait(self) -> None:
        """Until a wanted notification arrives, `poke` is called, or a poll interval passes."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), self.poll_seconds)
        self._event.clear()

    def _on_notify(self, _connection, _pid, _channel, payload: str) -> None:
        if self.wanted(payload):
            self._event.set()

    async def _listen(self) -> None:
        import asyncpg
        delay = 0.5
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(self._dsn, timeout=5)
                await connection.add_listener(self.channel, self._on_notify)
                self._event.set()  # notifications sent while we were away are lost: look once
                delay = 0.5
                while not connection.is_closed():
                    await asyncio.sleep(CHECK_SECONDS)
                    await connection.execute("SELECT 1", timeout=5)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.info("listener for %s lost (%s); polling until it is back", self.channel, exc)
            finally:
                if connection is not None:
                    with contextlib.suppress(OSError, TimeoutError, asyncpg.InterfaceError):
                        await connection.close(timeout=1)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)
