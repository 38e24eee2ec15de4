"""The chat side of the outbox: a loop that claims the replies this process can deliver, hands
each to the adapter's `send`, and records the outcome. Adapters provide only `send`; it raises
DeliveryFailed (permanent or not) when the platform refuses.

Deliveries to one destination (a chat, a web user) go out one after another, in the order
claimed; different destinations' go out at once (at most `max_sending`), so a slow chat or a
web tab that stopped reading holds up only its own replies. The loop claims again while
earlier sends are still out.

Between a successful `send` and `mark_sent` lies the only window in which a crash repeats a
message; the loop keeps nothing else in flight."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from ground.logging import log_context
from ground.metrics import DELIVERIES
from storage.claim_loop import claim_until_stopped
from storage.outage import is_unavailable, retry_while_unavailable
from storage.outbox import DELIVERIES_CHANNEL, DeliveryFailed, DeliveryRecord, Destination, Outbox, Routes
from storage.presence import Presence, ProcessInfo
from storage.wakeup import Wakeup

log = logging.getLogger(__name__)

Send = Callable[[DeliveryRecord], Awaitable[None]]
MAX_SENDING = 64   # deliveries out at once, over all destinations
LEASE_SECONDS = 30.0   # a claimed reply's lease; a dead process's replies go out again after it


class Courier:
    def __init__(self, engine: AsyncEngine, routes: Routes, send: Send, *, batch_size: int = 16,
                 lease_seconds: float = LEASE_SECONDS, poll_seconds: float = 0.5, retry_base: float = 2.0,
                 process: ProcessInfo | None = None, max_sending: int = MAX_SENDING) -> None:
        self.routes = routes   # a web process may replace this as connections come and go
        self.send = send
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.outbox = Outbox(engine, retry_base=retry_base)
        self.presence = Presence(engine)
        self.process = process or ProcessInfo("chat", routes.served)
        self._engine = engine
        self.max_sending = max_sending
        self._in_flight: set[int] = set()
        self._lanes: dict[Destination, asyncio.Task] = {}   # each destination's latest send
        self._sending: set[asyncio.Task] = set()
        self._failure: BaseException | None = None          # a send that died of a real error

    @property
    def owner(self) -> str:
        return self.process.id

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; survives database outages."""
        served = set(self.routes.served)
        try:
            async with Wakeup(self._engine, DELIVERIES_CHANNEL, self.poll_seconds, served.__contains__) as wakeup:
                await claim_until_stopped(stop, wakeup, self._dispatch, heartbeat=self._heartbeat(stop),
                                          presence=self.presence, owner=self.owner, what=f"courier {self.owner}")
        finally:
            await self._drain()

    async def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many were claimed."""
        claimed = await self._dispatch()
        await self._drain()
        return claimed

    async def _dispatch(self) -> int:
        """Claim what there is room for and start each delivery behind the earlier ones to its
        destination; returns how many were claimed (0 when full: the loop waits, then looks again)."""
        if self._failure is not None:
            raise self._failure
        room = min(self.batch_size, self.max_sending - len(self._sending))
        if room <= 0:
            return 0
        batch = await self.outbox.claim(self.owner, self.routes, room, self.lease_seconds)
        for delivery in batch:
            self._in_flight.add(delivery.id)
            task = asyncio.create_task(self._in_lane(self._lanes.get(delivery.destination), delivery),
                                       name=f"delivery {delivery.id}")
            self._lanes[delivery.destination] = task
            self._sending.add(task)
            task.add_done_callback(lambda task, lane=delivery.destination: self._sent(lane, task))
        return len(batch)

    async def _in_lane(self, before: asyncio.Task | None, delivery: DeliveryRecord) -> None:
        if before is not None:
            await asyncio.wait([before])   # its outcome is its own
        try:
            await self._deliver(delivery)
        finally:
            self._in_flight.discard(delivery.id)

    def _sent(self, lane: Destination, task: asyncio.Task) -> None:
        self._sending.discard(task)
        if self._lanes.get(lane) is task:
            del self._lanes[lane]
        if not task.cancelled() and task.exception() is not None:
            self._failure = self._failure or task.exception()

    async def _drain(self) -> None:
        """Wait for the sends still out; raise the first real error one of them died of."""
        while self._sending:
            await asyncio.wait(set(self._sending))
        if self._failure is not None:
            raise self._failure

    async def _deliver(self, delivery: DeliveryRecord) -> None:
        with log_context(job_id=delivery.job_id, face_id=delivery.payload.get("face_id")):
            outcome = await self._send_and_record(delivery)
        DELIVERIES.labels(delivery.platform, outcome).inc()

    async def _send_and_record(self, delivery: DeliveryRecord) -> str:
        """Returns the outcome for the metrics: sent; refused (the platform said never, e.g. a
        blocked bot); error (a transient failure: retried unless that was the last attempt)."""
        try:
            await self.send(delivery)
        except DeliveryFailed as failure:
            outcome = failure
        except Exception as exc:  # an adapter bug or network error must not stop the other replies
            log.exception("courier %s: sending delivery %s failed", self.owner, delivery.id)
            outcome = DeliveryFailed(f"{type(exc).__name__}: {exc}")
        else:
            await retry_while_unavailable(lambda: self.outbox.mark_sent(delivery, self.owner),
                                          f"mark delivery {delivery.id} sent")
            return "sent"
        await retry_while_unavailable(lambda: self.outbox.mark_failed(delivery, self.owner, outcome),
                                      f"record failure of delivery {delivery.id}")
        return "refused" if outcome.permanent else "error"

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        interval = self.lease_seconds / 3
        while not stop.is_set():
            try:
                await self.presence.beat(self.process)
                await self.outbox.extend(self.owner, sorted(self._in_flight), self.lease_seconds)
                await self.outbox.rescue_expired()
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                log.warning("courier %s heartbeat: database unavailable (%s)", self.owner, type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
