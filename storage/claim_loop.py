"""The loop a job worker and an outbox courier share: take a batch, handle it, and when there
was nothing to take wait for a wake-up; wait out database outages; stop loudly if the
heartbeat died of a real error; on the way out stop the heartbeat and forget the process's
presence."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from storage.outage import is_unavailable
from storage.presence import Presence
from storage.wakeup import Wakeup

log = logging.getLogger(__name__)


async def claim_until_stopped(stop: asyncio.Event, wakeup: Wakeup, take: Callable[[], Awaitable[int]], *,
                              heartbeat: Coroutine[Any, Any, None], presence: Presence, owner: str,
                              what: str) -> None:
    """Run `take()` (claim and handle one batch; returns how many it claimed) until `stop` is
    set. `owner` is the process's id in presence; `what` names the loop in logs."""
    beats = asyncio.create_task(heartbeat, name=f"{what} heartbeat")
    try:
        while not stop.is_set():
            if beats.done():
                beats.result()  # a heartbeat that died of a real error stops the loop loudly
            try:
                taken = await take()
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                log.warning("%s: database unavailable (%s)", what, type(exc).__name__)
                taken = 0
            if not taken:
                await wakeup.wait()
    finally:
        beats.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beats
        with contextlib.suppress(Exception):
            await presence.forget(owner)
