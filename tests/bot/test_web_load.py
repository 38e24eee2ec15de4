"""100 web users at once on the real core: every reply reaches its own user and no one else's,
none is lost, and the per-user job cap answers the extra requests with a clear message."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time

import pytest

from bot.web.app import CORE
from bot.web.client import ChatClient, has_image, is_final
from dreamface.app import WORKER_QUEUES
from facegen import handlers
from storage.worker import Worker
from storage.db import session_factory
from storage.faces import FaceRepository
from web_served import POLL, acknowledge_notice, served, settings_for

USERS = 100
CAP = 2
ASKED = CAP + 1


@pytest.mark.slow
async def test_100_concurrent_users_get_their_own_replies_and_the_cap_is_enforced(tmp_path, migrated_templates):
    # all 100 users come from 127.0.0.1: the per-address cap is off, the per-user cap is under test
    settings = settings_for(tmp_path, migrated_templates["sqlite"], user_job_cap=CAP, address_job_cap=0,
                            web_identities_per_hour=0)   # every user here is 127.0.0.1
    # no worker at first, so every user's requests are still waiting when the cap is checked
    async with served(settings, with_worker=False) as server, contextlib.AsyncExitStack() as stack:
        url = str(server.make_url("/"))
        clients = await asyncio.gather(*(stack.enter_async_context(ChatClient(url)) for _ in range(USERS)))
        assert len({c.user_key for c in clients}) == USERS

        async def ask(client: ChatClient) -> list[dict]:
            await acknowledge_notice(client, "help")
            await client.receive()                        # the help text
            for _ in range(ASKED):
                await client.say("new")
            return [await client.receive() for _ in range(ASKED)]

        immediate = await asyncio.gather(*(ask(c) for c in clients))
        for replies in immediate:
            assert [r["kind"] for r in replies] == ["progress"] * CAP + ["error"] * (ASKED - CAP)
            assert all(f"You already have {CAP} requests waiting" in r["text"] for r in replies[CAP:])
            assert all("Drawing is paused" in r["text"] for r in replies[:CAP])   # and no worker is running yet

        engine = server.app[CORE].engine
        worker = Worker(engine, handlers.load(settings, engine), queues=WORKER_QUEUES,
                        batch_size=settings.worker_batch_size, poll_seconds=POLL)
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        started = time.perf_counter()
        try:
            async def results(client: ChatClient) -> list[dict]:
                finals = []
                while len(finals) < CAP:
                    finals += [f for f in await client.until(is_final, timeout=120) if is_final(f)]
                return finals

            delivered = await asyncio.gather(*(results(c) for c in clients))
            elapsed = time.perf_counter() - started
        finally:
            stop.set()
            await running
        print(f"\n{USERS} users × {CAP} faces delivered in {elapsed:.1f} s")

        sessions = session_factory(engine)
        for client, finals in zip(clients, delivered):
            assert all(has_image(f) and f["kind"] == "result" for f in finals)
            received = {base64.b64decode(f["images"][0]["data"]) for f in finals}
            async with sessions() as session:
                repo = FaceRepository(session)
                user = await repo.get_or_create_user("web", client.user_key)
                stored = set()
                for number in range(1, CAP + 1):
                    face = await repo.get_face_by_number(user, number)
                    stored.add((await repo.face_image(face)).data)
            assert received == stored, "a user received faces that are not theirs"

        # nothing else arrives: no duplicate and no stray reply
        for client in clients:
            with pytest.raises(asyncio.TimeoutError):
                await client.receive(timeout=0.05)
