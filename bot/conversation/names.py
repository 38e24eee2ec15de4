"""Matching a typed name against the gallery, in both scripts and with small typos.

Names are compared after NFKC, case folding and dropping spaces and punctuation; Hangul
syllables are split into jamo so a one-letter slip ("소랴" for "소라") costs one letter, not a
whole syllable; a trailing Korean particle the grammar left ("소라랑", "소라님") is tried off.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from storage.gallery import GalleryEntryRecord

MATCH_AT = 0.75      # similarity accepted as the same name (one jamo off in a two-syllable name)
SUGGEST_AT = 0.5     # similarity worth a "did you mean"
PARTICLES = ("이랑", "랑", "하고", "와", "과", "님", "씨", "이", "가", "을", "를", "의", "은", "는", "도")


@dataclass(frozen=True)
class NameMatch:
    entry: GalleryEntryRecord | None          # the match, if one is close enough
    suggestions: tuple[str, ...] = ()         # near misses, best first


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    letters = "".join(ch for ch in folded if ch.isalnum())
    return unicodedata.normalize("NFD", letters)   # Hangul syllables → jamo


def _variants(name: str) -> list[str]:
    clean = unicodedata.normalize("NFKC", name).strip()
    variants = [clean]
    for particle in PARTICLES:
        if clean.endswith(particle) and len(clean) > len(particle):
            variants.append(clean[: -len(particle)])
    return variants


def _similarity(a: str, b: str) -> float:
    return 1.0 if a == b else difflib.SequenceMatcher(None, a, b).ratio()


def match_name(name: str, entries: Sequence[GalleryEntryRecord]) -> NameMatch:
    scored: list[tuple[float, GalleryEntryRecord]] = []
    keys = [_key(v) for v in _variants(name)]
    for entry in entries:
        best = max((_similarity(k, _key(s)) for k in keys for s in entry.spellings if k), default=0.0)
        scored.append((best, entry))
    scored.sort(key=lambda pair: -pair[0])
    if scored and scored[0][0] >= MATCH_AT and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return NameMatch(scored[0][1])
    return NameMatch(None, tuple(e.name for score, e in scored if score >= SUGGEST_AT)[:3])


def display_name(entry: GalleryEntryRecord, locale: str) -> str:
    """The entry's name in the user's script when an alias has it."""
    if locale == "ko":
        return next((a for a in entry.aliases if any("\uac00" <= ch <= "\ud7a3" for ch in a)), entry.name)
    return entry.name
