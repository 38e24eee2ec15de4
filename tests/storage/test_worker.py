"""The worker runtime on SQLite and PostgreSQL, with trivial handlers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.jobkinds import JobKind, JobKinds
from storage.worker import Done, Fail, RetryLater, Worker
from storage.outbox import Destination, Outbox
from storage.presence import Presence
from storage.queue import Queue

REPO = Path(__file__).resolve().parents[2]


def kinds() -> JobKinds:
    return JobKinds({
        "square": JobKind("square", lambda p: {"x": int(p["x"]), "style": p.get("style", "a")},
                          batch_key=lambda p: f"square:{p['style']}", max_attempts=3),
        "slow": JobKind("slow", lambda p: dict(p)),
    })


async def run_until(worker: Worker, done, timeout: float = 10.0) -> None:
    """Run the worker loop until `done()` (awaitable) is true."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + timeout
    try:
        while not await done():
            assert time.monotonic() < deadline, "worker did not get there in time"
            assert not task.done(), f"worker loop ended: {task.exception()!r}"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def all_finished(queue: Queue, ids) -> bool:
    states = [(await queue.get(i)).state for i in ids]
    return all(state in ("done", "failed", "cancelled") for state in states)


async def test_batches_are_compatible_and_results_commit_with_replies(engine):
    queue, outbox = Queue(engine, kinds()), Outbox(engine)
    ids = [(await queue.enqueue("square", {"x": x, "style": "ab"[x % 2]})).id for x in range(10)]
    seen_batches = []

    def square(jobs):  # runs in a thread
        seen_batches.append(sorted(job.payload["style"] for job in jobs))
        outcomes = []
        for job in jobs:
            async def write(session, job=job):
                await outbox.add(session, Destination("web", "u1"), {"x2": job.payload["x"] ** 2}, job_id=job.id)
            outcomes.append(Done({"x2": job.payload["x"] ** 2}, write))
        return outcomes

    worker = Worker(engine, {"square": square}, batch_size=4, poll_seconds=0.05)
    await run_until(worker, lambda: all_finished(queue, ids))
    assert all(len(set(batch)) == 1 and len(batch) <= 4 for batch in seen_batches)
    for x, job_id in enumerate(ids):
        job = await queue.get(job_id)
        assert (job.state, job.result) == ("done", {"x2": x * x})
        assert [d.payload for d in await outbox.for_job(job_id)] == [{"x2": x * x}]


async def test_a_raising_handler_is_retried_then_failed_and_the_worker_lives_on(engine):
    queue = Queue(engine, kinds())
    bad = (await queue.enqueue("square", {"x": 1, "style": "bad"})).id
    good = (await queue.enqueue("square", {"x": 2})).id
    calls = []

    def square(jobs):
        calls.append([job.id for job in jobs])
        if jobs[0].payload["style"] == "bad":
            raise ValueError("renderer exploded")
        return [Done({"ok": True}) for _ in jobs]

    worker = Worker(engine, {"square": square}, poll_seconds=0.02, retry_base=0.05)
    await run_until(worker, lambda: all_finished(queue, [bad, good]))
    failed = await queue.get(bad)
    assert failed.state == "failed" and failed.attempt == 3
    assert failed.error == "ValueError: renderer exploded (gave up after 3 attempts)"
    assert calls.count([bad]) == 3
    assert (await queue.get(good)).state == "done"


async def test_outcomes_retry_later_fail_and_unknown_kinds(engine):
    queue = Queue(engine, kinds())
    retry = (await queue.enqueue("square", {"x": 1, "style": "r"})).id
    fail = (await queue.enqueue("square", {"x": 2, "style": "f"})).id
    orphan = (await queue.enqueue("slow", {"y": 1})).id
    wrong = (await queue.enqueue("square", {"x": 3, "style": "w"})).id

    def square(jobs):
        style = jobs[0].payload["style"]
        if style == "r":
            return [RetryLater("model still loading", delay=0.05) for _ in jobs]
        if style == "f":
            return [Fail("this photo has no face") for _ in jobs]
        return ["not an outcome" for _ in jobs]

    worker = Worker(engine, {"square": square}, poll_seconds=0.02, retry_base=0.05)
    await run_until(worker, lambda: all_finished(queue, [retry, fail, orphan, wrong]))
    assert ((await queue.get(retry)).state, (await queue.get(retry)).error) == (
        "failed", "model still loading (gave up after 3 attempts)")
    assert ((await queue.get(fail)).state, (await queue.get(fail)).attempt) == ("failed", 1)
    assert (await queue.get(fail)).error == "this photo has no face"
    assert (await queue.get(orphan)).error == "no handler for job kind 'slow' in this worker"
    assert "not Done/RetryLater/Fail" in (await queue.get(wrong)).error


