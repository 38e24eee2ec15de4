"""What operators read about the whole installation from the database: the queue backlog,
the outbox backlog, live processes and moderation activity. Read by /metrics and /readyz
(dreamface/metrics.py, dreamface/health.py) on every scrape, so each query stays on an index:
unfinished jobs and pending deliveries have partial indexes, and moderation events are few.
Finished jobs are deliberately not counted here (a scan of the whole table); workers count
them as they settle them."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import queries as q
from storage.db import session_factory
from storage.models import Delivery, Heartbeat, Job, ModerationEvent


@dataclass(frozen=True)
class InstallationStats:
    unfinished_jobs: dict[tuple[str, str], int] = field(default_factory=dict)   # (kind, queued|running) → count
    oldest_ready_age: dict[str, float] = field(default_factory=dict)            # queue → seconds its oldest ready job waited
    pending_deliveries: dict[str, int] = field(default_factory=dict)            # platform → replies not yet sent
    live_processes: dict[str, int] = field(default_factory=dict)                # worker|chat → processes seen recently
    moderation_events: dict[str, int] = field(default_factory=dict)             # action → rows in the audit log


async def read_stats(engine: AsyncEngine, *, live_within: float = 60.0) -> InstallationStats:
    """One consistent-enough look (a few small queries in one read transaction)."""
    dialect = engine.dialect.name
    async with session_factory(engine)() as session:
        now = (await session.execute(q.NOW.for_dialect(dialect))).scalar_one()
        unfinished = (await session.execute(
            select(Job.kind, Job.state, func.count()).where(Job.state.in_(("queued", "running")))
            .group_by(Job.kind, Job.state))).all()
        oldest = (await session.execute(
            select(Job.queue, func.min(Job.run_at)).where(Job.state == "queued", Job.run_at <= now)
            .group_by(Job.queue))).all()
        pending = (await session.execute(
            select(Delivery.platform, func.count()).where(Delivery.state == "pending").group_by(Delivery.platform))).all()
        live = (await session.execute(
            select(Heartbeat.kind, func.count()).where(Heartbeat.last_seen > now - live_within)
            .group_by(Heartbeat.kind))).all()
        moderation = (await session.execute(
            select(ModerationEvent.action, func.count()).group_by(ModerationEvent.action))).all()
    return InstallationStats(
        unfinished_jobs={(kind, state): count for kind, state, count in unfinished},
        oldest_ready_age={queue: max(0.0, now - run_at) for queue, run_at in oldest},
        pending_deliveries=dict(pending),
        live_processes=dict(live),
        moderation_events=dict(moderation),
    )
