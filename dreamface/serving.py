"""Serving until a signal: how every long-running dreamface command (`run`, `chat`, `worker`,
`bot …`) waits for SIGINT or SIGTERM and then stops in order.

    def run_command(args) -> int:
        return serve_until_signal(lambda stop: serve(settings, stop))

`serve` runs until `stop` is set (by the first SIGINT or SIGTERM, or by the command itself,
e.g. at the end of its input) and then tears down what it opened, innermost first: the
clean-up scheduler, then the worker, then the database engine. A second signal while that
runs falls through to Python's default (SIGINT: KeyboardInterrupt, exit 130; SIGTERM: end),
so a stuck shutdown can still be ended by hand. Repeats within DUPLICATE_SECONDS of the first
are the same request delivered twice, not a second one: `make run` stopped with SIGTERM to its
process group gets it once from the sender and once more from make, which passes SIGTERM on.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
DUPLICATE_SECONDS = 1.0


def serve_until_signal(serve: Callable[[asyncio.Event], Awaitable[int]]) -> int:
    """Run `serve(stop)` on a new event loop; returns its exit status."""
    return asyncio.run(_with_stop_signals(serve))


async def _with_stop_signals(serve: Callable[[asyncio.Event], Awaitable[int]]) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    signalled = False

    def stop_once() -> None:
        nonlocal signalled
        if signalled:   # a repeat within the window: the same request again
            return
        signalled = True
        stop.set()
        loop.call_later(DUPLICATE_SECONDS, _restore_default_handlers, loop)

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop_once)
    try:
        return await serve(stop)
    finally:
        _restore_default_handlers(loop)


def _restore_default_handlers(loop: asyncio.AbstractEventLoop) -> None:
    for signum in STOP_SIGNALS:
        loop.remove_signal_handler(signum)


@contextlib.asynccontextmanager
async def listening(web_app: web.Application, host: str | None, port: int) -> AsyncIterator[None]:
    """`web_app` served on host:port for the length of the block (OSError: cannot listen there)."""
    runner = web.AppRunner(web_app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        yield
    finally:
        await runner.cleanup()
