"""Which database errors mean "the database is unreachable for now": long-running processes
wait and retry on these instead of crashing, and re-raise everything else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)
T = TypeVar("T")


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated
    return isinstance(exc, (OSError, TimeoutError))


async def retry_while_unavailable(call: Callable[[], Awaitable[T]], what: str, *,
                                  give_up_after: float | None = None) -> T:
    """Run `call` until it succeeds, waiting (0.2 s doubling to 5 s) while the database is
    unavailable; other errors propagate. With `give_up_after`, the last error is raised once
    that many seconds have passed."""
    loop = asyncio.get_running_loop()
    deadline = None if give_up_after is None else loop.time() + give_up_after
    delay = 0.2
    while True:
        try:
            return await call()
        except BaseException as exc:
            if not is_unavailable(exc) or (deadline is not None and loop.time() + delay > deadline):
                raise
            log.warning("%s: database unavailable (%s); retrying in %.1f s", what, type(exc).__name__, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)
