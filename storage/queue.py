"""The durable job queue (semantics of Oban / River / solid_queue) on SQLite or PostgreSQL.

    queued ──claim──► running ──finish(completed)──► done
       ▲                 │ ├──finish(failed / retryable after the last attempt)──► failed
       │                 │ └──finish(cancelled)──► cancelled
       └─retryable/released/lease rescued─┘
    queued ──cancel / expiry──► cancelled / failed

Every way out of `running` goes through one guarded write (queries.FINISH_JOB) built by the
named constructors of `Transition`; it applies only while the job is still running, owned by
the caller and on the same attempt, and it can carry the caller's own writes in the same
transaction (`Queue.finalize`). All times come from the database clock.

Round trips are the cost of a queue: on PostgreSQL, work that is one statement runs in
autocommit (the statement is its own transaction, no BEGIN and COMMIT), and enqueue is one
statement unless the job has a user or a crowd (then the user's row and the crowd are locked
first, see queries.LOCK_USER and LOCK_CROWD). SQLite always takes its write lock at BEGIN
(storage/db.py).

Waiting jobs run in fair turns (queries.JOB_ORDER): within a priority, every user's first
waiting job before anyone's second, so one user's burst delays others by one job per turn.

`JobControl` does everything but add jobs (run, cancel, read) and needs no job kinds: workers,
the clean-up, progress reports and the moderator dashboard hold one. `Queue` is a JobControl
that also enqueues, checking each payload against a kind registry (storage/jobkinds.py).
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, fields
from typing import Any, Protocol

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from ground.limits import Crowd
from storage import queries as q
from storage.db import session_factory
from storage.models import UNFINISHED_STATES

MAX_PAYLOAD_BYTES = 64 * 1024
DEFAULT_USER_JOB_CAP = 5
DEFAULT_EXPIRY_SECONDS = 600.0
RATE_WINDOW_SECONDS = 60.0   # the per-user rate (ground/limits.py) counts jobs created this recently
JOBS_CHANNEL = "dreamface_jobs"
ENQUEUE_TRIES = 3   # the insert is retried only when a dedupe key's holder finished in between


class JobRejected(ValueError):
    """Refused at enqueue: unknown kind, oversized payload or malformed parameters."""


class UserJobCapReached(Exception):
    """The user already has `limit` jobs queued or running."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"you already have {limit} requests waiting; wait for one to finish")
        self.limit = limit


class CrowdJobCapReached(Exception):
    """The user's crowd (the web users of one address, the users of one group chat) already has
    its cap of jobs queued or running."""

    def __init__(self, crowd: Crowd) -> None:
        where = "this address" if crowd.kind == "address" else "this chat"
        super().__init__(f"{crowd.cap} requests from {where} are already waiting; wait for one to finish")
        self.crowd = crowd
        self.limit = crowd.cap


class UserRateLimited(Exception):
    """The user already made `limit` jobs in the last `window` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        super().__init__(f"you made {limit} requests in the last {window:g} seconds; wait a moment")
        self.limit = limit
        self.window = window


class JobLost(Exception):
    """The job is no longer running under this worker (lease rescued, cancelled, finished):
    the finish and everything written with it were rolled back."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"job {job_id} is no longer running under this worker; nothing was written")
        self.job_id = job_id


class PreparedJob(Protocol):
    """What a kind registry (storage/jobkinds.py) makes of a validated payload."""
    payload: dict[str, Any]
    queue: str
    route: str | None          # the backend/model a worker must serve to claim it; None: any worker
    batch_key: str
    priority: int
    max_attempts: int


class KindRegistry(Protocol):
    def prepare(self, kind: str, payload: Mapping[str, Any]) -> PreparedJob:
        """Validate a payload for a kind; raise ValueError with a readable message when it is not acceptable."""


@dataclass(frozen=True)
class JobRecord:
    id: int
    kind: str
    queue: str
    route: str | None
    batch_key: str
    priority: int
    turn: int                       # fair turns: the user's 1st, 2nd, … waiting job (queries.JOB_ORDER)
    payload: dict[str, Any]
    state: str
    user_id: int | None
    dedupe_key: str | None
    attempt: int
    max_attempts: int
    run_at: float
    expires_at: float | None
    worker_id: str | None
    lease_expires_at: float | None
    cancel_requested: bool
    progress: float | None          # fraction done, for jobs that report it while running
    result: dict[str, Any] | None
    error: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None

    @classmethod
    def from_row(cls, row: Any) -> "JobRecord":
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})

    @property
    def unfinished(self) -> bool:
        """Queued or running: its user may still hear of its progress."""
        return self.state in UNFINISHED_STATES


@dataclass(frozen=True)
class Enqueued:
    id: int
    deduplicated: bool  # True: an unfinished job already held the dedupe key; this is its id


