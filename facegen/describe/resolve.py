"""Language-neutral resolution: a list of classified words → attribute settings.

The Korean and English front ends turn text into `Word`s (lemma looked up in their table,
plus a few grammatical hints). Here every modifier finds the part it describes:

1. `back_first` (a Korean predicate such as 코가 *크고*, an English adjective after a copula,
   "eyes are *big*", or after its noun, "eyes *bigger*"): the nearest noun before it, if the
   modifier can describe that part, with the nouns coordinated with it (눈과 코가 크고);
2. otherwise the noun it leads to, walking forward over other modifiers and linking words
   ("*long*, curly hair", "*둥근* 모양의 얼굴");
3. otherwise the nearest compatible noun before it in the sentence (English stops at commas);
4. otherwise the modifier's default part (웃는 → smile), else it describes nothing: reported as
   an impression if it is one, else as not understood (unless it is a quiet word like 있다).

A mark (점, scar) takes the places said next to it: a part noun with a position word (눈 *밑*,
*under* her eye) or a locative particle (입가*에*). Degree words scale the next modifier or noun;
comparatives (더, less) mark the next one as an edit step; negators flip the next (안, not) or
previous (않다) modifier, or remove the next noun ("no beard", "no scars or moles").

Nothing is dropped silently: a noun or modifier that ends up describing nothing is reported in
`unknown` with the words no table knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import copysign

from facegen.attributes import MARKS
from facegen.describe.lexicon import (HERE, PARTS, PLAIN, SLIGHT, Comparative, Copula, Degree, Entry, Filler,
                                      Head, Impression, Modifier, Negator, Position, Setting)

# degrees whose negation is their neutral point (안 웃는 → smile 0), not the opposite direction
LEVEL_WHEN_NEGATED = {"smile", "wrinkles", "freckles", "eye_tilt", "mouth_corners", "age"}
FROM_ZERO = {"wrinkles", "freckles"}        # degrees in [0, 1]; all others are in [-1, 1]
ALWAYS_UNDERSTOOD = {"person", "age", "face"}
DEFAULT_PLACE = "cheek"                      # a mole or scar said with no place


@dataclass
class Word:
    text: str                       # reported as-is when not understood
    entry: Entry | None             # None: a content word no table knows
    back_first: bool = False        # a predicate / post-copula adjective: describe the noun before first
    boundary: bool = False          # end of a sentence
    comma: bool = False             # a clause break (English backward search stops here)
    comparative: bool = False       # "bigger": an edit step, like 더 / more
    determiner: bool = False        # the / a / his: a modifier reaches its noun across it
    joined: str | None = None       # a noun coordinated with the next noun: "and" (눈과 코), "or" (흉터나 점)
    locative: bool = False          # a noun with a place particle (입가에): where a mark sits
    adnominal: bool = False         # a Korean predicate ending in -ㄴ / -는, before the noun it shapes
    subject: bool = False           # a noun marked as what follows speaks of (눈이, 코는; nose *is*)
    start: int = -1                 # where the word is in the text (for tests that account for every word)
    end: int = -1


@dataclass(frozen=True)
class Applied:
    field: str
    value: float | str | bool | tuple[str, ...]
    weak: bool
    order: float                    # position in the text: later says win
    intensity: float                # the degree in force (PLAIN unless a degree word said otherwise)
    flip: bool = False              # under "less" / 덜 / 줄이다: an edit steps the other way
    head: int | None = None         # the noun it is about, when one
    implied: bool = False           # only what the noun itself means (수염 → a beard), said by a bare mention
    restates: bool = False          # … said again by 있다 / have (수염이 난)
    negated: bool = False           # from a negated word (크지 않은): a little the other way


@dataclass
class Resolution:
    applied: list[Applied] = field(default_factory=list)
    impressions: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)       # the skipped words' texts, once each
    understood: list[Word] = field(default_factory=list)   # words that did something, or function words
    skipped: list[Word] = field(default_factory=list)      # words no table knows, or that described nothing
    predicated: set[int] = field(default_factory=set)      # nouns a predicate spoke of (수염을 하얗게, beard grey)


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
        self.sign = [0] * n                 # +1 more / 더, -1 less / 덜, 0 said plainly
        self.used = [False] * n
        self.absent: set[int] = set()       # nouns said to be missing (수염은 없다): their own meaning is void
        self.places: dict[int, list[str]] = {}   # a mark's places
        self.place_nouns: set[int] = set()          # the nouns said as those places
        self.part: list[str | None] = [w.entry.part if _is(w, Head) else None for w in words]

    # --- scope of degree words, comparatives and negators ---
    def mark_scopes(self) -> None:
        words = self.words
        for i, w in enumerate(words):
            if _is(w, Degree, Comparative):
                j = _scan(words, i, 1, (Modifier, Head), (Filler, Negator, Degree, Comparative, Copula), 3)
                if j is None:       # said after: 주근깨 약간, 광대 줄여줘
                    j = _scan(words, i, -1, (Modifier, Head), (Filler, Negator, Degree, Comparative), 3)
                if j is None:
                    continue
                if _is(w, Degree):
                    self.intensity[j] = max(self.intensity[j] or 0.0, w.entry.intensity)
                else:
                    self.sign[j] = w.entry.sign
            elif _is(w, Negator):
                for j in self._negated_by(i, w.entry.scope):
                    self.negated[j] = not self.negated[j]
        for i, w in enumerate(words):
            if w.comparative and self.sign[i] == 0:
                self.sign[i] = 1

    def _negated_by(self, i: int, scope: str) -> list[int]:
        words = self.words
        if scope == "next":
            j = _scan(words, i, 1, (Modifier, Head), (Degree, Filler, Copula), 3)
        elif scope == "prev":
            j = _scan(words, i, -1, (Modifier,), (Degree, Filler), 3)
            if j is None:
                j = _scan(words, i, -1, (Head,), (Degree, Filler, Copula), 3)
        elif scope == "prev_head":
            j = _scan(words, i, -1, (Head,), (Degree, Filler), 3)
        else:
            j = _scan(words, i, 1, (Head,), (Modifier, Degree, Filler), 4)
            if j is not None:       # "no scars or moles": every noun of the list
                return [j] + self._joined_after(j, "or")
        return [] if j is None else [j]

    # --- coordination: 눈과 코가 크고, "freckles across her nose and cheeks" ---
    def _next_head(self, j: int) -> int | None:
        for k in range(j + 1, len(self.words)):
            w = self.words[k]
            if w.determiner:
                continue
            if _is(w, Head):
                return k
            if not _is(w, Filler):
                return None
        return None

    def _joined_after(self, j: int, kind: str | None = None) -> list[int]:
        out = []
        while self.words[j].joined and (kind is None or self.words[j].joined == kind):
            k = self._next_head(j)
            if k is None:
                break
            out.append(k)
            j = k
        return out

    def _joined_before(self, j: int) -> list[int]:
        out = []
        while (k := self._previous_joined(j)) is not None:
            out.append(k)
            j = k
        return out

    def _previous_joined(self, j: int) -> int | None:
        """The noun coordinated with the noun at j from before it (눈*과* 코), if any."""
        for k in range(j - 1, -1, -1):
            w = self.words[k]
            if w.determiner:
                continue
            if _is(w, Head):
                return k if w.joined and self._next_head(k) == j else None
            if not _is(w, Filler):
                return None
        return None

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
                self.used[i] = self.used[best[1]] = True    # "the corners of her mouth": the mouth said whose

    def _comma_between(self, i: int, j: int) -> bool:
        low, high = sorted((i, j))
        return any(w.comma or w.text.lower() == "and" for w in self.words[low:high])

    def _same_sentence(self, i: int, j: int) -> bool:
        low, high = sorted((i, j))
        return not any(w.boundary for w in self.words[low:high])

    # --- where marks sit ---
    def _position(self, j: int) -> tuple[Position, bool] | None:
        """The position word tying the noun at j to a place: after it (눈 밑), or before it past
        determiners and side words (under her left eye); a locative particle (입가에) counts too.
        With it, whether it came before the noun: then the mark was said before the place (a
        scar across his brow), else after it (눈썹에 흉터)."""
        words = self.words
        if j + 1 < len(words) and _is(words[j + 1], Position):
            return words[j + 1].entry, False
        if words[j].locative or self._mark_follows(j):
            return Position(), False
        for k in range(j - 1, -1, -1):
            w = words[k]
            if _is(w, Position):
                return w.entry, True
            if not (w.determiner or (_is(w, Filler) and not w.entry.link)) or w.boundary:
                return None
        return None

    def _mark_follows(self, j: int) -> bool:
        """입가 점, 눈가 주름: a part noun right before a mark noun is where it sits."""
        following = self.words[j + 1] if j + 1 < len(self.words) else None
        return (following is not None and _is(following, Head) and PARTS[following.entry.part].mark
                and _is(self.words[j], Head))

    def find_places(self) -> None:
        """Each noun said as a place goes to the nearest mark in its sentence (눈 밑에 점, a scar
        on his chin); nouns listed with it go along (freckles across her nose and cheeks)."""
        placed: dict[int, str | None] = {}
        mark_first: dict[int, bool] = {}     # the place's mark is more likely said before it
        for j, w in enumerate(self.words):
            if w.boundary or not (w.entry is None or self.part[j]) or (found := self._position(j)) is None:
                continue
            position, mark_first[j] = found
            if w.entry is None:
                placed[j] = None        # 목에 점, a mole on her neck: somewhere no face shows
                continue
            part = PARTS[self.part[j]]
            if part.place:
                placed[j] = part.place_below if position.below and part.place_below else part.place
                for k in self._joined_after(j) + self._joined_before(j):
                    if PARTS[self.part[k]].place and k not in placed:
                        placed[k] = PARTS[self.part[k]].place
        marks = [k for k, name in enumerate(self.part) if name and (PARTS[name].mark or PARTS[name].placed)]
        for j in sorted(placed):
            near = [k for k in marks if self._same_sentence(j, k)]
            if not near:
                continue
            # the nearest mark not parted from the place by a comma or "and" (a mole on the cheek
            # and a scar …); on a tie, the one on the side the wording puts it
            mark = min(near, key=lambda k: (self._comma_between(j, k), abs(k - j),
                                            (k < j) != mark_first.get(j, False)))
            self.places.setdefault(mark, [])
            if placed[j] not in self.places[mark]:
                self.places[mark].append(placed[j])
            if placed[j] is not None:
                self.used[j] = True
            self.place_nouns.add(j)

    def _here(self, target: int | str | None) -> tuple[str, ...] | None:
        """Where a mark set on `target` sits: the mark's places, or the part it was said on;
        None when it was only said somewhere off the face."""
        if not isinstance(target, int):
            return (DEFAULT_PLACE,)
        part = PARTS[self.part[target]]
        said = self.places.get(target)
        if said is None and part.mark:      # 칼자국 같은 흉터: the same mark named twice
            said = next((places for other, places in self.places.items()
                         if self.part[other] == self.part[target] and self._same_sentence(other, target)), None)
        if said is not None:
            return tuple(p for p in said if p is not None) or None
        return (part.place or DEFAULT_PLACE,)

    # --- which part each modifier describes ---
    def _fits(self, mod: Modifier, j: int) -> bool:
        part = self.part[j]
        return part in mod.effects or PARTS[part].mark

    def target(self, i: int) -> int | str | None:
        """Index of the noun the modifier at i describes, a default part name, or None."""
        mod: Modifier = self.words[i].entry
        fits = lambda j: self._fits(mod, j)  # noqa: E731
        subject = self._previous_noun(i) if self.words[i].back_first else None
        if subject is not None and self.words[subject].entry is None:
            return None             # 레이저가 나오는: it describes something no table knows
        if subject is not None and fits(subject):
            return subject
        j = self._forward_head(i)
        if j is not None and fits(j):
            return j
        if subject is None or not self.words[subject].subject:
            # 턱이 튀어나온 speaks of the jaw, never of an earlier nose; 눈은 쌍꺼풀 없이 가늘다 of the eyes
            j = self._previous_head(i, fits)
            if j is not None:
                return j
        return mod.default

    def _forward_head(self, i: int) -> int | None:
        """The noun a modifier leads to, over other modifiers, degree words and links, and over
        words no table knows ("big *sparkly* eyes") as long as no link follows one: in "long
        eyelashes and a big nose" the unknown noun ends the walk, so "long" is not the nose's."""
        passed_unknown = False
        for j in range(i + 1, len(self.words)):
            w = self.words[j]
            if w.boundary:
                return None
            if w.determiner:
                continue
            if _is(w, Head):
                return j
            if w.entry is None and not w.comma:
                passed_unknown = True
                continue
            link = _is(w, Filler) and w.entry.link
            if link and passed_unknown:
                return None
            if not (_is(w, Modifier, Degree, Negator, Comparative) or link):
                return None
        return None

    def _previous_head(self, i: int, fits) -> int | None:
        for j in range(i - 1, -1, -1):
            w = self.words[j]
            if w.boundary or (self.comma_blocks and w.comma):
                return None
            if _is(w, Head) and j not in self.place_nouns and fits(j):
                return j
        return None

    def _previous_noun(self, i: int) -> int | None:
        """The noun a predicate after it speaks of: a part, or a word no table knows; never a
        place (주근깨가 코랑 볼에 퍼져 있다 speaks of the freckles)."""
        for j in range(i - 1, -1, -1):
            w = self.words[j]
            if w.boundary:
                return None
            if (_is(w, Head) and j not in self.place_nouns) or (w.entry is None and not w.comma):
                return j
        return None

    # --- settings ---
    def _scaled(self, s: Setting, intensity: float | None) -> Setting:
        if intensity is None or isinstance(s.value, bool) or not isinstance(s.value, float):
            return s
        return Setting(s.field, s.value * intensity / PLAIN, s.weak)

    def _placed(self, s: Setting, target: int | str | None) -> Setting | None:
        if s.value != HERE:
            return s
        here = self._here(target)
        return Setting(s.field, here, s.weak) if here is not None else None

    def _present(self, target: int | str, intensity: float | None) -> tuple[Setting, ...]:
        if isinstance(target, int):
            head: Head = self.words[target].entry
            own = intensity if intensity is not None else self.intensity[target]
            part = PARTS[self.part[target]]
            settings = head.settings or part.present
            if settings == part.present:        # 코 밑에 수염: what the noun means where it was said
                settings = next((part.placed[p] for p in self.places.get(target, ()) if p in part.placed), settings)
        else:
            settings, own = PARTS[target].present, intensity
        placed = (self._placed(self._scaled(s, own), target) for s in settings)
        return tuple(s for s in placed if s is not None)

    def _mod_settings(self, i: int, target: int | str) -> list[tuple[Setting, str]]:
        """The modifier's settings for its target, each with how it was said: "restates" when it
        only repeats the noun's own meaning (수염이 난: a beard), so it must not override other
        modifiers; "negated" when it is the denial of a degree (크지 않은); else "said"."""
        mod: Modifier = self.words[i].entry
        part = self.part[target] if isinstance(target, int) else target
        negated, intensity = self.negated[i], self.intensity[i]
        noun_negated = isinstance(target, int) and self.negated[target]     # has *no* scars
        out: list[tuple[Setting, str]] = []
        for s in mod.effects.get(part, ()):
            if s.field == "present":
                if s.value != (negated != noun_negated):
                    out.extend((p, "restates") for p in self._present(target, intensity))
                else:
                    if isinstance(target, int):
                        self.absent.add(target)
                    out.extend((self._scaled(a, intensity), "said") for a in PARTS[part].absent)
            elif negated:
                if isinstance(s.value, bool):
                    out.append((Setting(s.field, not s.value, s.weak), "said"))
                elif isinstance(s.value, float):
                    # 크지 않은 눈: a little small, not "no size"; 안 웃는: no smile
                    level = s.field in LEVEL_WHEN_NEGATED or s.value == 0.0
                    value = 0.0 if level else -copysign(SLIGHT, s.value)
                    out.append((Setting(s.field, value, s.weak), "negated"))
                # a negated colour or shape ("not round") says nothing definite
            elif (placed := self._placed(self._scaled(s, intensity), target)) is not None:
                out.append((placed, "said"))
        return out

    def _targets(self, i: int, target: int | str) -> list[int | str]:
        """The target, and every noun listed with it that the word also speaks of: a predicate
        after the list (눈과 코가 크고), or have / remove before it (doesn't have freckles or dimples)."""
        if not isinstance(target, int):
            return [target]
        mod: Modifier = self.words[i].entry
        if target > i:
            presence = any(s.field == "present" for s in mod.effects.get(self.part[target], ()))
            return [target] + (self._joined_after(target) if presence else [])
        if not self.words[i].back_first:
            return [target]
        listed = self._joined_before(target)
        first = listed[-1] if listed else target
        if self._said_with_modifier(first):
            return [target]     # droopy eyes and lips that curve up: only the lips curve
        return [target] + [k for k in listed if self._fits(mod, k)]

    def _said_with_modifier(self, j: int) -> bool:
        k = j - 1
        while k >= 0 and self.words[k].determiner:
            k -= 1
        return k >= 0 and _is(self.words[k], Modifier)

    def run(self) -> Resolution:
        self.mark_scopes()
        self.resolve_corners()
        self.find_places()
        result = Resolution()
        impressions_at = self._apply_modifiers(result)
        self._apply_nouns(result)
        self._impressions_describe_their_clause(impressions_at)
        self._restated_nouns_are_understood()
        for i, w in enumerate(self.words):
            if w.boundary or w.comma:
                continue
            if w.entry is None or (isinstance(w.entry, (Head, Modifier)) and not self.used[i]):
                result.skipped.append(w)
            else:
                result.understood.append(w)
        result.applied.sort(key=lambda a: (a.order, not a.implied))
        result.impressions = list(dict.fromkeys(result.impressions))
        result.unknown = list(dict.fromkeys(w.text for w in result.skipped))
        return result

    def _intensity(self, i: int) -> float:
        return self.intensity[i] if self.intensity[i] is not None else PLAIN

    def _apply_modifiers(self, result: Resolution) -> list[int]:
        """What each modifier and impression says; the indices of the words that were impressions."""
        impressions_at: list[int] = []
        for i, w in enumerate(self.words):
            if _is(w, Impression):
                result.impressions.append(w.entry.label)
                impressions_at.append(i)
            if not _is(w, Modifier):
                continue
            target = self.target(i)
            if target is None:
                if w.entry.impression:
                    result.impressions.append(w.entry.impression)
                    impressions_at.append(i)
                self.used[i] = bool(w.entry.impression) or w.entry.quiet
                continue
            self.used[i] = True
            if w.entry.reported:
                result.impressions.append(w.entry.impression)
                impressions_at.append(i)
            for each in self._targets(i, target):
                head = each if isinstance(each, int) else None
                if head is not None:
                    self.used[head] = True
                    if w.back_first and head < i:
                        result.predicated.add(head)
                # after the noun's own meaning, so 깊은 주름 is deep even though 주름 alone is plain
                order = max(i, head) + 0.5 if head is not None else i
                for s, how in self._mod_settings(i, each):
                    at = head if how == "restates" and head is not None else order
                    result.applied.append(Applied(s.field, s.value, s.weak, at, self._intensity(i),
                                                  self.sign[i] < 0, head, restates=how == "restates",
                                                  negated=how == "negated"))
        return impressions_at

    def _apply_nouns(self, result: Resolution) -> None:
        """What each noun says by itself (수염 → a beard), or its absence when negated ("no beard")."""
        late = len(self.words)          # a negated noun's absence outlasts anything said of it
        for i, w in enumerate(self.words):
            if not _is(w, Head):
                continue
            intensity, part, flip = self._intensity(i), PARTS[self.part[i]], self.sign[i] < 0
            if self.negated[i]:
                self.absent.add(i)
                for s in part.absent:
                    result.applied.append(Applied(s.field, s.value, s.weak, late + i, intensity, flip, i))
            if i not in self.absent and w.entry.settings:
                for s in self._present(i, None):
                    result.applied.append(Applied(s.field, s.value, s.weak, i, intensity, flip, i, implied=True))
            elif i not in self.absent and self.sign[i] and part.degree:
                # "more freckles", 광대 줄여줘: the part's own degree, stepped
                value = self._scaled(Setting(part.degree, PLAIN), self.intensity[i]).value
                result.applied.append(Applied(part.degree, value, False, i, intensity, flip, i))
            if w.entry.settings or self.negated[i] or self.sign[i] or self.part[i] in ALWAYS_UNDERSTOOD:
                self.used[i] = True

    def _restated_nouns_are_understood(self) -> None:
        """옆가르마를 탄 머리, V라인 턱, the bridge of his nose, 쌍꺼풀 없는 눈: a noun naming a part
        already described in its sentence, compounded with a described noun, or shaped by a
        clause that described something says nothing new."""
        words = self.words
        for j, w in enumerate(words):
            if self.used[j] or not _is(w, Head):
                continue
            neighbours = [k for k in (j - 1, j + 1) if 0 <= k < len(words) and _is(words[k], Head)]
            same_part = [k for k, part in enumerate(self.part) if part == self.part[j] and self._same_sentence(j, k)]
            # 쌍꺼풀 없는 눈, 주근깨가 있는 피부: the noun a described clause shapes
            shaped = j > 0 and words[j - 1].adnominal and words[j - 1].back_first and self.used[j - 1]
            if shaped or self._qualifies(j) or any(self.used[k] for k in neighbours + same_part):
                self.used[j] = True

    def _qualifies(self, j: int) -> bool:
        """"receding at the temples", "lines around the eyes": a place said right after words that
        did something only says where."""
        k = j - 1
        while k >= 0 and (self.words[k].determiner or _is(self.words[k], Filler)) and not self.words[k].comma:
            k -= 1
        return k > 0 and _is(self.words[k], Position) and self.used[k - 1]

    def _impressions_describe_their_clause(self, impressions_at: list[int]) -> None:
        """선한 눈매, "a kind face": a noun an impression was said about is understood."""
        for i in impressions_at:
            for step in (-1, 1):
                j = i + step
                while 0 <= j < len(self.words) and not (self.words[j].boundary or self.words[j].comma):
                    if _is(self.words[j], Head):
                        self.used[j] = True
                    j += step


