"""Language-neutral resolution: a list of classified words → attribute settings.

The Korean and English front ends turn text into `Word`s (lemma looked up in their table,
plus two grammatical hints). Here every modifier finds the part it describes:

1. `back_first` (a Korean predicate such as 코가 *크고*, or an English adjective after a copula,
   "eyes are *big*"): the nearest noun before it, if the modifier can describe that part;
2. otherwise the noun it leads to, walking forward over other modifiers and linking words
   ("*long*, curly hair", "*둥근* 모양의 얼굴");
3. otherwise the nearest compatible noun before it in the sentence (English stops at commas);
4. otherwise the modifier's default part (웃는 → smile), else it describes nothing: reported as
   an impression if it is one, else as not understood (unless it is a quiet word like 있다).

Degree words scale the next modifier or noun; negators flip the next (안, not) or previous
(않다) modifier, or remove the next noun ("no beard").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from facegen.describe.lexicon import (PARTS, Comparative, Copula, Degree, Entry, Filler, Head, Impression,
                                      Modifier, Negator, PLAIN, Setting)

WRINKLE_RANGE = (0.0, 1.0)


@dataclass
class Word:
    text: str                       # reported as-is when not understood
    entry: Entry | None             # None: a content word no table knows
    back_first: bool = False        # a predicate / post-copula adjective: describe the noun before first
    boundary: bool = False          # end of a sentence
    comma: bool = False             # a clause break (English backward search stops here)
    comparative: bool = False       # "bigger": an edit step, like 더 / more
    determiner: bool = False        # the / a / his: a modifier reaches its noun across it


@dataclass(frozen=True)
class Applied:
    field: str
    value: float | str | bool
    weak: bool
    order: float                    # position in the text: later says win
    intensity: float                # the degree in force (PLAIN unless a degree word said otherwise)


@dataclass
class Resolution:
    applied: list[Applied] = field(default_factory=list)
    impressions: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    comparative: int = 0            # +1 more / bigger, -1 less / 덜, 0 none


def _is(word: Word, *kinds: type) -> bool:
    return isinstance(word.entry, kinds) and not word.boundary


def _scan(words: list[Word], start: int, step: int, targets: tuple[type, ...], skip: tuple[type, ...],
          limit: int) -> int | None:
    """The first word of a target kind within `limit` words, passing only `skip` kinds."""
    j = start + step
    seen = 0
    while 0 <= j < len(words) and seen < limit:
        w = words[j]
        if w.boundary:
            return None
        if _is(w, *targets):
            return j
        if not _is(w, *skip):
            return None
        j += step
        seen += 1
    return None


class _Resolver:
    def __init__(self, words: list[Word], comma_blocks_backward: bool) -> None:
        self.words = words
        self.comma_blocks = comma_blocks_backward
        n = len(words)
        self.intensity: list[float | None] = [None] * n
        self.negated = [False] * n
        self.part: list[str | None] = [w.entry.part if _is(w, Head) else None for w in words]

    # --- scope of degree words and negators ---
    def mark_scopes(self) -> None:
        words = self.words
        for i, w in enumerate(words):
            if _is(w, Degree):
                j = _scan(words, i, 1, (Modifier, Head), (Filler, Negator, Degree, Copula), 3)
                if j is None:
                    j = _scan(words, i, -1, (Modifier,), (Filler, Negator), 2)
                if j is not None:
                    self.intensity[j] = max(self.intensity[j] or 0.0, w.entry.intensity)
            elif _is(w, Negator):
                scope = w.entry.scope
                if scope == "next":
                    j = _scan(words, i, 1, (Modifier, Head), (Degree, Filler, Copula), 3)
                elif scope == "prev":
                    j = _scan(words, i, -1, (Modifier,), (Degree, Filler), 3)
                    if j is None:
                        j = _scan(words, i, -1, (Head,), (Degree, Filler, Copula), 3)
                else:
                    j = _scan(words, i, 1, (Head,), (Modifier, Degree, Filler), 4)
                if j is not None:
                    self.negated[j] = not self.negated[j]

    # --- "the corners" → eye or mouth corners, by the nearest eye or mouth word ---
    def resolve_corners(self) -> None:
        owners = {"eyes": "eye_corners", "eye_corners": "eye_corners", "mouth": "mouth_corners",
                  "lips": "mouth_corners", "mouth_corners": "mouth_corners", "smile": "mouth_corners"}
        for i, part in enumerate(self.part):
            if part != "corners":
                continue
            best: tuple[int, int] | None = None
            for j, other in enumerate(self.part):
                if other in owners and self._same_sentence(i, j):
                    distance = abs(i - j)
                    if best is None or distance <= best[0]:
                        best = (distance, j)
            if best is not None:
                self.part[i] = owners[self.part[best[1]]]

    def _same_sentence(self, i: int, j: int) -> bool:
        low, high = sorted((i, j))
        return not any(w.boundary for w in self.words[low:high])

    # --- which part each modifier describes ---
    def target(self, i: int) -> int | str | None:
        """Index of the noun the modifier at i describes, a default part name, or None."""
        mod: Modifier = self.words[i].entry
        fits = lambda j: self.part[j] in mod.effects  # noqa: E731
        if self.words[i].back_first:
            j = self._previous_head(i)
            if j is not None and fits(j):
                return j
        j = self._forward_head(i)
        if j is not None and fits(j):
            return j
        j = self._previous_head(i, fits)
        if j is not None:
            return j
        return mod.default

    def _forward_head(self, i: int) -> int | None:
        for j in range(i + 1, len(self.words)):
            w = self.words[j]
            if w.boundary:
                return None
            if w.determiner:
                continue
            if _is(w, Head):
                return j
            passable = (_is(w, Modifier, Degree, Negator) or (_is(w, Filler) and w.entry.link)
                        or w.determiner)
            if not passable:
                return None
        return None

    def _previous_head(self, i: int, fits=None) -> int | None:
        for j in range(i - 1, -1, -1):
            w = self.words[j]
            if w.boundary or (self.comma_blocks and w.comma and fits is not None):
                return None
            if _is(w, Head) and (fits is None or fits(j)):
                return j
        return None

    # --- settings ---
    def _scaled(self, s: Setting, intensity: float | None) -> Setting:
        if intensity is None or isinstance(s.value, bool) or not isinstance(s.value, float):
            return s
        return Setting(s.field, s.value * intensity / PLAIN, s.weak)

    def _present(self, target: int | str, intensity: float | None) -> tuple[Setting, ...]:
        if isinstance(target, int):
            head: Head = self.words[target].entry
            own = intensity if intensity is not None else self.intensity[target]
            return tuple(self._scaled(s, own) for s in head.settings or PARTS[self.part[target]].present)
        return tuple(self._scaled(s, intensity) for s in PARTS[target].present)

    def _mod_settings(self, i: int, target: int | str) -> list[tuple[Setting, bool]]:
        """The modifier's settings for its target, each flagged True when it only restates the
        noun's own meaning (수염이 난: a beard), so it must not override other modifiers."""
        mod: Modifier = self.words[i].entry
        part = self.part[target] if isinstance(target, int) else target
        negated, intensity = self.negated[i], self.intensity[i]
        out: list[tuple[Setting, bool]] = []
        for s in mod.effects[part]:
            if s.field == "present":
                if s.value != negated:
                    out.extend((p, True) for p in self._present(target, intensity))
                else:
                    out.extend((a, False) for a in PARTS[part].absent)
            elif negated:
                if isinstance(s.value, bool):
                    out.append((Setting(s.field, not s.value, s.weak), False))
                elif isinstance(s.value, float):
                    out.append((Setting(s.field, 0.0, s.weak), False))
                # a negated colour or shape ("not round") says nothing definite
            else:
                out.append((self._scaled(s, intensity), False))
        return out

    def run(self) -> Resolution:
        self.mark_scopes()
        self.resolve_corners()
        result = Resolution()
        words = self.words
        late = len(words)
        for i, w in enumerate(words):
            if w.boundary:
                continue
            intensity = self.intensity[i] if self.intensity[i] is not None else PLAIN
            if w.entry is None:
                result.unknown.append(w.text)
            elif isinstance(w.entry, Head):
                for s in self._present(i, None) if self.words[i].entry.settings else ():
                    result.applied.append(Applied(s.field, s.value, s.weak, i, intensity))
                if self.negated[i]:
                    for s in PARTS[self.part[i]].absent:
                        result.applied.append(Applied(s.field, s.value, s.weak, late + i, intensity))
            elif isinstance(w.entry, Modifier):
                target = self.target(i)
                if target is None:
                    if w.entry.impression:
                        result.impressions.append(w.entry.impression)
                    elif not w.entry.quiet:
                        result.unknown.append(w.text)
                    continue
                # after the noun's own meaning, so 깊은 주름 is deep even though 주름 alone is plain
                order = max(i, target) + 0.5 if isinstance(target, int) else i
                for s, restates in self._mod_settings(i, target):
                    at = target if restates and isinstance(target, int) else order
                    result.applied.append(Applied(s.field, s.value, s.weak, at, intensity))
            elif isinstance(w.entry, Impression):
                result.impressions.append(w.entry.label)
            elif isinstance(w.entry, Comparative):
                result.comparative = w.entry.sign
            if w.comparative and result.comparative == 0:
                result.comparative = 1
        result.applied.sort(key=lambda a: a.order)
        result.impressions = list(dict.fromkeys(result.impressions))
        result.unknown = list(dict.fromkeys(result.unknown))
        return result


def resolve(words: list[Word], *, comma_blocks_backward: bool = False) -> Resolution:
    return _Resolver(words, comma_blocks_backward).run()


def merge(applied: list[Applied]) -> dict[str, float | str | bool]:
    """Settings in text order → one value per field: later wins, a weak guess never overrides."""
    values: dict[str, float | str | bool] = {}
    strong: set[str] = set()
    for a in applied:
        if a.weak and a.field in values:
            continue
        if not a.weak:
            strong.add(a.field)
        elif a.field in strong:
            continue
        values[a.field] = a.value
    for name, value in values.items():
        if isinstance(value, float):
            low, high = WRINKLE_RANGE if name == "wrinkles" else (-1.0, 1.0)
            values[name] = round(min(high, max(low, value)), 2)
    if values.get("beard") == "none":
        values.pop("beard_tidy", None)      # tidiness means nothing without a beard
    return values
