"""The delivery outbox and the courier loop on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from storage.jobkinds import JobKind, JobKinds
from storage.courier import Courier
from storage.outbox import DeliveryFailed, Destination, Outbox, Routes
from storage.presence import Presence, ProcessInfo
from storage.queue import JobLost, Queue, Transition

TELEGRAM = Destination("telegram", "chat-1")
DISCORD = Destination("discord", "channel-1")


@pytest.fixture
def outbox(engine) -> Outbox:
    return Outbox(engine, retry_base=0.05)


async def test_reply_is_claimed_sent_once_and_keeps_its_nonce(outbox):
    nonce = await outbox.send_later(TELEGRAM, {"text": "hello"})
    [delivery] = await outbox.claim("chat-a", Routes(("telegram",)), limit=10, lease_seconds=30)
    assert (delivery.nonce, delivery.payload, delivery.destination, delivery.attempt) == (
        nonce, {"text": "hello"}, TELEGRAM, 1)
    assert await outbox.claim("chat-b", Routes(("telegram",)), limit=10, lease_seconds=30) == []
    assert await outbox.mark_sent(delivery, "chat-a")
    sent = await outbox.get(delivery.id)
    assert sent.state == "sent" and sent.sent_at is not None
    assert not await outbox.mark_sent(delivery, "chat-a")   # marked once


async def test_each_process_claims_only_what_it_can_deliver(outbox):
    await outbox.send_later(Destination("telegram", "t1"), {"n": 1})
    await outbox.send_later(Destination("discord", "d1"), {"n": 2})
    await outbox.send_later(Destination("web", "u7", target="conn-A"), {"n": 3})
    await outbox.send_later(Destination("web", "u8", target="conn-B"), {"n": 4})
    web_a = await outbox.claim("web-a", Routes(targets=(("web", "conn-A"),)), limit=10, lease_seconds=30)
    assert [d.payload["n"] for d in web_a] == [3]
    bots = await outbox.claim("bots", Routes(("telegram", "discord")), limit=10, lease_seconds=30)
    assert sorted(d.payload["n"] for d in bots) == [1, 2]
    web_b = await outbox.claim("web-b", Routes(targets=(("web", "conn-B"), ("web", "conn-A"))),
                               limit=10, lease_seconds=30)
    assert [d.payload["n"] for d in web_b] == [4]


async def test_replies_commit_with_the_job_result_or_not_at_all(engine, outbox):
    queue = Queue(engine, JobKinds({"k": JobKind("k", dict)}))
    job_id = (await queue.enqueue("k", {})).id
    [job] = await queue.claim("w1", ["default"], 1, lease_seconds=30)
    await queue.cancel(job_id)
    lost = await queue.claim("w1", ["default"], 1, lease_seconds=30)
    assert lost == []
    async with queue.finalize(job, "w1", Transition.completed({"ok": 1})) as session:
        await outbox.add(session, TELEGRAM, {"text": "done"}, job_id=job.id)
    assert [d.payload for d in await outbox.for_job(job_id)] == [{"text": "done"}]

    zombie_job_id = (await queue.enqueue("k", {})).id
    [zombie_job] = await queue.claim("zombie", ["default"], 1, lease_seconds=0.1)
    await asyncio.sleep(0.2)
    await queue.rescue_expired()
    with pytest.raises(JobLost):
        async with queue.finalize(zombie_job, "zombie", Transition.completed()) as session:
            await outbox.add(session, TELEGRAM, {"text": "late"}, job_id=zombie_job_id)
    assert await outbox.for_job(zombie_job_id) == []


async def test_a_jobs_reply_is_left_to_the_live_chat_process_that_answered_for_it(engine, outbox):
    """A job queued in a chat process's turn names that process (reply_to.process): it posted the
    job's progress message, so while it is live no other process claims the job's replies; once
    it has stopped, or been silent for a lease, any process of the platform does."""
    queue = Queue(engine, JobKinds({"k": JobKind("k", dict)}))
    presence = Presence(engine)
    answering = ProcessInfo("chat", ("discord",))
    await presence.beat(answering)
    discord = Routes(("discord",))

    async def reply_of_a_job(process: str | None) -> int:
        job_id = (await queue.enqueue("k", {"reply_to": {"process": process}})).id
        [job] = await queue.claim("w1", ["default"], 1, lease_seconds=30)
        async with queue.finalize(job, "w1", Transition.completed()) as session:
            await outbox.add(session, DISCORD, {"text": "done"}, job_id=job_id)
        return job_id

    its, nobodys, unknowns = (await reply_of_a_job(answering.id), await reply_of_a_job(None),
                              await reply_of_a_job("chat-never-seen"))
    assert sorted(d.job_id for d in await outbox.claim("chat-b", discord, 10, 30)) == [nobodys, unknowns]
    assert [d.job_id for d in await outbox.claim(answering.id, discord, 10, 30)] == [its]

    silent = await reply_of_a_job(answering.id)
    assert await outbox.claim("chat-b", discord, 10, lease_seconds=30) == []
    await asyncio.sleep(0.2)
    assert [d.job_id for d in await outbox.claim("chat-b", discord, 10, lease_seconds=0.1)] == [silent]

    stopped = await reply_of_a_job(answering.id)
    await presence.forget(answering.id)
    assert [d.job_id for d in await outbox.claim("chat-b", discord, 10, 30)] == [stopped]


async def test_permanent_failure_ends_with_the_reason(outbox):
    await outbox.send_later(TELEGRAM, {"text": "hi"})
    [delivery] = await outbox.claim("chat-a", Routes(("telegram",)), 10, 30)
    await outbox.mark_failed(delivery, "chat-a", DeliveryFailed("403: bot was blocked by the user", permanent=True))
    failed = await outbox.get(delivery.id)
    assert (failed.state, failed.error) == ("failed", "403: bot was blocked by the user")
    assert await outbox.claim("chat-a", Routes(("telegram",)), 10, 30) == []


async def test_transient_failure_retries_with_backoff_then_gives_up(engine):
    outbox = Outbox(engine)
    async with outbox._sessions() as session, session.begin():
        await outbox.add(session, TELEGRAM, {"text": "hi"}, max_attempts=2)
    [delivery] = await outbox.claim("chat-a", Routes(("telegram",)), 10, 30)
    await outbox.mark_failed(delivery, "chat-a", DeliveryFailed("502 from the platform", retry_after=0.3))
    assert (await outbox.get(delivery.id)).state == "pending"
    assert await outbox.claim("chat-a", Routes(("telegram",)), 10, 30) == []   # still backing off
    await asyncio.sleep(0.4)
    [again] = await outbox.claim("chat-a", Routes(("telegram",)), 10, 30)
    assert (again.id, again.nonce, again.attempt) == (delivery.id, delivery.nonce, 2)
    await outbox.mark_failed(again, "chat-a", DeliveryFailed("502 from the platform"))
    final = await outbox.get(delivery.id)
    assert final.state == "failed" and final.error == "502 from the platform (gave up after 2 attempts)"


async def test_a_dead_senders_replies_come_back_to_another_process(outbox):
    await outbox.send_later(TELEGRAM, {"text": "hi"})
    [delivery] = await outbox.claim("dead", Routes(("telegram",)), 10, lease_seconds=0.1)
    assert await outbox.extend("dead", [delivery.id], lease_seconds=0.1) == frozenset()
    await asyncio.sleep(0.25)
    assert await outbox.rescue_expired() == [delivery.id]
    assert await outbox.extend("dead", [delivery.id], lease_seconds=30) == {delivery.id}
    [again] = await outbox.claim("alive", Routes(("telegram",)), 10, 30)
    assert again.nonce == delivery.nonce
    assert not await outbox.mark_sent(delivery, "dead")
    assert await outbox.mark_sent(again, "alive")


async def test_courier_delivers_records_failures_and_survives_a_broken_adapter(engine, outbox):
    sent: list[str] = []

    async def send(delivery):
        text = delivery.payload["text"]
        if text == "blocked":
            raise DeliveryFailed("403 Forbidden", permanent=True)
        if text == "bug":
            raise RuntimeError("adapter bug")
        sent.append(text)

    for text in ("one", "blocked", "bug", "two"):
        await outbox.send_later(TELEGRAM, {"text": text})
    await outbox.send_later(Destination("discord", "d"), {"text": "not mine"})
    courier = Courier(engine, Routes(("telegram",)), send, poll_seconds=0.05, retry_base=30)
    stop = asyncio.Event()
    task = asyncio.create_task(courier.run(stop))
    for _ in range(100):
        if len(sent) == 2:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert sent == ["one", "two"]
    states = {}
    for delivery_id in range(1, 6):
        record = await outbox.get(delivery_id)
        states[record.payload["text"]] = (record.state, record.error)
    assert states == {"one": ("sent", None), "two": ("sent", None),
                      "blocked": ("failed", "403 Forbidden"),
                      "bug": ("pending", "RuntimeError: adapter bug"),
                      "not mine": ("pending", None)}
