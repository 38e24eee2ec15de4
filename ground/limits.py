"""Abuse limits, each defined once. The conversation core applies them for every adapter;
platform limits (Telegram's and Discord's file sizes) stay in the adapters.

    text        MAX_TEXT_CHARS per message (the grammar refuses longer ones)
    photos      PHOTO_FORMATS only, at most PHOTO_MAX_BYTES and PHOTO_MAX_PIXELS, decoded with
                Pillow's decompression-bomb check on (facegen/photo.py load_photo)
    jobs        the queue's per-user cap on unfinished jobs, and `user_rate_per_minute` new
                jobs per rolling minute, both checked in the enqueue statement (storage/queries.py)
    words       an operator's blocklist (DREAMFACE_BLOCKLIST_FILE) for descriptions and names
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ground.config import Settings

MAX_TEXT_CHARS = 1000   # a message or description; the description parser reads no more
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP")
PHOTO_MAX_BYTES = 20 * 1024 * 1024
PHOTO_MAX_PIXELS = 40_000_000
DEFAULT_USER_RATE_PER_MINUTE = 20

# zero-width and direction controls: invisible, so they must not split a blocked word
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _fold(text: str) -> str:
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold()


@dataclass(frozen=True)
class Blocklist:
    """Words an operator does not want in descriptions or names. A word of Latin letters or
    digits matches as a whole word ("ass" does not block "class"); any other word (Korean has
    no spaces between a word and its particles) matches anywhere in the text."""
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
class Limits:
    user_rate_per_minute: int = DEFAULT_USER_RATE_PER_MINUTE   # 0: no rate limit (the cap still holds)
    blocklist: Blocklist = Blocklist()

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Limits":
        blocklist = Blocklist.from_file(settings.blocklist_file) if settings.blocklist_file else Blocklist()
        return cls(user_rate_per_minute=settings.user_rate_per_minute, blocklist=blocklist)
