"""The job queue on SQLite and PostgreSQL: what a user, a worker and an operator can observe."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from storage.jobkinds import JobKind, JobKinds
from storage.db import session_factory
from storage.models import User
from storage.presence import Presence, ProcessInfo
from storage.queue import (JOBS_CHANNEL, MAX_PAYLOAD_BYTES, JobControl, JobLost, JobRejected, Queue, Transition,
                           UserJobCapReached, backoff)


def _render(payload):
    size = payload["size"]
    if not isinstance(size, int) or not 16 <= size <= 1024:
        raise ValueError(f"size must be a whole number from 16 to 1024, got {size!r}")
    return {"size": size, "style": str(payload.get("style", "a"))}


def kinds() -> JobKinds:
    registry = JobKinds()
    registry.register(JobKind("render", _render, batch_key=lambda p: f"render:{p['style']}"))
    registry.register(JobKind("invert", lambda p: dict(p), queue="slow", max_attempts=2))
    return registry


@pytest.fixture
def queue(engine) -> Queue:
    return Queue(engine, kinds(), user_job_cap=3)


async def add_user(engine, name: str = "u1") -> int:
    async with session_factory(engine)() as session, session.begin():
        user = User(platform="web", platform_user_id=name)
        session.add(user)
        await session.flush()
        return user.id


async def test_enqueue_claim_complete(queue):
    job_id = (await queue.enqueue("render", {"size": 64})).id
    [job] = await queue.claim("w1", ["default"], limit=8, lease_seconds=30)
    assert (job.id, job.state, job.attempt, job.worker_id, job.payload) == (job_id, "running", 1, "w1",
                                                                          {"size": 64, "style": "a"})
    assert await queue.finish(job, "w1", Transition.completed({"face": 7}))
    done = await queue.get(job_id)
    assert (done.state, done.result, done.worker_id, done.finished_at is not None) == ("done", {"face": 7}, None, True)
    assert await queue.claim("w1", ["default"], limit=8, lease_seconds=30) == []


async def test_claim_takes_one_batch_key_in_priority_order_and_only_its_queues(queue):
    a1 = (await queue.enqueue("render", {"size": 64, "style": "a"})).id
    b1 = (await queue.enqueue("render", {"size": 64, "style": "b"}, priority=-1)).id
    a2 = (await queue.enqueue("render", {"size": 64, "style": "a"})).id
    b2 = (await queue.enqueue("render", {"size": 64, "style": "b"})).id
    await queue.enqueue("invert", {"photo": 1})
    first = await queue.claim("w1", ["default"], limit=8, lease_seconds=30)
    assert [j.id for j in first] == [b1, b2]          # the best job's batch, best first
    second = await queue.claim("w1", ["default"], limit=8, lease_seconds=30)
    assert [j.id for j in second] == [a1, a2]
    assert await queue.claim("w1", ["default"], limit=8, lease_seconds=30) == []
    [slow] = await queue.claim("w2", ["slow"], limit=8, lease_seconds=30)
    assert slow.kind == "invert"


async def test_claim_respects_limit_and_run_after(queue):
    for _ in range(3):
        await queue.enqueue("render", {"size": 64})
    later = (await queue.enqueue("render", {"size": 64}, run_after=0.4)).id
    assert len(await queue.claim("w1", ["default"], limit=2, lease_seconds=30)) == 2
    assert len(await queue.claim("w1", ["default"], limit=5, lease_seconds=30)) == 1
    assert await queue.claim("w1", ["default"], limit=5, lease_seconds=30) == []
    await asyncio.sleep(0.5)
    assert [j.id for j in await queue.claim("w1", ["default"], limit=5, lease_seconds=30)] == [later]


async def test_concurrent_claims_never_share_a_job(engine):
    queue = Queue(engine, kinds())
    ids = {(await queue.enqueue("render", {"size": 64})).id for _ in range(40)}
    batches = await asyncio.gather(*(queue.claim(f"w{i}", ["default"], limit=3, lease_seconds=30)
                                     for i in range(8)))
    again = await asyncio.gather(*(queue.claim(f"w{i}", ["default"], limit=3, lease_seconds=30)
                                   for i in range(8)))
    claimed = [job.id for batch in batches + again for job in batch]
    assert len(claimed) == len(set(claimed)) and set(claimed) <= ids
    assert len(claimed) == 40


async def test_dedupe_key_is_unique_while_unfinished(queue):
    first = await queue.enqueue("render", {"size": 64}, dedupe_key="grid:u1")
    again = await queue.enqueue("render", {"size": 64}, dedupe_key="grid:u1")
    assert (again.id, again.deduplicated, first.deduplicated) == (first.id, True, False)
    [job] = await queue.claim("w1", ["default"], limit=8, lease_seconds=30)
    assert (await queue.enqueue("render", {"size": 64}, dedupe_key="grid:u1")).id == first.id  # still running
    await queue.finish(job, "w1", Transition.completed())
    fresh = await queue.enqueue("render", {"size": 64}, dedupe_key="grid:u1")
    assert not fresh.deduplicated and fresh.id != first.id


async def test_concurrent_enqueues_with_one_dedupe_key_make_one_job(engine, queue):
    user = await add_user(engine)
    outcomes = await asyncio.gather(*(queue.enqueue("render", {"size": 64}, user_id=user, dedupe_key="grid:u1")
                                      for _ in range(6)))
    assert len({o.id for o in outcomes}) == 1
    assert sorted(o.deduplicated for o in outcomes) == [False] + [True] * 5


async def test_repeated_request_at_the_cap_gets_its_job_not_an_error(engine, queue):
    user = await add_user(engine)
    first = await queue.enqueue("render", {"size": 64}, user_id=user, dedupe_key="grid:u1")
    for _ in range(2):
        await queue.enqueue("render", {"size": 64}, user_id=user)
    again = await queue.enqueue("render", {"size": 64}, user_id=user, dedupe_key="grid:u1")
    assert (again.id, again.deduplicated) == (first.id, True)
    with pytest.raises(UserJobCapReached):
        await queue.enqueue("render", {"size": 64}, user_id=user, dedupe_key="grid:other")


async def test_user_cap_is_a_clear_error_and_frees_up(engine, queue):
    user = await add_user(engine)
    for _ in range(3):
        await queue.enqueue("render", {"size": 64}, user_id=user)
    with pytest.raises(UserJobCapReached) as caught:
        await queue.enqueue("render", {"size": 64}, user_id=user)
    assert caught.value.limit == 3 and "3" in str(caught.value)
    await queue.enqueue("render", {"size": 64}, user_id=await add_user(engine, "u2"))  # others unaffected
    [job, *_] = await queue.claim("w1", ["default"], limit=1, lease_seconds=30)
    await queue.finish(job, "w1", Transition.failed("boom"))
    await queue.enqueue("render", {"size": 64}, user_id=user)


async def test_user_cap_holds_under_concurrent_enqueues(engine):
    queue = Queue(engine, kinds(), user_job_cap=5)
    user = await add_user(engine)
    outcomes = await asyncio.gather(*(queue.enqueue("render", {"size": 64}, user_id=user) for _ in range(12)),
                                    return_exceptions=True)
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 5
    assert all(isinstance(o, UserJobCapReached) for o in outcomes if isinstance(o, BaseException))


@pytest.mark.parametrize("kind, payload, message", [
    ("paint", {"size": 64}, "unknown job kind 'paint'"),
    ("render", {"size": 5}, "size must be a whole number"),
    ("render", {}, "missing parameter 'size'"),
    ("render", ["size", 64], "must be a mapping"),
    ("invert", {"photo": "x" * MAX_PAYLOAD_BYTES}, "more than the 65536 allowed"),
    ("invert", {"photo": object()}, "not plain JSON"),
])
async def test_bad_input_is_refused_at_enqueue(queue, kind, payload, message):
    with pytest.raises(JobRejected, match=message):
        await queue.enqueue(kind, payload)
    assert await queue.claim("w1", ["default", "slow"], limit=8, lease_seconds=30) == []


@pytest.mark.parametrize("db_kind", [pytest.param("postgres", marks=pytest.mark.postgres)])  # SQLite polls
async def test_postgres_wakes_workers_when_a_job_is_queued_and_only_then(engine, queue, migrated_database_url):
    import asyncpg
    from sqlalchemy.engine import make_url
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(make_url(migrated_database_url).set(drivername="postgresql")
                                     .render_as_string(hide_password=False))
    await listener.add_listener(JOBS_CHANNEL, lambda *args: heard.put_nowait(args[3]))
    try:
        user = await add_user(engine)
        await queue.enqueue("render", {"size": 64}, user_id=user, dedupe_key="grid:u1")
        await queue.enqueue("render", {"size": 64}, user_id=user, dedupe_key="grid:u1")   # deduplicated
        await queue.enqueue("render", {"size": 64}, user_id=user)
        await queue.enqueue("render", {"size": 64}, user_id=user)
        with pytest.raises(UserJobCapReached):
            await queue.enqueue("render", {"size": 64}, user_id=user)
        [job] = await queue.claim("w1", ["default"], limit=1, lease_seconds=30)
        await queue.finish(job, "w1", Transition.retryable(job, "busy", delay=0))     # back in line
        [job] = await queue.claim("w1", ["default"], limit=1, lease_seconds=30)
        await queue.finish(job, "w1", Transition.completed())
        await queue.enqueue("invert", {"photo": 1})
        # notifications arrive in commit order, so the last one closes the list
        wakes = [await asyncio.wait_for(heard.get(), 5)]
        while wakes[-1] != "slow":
            wakes.append(await asyncio.wait_for(heard.get(), 5))
        assert wakes == ["default"] * 4 + ["slow"]
    finally:
        await listener.close()


async def test_zombie_cannot_finish_a_rescued_job_and_its_writes_vanish(engine, queue):
    job_id = (await queue.enqueue("render", {"size": 64})).id
    [stale] = await queue.claim("zombie", ["default"], limit=1, lease_seconds=0.2)
    await asyncio.sleep(0.4)
    assert await queue.rescue_expired() == [job_id]
    rescued = await queue.get(job_id)
    assert (rescued.state, rescued.attempt, rescued.error) == ("queued", 1, "lease expired: the worker stopped responding")
    [fresh] = await queue.claim("w2", ["default"], limit=1, lease_seconds=30)
    assert fresh.attempt == 2
    with pytest.raises(JobLost):
        async with queue.finalize(stale, "zombie", Transition.completed({"by": "zombie"})) as session:
            session.add(User(platform="web", platform_user_id="written-by-zombie"))
    async with queue.finalize(fresh, "w2", Transition.completed({"by": "w2"})) as session:
        session.add(User(platform="web", platform_user_id="written-by-owner"))
    async with session_factory(engine)() as session:
        names = (await session.execute(select(User.platform_user_id))).scalars().all()
    assert names == ["written-by-owner"]
    assert (await queue.get(job_id)).result == {"by": "w2"}
    assert not await queue.finish(fresh, "w2", Transition.completed({"again": True}))  # finalized once


async def test_a_worker_whose_lease_ran_out_stops_counting_as_up_until_it_beats_again(engine, queue):
    presence = Presence(engine)
    dead, busy = ProcessInfo("worker", ("default",)), ProcessInfo("worker", ("default",))
    for process in (dead, busy):
        await presence.beat(process)
    await queue.enqueue("render", {"size": 64})
    await queue.enqueue("render", {"size": 64})
    await queue.claim(dead.id, ["default"], limit=1, lease_seconds=0.2)
    await queue.claim(busy.id, ["default"], limit=1, lease_seconds=30)
    await asyncio.sleep(0.4)
    await queue.rescue_expired()
    assert await presence.live("worker") == [busy.id], "a crashed worker's requests should hear 'offline' now"
    await presence.beat(dead)   # it was only slow: its next beat registers it again
    assert sorted(await presence.live("worker")) == sorted([dead.id, busy.id])


async def test_expired_lease_after_last_attempt_fails_with_reason(queue):
    job_id = (await queue.enqueue("invert", {"photo": 1})).id   # max_attempts=2
    for _ in range(2):
        await queue.claim("w1", ["slow"], limit=1, lease_seconds=0.1)
        await asyncio.sleep(0.25)
        await queue.rescue_expired()
    job = await queue.get(job_id)
    assert (job.state, job.attempt) == ("failed", 2) and "lease expired" in job.error


async def test_retry_backs_off_then_fails_with_the_error(queue):
    job_id = (await queue.enqueue("invert", {"photo": 1})).id
    [job] = await queue.claim("w1", ["slow"], limit=1, lease_seconds=30)
    assert await queue.finish(job, "w1", Transition.retryable(job, "GPU out of memory", delay=0.3))
    waiting = await queue.get(job_id)
    assert (waiting.state, waiting.error) == ("queued", "GPU out of memory")
    assert waiting.run_at >= job.started_at + 0.25
    assert await queue.claim("w1", ["slow"], limit=1, lease_seconds=30) == []
    await asyncio.sleep(0.4)
    [job] = await queue.claim("w1", ["slow"], limit=1, lease_seconds=30)
    await queue.finish(job, "w1", Transition.retryable(job, "GPU out of memory"))
    failed = await queue.get(job_id)
    assert failed.state == "failed" and failed.error == "GPU out of memory (gave up after 2 attempts)"


def test_backoff_grows_exponentially_with_jitter():
    delays = [backoff(n, base=1.0) for n in (1, 2, 3, 4)]
    assert all(0.75 * 2 ** i <= d <= 1.25 * 2 ** i for i, d in enumerate(delays))
    assert len({backoff(3) for _ in range(20)}) > 1
    assert backoff(50, base=1.0, cap=60) <= 75


async def test_released_job_goes_back_without_counting_the_attempt(queue):
    job_id = (await queue.enqueue("render", {"size": 64})).id
    [job] = await queue.claim("w1", ["default"], limit=1, lease_seconds=30)
    await queue.finish(job, "w1", Transition.released())
    [again] = await queue.claim("w2", ["default"], limit=1, lease_seconds=30)
    assert (again.id, again.attempt) == (job_id, 1)


async def test_cancel_queued_at_once_running_at_next_heartbeat(queue):
    queued = (await queue.enqueue("render", {"size": 64, "style": "q"}, priority=5)).id
    running = (await queue.enqueue("render", {"size": 64})).id
    [job] = await queue.claim("w1", ["default"], limit=1, lease_seconds=30)
    assert job.id == running
    assert await queue.cancel(queued) == "cancelled"
    assert (await queue.get(queued)).state == "cancelled"
    assert await queue.claim("w1", ["default"], limit=8, lease_seconds=30) == []
    assert await queue.cancel(running) == "running"
    lease = await queue.extend("w1", [running], lease_seconds=30)
    assert lease.cancel_requested == {running} and lease.extended == {running} and not lease.lost
    await queue.finish(job, "w1", Transition.cancelled())
    assert (await queue.get(running)).state == "cancelled"
    assert await queue.cancel(running) is None


async def test_cancelling_a_users_jobs_needs_no_job_kinds(engine, queue):
    """What a ban, a cancel and "delete my data" do: every unfinished job of that user, in one
    statement, through a JobControl that knows no kinds."""
    me, other = await add_user(engine, "me"), await add_user(engine, "other")
    done = (await queue.enqueue("render", {"size": 64, "style": "d"}, user_id=me, priority=-2)).id
    [first] = await queue.claim("w1", ["default"], limit=1, lease_seconds=30)
    await queue.finish(first, "w1", Transition.completed())
    running = (await queue.enqueue("render", {"size": 64, "style": "r"}, user_id=me, priority=-1)).id
    [job] = await queue.claim("w1", ["default"], limit=1, lease_seconds=30)
    queued = (await queue.enqueue("render", {"size": 64}, user_id=me)).id
    theirs = (await queue.enqueue("render", {"size": 64}, user_id=other)).id
    control = JobControl(engine)
    assert (first.id, job.id) == (done, running)
    assert await control.cancel_user_jobs(me, "cancelled by a moderator") == 2
    states = {i: ((await control.get(i)).state, (await control.get(i)).cancel_requested)
              for i in (done, running, queued, theirs)}
    assert states == {done: ("done", False), running: ("running", True), queued: ("cancelled", True),
                      theirs: ("queued", False)}
    assert (await control.get(queued)).error == "cancelled by a moderator"
    assert await control.cancel_user_jobs(me) == 1            # the running one, until its worker stops
    assert await control.cancel_user_jobs(await add_user(engine, "nobody")) == 0


async def test_extend_reports_jobs_the_worker_lost(queue):
    job_id = (await queue.enqueue("render", {"size": 64})).id
    await queue.claim("w1", ["default"], limit=1, lease_seconds=0.1)
    await asyncio.sleep(0.2)
    await queue.rescue_expired()
    lease = await queue.extend("w1", [job_id], lease_seconds=30)
    assert lease.lost == {job_id} and not lease.extended


async def test_unstarted_job_expires_with_a_clear_reason(queue):
    job_id = (await queue.enqueue("render", {"size": 64}, expires_in=0.2)).id
    await asyncio.sleep(0.3)
    assert await queue.claim("w1", ["default"], limit=1, lease_seconds=30) == []
    assert await queue.expire_stale() == [job_id]
    job = await queue.get(job_id)
    assert job.state == "failed" and job.error == "expired: no worker started it in time"


async def test_position_in_line_and_estimate(queue):
    ids = [(await queue.enqueue("render", {"size": 64})).id for _ in range(4)]
    assert (await queue.position(ids[2])).place == 3
    assert (await queue.position(ids[2])).eta_seconds is None       # no history yet
    [job] = await queue.claim("w1", ["default"], limit=1, lease_seconds=30)
    await asyncio.sleep(0.2)
    await queue.finish(job, "w1", Transition.completed())
    position = await queue.position(ids[2])
    assert position.place == 2 and 0.3 <= position.eta_seconds <= 2.0
    assert (await queue.position(ids[2], live_workers=2)).eta_seconds == pytest.approx(position.eta_seconds / 2)
    assert (await queue.position(ids[0])).place is None


async def test_presence_tells_whether_a_worker_is_alive(engine):
    presence = Presence(engine)
    worker = ProcessInfo("worker", ("default", "slow"))
    await presence.beat(ProcessInfo("chat", ("web",)))
    assert await presence.live("worker") == []
    await presence.beat(worker)
    await presence.beat(worker)
    assert await presence.live("worker", serving="slow") == [worker.id]
    assert await presence.live("worker", serving="gpu") == []
    await asyncio.sleep(0.3)
    assert await presence.live("worker", within=0.2) == []
    await presence.forget(worker.id)
    assert await presence.live("worker") == []


async def test_times_come_from_the_database_clock(queue):
    import time
    assert abs(await queue.now() - time.time()) < 2.0
    job_id = (await queue.enqueue("render", {"size": 64})).id
    job = await queue.get(job_id)
    assert job.created_at <= job.run_at <= await queue.now()


async def test_unknown_user_is_refused(queue):
    with pytest.raises(JobRejected, match="unknown user"):
        await queue.enqueue("render", {"size": 64}, user_id=999)


async def test_counts_nothing_twice(engine, queue):
    from storage.models import Job
    await queue.enqueue("render", {"size": 64}, dedupe_key="k")
    await queue.enqueue("render", {"size": 64}, dedupe_key="k")
    async with session_factory(engine)() as session:
        assert (await session.execute(select(func.count()).select_from(Job))).scalar_one() == 1


def routed_kinds() -> JobKinds:
    """A kind whose jobs must run on one model: the route comes from the payload."""
    from storage.jobkinds import route_of
    return JobKinds({"paint": JobKind("paint", lambda p: dict(p), route=lambda p: route_of(p["backend"], p["model"]),
                                      batch_key=lambda p: f"paint:{p['backend']}")})


async def test_a_worker_claims_only_the_routes_it_serves_and_unrouted_jobs(engine):
    from storage.jobkinds import routes_served
    queue = Queue(engine, routed_kinds())
    gpu = (await queue.enqueue("paint", {"backend": "stylegan", "model": "sg2-aa"})).id
    other_gpu = (await queue.enqueue("paint", {"backend": "stylegan", "model": "sg2-bb"})).id
    cpu = (await queue.enqueue("paint", {"backend": "montage", "model": "montage-2"})).id
    legacy = (await queue.enqueue("paint", {"backend": "montage", "model": None})).id   # queued before routing
    anyone = (await Queue(engine, kinds()).enqueue("render", {"size": 64})).id
    assert (await queue.get(gpu)).route == "stylegan/sg2-aa" and (await queue.get(legacy)).route == "montage"

    montage_routes = routes_served([("montage", "montage-2")])
    claimed = []
    while batch := await queue.claim("cpu-worker", ["default"], limit=8, lease_seconds=30, routes=montage_routes):
        claimed += [job.id for job in batch]
    assert sorted(claimed) == sorted([cpu, legacy, anyone])   # never a stylegan job
    [job] = await queue.claim("gpu-worker", ["default"], 8, 30, routes=routes_served([("stylegan", "sg2-aa")]))
    assert job.id == gpu
    [job] = await queue.claim("test-worker", ["default"], 8, 30)   # routes None: every route
    assert job.id == other_gpu


async def test_offline_and_place_in_line_are_per_route(engine):
    from storage.jobkinds import routes_served
    queue, presence = Queue(engine, routed_kinds()), Presence(engine)
    ids = [(await queue.enqueue("paint", {"backend": b, "model": m})).id
           for b, m in [("stylegan", "sg2-aa"), ("montage", "montage-2"), ("stylegan", "sg2-aa")]]
    assert [(await queue.position(i)).place for i in ids] == [1, 1, 2]   # each model's own line
    cpu = ProcessInfo("worker", ("default",), routes_served([("montage", "montage-2")]),
                      ({"name": "montage", "model_id": "montage-2", "resolution": 512},))
    await presence.beat(cpu)
    assert await presence.live("worker", serving="default", route="montage/montage-2") == [cpu.id]
    assert await presence.live("worker", serving="default", route="stylegan/sg2-aa") == []   # offline
    assert await presence.live("worker", serving="default", route=None) == [cpu.id]


async def test_served_models_are_kept_as_last_seen(engine):
    presence = Presence(engine)
    described = {"name": "stylegan", "model_id": "sg2-aa", "resolution": 256, "regions": ["eyes"]}
    worker = ProcessInfo("worker", ("default",), ("stylegan/sg2-aa", "stylegan"), (described,))
    await presence.beat(worker)
    [(first, seen)] = await presence.served_models()
    await presence.forget(worker.id)                       # the worker stopped: its model is still known
    await presence.beat(ProcessInfo("worker", ("default",), (), ({**described, "resolution": 512},)))
    [(info, seen_again)] = await presence.served_models()
    assert first == described and info["resolution"] == 512 and seen_again >= seen
