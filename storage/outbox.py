"""The delivery outbox: replies written in the same transaction as the job result that made
them, then claimed by the chat process that can deliver them, with the job queue's lease
pattern.

    pending ──claim──► sending ──mark_sent──► sent
       ▲                  ├──mark_failed(permanent)──► failed   (blocked, chat gone, 403)
       └──transient failure (backoff) / lease rescued──┘          (or after the last attempt)

Delivery is at least once: a process that dies after the platform accepted a message but
before `mark_sent` repeats that one message after its lease runs out. Each delivery carries
a stable `nonce` for platforms that can drop such a repeat (Discord's enforce_nonce).

A reply that carries a stored picture (a contact sheet) says so with `add(..., picture=blob_id)`:
the blob id goes into the payload under PICTURE, the one key storage reads, and the picture is
deleted with the reply (storage/privacy.py). The rest of a payload is the writer's own."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from storage import queries as q
from storage.db import session_factory
from storage.queue import backoff

DELIVERIES_CHANNEL = "dreamface_deliveries"
DEFAULT_MAX_ATTEMPTS = 10
PICTURE = "blob_id"   # the payload key of the picture blob a reply carries (see the module's docstring)


def picture_of(payload: Mapping[str, Any]) -> int | None:
    """The blob id of the picture a reply's payload carries, if any."""
    blob_id = payload.get(PICTURE)
    return blob_id if isinstance(blob_id, int) and not isinstance(blob_id, bool) else None


@dataclass(frozen=True)
class Destination:
    platform: str               # telegram | discord | web | cli
    chat_id: str
    target: str | None = None   # only the process serving this target may deliver (web: user or connection)


@dataclass(frozen=True)
class Routes:
    """What a chat process can deliver: every reply of some platforms, and replies addressed
    to particular targets (a web process: the users connected to it)."""
    platforms: tuple[str, ...] = ()
    targets: tuple[tuple[str, str], ...] = ()   # (platform, target)

    @property
    def served(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.platforms + tuple(p for p, _ in self.targets)))


