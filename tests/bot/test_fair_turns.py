"""Fair turns through the chat core and a real worker, on SQLite and PostgreSQL (issue #23):
one client holding 50 web identities queues 200 faces, and an honest user who then asks for
one face is told "#51 in line" and has it drawn 51st (in the 7th batch of 8): behind one face
of each identity, not behind all 200. The web users of one address and the users of one group
chat share a cap, refused in the user's language; the web chat tells the core the client's
address (through a trusted proxy)."""

from __future__ import annotations

from ipaddress import ip_network

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.conversation import Conversation
from bot.conversation.replies import say
from bot.messages import Incoming
from bot.web.identity import COOKIE_NAME
from facegen.handlers import FaceJobs
from ground.limits import DEFAULT_ADDRESS_JOB_CAP, Limits
from storage.outbox import Outbox, Routes
from storage.worker import Worker
from web_fakes import fake_app

IDENTITIES = 50
JOBS_EACH = 4        # 200 jobs in all, within the per-user cap of 5
BATCH = 8
HONEST_ADDRESS = "203.0.113.7"


class Web:
    """Web users talking to the real conversation core, each from an address of its own choosing."""

    def __init__(self, engine, limits: Limits = Limits()) -> None:
        self.conversation = Conversation(engine, size=64, limits=limits)

    async def send(self, user: str, text: str, address: str, locale: str = "en"):
        return await self.conversation.handle(Incoming("web", user, user, text=text, locale=locale, target=user,
                                                       address=address))

    async def start(self, user: str, address: str, locale: str = "en") -> None:
        await self.send(user, "hi", address, locale)
        await self.send(user, "ok" if locale == "en" else "네", address, locale)


def recording(worker: Worker) -> list[int]:
    """The ids of the jobs `worker` claims, in the order it claims them."""
    claimed: list[int] = []
    claim = worker.queue.claim

    async def claim_and_record(*args, **kwargs):
        batch = await claim(*args, **kwargs)
        claimed.extend(job.id for job in batch)
        return batch
    worker.queue.claim = claim_and_record
    return claimed


async def test_one_client_with_50_identities_cannot_starve_an_honest_user(engine):
    web = Web(engine)
    worker = Worker(engine, FaceJobs(engine).handlers(), queues=("default", "slow"), batch_size=BATCH)
    await worker.presence.beat(worker.process)   # online: replies say the place in line
    # one client, 50 identities on 50 addresses (so no address cap applies), 4 faces each
    for n in range(IDENTITIES):
        user, address = f"sybil-{n}", f"198.51.100.{n + 1}"
        await web.start(user, address)
        for _ in range(JOBS_EACH):
            [reply] = await web.send(user, "new", address)
            assert reply.kind == "progress"
    await web.start("honest", HONEST_ADDRESS)
    [told] = await web.send("honest", "new", HONEST_ADDRESS)
    # ahead of the honest face: one face of each identity (their first), not all 200
    assert told.text == say("en", "queued", place=IDENTITIES + 1)
    claimed, batches = recording(worker), 0
    while told.job_id not in claimed:
        assert await worker.run_once()
        batches += 1
    place = claimed.index(told.job_id) + 1
    print(f"\nhonest face claimed #{place} of {IDENTITIES * JOBS_EACH + 1}, in batch {batches} (batches of {BATCH})")
    assert place == IDENTITIES + 1                                  # the place told was true
    assert batches <= -(-(IDENTITIES + 1) // BATCH)                 # the 7th batch at the latest
    [delivery] = await Outbox(engine).claim("test", Routes(targets=(("web", "honest"),)), 10, 30)
    [face] = await web.conversation.render_delivery(delivery)
    assert face.kind == "result" and face.pictures


async def test_the_web_users_of_one_address_share_a_cap(engine):
    web = Web(engine)
    address = "198.51.100.77"
    refused = []
    for n in range(IDENTITIES):
        user, locale = f"sybil-{n}", "ko" if n % 2 else "en"
        await web.start(user, address, locale)
        for _ in range(JOBS_EACH):
            [reply] = await web.send(user, "new" if locale == "en" else "새 얼굴", address, locale)
            if reply.kind == "error":
                refused.append((locale, reply.text))
    assert len(refused) == IDENTITIES * JOBS_EACH - DEFAULT_ADDRESS_JOB_CAP
    assert set(refused) == {(locale, say(locale, "cap_address", limit=DEFAULT_ADDRESS_JOB_CAP))
                            for locale in ("en", "ko")}
    assert "20건" in say("ko", "cap_address", limit=20) and "기다리고 있어요" in say("ko", "cap_address", limit=20)
    # an IPv6 client is one crowd by its /64, whichever address of it a request comes from
    for n in range(DEFAULT_ADDRESS_JOB_CAP // JOBS_EACH + 1):
        user = f"v6-{n}"
        await web.start(user, f"2001:db8:5:6::{n + 1}")
        replies = [(await web.send(user, "new", f"2001:db8:5:6::{n + 1}"))[0].kind for _ in range(JOBS_EACH)]
        assert replies == (["progress"] * JOBS_EACH if n < DEFAULT_ADDRESS_JOB_CAP // JOBS_EACH else ["error"] * JOBS_EACH)
    await web.start("honest", HONEST_ADDRESS)                         # another address is not held up
    assert (await web.send("honest", "new", HONEST_ADDRESS))[0].kind == "progress"


@pytest.mark.parametrize("platform", ["telegram", "discord"])
async def test_the_users_of_one_group_chat_share_a_cap(engine, platform):
    chat = Conversation(engine, size=64, limits=Limits(chat_job_cap=3))

    async def say_in_group(user: str, text: str, group: str | None, locale: str = "en"):
        return await chat.handle(Incoming(platform, user, "chan-1", text=text, locale=locale, in_group=group is not None,
                                          group_id=group))

    for user in ("ann", "bob", "kim"):
        await say_in_group(user, "hi", "guild-1")
        await say_in_group(user, "ok", "guild-1")
    kinds = [(await say_in_group(user, "new", "guild-1"))[0].kind for user in ("ann", "bob", "ann")]
    assert kinds == ["progress"] * 3
    assert (await say_in_group("kim", "new", "guild-1"))[0].text == say("en", "cap_chat", limit=3)
    assert (await say_in_group("kim", "새 얼굴", "guild-1", "ko"))[0].text == say("ko", "cap_chat", limit=3)
    assert (await say_in_group("kim", "new", "guild-2"))[0].kind == "progress"   # another group
    assert (await say_in_group("kim", "new", None))[0].kind == "progress"        # a direct chat


@pytest.mark.parametrize("source, forwarded, address", [
    ("127.0.0.1", "203.0.113.7", "203.0.113.7"),   # a trusted proxy names the client
    ("127.0.0.2", "203.0.113.7", "127.0.0.2"),     # anyone else's header is ignored
], ids=["trusted-proxy", "direct"])
async def test_the_web_chat_tells_the_core_the_clients_address(engine, source, forwarded, address):
    app, core = fake_app(engine, trusted_proxies=(ip_network("127.0.0.1"),))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    headers = {"X-Forwarded-For": forwarded}
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0))) as http:
            async with http.get(server.make_url("/"), headers=headers) as page:
                cookie = page.cookies[COOKIE_NAME].value
            async with http.ws_connect(server.make_url("/ws"), headers=headers | {"Cookie": f"{COOKIE_NAME}={cookie}"}) as ws:
                await ws.send_json({"type": "text", "text": "hello"})
                while (await ws.receive_json(timeout=5))["type"] != "reply":
                    pass
    finally:
        await server.close()
    assert core.conversation.seen[-1].address == address
