"""Turning a raw message into the form the rules match, and phrases into regexes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from bot.grammar import lexicon
from ground.limits import MAX_TEXT_CHARS  # noqa: F401 - longer messages are not parsed (NotUnderstood, "too_long")

_SPACES = re.compile(r"\s+")
# Trailing punctuation, laughter (ㅋㅋ, ㅎㅎ), tears (ㅠㅠ) and emoji carry no command.
_TRAILING_NOISE = re.compile(r"[\s!.~…,;·ㅋㅎㅠㅜ\U0001F300-\U0001FAFF\u2600-\u27BF]+$")
_HANGUL = re.compile(r"[가-힣]")


def phrase_regex(phrase: str) -> str:
    """A phrase as a regex fragment: a space matches any spaces, or none next to Hangul."""
    parts = phrase.split(" ")
    out = re.escape(parts[0])
    for left, right in zip(parts, parts[1:]):
        hangul_edge = bool(_HANGUL.search(left[-1:]) or _HANGUL.search(right[:1]))
        out += (r"\s*" if hangul_edge else r"\s+") + re.escape(right)
    return out


def words_regex(words: Iterable[str]) -> str:
    """An alternation of phrases (longest first), for use inside a bigger pattern."""
    return f"(?:{_word_alt(words)})"


def _word_alt(words: Iterable[str]) -> str:
    return "|".join(phrase_regex(w) for w in sorted(words, key=len, reverse=True))


def normalize(text: str) -> str:
    """NFKC (full-width digits and ％ become ASCII), single spaces, no trailing noise. Case is
    kept so names survive; every rule matches case-insensitively. A lone "?" is kept."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = _SPACES.sub(" ", text).strip()
    # Noise goes before NFKC, which turns ㅋ (compatibility jamo) into a conjoining letter.
    stripped = _TRAILING_NOISE.sub("", text)
    if not stripped:        # all noise ("ㅋㅋㅋ", "!!!"): kept as typed, for the reply to quote
        return text.strip(" .!~,;")
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", stripped)).strip()


_KO_ENDING = re.compile(rf"(?<=\S)\s*(?:{_word_alt(lexicon.KO_ENDINGS)})$")
_KO_FILLER = re.compile(rf"(?:(?<=\s)|^)(?:{'|'.join(lexicon.KO_FILLERS)})(?=\s|$)")
_EN_LEADING = re.compile(rf"^(?:(?:{_word_alt(lexicon.EN_LEADING)})\b[\s,]*)+", re.IGNORECASE)
_EN_TRAILING = re.compile(rf"(?:[\s,]+(?:{_word_alt(lexicon.EN_TRAILING)}))+$", re.IGNORECASE)
_TRAILING_PUNCT = re.compile(r"[\s,.!?]+$")


def strip_politeness(text: str) -> str:
    """Cut the words that only make a request polite: "please … ", "… 해 주세요", "좀".
    Korean endings are cut repeatedly but never the whole message ("해" alone stays)."""
    text = _EN_LEADING.sub("", text)
    text = _EN_TRAILING.sub("", text)
    text = _SPACES.sub(" ", _KO_FILLER.sub(" ", text)).strip()
    for _ in range(4):
        cut = _TRAILING_PUNCT.sub("", _KO_ENDING.sub("", text)).strip()
        if cut == text or not cut:
            break
        text = cut
    return text
