"""The registry of job kinds: what each kind's payload must look like, which queue it runs on
and which jobs may share a batch. The queue (storage/queue.py) asks this registry at enqueue,
so an unknown kind or a malformed payload is refused before anything is stored.

The shipped kinds are registered by facegen.handlers; tests register trivial ones."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Validator = Callable[[Mapping[str, Any]], dict[str, Any]]


class InvalidPayload(ValueError):
    """The payload does not fit its kind; the message is shown to whoever enqueued it."""


@dataclass(frozen=True)
class JobKind:
    name: str
    validate: Validator                      # returns the cleaned payload or raises ValueError
    queue: str = "default"                   # slow work (photo inversion) gets its own queue
    route: Callable[[dict[str, Any]], str | None] | None = None  # who may run it (see route_of); None: anyone
    batch_key: Callable[[dict[str, Any]], str] | None = None  # None: one batch per kind
    priority: int = 0                        # lower runs first
    max_attempts: int = 3


@dataclass(frozen=True)
class PreparedJob:
    kind: str
    payload: dict[str, Any]
    queue: str
    route: str | None
    batch_key: str
    priority: int
    max_attempts: int


class JobKinds:
    def __init__(self, kinds: Mapping[str, JobKind] | None = None) -> None:
        self._kinds: dict[str, JobKind] = {}
        for kind in (kinds or {}).values():
            self.register(kind)

    def register(self, kind: JobKind) -> JobKind:
        if kind.name in self._kinds:
            raise ValueError(f"job kind {kind.name!r} is already registered")
        self._kinds[kind.name] = kind
        return kind

    def __contains__(self, name: str) -> bool:
        return name in self._kinds

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def prepare(self, kind: str, payload: Mapping[str, Any]) -> PreparedJob:
        """Validate `payload` for `kind`; raises InvalidPayload naming the kind and the problem."""
        spec = self._kinds.get(kind)
        if spec is None:
            raise InvalidPayload(f"unknown job kind {kind!r} (known: {', '.join(self.names()) or 'none'})")
        try:
            cleaned = spec.validate(payload)
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidPayload(f"{kind}: {_message(exc)}") from None
        batch_key = spec.batch_key(cleaned) if spec.batch_key else kind
        route = spec.route(cleaned) if spec.route else None
        return PreparedJob(kind, cleaned, spec.queue, route, batch_key, spec.priority, spec.max_attempts)


def _message(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing parameter {exc.args[0]!r}"
    return str(exc)


# --- routes: which worker may run a job ------------------------------------------------------

def route_of(backend: str, model_id: str | None) -> str:
    """The route of a job for one model ("stylegan/stylegan2-ab12…"); a bare backend name for
    jobs that name no model (queued before routing): any model of that backend runs them."""
    return f"{backend}/{model_id}" if model_id else backend


def routes_served(models: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """The routes a worker serving these (backend, model id) pairs claims."""
    return tuple(route for backend, model_id in models for route in (route_of(backend, model_id), backend))

