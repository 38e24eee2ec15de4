"""Fair turns and crowd caps in the queue, on SQLite and PostgreSQL: a user's second waiting job
goes behind everyone's first, the place in line a user is told is where the job really runs,
and the web users of one address (or the users of one group chat) share a cap."""

from __future__ import annotations

import asyncio
import random

import pytest

from ground.limits import Crowd, Limits
from storage.db import session_factory
from storage.jobkinds import JobKind, JobKinds
from storage.models import User
from storage.queue import CrowdJobCapReached, Queue, Transition, UserJobCapReached


def kinds() -> JobKinds:
    registry = JobKinds()
    registry.register(JobKind("render", lambda p: dict(p), batch_key=lambda p: f"render:{p.get('style', 'a')}"))
    registry.register(JobKind("chore", lambda p: dict(p)))
    return registry


@pytest.fixture
def queue(engine) -> Queue:
    return Queue(engine, kinds(), user_job_cap=50)


async def users(engine, *names: str) -> dict[str, int]:
    async with session_factory(engine)() as session, session.begin():
        rows = {name: User(platform="web", platform_user_id=name) for name in names}
        session.add_all(rows.values())
        await session.flush()
        return {name: user.id for name, user in rows.items()}


async def enqueue(queue: Queue, user: int | None, tag: str, **options) -> int:
    return (await queue.enqueue("render", {"tag": tag}, user_id=user, **options)).id


async def drain(queue: Queue, limit: int = 1) -> list[int]:
    """Claim and finish every job, `limit` at a time; the ids in the order they were claimed."""
    order = []
    while batch := await queue.claim("w1", ["default"], limit=limit, lease_seconds=30):
        for job in batch:
            order.append(job.id)
            await queue.finish(job, "w1", Transition.completed())
    return order


async def places(queue: Queue, job_ids) -> dict[int, int]:
    return {job_id: (await queue.position(job_id)).place for job_id in job_ids}


async def test_a_users_second_job_goes_behind_everyones_first(engine, queue):
    u = await users(engine, "ann", "bob", "cat")
    a1, a2, a3 = [await enqueue(queue, u["ann"], f"a{i}") for i in (1, 2, 3)]
    b1, b2 = [await enqueue(queue, u["bob"], f"b{i}") for i in (1, 2)]
    [first] = await queue.claim("w1", ["default"], limit=1, lease_seconds=30)
    assert first.id == a1 and first.turn == 1
    await queue.finish(first, "w1", Transition.completed())
    # cat comes later, after ann was served once: her first job joins the turn being served,
    # behind bob's first job and ahead of everyone's second
    c1 = await enqueue(queue, u["cat"], "c1")
    assert await places(queue, [b1, c1, a2, b2, a3]) == {b1: 1, c1: 2, a2: 3, b2: 4, a3: 5}
    assert await drain(queue) == [b1, c1, a2, b2, a3]


async def test_a_batch_takes_the_line_in_turns(engine, queue):
    u = await users(engine, "ann", "bob")
    ann = [await enqueue(queue, u["ann"], f"a{i}") for i in range(4)]
    bob = [await enqueue(queue, u["bob"], f"b{i}") for i in range(2)]
    batch = await queue.claim("w1", ["default"], limit=3, lease_seconds=30)
    assert [(j.id, j.turn) for j in batch] == [(ann[0], 1), (bob[0], 1), (ann[1], 2)]


async def test_the_place_told_is_where_the_job_runs(engine, queue):
    """Random users, bursts, a job without a user and an urgent one: every queued job's place is
    its index in the claim order, before and after part of the line has run and newcomers came."""
    rng = random.Random(23)
    u = await users(engine, *(f"u{i}" for i in range(8)))
    owners = list(u.values()) + [None]
    queued = []
    for i in range(40):
        owner = rng.choice(owners)
        queued.append(await enqueue(queue, owner, f"j{i}", priority=-1 if i == 17 else None))
    told = await places(queue, queued)
    half = []
    for _ in range(5):   # part of the line runs, in batches of 3
        batch = await queue.claim("w1", ["default"], limit=3, lease_seconds=30)
        half += [job.id for job in batch]
        for job in batch:
            await queue.finish(job, "w1", Transition.completed())
    assert half == sorted(queued, key=told.get)[:15]
    waiting = [i for i in queued if i not in half]
    for i in range(10):   # then newcomers and old hands alike
        waiting.append(await enqueue(queue, rng.choice(owners), f"k{i}"))
    told = await places(queue, waiting)
    assert sorted(told.values()) == list(range(1, len(waiting) + 1))
    assert await drain(queue, limit=3) == sorted(waiting, key=told.get)


