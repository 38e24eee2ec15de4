"""Numbers and ratios as people type them, in English and Korean.

Integers: digits, English words ("three", "twenty-one"), Korean native numbers (하나 둘 셋,
다섯, 스물셋, and the forms used before a counter: 한 두 세 네 스무) and Sino-Korean
numbers (일 이 삼 … 십 백). Sino-Korean words and the counter forms are also ordinary
syllables ("이" is "this", "네" is "yes"), so they only count as numbers right before a
counter (번, 개, 할, 번째, %): `INT_COUNTED` allows them, `INT_ALONE` does not.

Ratios: 0.7, .7, 70%, 70 퍼센트, 70프로, seventy percent, 7할, 3할 5푼, half, 반반, and
pairs 7:3, 70/30, 7대3. Values come back as typed (130% → 1.3); range checks are the
grammar's job, so it can report them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EN_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
           "ninety": 90}
EN_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
}
KO_NATIVE_UNITS = {"하나": 1, "둘": 2, "셋": 3, "넷": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9}
KO_COUNTER_UNITS = {"한": 1, "두": 2, "세": 3, "석": 3, "서": 3, "네": 4, "넉": 4}   # before 번, 개, 할 …
KO_NATIVE_TENS = {"열": 10, "스물": 20, "서른": 30, "마흔": 40, "쉰": 50, "예순": 60, "일흔": 70, "여든": 80,
                  "아흔": 90}
KO_COUNTER_TENS = {"스무": 20}
KO_SINO_DIGITS = {"영": 0, "공": 0, "일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "륙": 6, "칠": 7,
                  "팔": 8, "구": 9}
KO_SINO_POWERS = {"십": 10, "백": 100}


def _alt(words) -> str:
    """A regex alternation, longest first so 다섯 wins over 다 and 스물 over 스."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_EN_UNIT = _alt([w for w in EN_UNITS if w != "zero"])
_EN_INT = rf"(?:(?:{_alt(EN_TENS)})(?:[\s-]?(?:{_alt([w for w in EN_UNITS if EN_UNITS[w] < 10 and w != 'zero'])}))?" \
          rf"|(?:a|one)\s+hundred|{_EN_UNIT}|zero)"
_KO_NATIVE = rf"(?:(?:{_alt(KO_NATIVE_TENS)})(?:{_alt(KO_NATIVE_UNITS)})?|(?:{_alt(KO_NATIVE_UNITS)}))"
_KO_NATIVE_COUNTED = rf"(?:(?:{_alt([*KO_NATIVE_TENS, *KO_COUNTER_TENS])})" \
                     rf"(?:{_alt([*KO_NATIVE_UNITS, *KO_COUNTER_UNITS])})?|(?:{_alt([*KO_NATIVE_UNITS, *KO_COUNTER_UNITS])}))"
_SINO_DIGIT = "[일이삼사오육륙칠팔구]"
_KO_SINO = rf"(?:(?=[일이삼사오육륙칠팔구십백영공])(?:{_SINO_DIGIT}?백)?(?:{_SINO_DIGIT}?십)?{_SINO_DIGIT}?|[영공])"

DIGITS = r"\d+"
# An integer that may stand on its own: "3", "three", "셋", "스물둘".
INT_ALONE = rf"(?:{DIGITS}|\b(?:{_EN_INT})\b|(?<![가-힣]){_KO_NATIVE}(?![가-힣]))"
# An integer right before a counter (번, 개, 할, 번째, %): adds 한 두 세 네 스무 and Sino-Korean.
INT_COUNTED = rf"(?:{DIGITS}|\b(?:{_EN_INT})\b|(?<![가-힣])(?:{_KO_NATIVE_COUNTED}|{_KO_SINO}))"

_INT_ALONE_RE = re.compile(rf"^(?:{INT_ALONE})$", re.IGNORECASE)
_INT_COUNTED_RE = re.compile(rf"^(?:{INT_COUNTED})$", re.IGNORECASE)


def _en_to_int(word: str) -> int | None:
    words = re.split(r"[\s-]+", word.lower().strip())
    if words[-1] == "hundred":
        return 100
    total = 0
    for w in words:
        if w in EN_TENS:
            total += EN_TENS[w]
        elif w in EN_UNITS:
            total += EN_UNITS[w]
        else:
            return None
    return total


