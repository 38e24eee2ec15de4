"""A background check repeated until stop: what every adapter's live-progress watcher runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from storage.outage import is_unavailable

log = logging.getLogger(__name__)


async def repeat_until_stopped(step: Callable[[], Awaitable[None]], stop: asyncio.Event, every: float,
                               name: str) -> None:
    """Run `step` every `every` seconds until `stop` is set. A failing step is logged and tried
    again next round (live status is a courtesy; a database outage is only a warning)."""
    while not stop.is_set():
        try:
            await step()
        except Exception as exc:
            if is_unavailable(exc):
                log.warning("%s: database unavailable (%s)", name, type(exc).__name__)
            else:
                log.exception("%s: the check failed", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
