"""A stand-in conversation core for the web transport's own tests: it echoes who spoke, and
writes results to the real delivery outbox so the courier path is exercised end to end."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.messages import Button, Incoming, Picture, Reply
from bot.web.app import WebConfig, create_app
from bot.web.identity import COOKIE_NAME
from storage.outbox import DeliveryRecord, Destination, Outbox

SECRET = b"test secret, 32 bytes long......"


@dataclass
class EchoConversation:
    engine: AsyncEngine
    seen: list[Incoming] = field(default_factory=list)
    progress: dict[int, Reply] = field(default_factory=dict)   # what job_progress answers, per job
    next_job: int = 1000

    async def handle(self, incoming: Incoming) -> list[Reply]:
        self.seen.append(incoming)
        if incoming.photo is not None:
            return [Reply(f"photo of {len(incoming.photo)} bytes",
                          pictures=(Picture(incoming.photo, "you.png", as_file=True),))]
        if incoming.text == "boom":
            raise RuntimeError("the core fell over")
        if incoming.text in ("later", "slow"):   # a job; "later" finishes at once, "slow" when a test says
            self.next_job += 1
            job = self.next_job
            queued = self.progress[job] = Reply("#2 in line", kind="progress", job_id=job)
            if incoming.text == "later":
                await self.finish(job, incoming.chat_id, f"result for {incoming.user_id}")
            return [queued]
        said = incoming.text if incoming.text is not None else f"button {incoming.button}"
        return [Reply(f"{incoming.user_id} said {said}", buttons=((Button("again", "again"),),))]

    async def finish(self, job: int, user_key: str, text: str) -> None:
        self.progress.pop(job, None)
        await Outbox(self.engine).send_later(Destination("web", user_key, user_key), {"text": text, "job": job})

    async def render_delivery(self, delivery: DeliveryRecord) -> list[Reply]:
        return [Reply(delivery.payload["text"], kind="result", job_id=delivery.payload.get("job"))]

    async def job_progress(self, job_ids: list[int]) -> dict[int, Reply | None]:
        return {job: self.progress.get(job) for job in job_ids}

    async def restore(self, platform: str, platform_user_id: str) -> list[Reply]:
        return [Reply(f"welcome back, {platform_user_id}", kind="notice")]


@dataclass
class FakeCore:
    engine: AsyncEngine
    conversation: EchoConversation


def fake_app(engine: AsyncEngine, **config):
    core = FakeCore(engine, EchoConversation(engine))

    @contextlib.asynccontextmanager
    async def open_core() -> AsyncIterator[FakeCore]:
        yield core

    defaults = dict(secret=SECRET, courier_poll_seconds=0.05, progress_poll_seconds=0.05)
    app = create_app(WebConfig(**(defaults | config)), open_core)
    return app, core


async def browser(server: TestServer) -> tuple[TestClient, str]:
    """A client that has visited the page (so it holds an identity cookie); returns it and its user key."""
    client = TestClient(server)
    await client.start_server()
    response = await client.get("/")
    assert response.status == 200
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE_NAME].value
    return client, cookie.split(".")[0]
