"""Heartbeats of worker and chat processes (the `workers` table), so the chat can say
"the generator is offline" instead of waiting silently; and the models workers serve (the
`served_models` table), as each last described itself, so the chat can validate and queue
requests for a model while none of its workers is up."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import queries as q
from storage.db import session_factory
from storage.models import ServedModel


def new_process_id(kind: str) -> str:
    """Unique per process start: a restarted process never inherits its predecessor's leases."""
    return f"{kind}-{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def split_list(column: str) -> tuple[str, ...]:
    """A comma-separated column (`queues`, `routes`) as a tuple; "" is ()."""
    return tuple(column.split(",")) if column else ()


def takes_route(served: tuple[str, ...], route: str | None) -> bool:
    """Whether a worker announcing the routes `served` (() = every route) may claim a job of `route`
    (None = a job anyone may run): the claim's rule (storage/queue.py), for presence and stats."""
    return route is None or not served or route in served


@dataclass(frozen=True)
class ProcessInfo:
    kind: str                              # "worker" | "chat"
    serves: tuple[str, ...]                # queues (worker) or platforms (chat)
    routes: tuple[str, ...] = ()           # job routes a worker serves; () any (see storage/queue.py)
    models: tuple[Mapping[str, Any], ...] = ()   # descriptions of the models a worker serves (name, model_id, …)
    id: str = ""
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", new_process_id(self.kind))


class Presence:
    def __init__(self, engine: AsyncEngine) -> None:
        self.dialect = engine.dialect.name
        self._sessions = session_factory(engine)

    async def beat(self, process: ProcessInfo) -> None:
        """Alive now; a worker's models are announced with each beat (last seen now)."""
        async with self._sessions() as session, session.begin():
            await session.execute(q.BEAT.for_dialect(self.dialect), dict(
                id=process.id, kind=process.kind, host=process.host[:128], pid=process.pid,
                queues=",".join(process.serves), routes=",".join(process.routes)))
            if process.models:
                insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
                rows = [dict(backend=m["name"], model_id=m["model_id"], info=dict(m), last_seen=time.time())
                        for m in process.models]
                statement = insert(ServedModel).values(rows)
                await session.execute(statement.on_conflict_do_update(
                    index_elements=["backend", "model_id"],
                    set_={"info": statement.excluded.info, "last_seen": statement.excluded.last_seen}))

    async def forget(self, process_id: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(q.FORGET_PROCESS.for_dialect(self.dialect), {"id": process_id})

    async def live(self, kind: str, serving: str | None = None, within: float = 60.0,
                   route: str | None = None) -> list[str]:
        """Ids of processes of `kind` seen in the last `within` seconds (that serve the queue
        `serving`, and can take a job of `route`)."""
        async with self._sessions() as session:
            rows = (await session.execute(q.LIVE_PROCESSES.for_dialect(self.dialect),
                                          {"kind": kind, "within": within})).all()
        return [row.id for row in rows
                if (serving is None or serving in row.queues.split(","))
                and takes_route(split_list(row.routes), route)]

    async def served_models(self) -> list[tuple[dict[str, Any], float]]:
        """Every model a worker has announced: its description and when it was last seen."""
        async with self._sessions() as session:
            rows = (await session.execute(select(ServedModel).order_by(ServedModel.last_seen.desc()))).scalars()
            return [(dict(row.info), row.last_seen) for row in rows]

    async def prune(self, after: float = 3600.0) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(q.PRUNE_PROCESSES.for_dialect(self.dialect), {"after": after})
