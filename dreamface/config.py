"""Configuration from `DREAMFACE_*` environment variables, read once, typed and validated.

Every setting has a default that serves the embedded set-up (SQLite file in the working
directory, montage backend, in-process worker, web chat on 127.0.0.1:8080). A bad value
fails with a `ConfigError` that names the variable.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PREFIX = "DREAMFACE_"


class ConfigError(ValueError):
    """A DREAMFACE_ variable holds a value that cannot be used."""


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    database_url: str = _setting(
        "sqlite:///dreamface.db",
        "SQLAlchemy URL: sqlite:///path, sqlite+aiosqlite:///path, postgresql://… or postgresql+asyncpg://…",
    )
    backend: str = _setting("montage", "default face backend: montage or stylegan")
    stylegan_ckpt: str = _setting("", "StyleGAN checkpoint for the stylegan backend (.pkl, rosinality .pt or converted .safetensors)")
    stylegan_device: str = _setting("cpu", "torch device for the stylegan backend: cpu, cuda or cuda:N")
    web_host: str = _setting("127.0.0.1", "address the web chat listens on")
    web_port: int = _setting(8080, "port of the web chat")
    worker_batch_size: int = _setting(8, "most jobs a worker claims at once")
    worker_lease_seconds: float = _setting(30.0, "how long a claimed job stays owned without a heartbeat")
    worker_poll_seconds: float = _setting(0.5, "how often an idle worker looks for jobs")
    worker_queues: str = _setting("default,slow", "comma-separated queues a worker serves")
    user_job_cap: int = _setting(5, "most unfinished jobs one user may have queued or running")
    job_expiry_seconds: float = _setting(600.0, "a queued job nobody ran within this time fails")
    telegram_token: str = _setting("", "Telegram bot token; enables the Telegram bot")
    telegram_base_url: str = _setting(
        "https://api.telegram.org/bot", "Bot API prefix ending in /bot (a self-hosted Bot API server); the token is appended")
    telegram_base_file_url: str = _setting(
        "https://api.telegram.org/file/bot", "file download prefix ending in /bot; the token is appended")
    discord_token: str = _setting("", "Discord bot token; enables the Discord bot")
    discord_api_base: str = _setting("", "Discord REST base URL override (tests and proxies); empty: discord.com")
    discord_gateway_url: str = _setting("", "Discord gateway websocket URL override (tests and proxies); empty: discord.gg")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            name = PREFIX + f.name.upper()
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(name, raw, type(f.default))
        settings = cls(**values)
        settings._validate()
        return settings

    def _validate(self) -> None:
        positive = ("web_port", "worker_batch_size", "worker_lease_seconds", "worker_poll_seconds",
                    "user_job_cap", "job_expiry_seconds")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{PREFIX}{name.upper()} must be greater than 0, got {getattr(self, name)!r}")
        if self.backend not in ("montage", "stylegan"):
            raise ConfigError(f"{PREFIX}BACKEND must be 'montage' or 'stylegan', got {self.backend!r}")
        if not re.fullmatch(r"cpu|cuda(:\d+)?|mps", self.stylegan_device):
            raise ConfigError(f"{PREFIX}STYLEGAN_DEVICE must be cpu, cuda, cuda:N or mps, got {self.stylegan_device!r}")

    @property
    def queues(self) -> tuple[str, ...]:
        return tuple(q.strip() for q in self.worker_queues.split(",") if q.strip())


def _convert(name: str, raw: str, kind: type) -> Any:
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a {kind.__name__}, got {raw!r}") from None


def describe() -> list[tuple[str, Any, str]]:
    """(variable, default, help) for every setting, for docs and the example env file."""
    return [(PREFIX + f.name.upper(), f.default, f.metadata["help"]) for f in dataclasses.fields(Settings)]
