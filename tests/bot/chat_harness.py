"""A web user's chat driven through the real conversation core, worker and outbox, in one
process: send a message, let the worker finish its jobs, and collect the replies the user sees."""

from __future__ import annotations

from bot.conversation import Conversation
from bot.messages import Incoming
from facegen.handlers import FaceJobs
from storage.worker import Worker
from storage.outbox import Outbox, Routes


class ChatHarness:
    def __init__(self, engine, *, cap: int = 20, photo_retention_seconds: float = 0.0,
                 display_names: dict[str, str] | None = None) -> None:
        self.engine = engine
        self.conversation = Conversation(engine, size=64, user_job_cap=cap)
        handlers = FaceJobs(engine, photo_retention_seconds=photo_retention_seconds).handlers()
        self.worker = Worker(engine, handlers, queues=("default", "slow"))
        self.outbox = Outbox(engine)
        self.display_names = display_names or {}

    async def send(self, user: str, text: str | None = None, *, run: bool = True, **what):
        """`what`: other Incoming fields (button=, photo=)."""
        incoming = Incoming("web", user, f"chat-{user}", text=text, locale="en", target=user,
                            display_name=self.display_names.get(user), **what)
        replies = await self.conversation.handle(incoming)
        if run:
            replies += await self.run_jobs(user)
        return replies

    async def run_jobs(self, user: str) -> list:
        """Run every queued job, then render the replies waiting for `user`."""
        while await self.worker.run_once():
            pass
        replies = []
        for delivery in await self.outbox.claim("test", Routes(platforms=("web",)), 50, 30):
            assert delivery.target == user    # results go back to whoever asked
            replies += await self.conversation.render_delivery(delivery)
            await self.outbox.mark_sent(delivery, "test")
        return replies

    async def announce(self, backend: str) -> None:
        """As a worker serving `backend` would: its model described with a heartbeat."""
        from facegen.backends import load_backend
        from storage.presence import Presence, ProcessInfo
        await Presence(self.engine).beat(ProcessInfo("worker", ("default", "slow"), (),
                                                     (load_backend(backend).describe().to_json(),)))

    async def start(self, user: str) -> None:
        """Past the first-use notice."""
        await self.send(user, "hi")
        await self.send(user, "ok")