async def test_async_handler_objects_run_on_the_loop_and_odd_returns_never_crash_the_worker(engine):
    queue = Queue(engine, kinds())
    good = (await queue.enqueue("square", {"x": 4, "style": "ok"})).id
    odd = (await queue.enqueue("slow", {"y": 1})).id

    class Squarer:                       # like storage.cleanup.Cleanup: an object with async __call__
        async def __call__(self, jobs):
            return [Done({"square": job.payload["x"] ** 2}) for job in jobs]

    def returns_nothing_iterable(jobs):
        return 42

    worker = Worker(engine, {"square": Squarer(), "slow": returns_nothing_iterable},
                    poll_seconds=0.02, retry_base=0.05)
    await run_until(worker, lambda: all_finished(queue, [good, odd]))
    assert ((await queue.get(good)).state, (await queue.get(good)).result) == ("done", {"square": 16})
    assert (await queue.get(odd)).state == "failed" and "not iterable" in (await queue.get(odd)).error


async def test_heartbeat_keeps_long_jobs_and_carries_cancellation(engine):
    queue = Queue(engine, kinds())
    long_job = (await queue.enqueue("square", {"x": 1})).id
    cancelled = (await queue.enqueue("square", {"x": 2, "style": "c"})).id

    def square(jobs):
        time.sleep(1.0)          # longer than the lease: only heartbeats keep it
        return [Done({"x": job.payload["x"]}) for job in jobs]

    worker = Worker(engine, {"square": square}, lease_seconds=0.5, poll_seconds=0.02)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    while (await queue.get(cancelled)).state != "running":
        await asyncio.sleep(0.05)
    assert await queue.cancel(cancelled) == "running"
    assert await Presence(engine).live("worker", serving="default") == [worker.id]
    while not await all_finished(queue, [long_job, cancelled]):
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert ((await queue.get(long_job)).state, (await queue.get(long_job)).attempt) == ("done", 1)
    assert (await queue.get(cancelled)).state == "cancelled"
    assert await Presence(engine).live("worker") == []   # a clean stop says goodbye


async def test_shutdown_grace_releases_the_batch_without_counting_the_attempt(engine):
    queue = Queue(engine, kinds())
    job_id = (await queue.enqueue("square", {"x": 1})).id
    worker = Worker(engine, {"square": lambda jobs: time.sleep(0.8) or [Done() for _ in jobs]},
                    poll_seconds=0.02, shutdown_grace=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    while (await queue.get(job_id)).state != "running":
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 5)
    job = await queue.get(job_id)
    assert (job.state, job.attempt, job.worker_id) == ("queued", 0, None)


@pytest.mark.slow
async def test_sigterm_finishes_the_batch_and_exits_zero(migrated_database_url, engine, tmp_path):
    sys.path.insert(0, str(REPO / "tests" / "storage"))
    from queue_processes import ECHO
    queue = Queue(engine, JobKinds({"echo": ECHO}))
    ids = [(await queue.enqueue("echo", {"n": n, "ms": 400})).id for n in range(3)]
    proc = subprocess.Popen([sys.executable, str(REPO / "tests/storage/queue_processes.py"), "worker",
                             migrated_database_url, str(tmp_path), "--batch", "3"])
    try:
        while (await queue.get(ids[0])).state != "running":
            assert proc.poll() is None
            await asyncio.sleep(0.05)
        os.kill(proc.pid, signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 20) == 0
    finally:
        proc.kill()
    assert [(await queue.get(i)).state for i in ids] == ["done"] * 3
