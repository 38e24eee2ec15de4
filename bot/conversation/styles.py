"""The styles the chat can make faces in, as plain descriptions (facegen.backend.BackendInfo):
the models workers announced with their heartbeats (kept as last seen, storage/presence.py),
and the built-in montage renderer, which is part of every build. The chat validates commands
and queues jobs against these; it never loads a model, so a chat process needs no checkpoint,
no GPU and no torch.

A new face is made in the default style (DREAMFACE_DEFAULT_BACKEND), on the model of that
backend seen most recently. Every later step of a face runs on the model the face was made by.
"""

from __future__ import annotations

import time
from functools import cache

from sqlalchemy.ext.asyncio import AsyncEngine

from facegen.backend import BackendInfo
from storage.presence import Presence

REFRESH_SECONDS = 2.0   # how stale the announced descriptions may be


@cache
def builtin_styles() -> tuple[BackendInfo, ...]:
    """Described without any model file: the montage renderer ships with dreamface."""
    from facegen.montage import MontageBackend
    return (MontageBackend().describe(),)


class Styles:
    def __init__(self, engine: AsyncEngine, default_backend: str = "montage") -> None:
        self.presence = Presence(engine)
        self.default_backend = default_backend
        self._known: dict[tuple[str, str], BackendInfo] = {}
        self._newest: dict[str, BackendInfo] = {}
        self._loaded_at = -float("inf")
        self._use([(info, 0.0) for info in builtin_styles()])

    async def refresh(self, *, force: bool = False) -> None:
        """Read what workers announced, at most every REFRESH_SECONDS unless forced."""
        if not force and time.monotonic() - self._loaded_at < REFRESH_SECONDS:
            return
        announced = [(BackendInfo.from_json(info), seen) for info, seen in await self.presence.served_models()]
        self._use([(info, 0.0) for info in builtin_styles()] + announced)
        self._loaded_at = time.monotonic()

    def _use(self, described: list[tuple[BackendInfo, float]]) -> None:
        known, newest, seen_at = {}, {}, {}
        for info, seen in described:
            known[(info.name, info.model_id)] = info
            if seen >= seen_at.get(info.name, -1.0):
                newest[info.name], seen_at[info.name] = info, seen
        self._known, self._newest = known, newest

    def find(self, backend: str, model_id: str | None) -> BackendInfo | None:
        """A model's description (model None: the newest model of that backend)."""
        return self._newest.get(backend) if model_id is None else self._known.get((backend, model_id))

    def for_new_faces(self) -> BackendInfo | None:
        """The style new faces get; None while no worker of the default backend ever announced it."""
        return self._newest.get(self.default_backend)

    def known(self) -> list[BackendInfo]:
        """The newest model of each backend."""
        return list(self._newest.values())

    def regions(self) -> tuple[str, ...]:
        """Every region some known style can take a part for, in order (e.g. for slash-command choices)."""
        return tuple(dict.fromkeys(r for info in self.known() for r in info.regions))
