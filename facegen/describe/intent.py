"""Words about a face: a new face, or a refinement of the current one. The one rule.

    request = read_request("smile")
    decide(request, Identity("male", "senior"))        # Refinement((Edit("smile", value=0.7),))
    decide(read_request("a young woman with long red hair"), Identity("male", "senior"))
                                                        # NewDescribedFace(…)

The rule, in order:
1. no current face: the words describe a new face;
2. the user asked for a new face ("new …", "another person …", "describe …", "새 얼굴 …",
   "묘사 …", "… 새로 만들어줘"): a new face;
3. the words ask for a change ("more smile", "make her eyes green", "a bit older", "glasses off",
   "더 웃게", "안경 씌워줘"): a refinement, never a new face;
4. the words describe a person (a gender or person noun, an age band) who is not the current
   face's known person (another gender, an age band two or more apart: "a young woman …" while
   the face is an old man): a new face;
5. anything else that names features, marks, colours, styles or an impression ("smile",
   "blonde", "curly hair", "sad", "곱슬머리", "금발", "미소") refines the current face: each
   attribute named is set to what was said, everything else stays.

A refinement's edits: absolute settings ("blonde", "curly hair", "eyes green") set the value; a
degree named plainly ("smile", "big eyes", "미소") is set to the degree said (plain 0.7, slight
0.35); a degree said relatively ("smile more", "bigger eyes", "더 웃게") steps it. An impression
("happier", "friendlier", "sad") becomes the features of IMPRESSION_FEATURES. (Setting a plain
degree lowers a face already past it: backends have no "at least" edit yet.)

The current face's known person (`Identity`) is what was said along its history: a description's
gender and age band, changed by later edits; a random face, a photo or a morph says nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from facegen.attributes import DEGREES, ENUMS, Description, Edit
from facegen.describe import parse_description, parse_edits
from facegen.describe.edits import EDIT_STEP
from facegen.describe.lexicon import PLAIN

AGE_BANDS: tuple[str, ...] = ENUMS["age_band"]          # youngest first
FAR_AGE = 2            # age bands this far apart are different people (twenties vs middle-aged)
DEGREE_FIELDS = (*DEGREES, "hair_length")

# Words that ask for a new face, at the start of a message ("new: a man with glasses", "새 얼굴
# 금발 여자") or, in Korean, at its end ("금발 여자로 새로 만들어줘").
_EN_NEW = (r"describe|description|new(?:\s+(?:face|person|one))?|(?:another|a\s+(?:new|different))\s+"
           r"(?:face|person|one|man|woman|guy|girl|boy)|someone\s+else")
_KO_NEW = r"묘사|새\s*얼굴|새로운\s*(?:얼굴|사람)?|새\s*사람|다른\s*(?:얼굴|사람)|새로"
_NEW_FACE_LEAD = re.compile(rf"^\s*(?:{_EN_NEW}|{_KO_NEW})(?:\s*해\s*(?:줘요|줘|주세요))?"
                            rf"(?:\s*(?:[:：,\-—]|으로|로|은|는))?\s+(?=\S)", re.IGNORECASE)
_NEW_FACE_TAIL = re.compile(r"(?:\s*(?:으로|로))?\s*(?:새로\s*(?:만들어|그려)|새\s*얼굴(?:로)?\s*(?:만들어|그려)?)"
                            r"\s*(?:줘요|줘|주세요|줄래요|줄래)?[.!~]*\s*$")

# Words that ask for a change to the face there is. English: every clause opens with one
# ("more smile", "make eyes bigger and add glasses", "a bit older", "no beard") or ends with one
# or with off / on ("smile more", "nose smaller", "glasses off"); "a man with no beard" describes.
# Korean: 더 / 덜 anywhere, or a change verb or an adverb at the end ("더 웃게", "나이 들게", "안경
# 씌워줘"; but "깔끔하게 정리된 수염" describes).
_EN_CHANGE_WORD = (r"more|less|fewer|add|remove|make|give|put|take|get\s+rid\s+of|stop|change|turn|"
                   r"older|younger|bigger|smaller|larger|wider|narrower|longer|shorter|darker|lighter|"
                   r"paler|thicker|thinner|fuller|rounder|higher|lower|deeper|curlier|straighter|happier|"
                   r"sadder|friendlier|kinder|warmer|softer|gentler|nicer|calmer|sterner|angrier|"
                   r"sharper|stronger|cuter|prettier")
_EN_COURTESY = r"(?:(?:please|pls|can\s+you|could\s+you|would\s+you|now|and|then)\s+)*"
_EN_DEGREE = r"(?:(?:a\s+)?(?:bit|little|lot|tad|touch)\s+|slightly\s+|much\s+|way\s+|somewhat\s+|even\s+)?"
_EN_CLAUSE_OPENS = re.compile(
    rf"^{_EN_COURTESY}(?:(?:a|an|the)\s+)?{_EN_DEGREE}(?:{_EN_CHANGE_WORD}|no|without)\b", re.IGNORECASE)
_EN_CLAUSE_ENDS = re.compile(rf"\b(?:{_EN_CHANGE_WORD}|off|on)(?:\s+(?:please|pls|now))?$", re.IGNORECASE)
_EN_CLAUSE_BREAK = re.compile(r"\s*(?:[,.;!?]|\band\b|\bthen\b)\s*", re.IGNORECASE)
_KO_ENDING = r"(?:\s*(?:해|하게|해\s*봐|만들어|바꿔))?\s*(?:주시겠어요|주세요|줄래요|줄래|줘요|줘|봐요|봐|요)?[.!?~\s]*$"
_KO_CHANGE = re.compile(rf"(?<![가-힣])(?:더|덜|조금\s*더)(?![가-힣])|"
                        rf"(?:[가-힣]게|없애|빼|떼|씌워|벗겨|달아|붙여|넣어|바꿔|길러|밀어){_KO_ENDING}")
# Relative words anywhere: degrees then step rather than being set ("big eyes and more smile").
_RELATIVE = re.compile(rf"\b(?:{_EN_CHANGE_WORD})\b|{_KO_CHANGE.pattern}", re.IGNORECASE)

# What an impression changes, as degrees at plain strength (a refinement sets them, or steps
# them when said relatively: "happier"). The labels are the describe parser's impressions.
_HAPPY = {"smile": PLAIN, "mouth_corners": PLAIN}
_FRIENDLY = {"smile": PLAIN / 2, "mouth_corners": PLAIN, "eye_tilt": -PLAIN / 2}
_SAD = {"smile": -PLAIN / 2, "mouth_corners": -PLAIN, "eye_tilt": -PLAIN / 2}
_STERN = {"smile": -PLAIN / 2, "mouth_corners": -PLAIN / 2, "eye_tilt": PLAIN / 2}
IMPRESSION_FEATURES: dict[str, dict[str, float]] = {
    **dict.fromkeys(("happy", "cheerful", "lively", "playful", "bright", "명랑한", "쾌활한", "활발한", "밝은",
                     "행복한", "즐거운", "장난스러운"), _HAPPY),
    **dict.fromkeys(("friendly", "kind", "warm", "gentle", "nice", "sweet", "approachable", "kind-hearted",
                     "good-natured", "warm-hearted", "caring", "pleasant", "benevolent", "mild", "선한", "착한",
                     "순한", "친근한", "친절한", "다정한", "따뜻한", "온화한", "서글서글한", "인자한", "푸근한",
                     "선량한", "온순한", "유순한", "호감형", "좋은"), _FRIENDLY),
    **dict.fromkeys(("sad", "tired", "gloomy", "슬픈", "우울한", "피곤한"), _SAD),
    **dict.fromkeys(("stern", "serious", "cold", "angry", "grumpy", "fierce", "harsh", "strict", "mean",
                     "scary", "menacing", "intense", "무뚝뚝한", "차가운", "엄격한", "냉정한", "사나운", "매서운",
                     "무서운", "험악한", "진지한", "까칠한"), _STERN),
}


@dataclass(frozen=True)
class Identity:
    """Who a face is, as far as words have said: None where nothing was said."""
    gender: str | None = None
    age_band: str | None = None

    def is_other_person_than(self, other: "Identity") -> bool:
        """Another gender, or age bands FAR_AGE or more apart (both said on each side)."""
        if self.gender and other.gender and self.gender != other.gender:
            return True
        if self.age_band in AGE_BANDS and other.age_band in AGE_BANDS:
            return abs(AGE_BANDS.index(self.age_band) - AGE_BANDS.index(other.age_band)) >= FAR_AGE
        return False


@dataclass(frozen=True)
class Request:
    """A message that talks about a face, read both ways at once."""
    text: str                        # the words about the face (without the words asking for a new one)
    description: Description         # read as a whole new face
    edits: tuple[Edit, ...]          # read as a refinement of the current face: every clause's edits
    new_face: bool = False           # the user asked for a new face
    change: bool = False             # the words ask for a change: never a new face
    person: Identity = field(default_factory=Identity)   # who the words say the face is, said outright

    @property
    def says_anything(self) -> bool:
        """Whether the words name any feature or impression (else nobody can act on them)."""
        return bool(self.description.attributes.specified() or self.description.impressions or self.edits)

    @property
    def skipped(self) -> list[str]:
        """The words the parser did not understand, as written."""
        return list(self.description.unknown)


@dataclass(frozen=True)
class NewDescribedFace:
    description: Description


@dataclass(frozen=True)
class Refinement:
    edits: tuple[Edit, ...]          # all of them, applied as one step


def read_request(text: str, *, new_face: bool = False, locale: str | None = None) -> Request:
    """`text` read as a new face and as a refinement; `new_face`: the user already asked for one
    (the chat's "describe …" command); `locale` as parse_description takes it (None: by script).
    Raises DescriptionTooLong like parse_description."""
    text, asked = _without_new_face_words(text)
    description = parse_description(text, locale)
    said = parse_edits(text, locale)
    change = _asks_for_change(text)
    relative = change or bool(_RELATIVE.search(text))
    edits = _refinement(said, description, relative)
    return Request(text, description, tuple(edits), new_face or asked, change, _person(said, description))


def decide(request: Request, current: Identity | None) -> NewDescribedFace | Refinement:
    """The rule (this module's docstring): `current` is the current face's known person, None
    when there is no current face."""
    if current is None or request.new_face:
        return NewDescribedFace(request.description)
    if not request.change and request.person.is_other_person_than(current):
        return NewDescribedFace(request.description)
    return Refinement(request.edits)


def identity_of(attributes: Mapping[str, Any]) -> Identity:
    """The person a description's attributes (a stored "describe" step) say."""
    return Identity(attributes.get("gender"), attributes.get("age_band"))


def identity_after(known: Identity, edits: Iterable[Edit]) -> Identity:
    """The person after a refinement: a gender or age band set, or ages stepped (a whole step
    moves one band; half a step stays)."""
    gender, band = known.gender, known.age_band
    for e in edits:
        if e.field == "gender" and e.value in ENUMS["gender"]:
            gender = e.value
        elif e.field == "age_band" and e.value in AGE_BANDS:
            band = e.value
        elif e.field == "age" and band in AGE_BANDS:
            moved = AGE_BANDS.index(band) + int(e.amount)
            band = AGE_BANDS[max(0, min(len(AGE_BANDS) - 1, moved))]
    return Identity(gender, band)


# --- reading ----------------------------------------------------------------------------------

def _without_new_face_words(text: str) -> tuple[str, bool]:
    for pattern in (_NEW_FACE_LEAD, _NEW_FACE_TAIL):
        rest = pattern.sub("", text, count=1).strip()
        if rest != text.strip() and rest:
            return rest, True
    return text, False


def _asks_for_change(text: str) -> bool:
    if _KO_CHANGE.search(text):
        return True
    clauses = [c for c in _EN_CLAUSE_BREAK.split(text.strip()) if c]
    return bool(clauses) and all(_EN_CLAUSE_OPENS.search(c) or _EN_CLAUSE_ENDS.search(c) for c in clauses)


def _refinement(said: list[Edit], description: Description, relative: bool) -> list[Edit]:
    """The parser's edits, with plainly named degrees and ages set rather than stepped, then what
    the impressions change (a feature named outright wins over an impression's)."""
    attributes = description.attributes
    edits = []
    for e in said:
        value = getattr(attributes, e.field, None)
        if not relative and e.field in DEGREE_FIELDS and e.value is None and value is not None:
            e = Edit(e.field, value=value)
        elif not relative and e.field == "age" and attributes.age_band is not None:
            e = Edit("age_band", value=attributes.age_band)
        edits.append(e)
    named = {e.field for e in edits}
    if not relative and attributes.age_band is not None and not named & {"age", "age_band"}:
        edits.append(Edit("age_band", value=attributes.age_band))   # a person noun's age: 할아버지, a girl
        named.add("age_band")
    for impression in description.impressions:
        for name, degree in IMPRESSION_FEATURES.get(impression, {}).items():
            if name not in named:
                named.add(name)
                edits.append(Edit(name, amount=round(EDIT_STEP * degree / PLAIN, 2)) if relative
                             else Edit(name, value=degree))
    return edits


def _person(said: list[Edit], description: Description) -> Identity:
    """Who the words say the face is: a gender said outright (a pronoun's never counts: the
    parser leaves guesses out of its edits), and the age band (a person noun's counts: 할아버지)."""
    gender = next((e.value for e in said if e.field == "gender"), None)
    return Identity(gender, description.attributes.age_band)
