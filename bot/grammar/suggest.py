"""The closest commands to a message nobody understood, as examples in the user's language.

Similarity is difflib's ratio on text where Hangul syllables are split into their letters
(jamo), so one wrong letter in Korean costs about as much as one wrong letter in English:
"되돌리가" is close to "되돌리기", "undoo" to "undo".
"""

from __future__ import annotations

from difflib import SequenceMatcher

from bot.grammar import lexicon

MAX_SUGGESTIONS = 3
MIN_SIMILARITY = 0.6

_LEADS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_TAILS = ("", "ㄱ", "ㄲ", "ㄳ", "ㄴ", "ㄵ", "ㄶ", "ㄷ", "ㄹ", "ㄺ", "ㄻ", "ㄼ", "ㄽ", "ㄾ", "ㄿ", "ㅀ", "ㅁ", "ㅂ",
          "ㅄ", "ㅅ", "ㅆ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ")
# Intents never offered out of context: a yes / no only means something after a question, and
# selecting, "next", "done" and locks only while breeding.
_NOT_SUGGESTED = {"confirm", "decline", "variations", "hello", "thanks",   # nothing to show how to do
                  "select", "next", "done", "lock", "unlock", "stop_breeding"}
_SAME_INTENT = {"variations": "show"}


def jamo(text: str) -> str:
    """Hangul syllables spelled out letter by letter (가 → ㄱㅏ); other characters unchanged."""
    out = []
    for ch in text.lower():
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            out.append(_LEADS[code // 588] + _VOWELS[(code % 588) // 28] + _TAILS[code % 28])
        else:
            out.append(ch)
    return "".join(out)


def _phrases() -> dict[str, list[str]]:
    """Every phrase worth comparing against, by intent, in letters."""
    by_intent: dict[str, list[str]] = {}
    sources = [lexicon.FIXED, lexicon.KEYWORDS,
               {intent: tuple(e for examples in langs.values() for e in examples)
                for intent, langs in lexicon.EXAMPLES.items()}]
    for source in sources:
        for intent, phrases in source.items():
            intent = _SAME_INTENT.get(intent, intent)
            if intent in _NOT_SUGGESTED:
                continue
            for phrase in phrases:
                cleaned = phrase.replace("<name>", "").replace("<이름>", "").strip()
                if cleaned:
                    by_intent.setdefault(intent, []).append(jamo(cleaned))
    return by_intent


_PHRASES = _phrases()


def _pieces(text: str) -> list[str]:
    """The whole text and its first few words and word pairs: a command is short, so a typo'd
    one is either the whole message or near its start."""
    words = text.split()
    return list({text, *words[:6], *(" ".join(words[i:i + 2]) for i in range(min(len(words) - 1, 5)))})


def _best_similarity(pieces: list[str], phrases: list[str]) -> float:
    best = 0.0
    for phrase in phrases:
        matcher = SequenceMatcher(None, b=phrase, autojunk=False)
        for piece in pieces:
            matcher.set_seq1(piece)
            # the quick ratios are upper bounds: skip the full comparison when they cannot win
            if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
                best = max(best, matcher.ratio())
    return best


def suggest(text: str, locale: str) -> tuple[str, ...]:
    """Up to MAX_SUGGESTIONS example commands in `locale`, closest first; the generic ones
    (help, new, describe) when nothing is close. Help is always among them."""
    pieces = [p for p in _pieces(jamo(text.strip())[:200]) if p]
    scores = {}
    if pieces:
        for intent, phrases in _PHRASES.items():
            scores[intent] = _best_similarity(pieces, phrases)
    close = [i for i, s in sorted(scores.items(), key=lambda kv: -kv[1]) if s >= MIN_SIMILARITY]
    intents = close[:MAX_SUGGESTIONS] or list(lexicon.DEFAULT_SUGGESTIONS)
    if "help" not in intents:
        intents = intents[:MAX_SUGGESTIONS - 1] + ["help"]
    lang = locale if locale in ("ko", "en") else "en"
    return tuple(lexicon.EXAMPLES[intent][lang][0] for intent in intents)
