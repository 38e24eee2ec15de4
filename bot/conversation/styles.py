"""The styles the chat can make faces in, as plain descriptions (facegen.backend.BackendInfo):
the models workers announced with their heartbeats (kept as last seen, storage/presence.py),
and the built-in montage renderer, which is part of every build. The chat validates commands
and queues jobs against these; it never loads a model, so a chat process needs no checkpoint,
no GPU and no torch.

A new face is made in the style the user chose, else the default style
(DREAMFACE_DEFAULT_BACKEND), on the model of that backend seen most recently. Every later step
of a face runs on the model the face was made by. Users may choose among the models served
lately (CHOICE_SECONDS); a style is named in buttons by a short code of its route.
"""

from __future__ import annotations

import hashlib
import time
from functools import cache

from sqlalchemy.ext.asyncio import AsyncEngine

from facegen.backend import BackendInfo
from storage.jobkinds import route_of
from storage.presence import Presence

REFRESH_SECONDS = 2.0          # how stale the announced descriptions may be
CHOICE_SECONDS = 24 * 3600.0   # a model announced this lately is offered as a choice


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
        self._seen: dict[tuple[str, str], float] = {}
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
        known, newest, seen_at, seen_by_model = {}, {}, {}, {}
        for info, seen in described:
            known[(info.name, info.model_id)] = info
            seen_by_model[(info.name, info.model_id)] = max(seen, seen_by_model.get((info.name, info.model_id), seen))
            if seen >= seen_at.get(info.name, -1.0):
                newest[info.name], seen_at[info.name] = info, seen
        self._known, self._newest, self._seen = known, newest, seen_by_model

    def find(self, backend: str, model_id: str | None) -> BackendInfo | None:
        """A model's description (model None: the newest model of that backend)."""
        return self._newest.get(backend) if model_id is None else self._known.get((backend, model_id))

    def for_new_faces(self, chosen: str | None = None) -> BackendInfo | None:
        """The style new faces get: the user's `chosen` route while its backend is known (its
        newest model if that model is gone), else the default; None while no worker of the
        default backend ever announced it."""
        if chosen:
            backend, _, model_id = chosen.partition("/")
            style = self.find(backend, model_id or None) or self._newest.get(backend)
            if style is not None:
                return style
        return self._newest.get(self.default_backend)

    def choices(self) -> list[BackendInfo]:
        """The styles a user may choose: every model announced within CHOICE_SECONDS (the
        built-in montage renderer only where a worker serves it), the default style first."""
        now = time.time()
        served = [info for key, info in self._known.items() if now - self._seen.get(key, 0.0) < CHOICE_SECONDS]
        return sorted(served, key=lambda info: (info.name != self.default_backend, info.name, info.model_id))

    def by_code(self, code: str) -> BackendInfo | None:
        """The choice a button's style code names."""
        return next((info for info in self.choices() if style_code(info) == code), None)

    def known(self) -> list[BackendInfo]:
        """The newest model of each backend."""
        return list(self._newest.values())

    def regions(self) -> tuple[str, ...]:
        """Every region some known style can take a part for, in order (e.g. for slash-command choices)."""
        return tuple(dict.fromkeys(r for info in self.known() for r in info.regions))


def style_code(info: BackendInfo) -> str:
    """A short, stable name of a style for button payloads (a route is too long for Telegram's 64 bytes)."""
    return hashlib.blake2s(route_of(info.name, info.model_id).encode(), digest_size=4).hexdigest()