@dataclass(frozen=True)
class Lease:
    """Answer to a lease extension: which jobs are still ours and which of those should stop."""
    extended: frozenset[int]
    cancel_requested: frozenset[int]
    lost: frozenset[int]


@dataclass(frozen=True)
class Position:
    state: str
    place: int | None            # 1 = next in line; None once it left the line
    eta_seconds: float | None    # rough: place × recent run time ÷ live workers; None without history


def backoff(attempt: int, base: float = 2.0, cap: float = 600.0) -> float:
    """Seconds before retry number `attempt` (1-based): exponential, capped, with ±25 % jitter
    so jobs that failed together do not all come back together."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return delay * random.uniform(0.75, 1.25)


@dataclass(frozen=True)
class Transition:
    """A way out of `running`; build one with the named constructors."""
    state: str
    result: dict[str, Any] | None = None
    error: str | None = None
    delay: float = 0.0
    refund: int = 0  # 1: the attempt does not count (released at shutdown)

    @property
    def final(self) -> bool:
        return self.state != "queued"

    @classmethod
    def completed(cls, result: Mapping[str, Any] | None = None) -> "Transition":
        return cls("done", result=dict(result or {}))

    @classmethod
    def failed(cls, error: str) -> "Transition":
        return cls("failed", error=error)

    @classmethod
    def retryable(cls, job: JobRecord, error: str, delay: float | None = None,
                  base: float = 2.0) -> "Transition":
        """Back in line after a backoff, or failed when that was the last attempt."""
        if job.attempt >= job.max_attempts:
            return cls("failed", error=f"{error} (gave up after {job.attempt} attempts)")
        return cls("queued", error=error, delay=backoff(job.attempt, base) if delay is None else delay)

    @classmethod
    def cancelled(cls, reason: str = "cancelled") -> "Transition":
        return cls("cancelled", error=reason)

    @classmethod
    def released(cls) -> "Transition":
        """Back in line at once without counting the attempt (graceful shutdown)."""
        return cls("queued", refund=1)


class JobControl:
    """The jobs table without a kind registry: claim, lease, finish, cancel and read jobs."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._sessions = session_factory(engine)
        self._autocommit = (engine.execution_options(isolation_level="AUTOCOMMIT")
                            if self.dialect == "postgresql" else None)

    async def _run(self, connection: AsyncConnection | AsyncSession, query: q.Query, **params: Any):
        return await connection.execute(query.for_dialect(self.dialect), params)

    def _transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection inside a transaction (on SQLite one that holds the write lock)."""
        return self.engine.begin()

    def _statement(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection for work that is one statement: autocommit on PostgreSQL, where a
        statement is atomic on its own; a transaction on SQLite (see `_transaction`)."""
        return self._transaction() if self._autocommit is None else self._autocommit.connect()

    async def _rows(self, query: q.Query, **params: Any) -> list[Row]:
        async with self._statement() as connection:
            return (await self._run(connection, query, **params)).all()

    # --- claim, lease, finish ---------------------------------------------------------------

    async def claim(self, worker_id: str, queues: Sequence[str], limit: int,
                    lease_seconds: float, routes: Sequence[str] | None = None) -> list[JobRecord]:
        """Up to `limit` ready jobs of one batch key, now running under `worker_id`, best first
        (queries.JOB_ORDER: by priority, then fair turns).
        `routes`: the job routes this worker serves (jobs without a route are everyone's);
        None takes every route."""
        rows = await self._rows(q.CLAIM_JOBS, worker_id=worker_id, queues=list(queues), limit=limit,
                                lease_seconds=lease_seconds, any_route=routes is None, routes=list(routes or ()))
        jobs = [JobRecord.from_row(row) for row in rows]
        return sorted(jobs, key=lambda job: (job.priority, job.turn, job.run_at, job.id))

    async def extend(self, worker_id: str, job_ids: Sequence[int], lease_seconds: float) -> Lease:
        if not job_ids:
            return Lease(frozenset(), frozenset(), frozenset())
        rows = await self._rows(q.EXTEND_JOB_LEASES, worker_id=worker_id, ids=list(job_ids),
                                lease_seconds=lease_seconds)
        extended = frozenset(row.id for row in rows)
        return Lease(extended, frozenset(row.id for row in rows if row.cancel_requested),
                     frozenset(job_ids) - extended)

    @asynccontextmanager
    async def finalize(self, job: JobRecord, worker_id: str, transition: Transition) -> AsyncIterator[AsyncSession]:
        """Apply `transition` and yield the session so the caller's writes (face node, image,
        deliveries) commit in the same transaction. Raises JobLost, writing nothing, when the
        job is no longer running under this worker and attempt."""
        async with self._sessions() as session, session.begin():
            if not (await self._run(session, q.FINISH_JOB, **_finish_params(job, worker_id, transition))).first():
                raise JobLost(job.id)
            yield session

    @asynccontextmanager
    async def finalize_many(self, settled: Sequence[tuple[JobRecord, Transition]], worker_id: str
                            ) -> AsyncIterator[tuple[AsyncSession, frozenset[int]]]:
        """`finalize` for a batch in one transaction and one statement (queries.FINISH_JOBS): yields
        the session and the ids of the jobs that were still ours. The others (rescued or cancelled
        meanwhile) changed nothing, and the caller must not write their results."""
        outcomes = [_finish_params(job, worker_id, transition) for job, transition in settled]
        for row in outcomes:
            del row["worker_id"]
        async with self._sessions() as session, session.begin():
            rows = await self._run(session, q.FINISH_JOBS, worker_id=worker_id,
                                   outcomes=json.dumps(outcomes, separators=(",", ":")))
            yield session, frozenset(row.id for row in rows)

    async def finish(self, job: JobRecord, worker_id: str, transition: Transition) -> bool:
        """`finalize` without extra writes (one statement); False when the job was no longer ours."""
        return bool(await self._rows(q.FINISH_JOB, **_finish_params(job, worker_id, transition)))

    async def report_progress(self, job: JobRecord, worker_id: str, fraction: float) -> bool:
        """Record the fraction done of a running job (clamped to [0, 1]); False when the job is
        no longer running under this worker and attempt, and then nothing is written."""
        fraction = min(1.0, max(0.0, float(fraction)))
        return bool(await self._rows(q.SET_JOB_PROGRESS, id=job.id, worker_id=worker_id, attempt=job.attempt,
                                     progress=fraction))

    async def cancel(self, job_id: int, reason: str = "cancelled by the user") -> str | None:
        """'cancelled' (was queued), 'running' (its worker stops at the next heartbeat) or None
        (already finished or unknown)."""
        rows = await self._rows(q.CANCEL_JOB, id=job_id, reason=reason)
        return rows[0].state if rows else None

    async def cancel_user_jobs(self, user_id: int, reason: str = "cancelled by the user") -> int:
        """Cancel every queued or running job of a user, as `cancel` does one; returns how many."""
        return len(await self._rows(q.CANCEL_USER_JOBS, user_id=user_id, reason=reason))

    # --- periodic duties: single idempotent statements, safe from any number of processes ---

    async def rescue_expired(self) -> list[int]:
        """Put jobs whose worker stopped responding back in line; that worker stops counting as
        up at once (not a heartbeat window later), so its style's requests hear "offline"."""
        async with self._transaction() as connection:
            owners = [row.worker_id for row in await self._run(connection, q.EXPIRED_LEASE_OWNERS)]
            rows = (await self._run(connection, q.RESCUE_EXPIRED_JOBS,
                                    reason="lease expired: the worker stopped responding")).all()
            if owners:
                await self._run(connection, q.FORGET_PROCESSES, ids=owners)
        return [row.id for row in rows]

    async def expire_stale(self) -> list[int]:
        rows = await self._rows(q.EXPIRE_STALE_JOBS, reason="expired: no worker started it in time")
        return [row.id for row in rows]

    # --- reading ----------------------------------------------------------------------------

    async def get(self, job_id: int) -> JobRecord | None:
        rows = await self._rows(q.JOB_BY_ID, id=job_id)
        return JobRecord.from_row(rows[0]) if rows else None

    async def position(self, job_id: int, live_workers: int = 1) -> Position | None:
        """Place in line (1 = next) and a rough wait, for a "you are #3 in line" reply: the
        queued jobs of its queue and route that run before it (queries.JOBS_AHEAD). Jobs queued
        later can only go ahead of a user's second or later job, never of their first."""
        async with self._statement() as connection:
            row = (await self._run(connection, q.JOB_BY_ID, id=job_id)).first()
            if row is None:
                return None
            if row.state != "queued":
                return Position(row.state, None, None)
            place = 1 + (await self._run(connection, q.JOBS_AHEAD, id=job_id)).scalar_one()
            mean = (await self._run(connection, q.RECENT_RUN_SECONDS, queue=row.queue)).scalar()
        eta = None if mean is None else place * float(mean) / max(1, live_workers)
        return Position("queued", place, eta)

    async def now(self) -> float:
        """The database clock."""
        [(now,)] = await self._rows(q.NOW)
        return float(now)


