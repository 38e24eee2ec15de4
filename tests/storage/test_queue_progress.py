"""A running job's progress: written only by the worker that owns it, never backwards, cleared on a new claim."""

from __future__ import annotations

from storage.jobkinds import JobKind, JobKinds
from storage.queue import Queue, Transition


def kinds() -> JobKinds:
    return JobKinds({"invert": JobKind("invert", lambda p: dict(p), queue="slow", max_attempts=3)})


async def test_only_the_owner_writes_progress_and_a_new_attempt_starts_blank(engine):
    queue = Queue(engine, kinds())
    job_id = (await queue.enqueue("invert", {"n": 1})).id
    assert (await queue.get(job_id)).progress is None
    (job,) = await queue.claim("w1", ["slow"], 1, 30)

    assert await queue.report_progress(job, "w1", 0.25)
    assert (await queue.get(job_id)).progress == 0.25
    assert not await queue.report_progress(job, "w2", 0.9)        # another worker's word does not count
    assert await queue.report_progress(job, "w1", 0.1)            # an earlier write that committed late …
    assert (await queue.get(job_id)).progress == 0.25             # … never moves the bar back
    assert await queue.report_progress(job, "w1", 7.0)            # clamped
    assert (await queue.get(job_id)).progress == 1.0

    assert await queue.finish(job, "w1", Transition.retryable(job, "boom", delay=0))
    assert not await queue.report_progress(job, "w1", 0.5)        # no longer running: nothing written
    (again,) = await queue.claim("w2", ["slow"], 1, 30)
    assert again.id == job_id and again.progress is None          # the retry starts from nothing
    assert not await queue.report_progress(job, "w2", 0.5)        # the old attempt's record is stale
    assert await queue.report_progress(again, "w2", 0.5)
