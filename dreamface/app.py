"""The start-up bundle shared by `dreamface run` and `dreamface chat`: the database (migrated
or checked by the migration policy), the default gallery, the conversation core and, unless
jobs are left to separate `dreamface worker` processes, an in-process worker.

    async with open_app(settings, with_worker=True) as app:
        replies = await app.conversation.handle(incoming)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation import Conversation
from bot.conversation.moderators import Moderators
from bot.gallery import ensure_default_gallery
from ground.config import Settings
from ground.limits import Limits
from facegen.backend import DEFAULT_SIZE
from facegen.backends import load_backend
from storage.cleanup import cleanup_scheduler
from facegen.montage import MontageBackend
from storage.worker import Worker

log = logging.getLogger(__name__)
WORKER_QUEUES = ("default", "slow")


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    conversation: Conversation
    worker: Worker | None


@contextlib.asynccontextmanager
async def open_app(settings: Settings, *, with_worker: bool, size: int = DEFAULT_SIZE,
                   secret: bytes | None = None) -> AsyncIterator[App]:
    """Raises storage.migrate.SchemaOutOfDate for a PostgreSQL database that needs
    `dreamface db upgrade`. On leaving, the worker finishes its batch and stops. `secret`: the
    key file's secret (bot.web.identity.load_or_create_secret), which owner keys are HMACs
    under; None: a random one for this run."""
    from facegen import handlers
    from storage.migrate import open_database

    engine = await open_database(settings)
    stop = asyncio.Event()
    worker_task: asyncio.Task | None = None
    cleanup = contextlib.AsyncExitStack()
    try:
        conversation = Conversation(engine, default_backend=settings.default_backend, size=size,
                                    user_job_cap=settings.user_job_cap,
                                    job_expiry_seconds=settings.job_expiry_seconds,
                                    limits=Limits.from_settings(settings),
                                    moderators=Moderators.from_settings(settings), owner_secret=secret,
                                    web_url=settings.web_public_url, rank_pool=settings.rank_pool)
        await ensure_default_gallery(engine, MontageBackend())   # built in: drawn without any model file
        worker = None
        if with_worker:   # only a process that runs a worker loads a model (DREAMFACE_BACKEND)
            await ensure_default_gallery(engine, load_backend(settings.backend))
            worker = Worker(engine, handlers.load(settings, engine), queues=WORKER_QUEUES,
                            batch_size=settings.worker_batch_size,
                            max_batch_size=settings.worker_max_batch_size, lease_seconds=settings.worker_lease_seconds,
                            poll_seconds=settings.worker_poll_seconds,
                            **handlers.worker_routes(handlers.served(settings)))
            await worker.presence.beat(worker.process)   # online before the first message asks
            worker_task = asyncio.create_task(worker.run(stop), name="in-process worker")
            await cleanup.enter_async_context(cleanup_scheduler(settings, engine))   # queues the clean-up job
        yield App(settings, engine, conversation, worker)
    finally:
        await cleanup.aclose()
        stop.set()
        if worker_task is not None:
            try:
                await worker_task
            except Exception:
                log.exception("the in-process worker stopped with an error")
        await engine.dispose()
