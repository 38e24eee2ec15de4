"""Morph requests: who with, at what share of "me", in which mode.

The message is read slot by slot: the verb, the mode word, a face number (#12, 12번 얼굴),
the ratios, the words for "me"; whatever is left is the other party's name. Each slot found
is blanked out (same length, so positions stay comparable) before the next is looked for.

The ratio is always the share of the user's current face:
- one number is me's share wherever it stands ("morph me with Lee at 0.3" → 0.3);
- two numbers are shares of the parties they stand next to ("아이유 70% 나 30%" → 0.3) and
  must add up to 1;
- a pair "7:3" gives its first part to whoever is named first (me when I am not named).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.commands import FaceRef, GalleryName, InvalidArgument, Morph, Parsed
from bot.grammar import lexicon
from bot.grammar.numbers import INT_COUNTED, RatioMatch, find_ratios, to_int
from bot.grammar.text import words_regex
from facegen.latent import ratio_in_range

_VERB = re.compile(rf"{lexicon.MORPH_EN}|{lexicon.MORPH_KO}", re.IGNORECASE)
_MODES = [(re.compile(rf"(?<![\w]){words_regex(words)}(?:\s*(?:mode|mixing|mix|모드|방식))?(?:으로|로)?(?![\w])",
                      re.IGNORECASE), mode)
          for mode, words in lexicon.MORPH_MODES.items()]
_REF = re.compile(
    rf"#\s*(?P<hash>\d+)(?:\s*번)?(?:\s*얼굴)?|\b(?:face|number)\s*#?\s*(?P<word>\d+)\b"
    rf"|(?P<ko>{INT_COUNTED})\s*번\s*(?:얼굴)?", re.IGNORECASE)
_ME = re.compile(
    rf"\b(?:{words_regex(w for w in lexicon.ME if w.isascii())})\b"
    rf"|(?<![가-힣])(?:{words_regex(w for w in lexicon.ME if not w.isascii())})"
    rf"(?:(?:이랑|랑|하고|와|과|를|을|의|는|도)|(?![가-힣]))", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"(?<![0-9A-Za-z.#])[-+]?\d+(?:\.\d+)?(?![0-9A-Za-z.%])")
_TOKEN = re.compile(r"[^\s,;:!?\"'()]+")
_FILLERS = {w.lower() for w in lexicon.MORPH_FILLERS}
_NAME_PARTICLE = re.compile(rf"(?<=[가-힣])(?:{'|'.join(lexicon.NAME_PARTICLES)})$")
_SHARES_TOLERANCE = 0.011   # "33% / 67%" adds up to 1 closely enough


@dataclass
class _Slots:
    """The message with found slots blanked out."""
    text: str

    def take(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        found = list(pattern.finditer(self.text))
        for m in found:
            self.blank(m.start(), m.end())
        return found

    def blank(self, start: int, end: int) -> None:
        self.text = self.text[:start] + " " * (end - start) + self.text[end:]


def _name_tokens(text: str) -> list[tuple[int, str]]:
    tokens = []
    for m in _TOKEN.finditer(text):
        word = m.group(0)
        if word.lower() in _FILLERS:
            continue
        word = _NAME_PARTICLE.sub("", word) if len(word) > 2 else word
        if word.lower() not in _FILLERS:
            tokens.append((m.start(), word))
    return tokens


def _me_share(ratios: list[RatioMatch], me_at: int | None, other_at: int | None) -> tuple[float, str] | InvalidArgument:
    """The share of "me" and the text it came from, from the ratios and where the parties stand."""
    def shown(r: RatioMatch) -> str:
        return r.text.strip()

    if len(ratios) == 1:
        r = ratios[0]
        if r.pair and me_at is not None and other_at is not None and other_at < me_at:
            return round(1.0 - r.value, 6), shown(r)
        return r.value, shown(r)
    if len(ratios) != 2:
        return InvalidArgument("morph", "shares_do_not_add_up", " / ".join(shown(r) for r in ratios))
    first, second = ratios
    # Each share belongs to the party beside it: "나 70% 아이유 30%" or "70% me 30% Lee". With
    # only one party named, the other share is the other party's.
    parties = sorted((at, who) for at, who in ((me_at, "me"), (other_at, "other")) if at is not None)
    events = sorted([(at, who) for at, who in parties] + [(first.start, "r1"), (second.start, "r2")])
    order = [who for _, who in events]
    if order[0] in ("r1", "r2"):   # numbers stand before their party
        owner_of_first = order[1] if order[1] in ("me", "other") else None
    else:                          # numbers stand after their party
        owner_of_first = order[0] if order[1] == "r1" else None
    if owner_of_first is None:
        owner_of_first = "me" if me_at is None or other_at is None or me_at <= other_at else "other"
    mine, theirs = (first, second) if owner_of_first == "me" else (second, first)
    if ratio_in_range(mine.value) and ratio_in_range(theirs.value) \
            and abs(mine.value + theirs.value - 1.0) > _SHARES_TOLERANCE:
        return InvalidArgument("morph", "shares_do_not_add_up", f"{shown(first)} / {shown(second)}")
    return mine.value, shown(mine)


def parse_morph(text: str) -> Parsed | None:
    """A Morph (or why it cannot be one) when the message asks for a morph; None otherwise.
    Without a morph verb only the two-share forms ("나 70% 아이유 30%", "나랑 아이유 7:3") count."""
    slots = _Slots(text)
    has_verb = bool(slots.take(_VERB))
    mode = "linear"
    for pattern, name in _MODES:
        if slots.take(pattern):
            mode = name
            break
    refs = slots.take(_REF)
    ratios = find_ratios(slots.text)
    for r in ratios:
        slots.blank(r.start, r.end)
    bare = [RatioMatch(float(m.group(0)), m.group(0), m.start(), m.end()) for m in slots.take(_BARE_NUMBER)]
    ratios = sorted(ratios + bare, key=lambda r: r.start)
    me = slots.take(_ME)
    names = _name_tokens(slots.text)

    me_at = me[0].start() if me else None
    other_at = refs[0].start() if refs else (names[0][0] if names else None)
    both_shares = len(ratios) == 2 or (len(ratios) == 1 and ratios[0].pair)
    if not has_verb and not (both_shares and me_at is not None and other_at is not None):
        return None

    target: FaceRef | GalleryName
    if refs:
        ref = refs[0]
        number = to_int(ref["hash"] or ref["word"] or ref["ko"], counted=True)
        if number is None or number < 1:
            return InvalidArgument("morph", "number_out_of_range", ref.group(0).strip())
        target = FaceRef(number)
    elif names:
        target = GalleryName(" ".join(word for _, word in names))
    else:
        return InvalidArgument("morph", "missing_target", text)

    if not ratios:
        return Morph(target, None, mode)
    share = _me_share(ratios, me_at, other_at)
    if isinstance(share, InvalidArgument):
        return share
    value, typed = share
    if not ratio_in_range(value):
        return InvalidArgument("morph", "ratio_out_of_range", typed)
    return Morph(target, value, mode)
