"""Which language a message is written in, from its letters alone: the guess for a first
contact whose platform says nothing about the user's language (a Discord DM, a Telegram
account without a language, a browser without Accept-Language)."""

from __future__ import annotations

import re

_HANGUL = re.compile(r"[\uac00-\ud7a3]")                        # syllables: 가 … 힣
_JAMO = re.compile(r"[\u1100-\u11ff\u3131-\u318e]")              # loose letters: ㅋ, ㅠ, ㄱ …
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
SYLLABLE_WEIGHT = 2   # a Hangul syllable spells about as much as two or three Latin letters


def locale_of_script(text: str | None) -> str | None:
    """"ko" when Hangul outweighs Latin letters, "en" when Latin does, None for neither
    (digits, emoji, nothing). A Korean name inside an English sentence stays English:
    "morph with 배소라" → en; "배소라랑 0.7 합성" → ko."""
    if not text:
        return None
    hangul = SYLLABLE_WEIGHT * len(_HANGUL.findall(text)) + len(_JAMO.findall(text))
    latin = len(_LATIN.findall(text))
    if hangul == latin == 0:
        return None
    return "ko" if hangul >= latin else "en"
