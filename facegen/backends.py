"""Choosing a backend by name. Backends are built once per process and reused."""

from __future__ import annotations

from functools import cache

from facegen.backend import Backend

BACKENDS = ("montage",)


class UnknownBackend(ValueError):
    """A backend name this build cannot run."""


@cache
def load_backend(name: str = "montage") -> Backend:
    if name == "montage":
        from facegen.montage.backend import MontageBackend
        return MontageBackend()
    raise UnknownBackend(f"unknown backend {name!r}; available: {', '.join(BACKENDS)}")
