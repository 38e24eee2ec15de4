"""Choosing a backend by name. Backends are built once per process and reused."""

from __future__ import annotations

from functools import cache

from facegen.backend import Backend

BACKENDS = ("montage", "stylegan")


class UnknownBackend(ValueError):
    """A backend name this build cannot run."""


class BackendUnavailable(RuntimeError):
    """The configured backend cannot start (a missing or unsafe checkpoint, an unusable
    device, a bad direction file); the message is one line for the operator."""


@cache
def load_backend(name: str = "montage") -> Backend:
    try:
        return _load(name)
    except UnknownBackend:
        raise
    except ImportError as exc:   # a chat-side install: no torch
        raise BackendUnavailable(f"the {name} backend cannot start: {exc} (install dreamface[worker])") from exc
    except (ValueError, RuntimeError, OSError) as exc:   # CheckpointError, DirectionError, DeviceUnavailable, …
        raise BackendUnavailable(f"the {name} backend cannot start: {exc}") from exc


def _load(name: str) -> Backend:
    if name == "montage":
        from facegen.montage.backend import MontageBackend
        return MontageBackend()
    if name == "stylegan":
        from dreamface.config import Settings
        from facegen.stylegan.backend import StyleGANBackend
        from facegen.stylegan.errors import CheckpointError
        settings = Settings.from_env()
        if not settings.stylegan_ckpt:
            raise CheckpointError("the stylegan backend needs DREAMFACE_STYLEGAN_CKPT (a checkpoint file)")
        return StyleGANBackend.from_file(settings.stylegan_ckpt, device=settings.stylegan_device,
                                         precision=settings.stylegan_precision, compile=settings.stylegan_compile,
                                         max_batch=settings.stylegan_max_batch, directions=settings.stylegan_directions)
    raise UnknownBackend(f"unknown backend {name!r}; available: {', '.join(BACKENDS)}")
