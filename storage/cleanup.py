"""Periodic clean-up: expired photos, expired generations, ended moderator sessions, and blob
files that no row names (storage/blobs.py sweep_orphan_files, one part of the tree a period).

The scheduler (APScheduler, in every process that runs workers) only *enqueues*: one
`maintenance.cleanup` job per period, with the period's number as its dedupe key and its
start time as run_at, so however many processes enqueue it, one job waits for the period's
end and one worker runs it. The work itself is done by that worker, in short transactions.

    async with cleanup_scheduler(settings, engine):    # next to a worker
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine

from ground.config import Settings
from storage.blobs import BLOB_PARTS, sweep_orphan_files
from storage.jobkinds import JobKind, JobKinds
from storage.worker import Done
from storage.db import session_factory
from storage.moderation import SESSION_IDLE, ModeratorSessions
from storage.network_bans import NetworkBans
from storage.privacy import SWEEP_BATCH, expire_generations, sweep_uploads
from storage.queue import Enqueued, JobControl, JobRecord, Queue

log = logging.getLogger(__name__)

CLEANUP = "maintenance.cleanup"
TICK_GRACE_SECONDS = 5.0   # how long a stopping process lets a clean-up tick in flight finish
MAX_ROUNDS = 20   # batches of SWEEP_BATCH per kind of row in one run; the next period goes on


def _validate(payload: Mapping[str, Any]) -> dict[str, Any]:
    period = payload.get("period")
    if isinstance(period, bool) or not isinstance(period, int) or period < 0:
        raise ValueError(f"period must be a period number, got {period!r}")
    return {"period": period}


CLEANUP_KIND = JobKind(CLEANUP, _validate, max_attempts=1)


async def enqueue_cleanup(queue: Queue, period_seconds: float) -> Enqueued:
    """This period's clean-up job, queued to run when the period ends (or the one already queued)."""
    now = await queue.now()
    period = int(now // period_seconds)
    return await queue.enqueue(CLEANUP, {"period": period}, dedupe_key=f"{CLEANUP}:{period_seconds:g}:{period}",
                               run_after=(period + 1) * period_seconds - now, expires_in=period_seconds)


class Cleanup:
    """The handler of `maintenance.cleanup`."""

    def __init__(self, engine: AsyncEngine, *, photo_retention_seconds: float,
                 generation_retention_days: float) -> None:
        self.sessions = session_factory(engine)
        self.queue = JobControl(engine)   # for the database clock
        self.photo_retention_seconds = photo_retention_seconds
        self.generation_retention_days = generation_retention_days

    async def __call__(self, jobs: Sequence[JobRecord]) -> list[Done]:
        counts = await self.run(period=jobs[0].payload["period"])
        log.info("clean-up: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
        return [Done(counts) for _ in jobs]

    async def run(self, period: int = 0) -> dict[str, int]:
        """One clean-up; `period` (the job's period number) picks the part of the blob files swept."""
        now = await self.queue.now()
        counts = {"photos": 0, "faces": 0, "jobs": 0, "pictures": 0, "sessions": 0, "network_blocks": 0,
                  "orphan_files": 0}
        for _ in range(MAX_ROUNDS):
            async with self.sessions() as session, session.begin():
                swept = await sweep_uploads(session, now=now, retention_seconds=self.photo_retention_seconds)
            counts["photos"] += swept
            if swept < SWEEP_BATCH:
                break
        if self.generation_retention_days > 0:
            for _ in range(MAX_ROUNDS):
                async with self.sessions() as session, session.begin():
                    expired = await expire_generations(session, now=now, retention_days=self.generation_retention_days)
                counts["faces"] += expired.faces
                counts["jobs"] += expired.jobs
                counts["pictures"] += expired.pictures
                if expired.faces < SWEEP_BATCH and expired.jobs < SWEEP_BATCH:
                    break
        async with self.sessions() as session, session.begin():
            counts["sessions"] = await ModeratorSessions(session).end_expired(idle=SESSION_IDLE)
            counts["network_blocks"] = await NetworkBans(session).end_expired()
        async with self.sessions() as session:
            counts["orphan_files"] = await sweep_orphan_files(session, period % BLOB_PARTS)
        return counts


def handlers(settings: Settings, engine: AsyncEngine) -> dict[str, Any]:
    return {CLEANUP: Cleanup(engine, photo_retention_seconds=settings.photo_retention_seconds,
                             generation_retention_days=settings.generation_retention_days)}


@contextlib.asynccontextmanager
async def cleanup_scheduler(settings: Settings, engine: AsyncEngine) -> AsyncIterator[AsyncIOScheduler]:
    """Enqueue this period's clean-up now and then every tenth of a period (cheap: a
    deduplicated insert), so a process that starts late in a period still queues it.

    On leaving, no new tick starts and one in flight gets TICK_GRACE_SECONDS to finish; past
    that it is cancelled and ends quietly (the next tick, here or in another process, queues
    the job again), so the worker and the engine behind it stop with nothing half-done."""
    queue = Queue(engine, JobKinds({CLEANUP: CLEANUP_KIND}))
    period = settings.cleanup_period_seconds
    in_flight: set[asyncio.Task] = set()

    async def tick() -> None:
        task = asyncio.current_task()
        in_flight.add(task)
        try:
            await enqueue_cleanup(queue, period)
        except asyncio.CancelledError:   # only the shutdown below cancels a tick
            log.info("clean-up tick cancelled at shutdown; a later tick queues the job")
        except Exception as exc:   # the database may be down for a while; the next tick tries again
            log.warning("could not queue the clean-up job: %s: %s", type(exc).__name__, exc)
        finally:
            in_flight.discard(task)

    scheduler = AsyncIOScheduler()
    scheduler.add_job(tick, "interval", seconds=period / 10, next_run_time=datetime.now(timezone.utc), coalesce=True, max_instances=1)
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.pause()
        if in_flight:
            await asyncio.wait(set(in_flight), timeout=TICK_GRACE_SECONDS)
        still = set(in_flight)
        scheduler.shutdown(wait=False)   # cancels what is still running
        if still:
            await asyncio.wait(still)
