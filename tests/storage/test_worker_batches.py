"""A batch settles in one transaction (one guarded finish for all its jobs, then their writes),
while the next batch is handled: the queue's guarantees hold job by job, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

from storage.jobkinds import JobKind, JobKinds
from storage.outbox import Destination, Outbox
from storage.queue import Queue
from storage.worker import Batched, Done, Worker


def kinds() -> JobKinds:
    return JobKinds({"square": JobKind("square", lambda p: {"x": int(p["x"])}, max_attempts=3)})


def reply_writes(outbox: Outbox, calls: list[list[int]] | None = None):
    """Done outcomes whose Batched writes add one reply per job; `calls` records each call's jobs."""
    async def replies(session, jobs):
        if calls is not None:
            calls.append([job.id for job in jobs])
        for job in jobs:
            await outbox.add(session, Destination("web", "u1"), {"x2": job.payload["x"] ** 2}, job_id=job.id)

    return lambda job: Done({"x2": job.payload["x"] ** 2}, Batched(replies, job))


async def replies_of(outbox: Outbox, job_id: int) -> list[dict]:
    return [d.payload for d in await outbox.for_job(job_id)]


async def test_a_job_rescued_meanwhile_keeps_nothing_and_the_rest_are_stored_together(engine):
    queue, outbox = Queue(engine, kinds()), Outbox(engine)
    ids = [(await queue.enqueue("square", {"x": x})).id for x in range(4)]
    lost, calls = ids[1], []
    done = reply_writes(outbox, calls)

    async def square(jobs):
        # meanwhile the lease of one job ran out and another worker took it
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE jobs SET lease_expires_at = 0 WHERE id = :id"), {"id": lost})
        await queue.rescue_expired()
        assert [job.id for job in await queue.claim("other", ["default"], 8, 30)] == [lost]
        return [done(job) for job in jobs]

    worker = Worker(engine, {"square": square}, batch_size=8)
    assert await worker.run_once() == 4
    assert calls == [[i for i in ids if i != lost]]          # one call for the batch, without the lost job
    for x, job_id in enumerate(ids):
        job = await queue.get(job_id)
        if job_id == lost:
            assert (job.state, job.worker_id, await replies_of(outbox, job_id)) == ("running", "other", [])
        else:
            assert (job.state, job.result, await replies_of(outbox, job_id)) == ("done", {"x2": x * x}, [{"x2": x * x}])


async def test_a_write_that_raises_costs_only_its_own_job_an_attempt(engine):
    queue, outbox = Queue(engine, kinds()), Outbox(engine)
    ids = [(await queue.enqueue("square", {"x": x})).id for x in range(4)]
    bad = ids[2]
    done = reply_writes(outbox)

    async def broken(session):
        await outbox.add(session, Destination("web", "u1"), {"half": True}, job_id=bad)
        raise RuntimeError("disk full")

    def square(jobs):
        return [Done({"x": 0}, broken) if job.id == bad else done(job) for job in jobs]

    worker = Worker(engine, {"square": square}, batch_size=8, retry_base=30)
    assert await worker.run_once() == 4
    for x, job_id in enumerate(ids):
        job = await queue.get(job_id)
        if job_id == bad:   # back in line, nothing of its write kept
            assert (job.state, job.attempt, await replies_of(outbox, job_id)) == ("queued", 1, [])
            assert job.error == "storing the result failed: RuntimeError: disk full"
        else:               # stored once each, by the fallback's own transactions
            assert (job.state, await replies_of(outbox, job_id)) == ("done", [{"x2": x * x}])