def resolve(words: list[Word], *, comma_blocks_backward: bool = False) -> Resolution:
    return _Resolver(words, comma_blocks_backward).run()


def _same_way(before: Applied, after: Applied) -> bool:
    """Two degrees said of the same noun in the same direction (엄청 높고 오똑한 콧대)."""
    said = not (before.implied or before.restates or after.implied or after.restates)
    return (said and before.head is not None and before.head == after.head and isinstance(before.value, float)
            and isinstance(after.value, float) and before.value * after.value > 0)


def _neither(before: Applied, after: Applied) -> bool:
    """작지도 크지도 않은 코: both ways denied of the same noun is the middle."""
    return (before.negated and after.negated and before.head is not None and before.head == after.head
            and isinstance(before.value, float) and isinstance(after.value, float) and before.value * after.value < 0)


def merge(applied: list[Applied]) -> dict[str, float | str | bool | tuple[str, ...]]:
    """Settings in text order → one value per field: later wins, a weak guess never overrides.
    Absence never undoes what the same text says is there: 콧수염만 있고 턱수염은 없다 is a
    moustache, and the places of every mark said are kept together."""
    values: dict[str, float | str | bool | tuple[str, ...]] = {}
    strong: set[str] = set()
    previous: dict[str, Applied] = {}
    for a in applied:
        if a.weak and a.field in values:
            continue
        if not a.weak:
            strong.add(a.field)
        elif a.field in strong:
            continue
        before = previous.get(a.field)
        previous[a.field] = a
        if before is not None and _same_way(before, a) and abs(before.value) > abs(a.value):
            continue
        values[a.field] = 0.0 if before is not None and _neither(before, a) else a.value
    for name, value in values.items():
        if isinstance(value, float):
            low, high = (0.0, 1.0) if name in FROM_ZERO else (-1.0, 1.0)
            values[name] = round(min(high, max(low, value)), 2)
    kinds = [a.value for a in applied if a.field == "beard" and a.value != "none" and not a.weak]
    if values.get("beard") == "none" and kinds:
        values["beard"] = kinds[-1]
    for mark in MARKS:
        places = [p for a in applied if a.field == mark for p in a.value]
        if places:
            values[mark] = tuple(dict.fromkeys(places))
    if values.get("beard") == "none":
        values.pop("beard_tidy", None)      # tidiness means nothing without a beard
    return values
