"""The worker runtime: claims batches of compatible jobs, runs their handlers off the event
loop, and stores each outcome with the handler's own writes in one transaction. Generic: it
knows job kinds (storage/jobkinds.py) and handlers, never what a job makes; facegen's handlers
(facegen/handlers.py) are the faces it runs, and `dreamface worker` (dreamface/worker.py) the
process around it.

A handler takes a batch of claimed jobs of one kind and returns one outcome per job, in order:
`Done(result, write)` (write: an async callback given the finalize session, e.g. to store the
face node, its image and the replies), `RetryLater(reason)` or `Fail(reason)`. A plain function
runs in a thread so heartbeats go on during CPU work; a coroutine function is awaited. A
handler that raises retries its jobs with backoff, then fails them with the error recorded.

A batch settles in one transaction: one guarded finish for all its jobs (queries.FINISH_JOBS),
then the writes of the jobs that were still ours; a write that is `Batched(many, item)` is done
together with the batch's others of the same `many` (one multi-row insert instead of one per
job). When that transaction fails for any reason but an outage, each job settles in a
transaction of its own, so one bad write costs only its own job an attempt.

The loop is a small pipeline: while batch N settles (and its pictures are written), the worker
claims and handles batch N+1, so a GPU renders while the CPU stores. At most SETTLING_BATCHES
batches settle at once; when the queue is empty or the worker stops, they finish first. How many
jobs a claim asks for adapts, between 1 and max_batch_size, to the throughput the handler and
the settling sustain together (storage/batch_sizer.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ground import metrics
from ground.logging import log_context, pseudonym
from storage.batch_sizer import BatchSizer
from storage.claim_loop import claim_until_stopped
from storage.outage import is_unavailable, retry_while_unavailable
from storage.presence import Presence, ProcessInfo
from storage.queue import JOBS_CHANNEL, JobControl, JobLost, JobRecord, Transition
from storage.wakeup import Wakeup

log = logging.getLogger(__name__)

Write = Callable[[AsyncSession], Awaitable[None]]
WriteMany = Callable[[AsyncSession, Sequence[Any]], Awaitable[None]]
SETTLING_BATCHES = 1   # batches settling at once (while the next one is claimed and handled)
SETTLE_CONCURRENCY = 4   # per-job finalize transactions in flight at once (the fallback; stays inside the pool)
# the job state a transition leads to → the outcome dreamface_jobs_finished_total counts
OUTCOME_OF_STATE = {"done": "done", "failed": "failed", "queued": "retried", "cancelled": "cancelled"}


@dataclass(frozen=True)
class Done:
    result: dict[str, Any] = field(default_factory=dict)
    write: Write | None = None   # extra writes committed with the result, or not at all
    # work for the result that needs no database (e.g. encoding its picture): run before the
    # write, while the worker handles the next batch; if it raises, the job is retried
    prepare: Callable[[], Awaitable[None]] | None = None


@dataclass(frozen=True)
class Batched:
    """A write that can be done together with the same batch's others of the same `many`: the
    worker calls `many(session, [item, ...])` once for them all; alone, `many(session, [item])`."""
    many: WriteMany
    item: Any

    async def __call__(self, session: AsyncSession) -> None:
        await self.many(session, [self.item])


@dataclass(frozen=True)
class RetryLater:
    reason: str
    delay: float | None = None   # None: exponential backoff with jitter


@dataclass(frozen=True)
class Fail:
    reason: str


Outcome = Done | RetryLater | Fail
Handled = tuple[list[JobRecord], list[Outcome | BaseException], float]   # one kind's jobs, outcomes, start
Handler = Callable[[Sequence[JobRecord]], Union[Sequence[Outcome], Awaitable[Sequence[Outcome]]]]


def _is_async(handler: Handler) -> bool:
    """A coroutine function, or an object whose __call__ is one (those run on the loop)."""
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(getattr(handler, "__call__", None))


class Worker:
    def __init__(self, engine: AsyncEngine, handlers: Mapping[str, Handler], *,
                 queues: Sequence[str] = ("default",),
                 batch_size: int = 8,              # jobs a claim asks for, to start with
                 max_batch_size: int | None = None,  # the batch adapts up to this; None: fixed at batch_size
                 lease_seconds: float = 30.0,      # a silent worker's jobs are rescued after this
                 poll_seconds: float = 0.5,        # idle wait between looks (LISTEN/NOTIFY wakes sooner)
                 retry_base: float = 2.0,          # first retry delay; doubles per attempt
                 duty_seconds: float | None = None,  # rescue/expiry sweep period; None: lease_seconds / 3
                 shutdown_grace: float | None = None,  # None: a stopping worker finishes its batch
                 routes: Sequence[str] | None = None,  # job routes served (jobkinds.route_of); None: all
                 models: Sequence[Mapping[str, Any]] = (),   # descriptions announced with the heartbeat
                 process: ProcessInfo | None = None) -> None:
        self.handlers = dict(handlers)
        self.queues = tuple(queues)
        self.sizer = BatchSizer(batch_size, max(batch_size, max_batch_size or batch_size),
                                minimum=1 if max_batch_size else batch_size)
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.retry_base = retry_base
        self.duty_seconds = lease_seconds / 3 if duty_seconds is None else duty_seconds
        self.shutdown_grace = shutdown_grace
        self.routes = None if routes is None else tuple(routes)
        self.process = process or ProcessInfo("worker", self.queues, self.routes or (), tuple(models))
        self.queue = JobControl(engine)   # a worker never enqueues, so it needs no kinds
        self.presence = Presence(engine)
        self._engine = engine
        self._in_flight: dict[int, JobRecord] = {}   # claimed and not settled yet (handled or settling)
        self._cancel_requested: set[int] = set()
        self._finishing: set[int] = set()   # being finished: their settling, not the heartbeat, says if lost
        self._settling: set[asyncio.Task] = set()    # batches being settled in the background
        self._one_by_one = asyncio.Semaphore(SETTLE_CONCURRENCY)

    @property
    def id(self) -> str:
        return self.process.id

    @property
    def batch_size(self) -> int:
        """How many jobs the next claim asks for."""
        return self.sizer.size

    # --- the loop ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and run batches until `stop` is set, then finish (or, past the grace, release)
        the batch in hand. Database outages are waited out."""
        wanted = set(self.queues)
        async with Wakeup(self._engine, JOBS_CHANNEL, self.poll_seconds, wanted.__contains__) as wakeup:
            await claim_until_stopped(stop, wakeup, lambda: self._claim_and_run(stop), heartbeat=self._heartbeat(stop),
                                      presence=self.presence, owner=self.id, what=f"worker {self.id}")

    async def _claim_and_run(self, stop: asyncio.Event) -> int:
        """Claim and handle a batch, leaving it to settle in the background while the next one
        is claimed; with nothing claimed, or stopping, wait until every batch has settled."""
        claimed = 0
        asked, started = self.batch_size, time.monotonic()
        try:
            batch = await self.queue.claim(self.id, self.queues, asked, self.lease_seconds, self.routes)
            claimed = len(batch)
            if batch:
                handler_seconds = await self._run_until_stopped(batch, stop)
                self.sizer.observe(asked, claimed, time.monotonic() - started, handler_seconds)
                metrics.WORKER_BATCH_TARGET.set(self.sizer.size)
        finally:
            if stop.is_set() or not claimed:
                await self._settled_down_to(0)
        return claimed

    async def _settled_down_to(self, batches: int) -> None:
        """Wait until at most `batches` batches are settling; a settling that failed raises here."""
        while len(self._settling) > batches:
            done, _ = await asyncio.wait(self._settling, return_when=asyncio.FIRST_COMPLETED)
            self._settling -= done
            for task in done:
                task.result()

    async def run_once(self) -> int:
        """Claim one batch and run it to the end; returns how many jobs were claimed."""
        batch = await self.queue.claim(self.id, self.queues, self.batch_size, self.lease_seconds, self.routes)
        if batch:
            await self.process_batch(batch)
        return len(batch)

    async def _run_until_stopped(self, batch: list[JobRecord], stop: asyncio.Event) -> float:
        """Handle the batch and start its settling; a stop past the grace releases it instead.
        Returns the seconds spent handling it."""
        started = time.monotonic()
        task = asyncio.create_task(self._handle_batch(batch))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not task.done() and self.shutdown_grace is not None:
            await asyncio.wait({task}, timeout=self.shutdown_grace)
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await self._release([job for job in batch if self._in_flight.get(job.id) is job])
                return time.monotonic() - started
        handled = await task
        handler_seconds = time.monotonic() - started
        await self._settled_down_to(SETTLING_BATCHES - 1)
        self._settling.add(asyncio.create_task(self._settle_handled(handled)))
        return handler_seconds

    async def _release(self, jobs: Sequence[JobRecord]) -> None:
        """Back in line without counting the attempt (a stop past its grace)."""
        for job in jobs:
            await retry_while_unavailable(lambda job=job: self.queue.finish(job, self.id, Transition.released()),
                                          f"release job {job.id}", give_up_after=self.lease_seconds)
            self._in_flight.pop(job.id, None)

    # --- one batch --------------------------------------------------------------------------

    async def process_batch(self, batch: Sequence[JobRecord]) -> None:
        """Handle a batch and settle it."""
        await self._settle_handled(await self._handle_batch(batch))

    async def _handle_batch(self, batch: Sequence[JobRecord]) -> list[Handled]:
        """Run the handlers, one call per kind: (jobs, their outcomes, when they started) per kind."""
        # _in_flight holds the jobs not yet settled; a shutdown past its grace releases this batch's
        self._in_flight.update((job.id, job) for job in batch)
        started = time.monotonic()
        by_kind: dict[str, list[JobRecord]] = {}
        for job in batch:
            by_kind.setdefault(job.kind, []).append(job)
            metrics.JOB_QUEUE_WAIT.labels(job.kind).observe(max(0.0, (job.started_at or job.run_at) - job.run_at))
        handled = []
        for kind, jobs in by_kind.items():
            metrics.BATCH_SIZE.labels(kind).observe(len(jobs))
            with log_context(job_id=",".join(str(job.id) for job in jobs)):
                handled.append((jobs, await self._handle(kind, jobs), started))
        return handled

    async def _settle_handled(self, handled: list[Handled]) -> None:
        for jobs, outcomes, started in handled:
            await self._settle_batch(jobs, outcomes, started)

    async def _settle_batch(self, jobs: Sequence[JobRecord], outcomes: Sequence[Outcome | BaseException],
                            started: float) -> None:
        """Prepare the outcomes (side by side), then store them in one transaction; where that
        fails (not an outage, which is waited out), job by job."""
        outcomes = await asyncio.gather(*(self._prepared(job, outcome) for job, outcome in zip(jobs, outcomes)))
        ours = [(job, outcome, self._transition(job, outcome))   # not lost to a rescue meanwhile
                for job, outcome in zip(jobs, outcomes) if self._in_flight.get(job.id) is job]
        if not ours:
            return
        ids = {job.id for job, _, _ in ours}
        self._finishing |= ids
        try:
            finished = await retry_while_unavailable(lambda: self._store_together(ours), f"finish jobs {sorted(ids)}")
        except Exception:
            log.exception("worker %s: storing jobs %s together failed; storing them one by one",
                          self.id, [job.id for job, _, _ in ours])
            await asyncio.gather(*(self._settle_alone(job, outcome, started) for job, outcome, _ in ours))
            return
        finally:
            self._finishing -= ids
        for job, _, transition in ours:
            if job.id not in finished:
                log.info("worker %s: job %s was rescued or cancelled before it finished; result dropped",
                         self.id, job.id)
            self._settled(job, OUTCOME_OF_STATE[transition.state] if job.id in finished else "lost", started)

    async def _prepared(self, job: JobRecord, outcome: Outcome | BaseException) -> Outcome | BaseException:
        if not isinstance(outcome, Done) or outcome.prepare is None:
            return outcome
        try:
            await outcome.prepare()
        except Exception as exc:   # like a handler that raised: the job is retried
            log.exception("worker %s: preparing the result of job %s failed", self.id, job.id)
            return exc
        return outcome

    async def _store_together(self, ours: Sequence[tuple[JobRecord, Outcome | BaseException, Transition]]
                              ) -> frozenset[int]:
        """One transaction: the guarded finish of every job, then the writes of those still ours."""
        async with self.queue.finalize_many([(job, transition) for job, _, transition in ours], self.id) as (
                session, finished):
            writes = [outcome.write for job, outcome, transition in ours
                      if job.id in finished and transition.state == "done" and isinstance(outcome, Done)
                      and outcome.write is not None]
            together: dict[WriteMany, list[Any]] = {}
            for write in writes:
                if isinstance(write, Batched):
                    together.setdefault(write.many, []).append(write.item)
            for many, items in together.items():
                await many(session, items)
            for write in writes:
                if not isinstance(write, Batched):
                    await write(session)
        return finished

    def _settled(self, job: JobRecord, counted: str, started: float) -> None:
        """A job left this worker (done, failed, retried, cancelled or lost): forget it, count it."""
        self._in_flight.pop(job.id, None)
        self._cancel_requested.discard(job.id)
        metrics.JOBS_FINISHED.labels(job.kind, counted).inc()
        metrics.JOB_RUN.labels(job.kind).observe(time.monotonic() - started)

    async def _settle_alone(self, job: JobRecord, outcome: Outcome | BaseException, started: float) -> None:
        async with self._one_by_one:
            if self._in_flight.get(job.id) is job:   # not lost to a rescue meanwhile
                await self._settle(job, outcome, started)

    async def _handle(self, kind: str, jobs: list[JobRecord]) -> list[Outcome | BaseException]:
        handler = self.handlers.get(kind)
        if handler is None:
            return [Fail(f"no handler for job kind {kind!r} in this worker")] * len(jobs)
        try:
            if _is_async(handler):
                outcomes = await handler(jobs)
            else:
                outcomes = await asyncio.to_thread(handler, jobs)
            outcomes = list(outcomes)
        except Exception as exc:  # a failing handler must cost its jobs an attempt, never the worker
            log.exception("worker %s: handler for %s raised on jobs %s", self.id, kind, [j.id for j in jobs])
            return [exc] * len(jobs)
        if len(outcomes) != len(jobs):
            error = RuntimeError(f"handler for {kind} returned {len(outcomes)} outcomes for {len(jobs)} jobs")
            return [error] * len(jobs)
        return outcomes

    def _transition(self, job: JobRecord, outcome: Outcome | BaseException) -> Transition:
        if job.id in self._cancel_requested:
            return Transition.cancelled("cancelled while running")
        if isinstance(outcome, Done):
            return Transition.completed(outcome.result)
        if isinstance(outcome, RetryLater):
            return Transition.retryable(job, outcome.reason, outcome.delay, base=self.retry_base)
        if isinstance(outcome, Fail):
            return Transition.failed(outcome.reason)
        if isinstance(outcome, BaseException):
            return Transition.retryable(job, f"{type(outcome).__name__}: {outcome}", base=self.retry_base)
        return Transition.retryable(job, f"handler returned {outcome!r}, not Done/RetryLater/Fail",
                                    base=self.retry_base)

    async def _settle(self, job: JobRecord, outcome: Outcome | BaseException, started: float) -> None:
        """Store one job's outcome in a transaction of its own."""
        user = None if job.user_id is None else pseudonym(job.user_id)
        with log_context(job_id=job.id, user=user):
            counted = await self._store_outcome(job, outcome)
        self._settled(job, counted, started)

    async def _store_outcome(self, job: JobRecord, outcome: Outcome | BaseException) -> str:
        """Store the outcome (with the handler's writes), waiting out database outages; returns
        what became of the job for the metrics: done, failed, retried, cancelled or lost."""
        transition = self._transition(job, outcome)
        write = outcome.write if isinstance(outcome, Done) and transition.state == "done" else None

        async def finalize() -> None:
            async with self.queue.finalize(job, self.id, transition) as session:
                if write is not None:
                    await write(session)

        try:
            await retry_while_unavailable(finalize, f"finish job {job.id}")
            return OUTCOME_OF_STATE[transition.state]
        except JobLost:
            log.info("worker %s: job %s was rescued or cancelled before it finished; result dropped",
                     self.id, job.id)
            return "lost"
        except Exception as exc:
            if write is None or is_unavailable(exc):
                raise
            log.exception("worker %s: storing the result of job %s failed", self.id, job.id)
            retry = Transition.retryable(job, f"storing the result failed: {type(exc).__name__}: {exc}",
                                         base=self.retry_base)
            await retry_while_unavailable(lambda: self.queue.finish(job, self.id, retry), f"retry job {job.id}")
            return OUTCOME_OF_STATE[retry.state]
        finally:
            self._cancel_requested.discard(job.id)

    # --- heartbeat and periodic duties --------------------------------------------------------

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_duty = loop.time()
        while not stop.is_set() or self._in_flight:
            try:
                await self.presence.beat(self.process)
                await self._extend_leases()
                if loop.time() >= next_duty:
                    await self.queue.rescue_expired()
                    await self.queue.expire_stale()
                    next_duty = loop.time() + self.duty_seconds
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                log.warning("worker %s heartbeat: database unavailable (%s)", self.id, type(exc).__name__)
            await asyncio.sleep(min(self.lease_seconds / 3, self.duty_seconds))

    async def _extend_leases(self) -> None:
        if not self._in_flight:
            return
        asked = dict(self._in_flight)
        lease = await self.queue.extend(self.id, list(asked), self.lease_seconds)
        # jobs settled while we waited are gone from _in_flight (or back under a new attempt): skip them
        still = [job_id for job_id, job in asked.items() if self._in_flight.get(job_id) is job]
        self._cancel_requested |= lease.cancel_requested.intersection(still)
        for job_id in lease.lost.intersection(still):
            if job_id in self._finishing:   # finished by its settling meanwhile, or found lost there
                continue
            log.warning("worker %s: lost job %s (lease rescued); its result will be dropped", self.id, job_id)
            self._in_flight.pop(job_id, None)