class DeliveryFailed(Exception):
    """Raised by a chat adapter's send. permanent=True ends the delivery (the user blocked the
    bot, the chat is gone); otherwise it is retried with backoff."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    nonce: str
    job_id: int | None
    platform: str
    chat_id: str
    target: str | None
    payload: dict[str, Any]
    state: str
    attempt: int
    max_attempts: int
    run_at: float
    owner: str | None
    lease_expires_at: float | None
    error: str | None
    created_at: float
    sent_at: float | None

    @classmethod
    def from_row(cls, row: Any) -> "DeliveryRecord":
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})

    @property
    def destination(self) -> Destination:
        return Destination(self.platform, self.chat_id, self.target)

    @property
    def picture(self) -> int | None:
        """The blob id of the picture this reply carries (`Outbox.add(picture=…)`)."""
        return picture_of(self.payload)


class Outbox:
    def __init__(self, engine: AsyncEngine, *, retry_base: float = 2.0) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.retry_base = retry_base
        self._sessions = session_factory(engine)
        self._autocommit = (engine.execution_options(isolation_level="AUTOCOMMIT")
                            if self.dialect == "postgresql" else None)

    async def _run(self, session: AsyncSession | AsyncConnection, query: q.Query,
                   many: Sequence[dict[str, Any]] | None = None, **params: Any):
        return await session.execute(query.for_dialect(self.dialect), params if many is None else many)

    async def _rows(self, query: q.Query, **params: Any) -> list[Row]:
        """One statement on its own: in autocommit on PostgreSQL (no BEGIN and COMMIT round
        trips; the statement is atomic), in a transaction on SQLite (which takes the write lock)."""
        connect = self.engine.begin() if self._autocommit is None else self._autocommit.connect()
        async with connect as connection:
            return (await self._run(connection, query, **params)).all()

    async def add(self, session: AsyncSession, destination: Destination, payload: dict[str, Any], *,
                  job_id: int | None = None, picture: int | None = None,
                  max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> str:
        """Write a reply inside the caller's transaction (e.g. a job's finalize); returns its nonce.
        `picture`: the blob of a picture the reply carries, deleted with it."""
        nonce = uuid.uuid4().hex
        if picture is not None:
            payload = {**payload, PICTURE: picture}
        await self._run(session, q.INSERT_DELIVERY, nonce=nonce, job_id=job_id, platform=destination.platform,
                        chat_id=destination.chat_id, target=destination.target, payload=payload,
                        max_attempts=max_attempts)   # (and, on PostgreSQL, the wake-up: one statement)
        return nonce

    async def add_many(self, session: AsyncSession,
                       replies: Sequence[tuple[Destination, dict[str, Any], int | None]], *,
                       max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> None:
        """`add` for many (destination, payload, job id) replies at once (a worker's batch): one
        statement sent with every reply's values (executemany)."""
        if replies:
            await self._run(session, q.INSERT_DELIVERY, [   # (on PostgreSQL each row wakes its platform)
                dict(nonce=uuid.uuid4().hex, job_id=job_id, platform=destination.platform,
                     chat_id=destination.chat_id, target=destination.target, payload=payload,
                     max_attempts=max_attempts) for destination, payload, job_id in replies])

    async def send_later(self, destination: Destination, payload: dict[str, Any], *,
                         job_id: int | None = None) -> str:
        """`add` in a transaction of its own."""
        async with self._sessions() as session, session.begin():
            return await self.add(session, destination, payload, job_id=job_id)

    async def claim(self, owner: str, routes: Routes, limit: int, lease_seconds: float) -> list[DeliveryRecord]:
        """Up to `limit` pending replies this process can deliver, oldest first, now sending under
        `owner`; a job's replies are left to the chat process that answered its turn while that
        process lives (the job's reply_to.process; queries.CLAIM_DELIVERIES)."""
        rows = await self._rows(q.CLAIM_DELIVERIES, owner=owner, limit=limit, lease_seconds=lease_seconds,
                                platforms=list(routes.platforms), routes=[f"{p}|{t}" for p, t in routes.targets])
        return sorted((DeliveryRecord.from_row(row) for row in rows), key=lambda d: (d.run_at, d.id))

    async def extend(self, owner: str, ids: Sequence[int], lease_seconds: float) -> frozenset[int]:
        """Extend leases; returns the ids this process no longer owns."""
        if not ids:
            return frozenset()
        rows = await self._rows(q.EXTEND_DELIVERY_LEASES, owner=owner, ids=list(ids), lease_seconds=lease_seconds)
        return frozenset(ids) - {row.id for row in rows}

    async def mark_sent(self, delivery: DeliveryRecord, owner: str) -> bool:
        return await self._finish(delivery, owner, "sent", None, 0.0)

    async def mark_failed(self, delivery: DeliveryRecord, owner: str, failure: DeliveryFailed) -> bool:
        """Permanent: failed with the reason. Transient: pending again after a backoff, or failed
        after the last attempt."""
        if failure.permanent:
            return await self._finish(delivery, owner, "failed", failure.reason, 0.0)
        if delivery.attempt >= delivery.max_attempts:
            reason = f"{failure.reason} (gave up after {delivery.attempt} attempts)"
            return await self._finish(delivery, owner, "failed", reason, 0.0)
        delay = failure.retry_after if failure.retry_after is not None else backoff(delivery.attempt, self.retry_base)
        return await self._finish(delivery, owner, "pending", failure.reason, delay)

    async def _finish(self, delivery: DeliveryRecord, owner: str, state: str, error: str | None,
                      delay: float) -> bool:
        return bool(await self._rows(q.FINISH_DELIVERY, id=delivery.id, owner=owner, attempt=delivery.attempt,
                                     state=state, error=error, delay=delay))

    async def rescue_expired(self) -> list[int]:
        rows = await self._rows(q.RESCUE_EXPIRED_DELIVERIES, reason="lease expired: the chat process stopped responding")
        return [row.id for row in rows]

    async def get(self, delivery_id: int) -> DeliveryRecord | None:
        async with self._sessions() as session:
            row = (await self._run(session, q.DELIVERY_BY_ID, id=delivery_id)).first()
        return None if row is None else DeliveryRecord.from_row(row)

    async def for_job(self, job_id: int) -> list[DeliveryRecord]:
        async with self._sessions() as session:
            rows = (await self._run(session, q.DELIVERIES_FOR_JOB, job_id=job_id)).all()
        return [DeliveryRecord.from_row(row) for row in rows]
