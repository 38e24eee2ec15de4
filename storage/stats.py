"""What operators read about the whole installation from the database: the queue backlog,
the outbox backlog, live processes and moderation activity. Read by /metrics and /readyz
(ground/metrics.py, dreamface/health.py) on every scrape, so each query stays on an index:
unfinished jobs and pending deliveries have partial indexes, and moderation events are few.
Finished jobs are deliberately not counted here (a scan of the whole table); workers count
them as they settle them.

Queued jobs are also kept per route, and live workers with the queues and routes they serve,
so readiness can be told per served style and a ready job no live worker may claim (its
model's workers are all down) is told apart from a stuck queue."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import queries as q
from storage.db import session_factory
from storage.models import UNFINISHED_STATES, Delivery, Heartbeat, Job, ModerationEvent
from storage.presence import split_list, takes_route


@dataclass(frozen=True)
class LiveWorker:
    queues: tuple[str, ...]     # the queues it claims from
    routes: tuple[str, ...]     # the job routes it serves; () every route

    def takes(self, queue: str, route: str | None) -> bool:
        """Whether it may claim a ready job of `queue` and `route`."""
        return queue in self.queues and takes_route(self.routes, route)


@dataclass(frozen=True)
class InstallationStats:
    unfinished_jobs: dict[tuple[str, str], int] = field(default_factory=dict)   # (kind, queued|running) → count
    oldest_ready_age: dict[str, float] = field(default_factory=dict)            # queue → seconds its oldest ready job waited
    pending_deliveries: dict[str, int] = field(default_factory=dict)            # platform → replies not yet sent
    live_processes: dict[str, int] = field(default_factory=dict)                # worker|chat → processes seen recently
    moderation_events: dict[str, int] = field(default_factory=dict)             # action → rows in the audit log
    queued_by_route: dict[str | None, int] = field(default_factory=dict)        # route (None: anyone's) → queued jobs
    oldest_ready_by_route: dict[tuple[str, str | None], float] = field(default_factory=dict)  # (queue, route) → seconds
    live_workers: tuple[LiveWorker, ...] = ()                                   # each worker seen recently

    def workers_serving(self, route: str) -> int:
        """Live workers that may claim jobs of `route` (a worker serving every route counts)."""
        return sum(takes_route(worker.routes, route) for worker in self.live_workers)

    def oldest_claimable_age(self) -> float:
        """How long the oldest ready job that some live worker may claim has waited (0: none): a
        job whose model no live worker serves is waiting for a worker, not stuck in the queue."""
        return max((age for (queue, route), age in self.oldest_ready_by_route.items()
                    if any(worker.takes(queue, route) for worker in self.live_workers)), default=0.0)


async def read_stats(engine: AsyncEngine, *, live_within: float = 60.0) -> InstallationStats:
    """One consistent-enough look (a few small queries in one read transaction)."""
    dialect = engine.dialect.name
    async with session_factory(engine)() as session:
        now = (await session.execute(q.NOW.for_dialect(dialect))).scalar_one()
        unfinished = (await session.execute(
            select(Job.kind, Job.state, Job.route, func.count()).where(Job.state.in_(UNFINISHED_STATES))
            .group_by(Job.kind, Job.state, Job.route))).all()
        oldest = (await session.execute(
            select(Job.queue, Job.route, func.min(Job.run_at)).where(Job.state == "queued", Job.run_at <= now)
            .group_by(Job.queue, Job.route))).all()
        pending = (await session.execute(
            select(Delivery.platform, func.count()).where(Delivery.state == "pending").group_by(Delivery.platform))).all()
        live = (await session.execute(   # one row per process: a few dozen at most
            select(Heartbeat.kind, Heartbeat.queues, Heartbeat.routes).where(Heartbeat.last_seen > now - live_within))).all()
        moderation = (await session.execute(
            select(ModerationEvent.action, func.count()).group_by(ModerationEvent.action))).all()
    jobs: dict[tuple[str, str], int] = {}
    queued: dict[str | None, int] = {}
    for kind, state, route, count in unfinished:
        jobs[(kind, state)] = jobs.get((kind, state), 0) + count
        if state == "queued":
            queued[route] = queued.get(route, 0) + count
    waited = {(queue, route): max(0.0, now - run_at) for queue, route, run_at in oldest}
    per_queue: dict[str, float] = {}
    for (queue, _route), age in waited.items():
        per_queue[queue] = max(age, per_queue.get(queue, 0.0))
    processes: dict[str, int] = {}
    for kind, _queues, _routes in live:
        processes[kind] = processes.get(kind, 0) + 1
    return InstallationStats(
        unfinished_jobs=jobs,
        oldest_ready_age=per_queue,
        pending_deliveries=dict(pending),
        live_processes=processes,
        moderation_events=dict(moderation),
        queued_by_route=queued,
        oldest_ready_by_route=waited,
        live_workers=tuple(LiveWorker(split_list(queues), split_list(routes))
                           for kind, queues, routes in live if kind == "worker"),
    )
