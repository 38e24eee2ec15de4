"""Korean particles chosen by the word before them: "#3으로", "#2를", "'수염남'으로", "소라는".

Reply templates write a particle in its two-way form (을(를), 은(는), 이(가), 과(와), (으)로);
`attach_particles` picks the form the preceding word takes, so no user ever reads "(으)로".
What decides is the last sound of that word:
- a Hangul syllable: whether it has a final consonant (받침), and for (으)로 whether that
  consonant is ㄹ ("서울로", not "서울으로");
- digits: the Korean reading of the number's end (3 삼 → 으로/을, 2 이 → 로/를, 7 칠 → 로/을,
  10 십, 100 백, 1000 천, 10000 만);
- a Latin word: a vowel letter at the end reads without one ("Sora를"), l like ㄹ ("Paul로"),
  any other consonant with one ("Bob을");
- anything else (a symbol, an emoji): the form after a final consonant, which reads least oddly.
Closing quotes and brackets between the word and the particle are skipped ("'수염남'으로").
"""

from __future__ import annotations

import re

# two-way form → (after a final consonant, after none); (으)로 also after ㄹ: see _pick
PARTICLES = {"을(를)": ("을", "를"), "은(는)": ("은", "는"), "이(가)": ("이", "가"), "과(와)": ("과", "와"),
             "(으)로": ("으로", "로")}
_MARKER = re.compile("|".join(re.escape(m) for m in PARTICLES))
_CLOSING = "'\"’”)]」』》〉"
_RIEUL = 8   # the index of ㄹ among the final consonants of a Hangul syllable

# the final consonant of the Korean reading of a number's last digit (None: none; "ㄹ")
_DIGIT_FINAL = {"0": "ㅇ", "1": "ㄹ", "2": None, "3": "ㅁ", "4": None, "5": None, "6": "ㄱ", "7": "ㄹ",
                "8": "ㄹ", "9": None}
# a number ending in zeros is read ending in its unit: 10 십, 100 백, 1000 천, 10^4..10^7 만, 10^8.. 억
_UNIT_FINAL = {1: "ㅂ", 2: "ㄱ", 3: "ㄴ"}


def _final(word: str) -> str | None | bool:
    """The final consonant the word ends in ("ㄹ", another one as a non-empty string), None
    when it ends in a vowel, False when it cannot be told."""
    word = word.rstrip(_CLOSING).rstrip()
    if not word:
        return False
    last = word[-1]
    if "가" <= last <= "힣":
        final = (ord(last) - ord("가")) % 28
        return None if final == 0 else ("ㄹ" if final == _RIEUL else "ㄱ")
    if last.isdigit():
        digits = re.search(r"\d+$", word).group()
        zeros = len(digits) - len(digits.rstrip("0"))
        if zeros and digits.strip("0"):
            return _UNIT_FINAL.get(zeros, "ㄴ" if zeros < 8 else "ㄱ")
        return _DIGIT_FINAL[last]
    if last.isascii() and last.isalpha():
        lowered = last.lower()
        return None if lowered in "aeiouy" else ("ㄹ" if lowered == "l" else "ㄱ")
    return False


def _pick(marker: str, final: str | None | bool) -> str:
    with_final, without = PARTICLES[marker]
    if final is False:
        final = "ㄱ"
    if marker == "(으)로":
        return without if final in (None, "ㄹ") else with_final
    return without if final is None else with_final


def attach_particles(text: str) -> str:
    """`text` with every two-way particle form resolved by the word just before it."""
    def resolve(match: re.Match[str]) -> str:
        return _pick(match.group(), _final(text[:match.start()]))
    return _MARKER.sub(resolve, text)