async def test_a_newcomer_waits_behind_at_most_one_job_of_each_other_user(engine, queue):
    u = await users(engine, *(f"busy{i}" for i in range(10)), "new")
    for i in range(10):
        for n in range(5):
            await enqueue(queue, u[f"busy{i}"], f"{i}.{n}")
    for _ in range(4):   # the line moves a little; some users are on their second turn already
        batch = await queue.claim("w1", ["default"], limit=4, lease_seconds=30)
        for job in batch:
            await queue.finish(job, "w1", Transition.completed())
    newcomer = await enqueue(queue, u["new"], "hello")
    place = (await queue.position(newcomer)).place
    assert place <= 10                                     # one job of each busy user at most
    assert (await drain(queue)).index(newcomer) + 1 == place


async def test_jobs_without_a_user_keep_their_priority(engine, queue):
    u = await users(engine, "ann")
    ann = [await enqueue(queue, u["ann"], f"a{i}") for i in range(3)]
    chore = (await queue.enqueue("chore", {}, priority=-1)).id   # urgent: ahead of every turn
    plain = await enqueue(queue, None, "plain")                 # the turn now served: behind ann's first
    assert await drain(queue) == [chore, ann[0], plain, ann[1], ann[2]]


async def test_a_crowd_shares_one_cap_and_its_users_keep_theirs(engine, queue):
    u = await users(engine, "ann", "bob", "cat", "dan")
    here = Limits(address_job_cap=3).crowd("web", "198.51.100.7", None)
    there = Limits(address_job_cap=3).crowd("web", "203.0.113.9", None)
    jobs = [await enqueue(queue, u[name], name, crowd=here) for name in ("ann", "bob", "ann")]
    with pytest.raises(CrowdJobCapReached) as refused:
        await enqueue(queue, u["cat"], "cat", crowd=here)
    assert (refused.value.limit, refused.value.crowd.kind) == (3, "address")
    assert "3 requests from this address" in str(refused.value)
    await enqueue(queue, u["dan"], "dan", crowd=there)           # another address has its own
    [job] = await queue.claim("w1", ["default"], limit=1, lease_seconds=30)
    assert job.id == jobs[0]
    with pytest.raises(CrowdJobCapReached):                        # running: still counted
        await enqueue(queue, u["cat"], "cat", crowd=here)
    await queue.finish(job, "w1", Transition.completed())
    await enqueue(queue, u["cat"], "cat", crowd=here)              # a finished job frees a place
    small = Queue(engine, kinds(), user_job_cap=1)                 # the user's own cap still says no first
    with pytest.raises(UserJobCapReached):
        await small.enqueue("render", {}, user_id=u["cat"], crowd=there)


async def test_the_crowd_cap_holds_under_concurrent_enqueues(engine, queue):
    u = await users(engine, *(f"u{i}" for i in range(12)))
    crowd = Crowd("chat", "g" * 32, 4)
    outcomes = await asyncio.gather(*(queue.enqueue("render", {}, user_id=user, crowd=crowd) for user in u.values()),
                                    return_exceptions=True)
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 4
    assert all(isinstance(o, CrowdJobCapReached) for o in outcomes if isinstance(o, BaseException))


def test_a_crowd_is_an_address_an_ipv6_subscriber_or_a_group_chat():
    limits = Limits(address_job_cap=7, chat_job_cap=9)
    v4 = limits.crowd("web", "198.51.100.7", None)
    assert (v4.kind, v4.cap, len(v4.key)) == ("address", 7, 32) and "198" not in v4.key
    assert limits.crowd("web", "::ffff:198.51.100.7", None) == v4                  # a dual-stack socket's way
    assert limits.crowd("web", "198.51.100.8", None) != v4
    assert limits.crowd("web", "2001:db8:1:2::1", None) == limits.crowd("web", "2001:db8:1:2:ffff::9", None)
    assert limits.crowd("web", "2001:db8:1:3::1", None) != limits.crowd("web", "2001:db8:1:2::1", None)
    group = limits.crowd("telegram", None, "-1001234")
    assert (group.kind, group.cap) == ("chat", 9)
    assert limits.crowd("discord", None, "-1001234") != group                       # another platform's id
    assert limits.crowd("telegram", None, None) is None                             # a direct chat
    assert limits.crowd("web", "not an address", None) is None
    keyed = limits.crowd("web", "198.51.100.7", None, b"server secret")
    assert keyed.key != v4.key and keyed == limits.crowd("web", "198.51.100.7", None, b"server secret")
    assert Limits(address_job_cap=0).crowd("web", "198.51.100.7", None) is None     # 0: no cap
    assert Limits(chat_job_cap=0).crowd("telegram", None, "-1001234") is None
