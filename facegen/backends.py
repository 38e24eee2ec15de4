"""Choosing a backend by name. Backends are built once per process and reused (`load_backend`);
an operator command may build one of its own with a few settings given for that run
(`build_backend`, e.g. `dreamface generate --ckpt PATH`): each backend declares which in
OVERRIDES, so the command needs no knowledge of any backend."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from facegen.backend import Backend
from ground.config import BACKENDS


@dataclass(frozen=True)
class Override:
    """A setting of a backend that one command may give in place of the configured one."""
    name: str                          # keyword of build_backend; the option is --name, "_" as "-"
    help: str
    choices: tuple[str, ...] = ()      # () any text

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


# every backend this build can run (ground.config.BACKENDS, the names the settings accept), with the
# settings a command may give it; tests/facegen/test_backend_contract.py checks the keys are those names
OVERRIDES: Mapping[str, tuple[Override, ...]] = {
    "montage": (),
    "stylegan": (
        Override("ckpt", "StyleGAN checkpoint (stylegan; default: DREAMFACE_STYLEGAN_CKPT)"),
        # the modes of facegen/stylegan/networks2.py, written out here so no torch is imported
        Override("noise_mode", "per-pixel noise (stylegan; default: const)", choices=("const", "random", "none")),
    ),
}


class UnknownBackend(ValueError):
    """A backend name this build cannot run."""


class InvalidOverride(ValueError):
    """A setting given to a backend that does not take it (the message names who does)."""


class BackendUnavailable(RuntimeError):
    """The configured backend cannot start (a missing or unsafe checkpoint, an unusable
    device, a bad direction file); the message is one line for the operator."""


@cache
def load_backend(name: str = "montage") -> Backend:
    """The backend as configured (DREAMFACE_* settings), built once per process."""
    return build_backend(name)


def build_backend(name: str, **overrides: Any) -> Backend:
    """A new backend, configured as `load_backend`'s but for `overrides` (of OVERRIDES[name]);
    raises UnknownBackend, InvalidOverride (a setting this backend does not take) or
    BackendUnavailable."""
    if name in OVERRIDES:   # an unknown name is _load's to refuse
        takes = {override.name for override in OVERRIDES[name]}
        for given in overrides:
            if given not in takes:
                raise InvalidOverride(_not_taken(name, given))
    try:
        return _load(name, overrides)
    except UnknownBackend:
        raise
    except ImportError as exc:   # a chat-side install: no torch
        raise BackendUnavailable(f"the {name} backend cannot start: {exc} (install dreamface[worker])") from exc
    except (ValueError, RuntimeError, OSError) as exc:   # CheckpointError, DirectionError, DeviceUnavailable, …
        raise BackendUnavailable(f"the {name} backend cannot start: {exc}") from exc


def _not_taken(name: str, given: str) -> str:
    flag = Override(given, "").flag
    takers = [backend for backend, overrides in OVERRIDES.items() if any(o.name == given for o in overrides)]
    return f"{flag} does not apply to the {name} backend" + (f" (only to {', '.join(takers)})" if takers else "")


def _load(name: str, overrides: Mapping[str, Any]) -> Backend:
    if name == "montage":
        from facegen.montage.backend import MontageBackend
        return MontageBackend()
    if name == "stylegan":
        from ground.config import Settings
        from facegen.stylegan.backend import StyleGANBackend
        from facegen.stylegan.clip import load_clip
        from facegen.stylegan.errors import CheckpointError
        from facegen.stylegan.loaders import load_networks
        from facegen.stylegan.text_directions import build_at_start
        settings = Settings.from_env()
        checkpoint = overrides.get("ckpt") or settings.stylegan_ckpt
        if not checkpoint:
            raise CheckpointError("the stylegan backend needs DREAMFACE_STYLEGAN_CKPT (a checkpoint file; "
                                  "`dreamface generate` also takes --ckpt)")
        # a bad CLIP directory stops the worker here, at start, with ClipError's one line
        clip = (load_clip(settings.clip_model, settings.clip_text_model or None, settings.clip_language_list)
                if settings.clip_model else None)
        generator, discriminator = load_networks(checkpoint)
        # minutes the first time, then only the digests of the two models; only for the model the
        # settings name (a one-off `generate --ckpt` must not rebuild the worker's directions)
        if settings.build_directions and not overrides.get("ckpt"):
            build_at_start(settings, generator, clip, str(checkpoint))
        return StyleGANBackend(generator, noise_mode=overrides.get("noise_mode", "const"),
                               device=settings.stylegan_device, precision=settings.stylegan_precision,
                               compile=settings.stylegan_compile, max_batch=settings.stylegan_max_batch,
                               directions=settings.stylegan_directions, discriminator=discriminator, clip=clip)
    raise UnknownBackend(f"unknown backend {name!r}; available: {', '.join(BACKENDS)}")
