"""Abuse limits, each defined once. The conversation core applies them for every adapter;
platform limits (Telegram's and Discord's file sizes) stay in the adapters.

    text        MAX_TEXT_CHARS per message (the grammar refuses longer ones)
    photos      PHOTO_FORMATS only, at most PHOTO_MAX_BYTES and PHOTO_MAX_PIXELS, decoded with
                Pillow's decompression-bomb check on (facegen/photo.py load_photo)
    jobs        the queue's per-user cap on unfinished jobs, and `user_rate_per_minute` new
                jobs per rolling minute, both checked in the enqueue statement (storage/queries.py);
                beside them a cap on the unfinished jobs of a crowd: all web users of one client
                address (`address_job_cap`), all users of one Telegram group or Discord guild
                (`chat_job_cap`). Fair turns (a user's second waiting job goes behind everyone's
                first) are the queue's own order, not a limit
    words       an operator's blocklist (DREAMFACE_BLOCKLIST_FILE) for descriptions, free-text
                edits and names
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass, field
from ipaddress import IPv6Address, ip_address, ip_network
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ground.config import Settings

MAX_TEXT_CHARS = 1000   # a message or description; the description parser reads no more
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP")
PHOTO_MAX_BYTES = 20 * 1024 * 1024
PHOTO_MAX_PIXELS = 40_000_000
DEFAULT_USER_RATE_PER_MINUTE = 20
DEFAULT_ADDRESS_JOB_CAP = 20
DEFAULT_CHAT_JOB_CAP = 20
IPV6_CROWD_PREFIX = 64     # one IPv6 subscriber is handed a /64: all its addresses are one crowd
CROWD_KEY_CHARS = 32       # jobs.crowd's width

# zero-width and direction controls: invisible, so they must not split a blocked word
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _fold(text: str) -> str:
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold()


@dataclass(frozen=True)
class Blocklist:
    """Words an operator does not want in descriptions, free-text edits or names. A word of Latin
    letters or digits matches as a whole word ("ass" does not block "class"); any other word
    (Korean has no spaces between a word and its particles) matches anywhere in the text."""
    words: tuple[str, ...] = ()
    _patterns: tuple[re.Pattern[str], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        patterns = []
        for word in (_fold(w.strip()) for w in self.words):
            if not word:
                continue
            escaped = re.escape(word)
            whole = word.isascii() and re.fullmatch(r"[\w' -]+", word)
            patterns.append(re.compile(rf"(?<![\w]){escaped}(?![\w])" if whole else escaped))
        object.__setattr__(self, "_patterns", tuple(patterns))

    @classmethod
    def from_file(cls, path: str | Path) -> "Blocklist":
        """One word or phrase per line; blank lines and lines starting with # are skipped."""
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        return cls(tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")))

    def blocks(self, text: str) -> bool:
        folded = _fold(text)
        return any(p.search(folded) for p in self._patterns)


@dataclass(frozen=True)
class Crowd:
    """Users whose unfinished jobs count against one cap together."""
    kind: str   # "address": web users of one client address; "chat": users of one group chat
    key: str    # what jobs.crowd holds: an HMAC, never the address or chat id itself
    cap: int


def _crowd(kind: str, platform: str, name: str, cap: int, secret: bytes) -> Crowd:
    digest = hmac.new(secret, f"crowd\0{kind}\0{platform}\0{name}".encode(), hashlib.sha256).hexdigest()
    return Crowd(kind, digest[:CROWD_KEY_CHARS], cap)


def address_name(address: str) -> str | None:
    """The address as one crowd: IPv4 as it is, IPv6 by its /64; None for what is not an address."""
    try:
        parsed = ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(parsed, IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ip_network(f"{parsed}/{IPV6_CROWD_PREFIX}", strict=False))
    return str(parsed)


def address_key(platform: str, address: str, secret: bytes) -> str | None:
    """The key of a client's address (an IPv6 /64 as one): the crowd its web users share, and
    what a moderator's block of a banned web user's network holds (storage/network_bans.py).
    None for what is not an address."""
    name = address_name(address)
    return None if name is None else _crowd("address", platform, name, 0, secret).key


@dataclass(frozen=True)
class Limits:
    user_rate_per_minute: int = DEFAULT_USER_RATE_PER_MINUTE   # 0: no rate limit (the cap still holds)
    blocklist: Blocklist = Blocklist()
    address_job_cap: int = DEFAULT_ADDRESS_JOB_CAP   # unfinished jobs of all web users of one address; 0: no cap
    chat_job_cap: int = DEFAULT_CHAT_JOB_CAP         # unfinished jobs of all users of one group chat; 0: no cap

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Limits":
        blocklist = Blocklist.from_file(settings.blocklist_file) if settings.blocklist_file else Blocklist()
        return cls(user_rate_per_minute=settings.user_rate_per_minute, blocklist=blocklist,
                   address_job_cap=settings.address_job_cap, chat_job_cap=settings.chat_job_cap)

    def crowd(self, platform: str, address: str | None, group_id: str | None, secret: bytes = b"") -> Crowd | None:
        """The crowd whose cap a request also counts against: the client's address (the web
        chat), else the group chat it came from (a Telegram group, a Discord guild); None in a
        direct chat, or when that cap is off. Its key is an HMAC under `secret` (the server's,
        as for owner keys), so the jobs table names no address anyone could test guesses on."""
        if address is not None and self.address_job_cap:
            key = address_key(platform, address, secret)
            return None if key is None else Crowd("address", key, self.address_job_cap)
        if group_id is not None and self.chat_job_cap:
            return _crowd("chat", platform, group_id, self.chat_job_cap, secret)
        return None
