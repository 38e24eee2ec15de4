"""Remembered progress messages are taken over only from processes that are gone: a chat
process starting beside a live one must not edit that one's messages (a stale status edit
landing after the other's result would cover the face with "in line…" again)."""

from __future__ import annotations

from storage.jobkinds import JobKind, JobKinds
from storage.presence import Presence, ProcessInfo
from storage.progress_messages import ProgressMessageStore
from storage.queue import Queue


async def test_a_starting_process_takes_over_only_the_messages_of_processes_that_are_gone(engine):
    kinds = JobKinds()
    kinds.register(JobKind("noop", dict))
    queue = Queue(engine, kinds)
    jobs = [(await queue.enqueue("noop", {"n": n})).id for n in range(3)]
    store, presence = ProgressMessageStore(engine, "discord"), Presence(engine)
    alive, gone = ProcessInfo("chat", ("discord",)), ProcessInfo("chat", ("discord",))
    await presence.beat(alive)
    await store.remember(jobs[0], "c1", "m1", "#1 in line", process=alive.id)
    await store.remember(jobs[1], "c2", "m2", "#2 in line", process=gone.id)
    await store.remember(jobs[2], "c3", "m3", "#3 in line")   # remembered before processes were named
    live = await presence.live("chat")
    assert alive.id in live and gone.id not in live
    assert [r.message_id for r in await store.shown(followed_by=live)] == ["m2", "m3"]
    await presence.forget(alive.id)   # stopped in order: its messages are free to take over
    assert [r.message_id for r in await store.shown(followed_by=await presence.live("chat"))] == ["m1", "m2", "m3"]
    assert (await store.get(jobs[0])).message_id == "m1"   # a result still finds any process's message
