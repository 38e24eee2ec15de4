"""`dreamface worker`: the inference process. It builds the models it serves
(DREAMFACE_BACKEND), runs the generic worker runtime (storage/worker.py) with facegen's
handlers, announces its models with each heartbeat, runs the clean-up schedule, and serves
/healthz, /readyz and /metrics on DREAMFACE_WORKER_METRICS_PORT.

    dreamface worker [--queues default,slow] [--batch-size 8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncEngine

from dreamface.serving import serve_until_signal
from ground.config import Settings
from ground.logging import configure as configure_logging
from storage.worker import Worker

log = logging.getLogger(__name__)

def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("worker", help="run an inference worker: claim jobs, render, store results")
    parser.add_argument("--queues", help="comma-separated queues to serve (default: DREAMFACE_WORKER_QUEUES)")
    parser.add_argument("--batch-size", type=int,
                        help="jobs per batch to start with (default: DREAMFACE_WORKER_BATCH_SIZE)")
    parser.add_argument("--max-batch-size", type=int,
                        help="most jobs per batch; the batch adapts up to it (default: DREAMFACE_WORKER_MAX_BATCH_SIZE)")
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    queues = tuple(q.strip() for q in args.queues.split(",") if q.strip()) if args.queues else settings.queues
    configure_logging(settings)
    batch = (args.batch_size or settings.worker_batch_size, args.max_batch_size or settings.worker_max_batch_size)
    return serve_until_signal(lambda stop: _serve(settings, queues, batch, stop))


async def _serve(settings: Settings, queues: Sequence[str], batch: tuple[int, int], stop: asyncio.Event) -> int:
    from storage.migrate import SchemaOutOfDate, open_database
    try:
        engine = await open_database(settings)
    except SchemaOutOfDate as exc:
        print(f"dreamface worker: {exc}", file=sys.stderr)
        return 2
    from facegen.handlers import load, served, worker_routes   # (torch, where the model needs it, loads here)
    from storage.cleanup import cleanup_scheduler
    try:
        models = served(settings)
        worker = Worker(engine, load(settings, engine), queues=queues, batch_size=batch[0], max_batch_size=batch[1],
                        lease_seconds=settings.worker_lease_seconds, poll_seconds=settings.worker_poll_seconds,
                        **worker_routes(models))
        log.info("worker %s serving %s on %s", worker.id, ", ".join(f"{m.name} {m.model_id}" for m in models),
                 ", ".join(queues))
        loop_task = asyncio.create_task(worker.run(stop), name="worker loop")
        async with _ops_server(settings, engine, loop_task):
            # the scheduler stops first, then the worker finishes its batch, then the engine goes
            async with cleanup_scheduler(settings, engine):
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait({loop_task, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
            stop.set()
            await loop_task   # raises if the loop died
    finally:
        await engine.dispose()
    log.info("worker %s stopped", worker.id)
    return 0


@contextlib.asynccontextmanager
async def _ops_server(settings: Settings, engine: AsyncEngine,
                      loop_task: asyncio.Task) -> AsyncIterator[None]:
    """/healthz, /readyz and /metrics on DREAMFACE_WORKER_METRICS_PORT (nothing when it is 0)."""
    if not settings.worker_metrics_port:
        yield
        return
    from aiohttp import web
    from dreamface.health import WORKER_RULES, worker_ops_app
    rules = replace(WORKER_RULES, default_backend=settings.default_backend)
    runner = web.AppRunner(worker_ops_app(engine, loop_task, rules), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        # every interface: a metrics port is scraped from other machines (firewall it like the database)
        await web.TCPSite(runner, None, settings.worker_metrics_port).start()
        log.info("worker metrics on port %d", settings.worker_metrics_port)
        yield
    finally:
        await runner.cleanup()
