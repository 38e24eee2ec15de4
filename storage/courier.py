"""The chat side of the outbox: a loop that claims the replies this process can deliver, hands
each to the adapter's `send`, and records the outcome. Adapters provide only `send`; it raises
DeliveryFailed (permanent or not) when the platform refuses.

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
from storage.outbox import DELIVERIES_CHANNEL, DeliveryFailed, DeliveryRecord, Outbox, Routes
from storage.presence import Presence, ProcessInfo
from storage.wakeup import Wakeup

log = logging.getLogger(__name__)

Send = Callable[[DeliveryRecord], Awaitable[None]]


class Courier:
    def __init__(self, engine: AsyncEngine, routes: Routes, send: Send, *, batch_size: int = 16,
                 lease_seconds: float = 30.0, poll_seconds: float = 0.5, retry_base: float = 2.0,
                 process: ProcessInfo | None = None) -> None:
        self.routes = routes   # a web process may replace this as connections come and go
        self.send = send
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.outbox = Outbox(engine, retry_base=retry_base)
        self.presence = Presence(engine)
        self.process = process or ProcessInfo("chat", routes.served)
        self._engine = engine
        self._in_flight: set[int] = set()

    @property
    def owner(self) -> str:
        return self.process.id

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; survives database outages."""
        served = set(self.routes.served)
        async with Wakeup(self._engine, DELIVERIES_CHANNEL, self.poll_seconds, served.__contains__) as wakeup:
            await claim_until_stopped(stop, wakeup, self.run_once, heartbeat=self._heartbeat(stop),
                                      presence=self.presence, owner=self.owner, what=f"courier {self.owner}")

    async def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many were claimed."""
        batch = await self.outbox.claim(self.owner, self.routes, self.batch_size, self.lease_seconds)
        self._in_flight = {d.id for d in batch}
        for delivery in batch:
            await self._deliver(delivery)
            self._in_flight.discard(delivery.id)
        return len(batch)

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
