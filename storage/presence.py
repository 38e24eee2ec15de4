"""Heartbeats of worker and chat processes (the `workers` table), so the chat can say
"the generator is offline" instead of waiting silently."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import queries as q
from storage.db import session_factory


def new_process_id(kind: str) -> str:
    """Unique per process start: a restarted process never inherits its predecessor's leases."""
    return f"{kind}-{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class ProcessInfo:
    kind: str                              # "worker" | "chat"
    serves: tuple[str, ...]                # queues (worker) or platforms (chat)
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
        async with self._sessions() as session, session.begin():
            await session.execute(q.BEAT.for_dialect(self.dialect), dict(
                id=process.id, kind=process.kind, host=process.host[:128], pid=process.pid,
                queues=",".join(process.serves)))

    async def forget(self, process_id: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(q.FORGET_PROCESS.for_dialect(self.dialect), {"id": process_id})

    async def live(self, kind: str, serving: str | None = None, within: float = 60.0) -> list[str]:
        """Ids of processes of `kind` seen in the last `within` seconds (that serve `serving`)."""
        async with self._sessions() as session:
            rows = (await session.execute(q.LIVE_PROCESSES.for_dialect(self.dialect),
                                          {"kind": kind, "within": within})).all()
        return [row.id for row in rows if serving is None or serving in row.queues.split(",")]

    async def prune(self, after: float = 3600.0) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(q.PRUNE_PROCESSES.for_dialect(self.dialect), {"after": after})
