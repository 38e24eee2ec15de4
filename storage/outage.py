"""Which database errors mean "the database is unreachable for now" (or rolled this transaction
back to let another go on): long-running processes wait and retry on these instead of
crashing, and re-raise everything else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)
T = TypeVar("T")


# SQLSTATEs of a database that cannot be reached right now: class 08 (connection exception: the
# server closed the connection, or a new one failed on the way), and a server shutting down or
# starting (57P01–57P03)
UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")
# … and of a transaction the server rolled back so another could go on (a deadlock, a
# serialization failure): the same work succeeds when tried again. Seen in the topology test: a
# worker's lease heartbeat deadlocked with another worker rescuing a killed one's jobs, and the
# worker died of it.
TRY_AGAIN_SQLSTATES = ("40001", "40P01")


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE a driver error carries (asyncpg: `sqlstate`, psycopg: `pgcode`), found on the
    error, the DBAPI error it wraps, or what caused those."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 8:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        code = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(code, str):
            return code
        todo += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return None


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError):
        # a connection that broke under a statement is invalidated; one that broke while being
        # made (a restart, a proxy coming back) is not, and says so in its SQLSTATE
        code = _sqlstate(exc)
        return exc.connection_invalidated or (
            code is not None and code.startswith(UNAVAILABLE_SQLSTATES + TRY_AGAIN_SQLSTATES))
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