async def test_a_job_cancelled_while_its_batch_runs_is_cancelled_and_writes_nothing(engine):
    queue, outbox = Queue(engine, kinds()), Outbox(engine)
    ids = [(await queue.enqueue("square", {"x": x})).id for x in range(3)]
    cancelled = ids[0]
    done = reply_writes(outbox)

    async def square(jobs):
        if any(job.id == cancelled for job in jobs):
            assert await queue.cancel(cancelled) == "running"
            await asyncio.sleep(0.6)   # the next heartbeats carry the cancellation
        return [done(job) for job in jobs]

    worker = Worker(engine, {"square": square}, batch_size=8, lease_seconds=0.6, poll_seconds=0.02)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + 10
    while any(state in ("queued", "running") for state in [(await queue.get(i)).state for i in ids]):
        assert time.monotonic() < deadline and not task.done()
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert ((await queue.get(cancelled)).state, await replies_of(outbox, cancelled)) == ("cancelled", [])
    for x, job_id in list(enumerate(ids))[1:]:
        assert ((await queue.get(job_id)).state, await replies_of(outbox, job_id)) == ("done", [{"x2": x * x}])


async def test_a_stop_settles_the_batch_in_the_pipeline_and_releases_the_one_in_hand(engine):
    queue, outbox = Queue(engine, kinds()), Outbox(engine)
    ids = [(await queue.enqueue("square", {"x": x})).id for x in range(4)]
    handled: list[list[int]] = []
    second_running = asyncio.Event()

    async def slow_replies(session, jobs):   # batch 1 is still settling while batch 2 is handled
        await asyncio.sleep(0.8)
        for job in jobs:
            await outbox.add(session, Destination("web", "u1"), {"x": job.payload["x"]}, job_id=job.id)

    async def square(jobs):
        handled.append([job.id for job in jobs])
        if len(handled) == 2:
            second_running.set()
            await asyncio.sleep(5)   # past the grace: released
        return [Done({"x": job.payload["x"]}, Batched(slow_replies, job)) for job in jobs]

    worker = Worker(engine, {"square": square}, batch_size=2, poll_seconds=0.02, shutdown_grace=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(second_running.wait(), 10)
    stop.set()
    await asyncio.wait_for(task, 10)
    first, second = handled
    for job_id in first:   # settled, once
        assert ((await queue.get(job_id)).state, len(await replies_of(outbox, job_id))) == ("done", 1)
    for job_id in second:  # back in line, the attempt not counted, nothing written
        job = await queue.get(job_id)
        assert (job.state, job.attempt, job.worker_id, await replies_of(outbox, job_id)) == ("queued", 0, None, [])
    assert sorted(first + second) == ids


async def test_without_a_grace_a_stop_settles_every_claimed_job(engine):
    queue, outbox = Queue(engine, kinds()), Outbox(engine)
    ids = [(await queue.enqueue("square", {"x": x})).id for x in range(6)]
    started = asyncio.Event()
    done = reply_writes(outbox)

    async def square(jobs):
        started.set()
        await asyncio.sleep(0.3)
        return [done(job) for job in jobs]

    worker = Worker(engine, {"square": square}, batch_size=2, poll_seconds=0.02)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(started.wait(), 10)
    await asyncio.sleep(0.4)   # the first batch settling, the second in hand
    stop.set()
    await asyncio.wait_for(task, 10)
    states = [(await queue.get(i)).state for i in ids]
    assert "running" not in states and states.count("done") >= 2
    for job_id, state in zip(ids, states):
        assert len(await replies_of(outbox, job_id)) == (1 if state == "done" else 0)


async def test_with_a_fixed_cost_per_batch_the_worker_claims_bigger_batches(engine):
    """A handler that pays 40 ms per call whatever the batch (a forward pass): the worker, asked
    to start at 2 jobs a claim, climbs to its maximum, and every job is done once."""
    queue, outbox = Queue(engine, kinds()), Outbox(engine)
    ids = [(await queue.enqueue("square", {"x": x})).id for x in range(160)]
    calls: list[list[int]] = []
    done = reply_writes(outbox)

    async def square(jobs):
        calls.append([job.id for job in jobs])
        await asyncio.sleep(0.04)
        return [done(job) for job in jobs]

    worker = Worker(engine, {"square": square}, batch_size=2, max_batch_size=16, poll_seconds=0.02)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + 60
    while sum(map(len, calls)) < len(ids) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 10)
    sizes = [len(call) for call in calls]
    assert sizes[0] == 2 and max(sizes) == 16
    assert sorted(i for call in calls for i in call) == ids
    assert {(await queue.get(i)).state for i in ids} == {"done"}