class Queue(JobControl):
    """A JobControl that also adds jobs, each checked by its kind in `kinds`, within the
    per-user cap and rate and the cap of the user's crowd, each in its fair turn."""

    def __init__(self, engine: AsyncEngine, kinds: KindRegistry, *,
                 user_job_cap: int = DEFAULT_USER_JOB_CAP,
                 user_rate_per_minute: int = 0,   # 0: no rate limit
                 expiry_seconds: float | None = DEFAULT_EXPIRY_SECONDS) -> None:
        super().__init__(engine)
        self.kinds = kinds
        self.user_job_cap = user_job_cap
        self.user_rate_per_minute = user_rate_per_minute
        self.expiry_seconds = expiry_seconds

    async def enqueue(self, kind: str, payload: Mapping[str, Any], *, user_id: int | None = None,
                      dedupe_key: str | None = None, run_after: float = 0.0,
                      expires_in: float | None = None, priority: int | None = None,
                      max_attempts: int | None = None, crowd: Crowd | None = None) -> Enqueued:
        """Queue a job. Raises JobRejected for bad input, UserJobCapReached over the cap,
        CrowdJobCapReached when `crowd` (the web users of the sender's address, the users of
        their group chat) already has its cap of unfinished jobs, and UserRateLimited over the
        user's rate.
        `expires_in` defaults to the queue's expiry, counted from `run_after`."""
        prepared = self._prepare(kind, payload)
        expiry = self.expiry_seconds if expires_in is None else expires_in
        row = dict(kind=kind, queue=prepared.queue, route=prepared.route, batch_key=prepared.batch_key,
                   priority=prepared.priority if priority is None else priority, payload=prepared.payload,
                   user_id=user_id, crowd=None if crowd is None else crowd.key,
                   crowd_cap=None if crowd is None else crowd.cap, dedupe_key=dedupe_key,
                   user_cap=self.user_job_cap,
                   user_rate=self.user_rate_per_minute or None, rate_window=RATE_WINDOW_SECONDS,
                   max_attempts=prepared.max_attempts if max_attempts is None else max_attempts,
                   run_after=float(run_after), expires_in=None if expiry is None else float(run_after) + expiry)
        # a user's or crowd's job needs the caps' locks and the insert in one transaction; others are one statement
        capped = user_id is not None or crowd is not None
        async with self._transaction() if capped else self._statement() as connection:
            if user_id is not None and self.dialect == "postgresql":
                await self._run(connection, q.LOCK_USER, user_id=user_id)   # an unknown user: INSERT_JOB refuses
            if crowd is not None and self.dialect == "postgresql":
                await self._run(connection, q.LOCK_CROWD, crowd=crowd.key)
            for _ in range(ENQUEUE_TRIES):
                job_id = (await self._run(connection, q.INSERT_JOB, **row)).scalar()
                if job_id is not None:
                    return Enqueued(job_id, deduplicated=False)
                why = (await self._run(connection, q.ENQUEUE_REFUSAL, dedupe_key=dedupe_key, user_id=user_id,
                                       crowd=row["crowd"], rate_window=RATE_WINDOW_SECONDS)).one()
                if why.holder is not None:
                    return Enqueued(why.holder, deduplicated=True)
                if user_id is not None and not why.user_found:
                    raise JobRejected(f"unknown user id {user_id}")
                if user_id is not None and why.unfinished >= self.user_job_cap:
                    raise UserJobCapReached(self.user_job_cap)
                if crowd is not None and why.crowded >= crowd.cap:
                    raise CrowdJobCapReached(crowd)
                if user_id is not None and self.user_rate_per_minute and why.recent >= self.user_rate_per_minute:
                    raise UserRateLimited(self.user_rate_per_minute, RATE_WINDOW_SECONDS)
                # the dedupe key's holder finished between the two statements: insert again
        raise RuntimeError(f"enqueue of {kind} with dedupe key {dedupe_key!r} kept colliding with "
                           f"jobs that finished meanwhile ({ENQUEUE_TRIES} tries)")

    def _prepare(self, kind: str, payload: Mapping[str, Any]) -> PreparedJob:
        if not isinstance(payload, Mapping):
            raise JobRejected(f"{kind}: parameters must be a mapping, got {type(payload).__name__}")
        try:
            prepared = self.kinds.prepare(kind, payload)
        except ValueError as exc:
            raise JobRejected(str(exc)) from None
        try:
            size = len(json.dumps(prepared.payload, separators=(",", ":"), allow_nan=False).encode())
        except (TypeError, ValueError) as exc:
            raise JobRejected(f"{kind}: parameters are not plain JSON data ({exc})") from None
        if size > MAX_PAYLOAD_BYTES:
            raise JobRejected(f"{kind}: parameters are {size} bytes, more than the {MAX_PAYLOAD_BYTES} allowed")
        return prepared


def _finish_params(job: JobRecord, worker_id: str, transition: Transition) -> dict[str, Any]:
    return dict(id=job.id, worker_id=worker_id, attempt=job.attempt, state=transition.state,
                result=transition.result, error=transition.error, delay=transition.delay,
                refund=transition.refund, final=transition.final)
