"""Matching a typed name against the gallery, in both scripts and with small typos.

Names are compared after NFKC, case folding and dropping spaces and punctuation; Hangul
syllables are split into jamo so a one-letter slip ("소랴" for "소라") costs one letter, not a
whole syllable; a trailing Korean particle the grammar left ("소라랑", "소라님") is tried off.
Similarity is 1 − (edits ÷ the longer name's letters), where an edit is one letter added,
dropped, changed, or two neighbours swapped: a typo costs one edit, while a different name
("Obama" for "Sora Bae", "오바마" for "오할머니") costs most of its letters and is neither
taken nor suggested.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from storage.gallery import GalleryEntryRecord

MATCH_AT = 0.75      # similarity accepted as the same name (one jamo off in a two-syllable name)
SUGGEST_AT = 0.6     # similarity worth a "did you mean" (two edits in a five-letter name)
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
    return 1.0 - _edits(a, b) / max(len(a), len(b), 1)


def _edits(a: str, b: str) -> int:
    """Letters added, dropped or changed, and neighbours swapped, to turn a into b (optimal
    string alignment distance)."""
    rows = [list(range(len(b) + 1))]
    for i, x in enumerate(a, 1):
        row = [i]
        for j, y in enumerate(b, 1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (x != y)))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


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
