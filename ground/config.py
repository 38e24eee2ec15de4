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
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any

PREFIX = "DREAMFACE_"
# the backends a worker can serve (facegen/backends.py builds each one); also the style names
BACKENDS = ("montage", "stylegan")
MAX_TEXT_EDIT_STEPS = 1000   # most steps of one free-text edit (DREAMFACE_TEXT_EDIT_STEPS): minutes on a CPU
MIN_DIRECTION_SAMPLES = 20   # fewest faces a direction build fits on (a fifth of them judge each fit)
TEXT_LANGUAGES = ("en", "ko")   # what a CLIP's text side may read: prompts are written in these
RANK_POOL = 16                  # candidates a description is chosen from by its words (DREAMFACE_RANK_POOL)
MAX_RANK_POOL = 64


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
    backend: str = _setting(
        "montage", f"what a worker serves: {' or '.join(BACKENDS)} (a process run with --no-worker ignores it and "
                   "every DREAMFACE_STYLEGAN_* setting)")
    default_backend: str = _setting(
        "montage", f"the style new faces get: {' or '.join(BACKENDS)} (a worker serving it must have announced it)")
    style_label: str = _setting(
        "", "what users see this worker's style called, e.g. photo (default: drawn / photoreal by backend)")
    style_label_ko: str = _setting("", "the same in Korean, e.g. 사진처럼 (default: DREAMFACE_STYLE_LABEL)")
    stylegan_ckpt: str = _setting("", "StyleGAN checkpoint for the stylegan backend (.pkl, rosinality .pt or converted .safetensors)")
    stylegan_device: str = _setting("cpu", "torch device for the stylegan backend: cpu, cuda or cuda:N")
    stylegan_precision: str = _setting(
        "fp32", "arithmetic of the stylegan synthesis: fp32 (exact), fp16 or bf16 (faster on GPUs, within a few uint8 levels)")
    stylegan_compile: bool = _setting(False, "1: torch.compile the stylegan synthesis network (slow first render, faster after)")
    stylegan_max_batch: int = _setting(32, "most faces the stylegan backend renders in one forward pass (halved on out-of-memory)")
    stylegan_directions: str = _setting(
        "", "attribute direction files for the stylegan backend (InterFaceGAN .npy or GANSpace .npz), comma-separated "
            "or a directory; named after the attribute, e.g. smile.npy, age.npy")
    clip_model: str = _setting(
        "", "a local directory with a transformers CLIPModel, its tokenizer and image processor, for text guidance on "
            "the stylegan backend: free-text edits (a stylegan worker loads it at start) and `dreamface directions "
            "build`; never downloaded; empty: no CLIP")
    clip_text_model: str = _setting(
        "", "optional local directory with another text model, its tokenizer and projection.safetensors into "
            "DREAMFACE_CLIP_MODEL's space (M-CLIP: Korean with an English-only CLIP)")
    build_directions: bool = _setting(
        False, "1: a stylegan worker builds the directions from words (`dreamface directions build`) into "
               "DREAMFACE_STYLEGAN_DIRECTIONS (then one directory, required) at start when its directions.json is "
               "missing or was built for another checkpoint or CLIP (needs DREAMFACE_CLIP_MODEL), then serves them")
    build_directions_samples: int = _setting(
        1000, "faces a worker renders and scores to build the directions at start (DREAMFACE_BUILD_DIRECTIONS); "
              "at least 20")
    clip_languages: str = _setting(
        "", f"the languages DREAMFACE_CLIP_MODEL's text side understands, comma-separated from "
            f"{', '.join(TEXT_LANGUAGES)}: free-text edits, sentence ranking and directions built from words use only "
            "these (a byte-level tokenizer reads any script even where its model learned only English: set en); "
            "empty: every language its tokenizer reads")
    rank_pool: int = _setting(
        RANK_POOL, f"candidates a description is chosen from by its whole sentence where the style's worker has a "
                   f"CLIP that reads it (the 4 nearest are offered too); 1: no ranking; at most {MAX_RANK_POOL}")
    text_edit_steps: int = _setting(
        40, "optimisation steps of a free-text edit ('make it look like …', '…처럼 보이게') on a stylegan worker with "
            "DREAMFACE_CLIP_MODEL; each is a render, a CLIP pass and their gradients")
    lpips_vgg: str = _setting(
        "", "the official projector's VGG16 LPIPS file (vgg16.pt, TorchScript: loading it runs it, so only a trusted "
            "copy) for photo inversion; empty: a multi-scale pixel + SSIM loss")
    inception: str = _setting(
        "", "NVIDIA's Inception file (inception-2015-12-05.pt, TorchScript: loading it runs it, so only a trusted "
            "copy) for the official FID, metric fid of `dreamface train` and `dreamface metrics` (their --inception "
            "overrides it); empty: no fid")
    inversion_steps: int = _setting(500, "most optimization steps when a photo is inverted into a stylegan latent")
    photo_fit_evaluations: int = _setting(
        48, "candidate faces the montage's photo fit scores against the photo with the face recogniser (about "
            "0.15 s each on 2 cores; counted in whole generations of 8); 0: the measured fit alone")
    web_host: str = _setting("127.0.0.1", "address the web chat listens on")
    web_port: int = _setting(8080, "port of the web chat")
    trusted_proxies: str = _setting(
        "", "reverse proxies (comma-separated addresses or networks, e.g. 127.0.0.1,10.0.0.0/8) whose "
            "X-Forwarded-For and X-Forwarded-Proto are believed; empty: none, the peer is the client")
    web_identities_per_hour: int = _setting(
        30, "most new web chat identities (browser cookies) one client address (an IPv6 /64) may get in an hour, "
            "per web process; 0: no limit")
    web_tabs_per_user: int = _setting(8, "most web chat websockets (tabs) one identity may hold open at once")
    web_login: str = _setting(
        "open", "who may use the web chat: open (any browser gets an identity) or link (only through a login link "
                "the Telegram or Discord bot sends in a private chat: 'web' / '웹')")
    web_public_url: str = _setting(
        "", "the web chat's address as users open it (https://face.example.com/), for the bots' login links; "
            "required with DREAMFACE_WEB_LOGIN=link")
    worker_batch_size: int = _setting(
        8, "jobs a worker claims at once to start with; the batch then adapts to what the worker sustains, "
           "between 1 and DREAMFACE_WORKER_MAX_BATCH_SIZE")
    worker_max_batch_size: int = _setting(
        32, "most jobs a worker claims at once (a model splits a batch into chunks that fit its device's memory); "
            "set it to DREAMFACE_WORKER_BATCH_SIZE for a fixed batch size")
    worker_lease_seconds: float = _setting(30.0, "how long a claimed job stays owned without a heartbeat")
    worker_poll_seconds: float = _setting(0.5, "how often an idle worker looks for jobs")
    worker_queues: str = _setting("default,slow", "comma-separated queues a worker serves")
    user_job_cap: int = _setting(5, "most unfinished jobs one user may have queued or running")
    user_rate_per_minute: int = _setting(20, "most new requests one user may make in any minute; 0: no rate limit")
    address_job_cap: int = _setting(
        20, "most unfinished jobs all web users of one client address (an IPv6 /64) may have together; 0: no cap")
    chat_job_cap: int = _setting(
        20, "most unfinished jobs all users of one Telegram group or Discord guild may have together; 0: no cap")
    blocklist_file: str = _setting(
        "", "file of words (one per line) refused in descriptions and names, with a polite reply; empty: none")
    job_expiry_seconds: float = _setting(600.0, "a queued job nobody ran within this time fails")
    watermark: bool = _setting(False, "1: every generated picture also gets a small visible 'AI · dreamface' corner mark "
                                      "(the 'AI-generated by dreamface' metadata is always written)")
    blob_root: str = _setting(
        "", "directory that holds image bytes as files (storage/blobs.py; a shared volume when processes run on "
            "several machines; it must exist and be writable); empty: images are kept in the database")
    photo_retention_seconds: float = _setting(
        0.0, "how long an uploaded photo is kept after its job is done; 0: deleted with the job's result")
    generation_retention_days: float = _setting(
        0.0, "faces, pictures and finished jobs older than this many days are deleted; 0: kept forever")
    cleanup_period_seconds: float = _setting(
        300.0, "how often the clean-up job (expired photos, generations, moderator sessions, orphan blob files) is queued")
    telegram_token: str = _setting("", "Telegram bot token; enables the Telegram bot")
    telegram_base_url: str = _setting(
        "https://api.telegram.org/bot", "Bot API prefix ending in /bot (a self-hosted Bot API server); the token is appended")
    telegram_base_file_url: str = _setting(
        "https://api.telegram.org/file/bot", "file download prefix ending in /bot; the token is appended")
    telegram_webhook_url: str = _setting(
        "", "public HTTPS URL Telegram posts updates to (served on the web port); empty: long polling")
    telegram_webhook_secret: str = _setting(
        "", "secret Telegram sends with every webhook call (X-Telegram-Bot-Api-Secret-Token); required with a webhook URL")
    telegram_admin_ids: str = _setting(
        "", "comma-separated Telegram user ids allowed to hide faces and ban users from the chat")
    discord_token: str = _setting("", "Discord bot token; enables the Discord bot")
    discord_api_base: str = _setting("", "Discord REST base URL override (tests and proxies); empty: discord.com")
    discord_gateway_url: str = _setting("", "Discord gateway websocket URL override (tests and proxies); empty: discord.gg")
    discord_mod_role: str = _setting(
        "", "Discord role (id or name) whose members may hide faces and ban users from the chat; empty: nobody")
    discord_shard_count: int = _setting(
        0, "Discord shards of the whole bot, over all its processes; 0: the count Discord recommends, all in this process")
    discord_shard_ids: str = _setting(
        "", "the shards this process runs, ids and ranges such as 0-3 or 0,2,4-5 (each below "
            "DREAMFACE_DISCORD_SHARD_COUNT, which must be set); empty: all of them")
    mod_login_max_failures: int = _setting(
        5, "failed moderator logins for one name from one address before each further try from there must wait "
           "(never for the name alone: the real moderator logs in from elsewhere)")
    mod_login_address_max_failures: int = _setting(
        20, "failed moderator logins from one address, all names together, before each further try from it must wait")
    mod_login_delay_seconds: float = _setting(
        30.0, "the first wait after too many failed logins; it doubles with every further failure")
    mod_login_lockout_seconds: float = _setting(
        900.0, "how long a failed login counts, and the longest wait it can cause")
    mod_login_hash_threads: int = _setting(
        1, "threads checking moderator passwords (scrypt: 128 MiB and about half a second each), apart from rendering")
    mod_login_hash_queue: int = _setting(
        4, "moderator logins that may wait for a password check; one more is answered 429 at once")
    log_format: str = _setting("text", "log lines: text (readable) or json (one JSON object per line)")
    log_level: str = _setting("INFO", "least severe level logged: DEBUG, INFO, WARNING or ERROR")
    log_pseudonym_key: str = _setting(
        "", "key of the pseudonymous user ids in logs; give every process the same one to follow a user "
            "across them (empty: a random key per process)")
    worker_metrics_port: int = _setting(0, "port of a dreamface worker's /healthz, /readyz and /metrics (0: off)")
    ops_port: int = _setting(
        0, "port of a chat process's operator listener: /healthz, /readyz and /metrics for probes and scrapes "
           "from other hosts (0: off; the web port answers /readyz and /metrics only to this host either way)")
    ops_host: str = _setting("127.0.0.1", "address the operator listener (DREAMFACE_OPS_PORT) listens on")
    ops_token: str = _setting(
        "", "bearer token (16+ visible characters) that also lets other hosts read /readyz and /metrics on the "
            "web port (Authorization: Bearer <token>); empty: only this host")
    ready_max_queue_age_seconds: float = _setting(
        120.0, "the chat side's /readyz turns unready when a ready job that a live worker serves has waited "
               "longer than this")

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
        positive = ("web_port", "worker_batch_size", "worker_max_batch_size", "worker_lease_seconds",
                    "worker_poll_seconds", "user_job_cap", "job_expiry_seconds", "cleanup_period_seconds", "stylegan_max_batch",
                    "inversion_steps", "mod_login_max_failures", "mod_login_lockout_seconds",
                    "mod_login_address_max_failures", "mod_login_delay_seconds", "mod_login_hash_threads",
                    "web_tabs_per_user")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{PREFIX}{name.upper()} must be greater than 0, got {getattr(self, name)!r}")
        if self.mod_login_hash_queue < 0:
            raise ConfigError(f"{PREFIX}MOD_LOGIN_HASH_QUEUE must be 0 or more, got {self.mod_login_hash_queue!r}")
        if self.ready_max_queue_age_seconds <= 0:
            raise ConfigError(f"{PREFIX}READY_MAX_QUEUE_AGE_SECONDS must be greater than 0, "
                              f"got {self.ready_max_queue_age_seconds!r}")
        for name in ("worker_metrics_port", "ops_port"):
            if not 0 <= getattr(self, name) <= 65535:
                raise ConfigError(f"{PREFIX}{name.upper()} must be a port (0: off), got {getattr(self, name)!r}")
        if self.ops_token and not re.fullmatch(r"[\x21-\x7e]{16,}", self.ops_token):
            raise ConfigError(f"{PREFIX}OPS_TOKEN must be at least 16 visible ASCII characters, no spaces "
                              "(e.g. from `openssl rand -hex 32`)")
        if self.log_format not in ("text", "json"):
            raise ConfigError(f"{PREFIX}LOG_FORMAT must be 'text' or 'json', got {self.log_format!r}")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ConfigError(f"{PREFIX}LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {self.log_level!r}")
        if self.build_directions_samples < MIN_DIRECTION_SAMPLES:
            raise ConfigError(f"{PREFIX}BUILD_DIRECTIONS_SAMPLES must be at least {MIN_DIRECTION_SAMPLES} (a fifth of "
                              f"them judge each fit), got {self.build_directions_samples!r}")
        unknown = set(self.clip_language_list or ()) - set(TEXT_LANGUAGES)
        if unknown or (self.clip_languages.strip() and not self.clip_language_list):
            raise ConfigError(f"{PREFIX}CLIP_LANGUAGES must name some of {', '.join(TEXT_LANGUAGES)}, comma-separated, "
                              f"got {self.clip_languages!r}")
        if not 1 <= self.rank_pool <= MAX_RANK_POOL:
            raise ConfigError(f"{PREFIX}RANK_POOL must be between 1 (no ranking) and {MAX_RANK_POOL}, "
                              f"got {self.rank_pool!r}")
        if not 1 <= self.text_edit_steps <= MAX_TEXT_EDIT_STEPS:
            raise ConfigError(f"{PREFIX}TEXT_EDIT_STEPS must be between 1 and {MAX_TEXT_EDIT_STEPS}, "
                              f"got {self.text_edit_steps!r}")
        for name in ("blocklist_file", "lpips_vgg", "inception"):
            path = getattr(self, name)
            if path and not os.path.isfile(path):
                raise ConfigError(f"{PREFIX}{name.upper()}: no such file {path!r}")
        for name in ("photo_retention_seconds", "generation_retention_days", "user_rate_per_minute",
                     "address_job_cap", "chat_job_cap", "web_identities_per_hour", "photo_fit_evaluations"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{PREFIX}{name.upper()} must be 0 or more, got {getattr(self, name)!r}")
        for name in ("backend", "default_backend"):
            if getattr(self, name) not in BACKENDS:
                raise ConfigError(f"{PREFIX}{name.upper()} must be {' or '.join(map(repr, BACKENDS))}, "
                                  f"got {getattr(self, name)!r}")
        if self.stylegan_precision not in ("fp32", "fp16", "bf16"):
            raise ConfigError(f"{PREFIX}STYLEGAN_PRECISION must be fp32, fp16 or bf16, got {self.stylegan_precision!r}")
        if any(not i.lstrip("-").isdigit() for i in self.telegram_admins):
            raise ConfigError(f"{PREFIX}TELEGRAM_ADMIN_IDS must be comma-separated numeric user ids, "
                              f"got {self.telegram_admin_ids!r}")
        if self.telegram_webhook_url and not self.telegram_webhook_secret:
            raise ConfigError(f"{PREFIX}TELEGRAM_WEBHOOK_SECRET must be set with {PREFIX}TELEGRAM_WEBHOOK_URL")
        if self.web_login not in ("open", "link"):
            raise ConfigError(f"{PREFIX}WEB_LOGIN must be 'open' or 'link', got {self.web_login!r}")
        if self.web_public_url and not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", self.web_public_url):
            raise ConfigError(f"{PREFIX}WEB_PUBLIC_URL must be an http(s) address like https://face.example.com/, "
                              f"got {self.web_public_url!r}")
        if self.web_login == "link" and not self.web_public_url:
            raise ConfigError(f"{PREFIX}WEB_PUBLIC_URL must be set with {PREFIX}WEB_LOGIN=link "
                              "(the bots send links to it)")
        try:
            self.trusted_proxy_networks
        except ValueError as exc:
            raise ConfigError(f"{PREFIX}TRUSTED_PROXIES must be comma-separated IP addresses or networks "
                              f"(127.0.0.1,10.0.0.0/8): {exc}") from None
        if self.discord_shard_count < 0:
            raise ConfigError(f"{PREFIX}DISCORD_SHARD_COUNT must be 0 or more, got {self.discord_shard_count!r}")
        self.discord_shards   # raises ConfigError for bad DREAMFACE_DISCORD_SHARD_IDS
        if not re.fullmatch(r"cpu|cuda(:\d+)?|mps", self.stylegan_device):
            raise ConfigError(f"{PREFIX}STYLEGAN_DEVICE must be cpu, cuda, cuda:N or mps, got {self.stylegan_device!r}")

    @property
    def telegram_admins(self) -> frozenset[str]:
        """Telegram user ids (as strings, like Incoming.user_id) who moderate from the chat."""
        return frozenset(i.strip() for i in self.telegram_admin_ids.split(",") if i.strip())

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """The networks of DREAMFACE_TRUSTED_PROXIES (a bare address is a one-address network)."""
        return tuple(ip_network(item.strip()) for item in self.trusted_proxies.split(",") if item.strip())

    @property
    def discord_shards(self) -> tuple[int, ...] | None:
        """The shard ids of DREAMFACE_DISCORD_SHARD_IDS, sorted (None: every shard of the count)."""
        if not self.discord_shard_ids.strip():
            return None
        name = f"{PREFIX}DISCORD_SHARD_IDS"
        if not self.discord_shard_count:
            raise ConfigError(f"{name} needs {PREFIX}DISCORD_SHARD_COUNT (the shards of all processes together)")
        try:
            ids = parse_id_ranges(self.discord_shard_ids)
        except ValueError:
            raise ConfigError(f"{name} must be shard ids and ranges such as 0-3 or 0,2,4-5, "
                              f"got {self.discord_shard_ids!r}") from None
        beyond = [i for i in ids if i >= self.discord_shard_count]
        if beyond:
            raise ConfigError(f"{name}: shard {beyond[0]} does not exist with {PREFIX}DISCORD_SHARD_COUNT="
                              f"{self.discord_shard_count} (ids are 0 to {self.discord_shard_count - 1})")
        return ids

    @property
    def clip_language_list(self) -> tuple[str, ...] | None:
        """The languages of DREAMFACE_CLIP_LANGUAGES, in TEXT_LANGUAGES' order (None: not set,
        every language the tokenizer reads)."""
        named = {item.strip() for item in self.clip_languages.split(",") if item.strip()}
        order = {locale: i for i, locale in enumerate(TEXT_LANGUAGES)}
        return tuple(sorted(named, key=lambda locale: order.get(locale, len(order)))) or None

    @property
    def queues(self) -> tuple[str, ...]:
        return tuple(q.strip() for q in self.worker_queues.split(",") if q.strip())


MAX_ID_RANGE = 100_000   # ids in one range (Discord's largest bots run a few thousand shards)


def parse_id_ranges(text: str) -> tuple[int, ...]:
    """"0-3,6" → (0, 1, 2, 3, 6): comma-separated ids and inclusive ranges, sorted, each once."""
    ids: set[int] = set()
    for item in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", item)
        if match is None:
            raise ValueError(item)
        first, last = int(match[1]), int(match[2] or match[1])
        if last < first or last - first >= MAX_ID_RANGE:
            raise ValueError(item)
        ids.update(range(first, last + 1))
    return tuple(sorted(ids))


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
        expected = {int: "a whole number", float: "a number", bool: "true or false"}.get(kind, kind.__name__)
        raise ConfigError(f"{name} must be {expected}, got {raw!r}") from None


def describe() -> list[tuple[str, Any, str]]:
    """(variable, default, help) for every setting, for docs and the example env file."""
    return [(PREFIX + f.name.upper(), f.default, f.metadata["help"]) for f in dataclasses.fields(Settings)]