def _ko_native_to_int(word: str) -> int | None:
    tens = {**KO_NATIVE_TENS, **KO_COUNTER_TENS}
    units = {**KO_NATIVE_UNITS, **KO_COUNTER_UNITS}
    total = 0
    for prefix in sorted(tens, key=len, reverse=True):
        if word.startswith(prefix):
            total, word = tens[prefix], word[len(prefix):]
            break
    if not word:
        return total or None
    return total + units[word] if word in units else None


def _ko_sino_to_int(word: str) -> int | None:
    total, digit = 0, None
    for ch in word:
        if ch in KO_SINO_DIGITS:
            if digit is not None:
                return None
            digit = KO_SINO_DIGITS[ch]
        elif ch in KO_SINO_POWERS:
            total += (1 if digit is None else digit) * KO_SINO_POWERS[ch]
            digit = None
        else:
            return None
    return total + (digit or 0)


def to_int(word: str, counted: bool = False) -> int | None:
    """The integer a word spells, or None. `counted`: the word stands before a counter, so
    the counter forms (한, 세, 스무) and Sino-Korean numbers count too."""
    word = word.strip()
    if not (_INT_COUNTED_RE if counted else _INT_ALONE_RE).match(word):
        return None
    if word.isdigit():
        return int(word)
    if word[0].isascii():
        return _en_to_int(word)
    native = _ko_native_to_int(word)
    return native if native is not None else _ko_sino_to_int(word)


# --- ratios ---------------------------------------------------------------------------------

_DECIMAL = r"[-+]?(?:\d+\.\d*|\.\d+|0,\d+)"   # "0,7": a decimal comma (not "1,000", which may be a thousand)
_NUMBER = rf"(?:[-+]?\d+(?:\.\d+)?|\.\d+|{INT_COUNTED})"
# Each alternative is one named group; `find_ratios` turns a match into a value.
RATIO = re.compile(
    rf"(?P<pair>(?P<pa>{_NUMBER})\s*(?::|/|대|to)\s*(?P<pb>{_NUMBER})(?!\s*(?:%|퍼)))"
    rf"|(?P<pct>(?P<pn>{_NUMBER})\s*(?:%|퍼센트|퍼|프로|(?:per\s?cent|pct)(?![A-Za-z])))"
    rf"|(?P<hal>(?P<hn>{INT_COUNTED})\s*할(?:\s*(?P<pun>{INT_COUNTED})\s*푼)?)"
    rf"|(?P<half>(?<![A-Za-z])(?:half|fifty[\s-]fifty)(?![A-Za-z])|(?<![가-힣])(?:반반|절반|반)(?=으로|로|씩|[^가-힣]|$))"
    rf"|(?P<dec>(?<![0-9A-Za-z.]){_DECIMAL}(?![0-9A-Za-z.%]))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RatioMatch:
    """One ratio in the text. `value` is a share in [0, 1] when the user typed a sensible one
    and anything else otherwise (130% → 1.3); a pair ("7:3") gives its first share, with
    `pair` True."""
    value: float
    text: str
    start: int
    end: int
    pair: bool = False


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        value = to_int(text, counted=True)
        return None if value is None else float(value)


def find_ratios(text: str) -> list[RatioMatch]:
    """Every ratio expression in `text`, left to right."""
    found = []
    for m in RATIO.finditer(text):
        value: float | None
        if m["pair"]:
            a, b = _number(m["pa"]), _number(m["pb"])
            value = None if a is None or b is None or a < 0 or b < 0 or a + b == 0 else a / (a + b)
        elif m["pct"]:
            n = _number(m["pn"])
            value = None if n is None else n / 100.0
        elif m["hal"]:
            n, pun = _number(m["hn"]), _number(m["pun"]) if m["pun"] else 0.0
            value = None if n is None or pun is None else n / 10.0 + pun / 100.0
        elif m["half"]:
            value = 0.5
        else:
            value = float(m["dec"].replace(",", "."))
        if value is not None:
            found.append(RatioMatch(round(value, 6), m.group(0), m.start(), m.end(), pair=bool(m["pair"])))
    return found
