"""Attributes → words: a face put back into a short noun phrase, the inverse of the parser.

    describe_back(Attributes(gender="male", age_band="thirties", hair_style="short",
                             hair_colour="black", eye_size=0.7, glasses=True), "en")
    # "a man in his thirties with short black hair, big eyes and glasses"
    describe_back(..., "ko")      # "30대 남자, 짧은 검은 머리, 큰 눈, 안경"

Every word is one the parser knows (lexicon_en.py / lexicon_ko.py), so
parse_description(describe_back(a, lang), lang) gives `a` back, degrees at the strength words
say them: slightly / 살짝 0.35, plain 0.7, very / 아주 1.0 (a degree within 0.18 of zero is
not said). One table per language; a part gathers its words ("very big, upturned blue eyes").

`face_words` says what is known of a stored face from its history: a described face's
attributes with the edits since (`attributes_along`), else where it came from (a random seed,
a photo, a morph) and what the edits since set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from typing import Any

from facegen.attributes import DEGREES, ENUMS, MARKS, Attributes

LOCALES = ("en", "ko")
SLIGHT_BELOW, VERY_FROM, SILENT_BELOW = 0.53, 0.85, 0.18
# the order parts are said in
PARTS = ("face", "hair", "hairline", "forehead", "forehead_width", "brows", "eyes", "eye_spacing", "double_eyelid", "nose",
         "cheekbones", "cheeks", "ears", "mouth", "lips", "mouth_corners", "smile", "jaw", "skin", "wrinkles", "freckles", "moles", "scars",
         "dimples", "beard", "glasses")
# the part each degree is said on (a language's "parts" may differ); its words are in the tables
DEGREE_PARTS = {
    "eye_size": "eyes", "eye_tilt": "eyes", "eye_depth": "eyes", "eye_spacing": "eyes",
    "brow_thickness": "brows", "nose_size": "nose", "nose_length": "nose", "nose_bridge": "nose",
    "mouth_width": "mouth", "lip_fullness": "lips", "mouth_corners": "mouth_corners", "jaw_width": "jaw",
    "forehead_height": "forehead", "forehead_width": "forehead", "cheekbones": "cheekbones",
    "cheek_fullness": "cheeks", "ear_size": "ears", "hair_length": "hair",
}
ENUM_PARTS = {"eye_colour": "eyes", "brow_shape": "brows", "face_shape": "face", "skin_tone": "skin",
              "beard_colour": "beard"}     # the hair's colour goes between its style word and "hair"

EN: dict[str, Any] = {
    "degree": ("slightly ", "", "very "),
    "nouns": {"face": "a face", "eyes": "eyes", "brows": "brows", "nose": "a nose", "mouth": "a mouth",
              "lips": "lips", "mouth_corners": "mouth corners", "jaw": "a jaw", "forehead": "a forehead",
              "cheekbones": "cheekbones", "cheeks": "cheeks", "ears": "ears", "skin": "skin", "hair": "hair",
              "beard": "a beard"},
    "degrees": {
        "eye_size": ("big", "small"), "eye_tilt": ("upturned", "downturned"), "eye_depth": ("deep-set", "protruding"),
        "eye_spacing": ("wide-set", "close-set"), "brow_thickness": ("thick", "thin"), "nose_size": ("big", "small"),
        "nose_length": ("long", "short"), "nose_bridge": ("high-bridged", "flat"), "mouth_width": ("wide", "narrow"),
        "lip_fullness": ("full", "thin"), "mouth_corners": ("upturned", "downturned"), "jaw_width": ("wide", "narrow"),
        "forehead_height": ("high", "low"), "forehead_width": ("broad", "narrow"),
        "cheekbones": ("prominent", "flat"), "cheek_fullness": ("full", "hollow"), "ear_size": ("big", "small"),
        "hair_length": ("long", "short"),
    },
    "enums": {
        "eye_colour": {"dark": "dark", "brown": "brown", "hazel": "hazel", "green": "green", "blue": "blue",
                       "grey": "grey"},
        "brow_shape": {"straight": "straight", "arched": "arched", "angled": "angled"},
        "face_shape": {"oval": "oval", "round": "round", "square": "square", "long": "long",
                       "heart": "heart-shaped", "v": "v-shaped"},
        "skin_tone": {"fair": "fair", "medium": "olive", "tan": "tanned", "dark": "dark"},
        "hair_colour": {"black": "black", "brown": "brown", "blond": "blond", "red": "red", "grey": "grey",
                        "white": "white"},
        "beard_colour": {"black": "black", "brown": "brown", "blond": "blond", "red": "red", "grey": "grey",
                         "white": "white"},
    },
    "hair_styles": {"bowl": "a bowl cut", "bob": "a bob", "long": "long hair", "short": "short hair",
                    "buzz": "a buzz cut", "bald": "a bald head", "curly": "curly hair", "wavy": "wavy hair",
                    "ponytail": "a ponytail", "bun": "a bun", "side_part": "a side part", "bangs": "bangs"},
    "style_words": ("long", "short", "curly", "wavy"),     # their word goes before the colour
    "beards": {"full": "a beard", "stubble": "stubble", "moustache": "a moustache", "goatee": "a goatee"},
    "tidy": {True: "trimmed", False: "scruffy"},
    "hairlines": {"straight": "a straight hairline", "m_shaped": "an m-shaped hairline",
                  "receding": "a receding hairline", "widows_peak": "a widow's peak"},
    # (none, slight, plain, very)
    "amounts": {"wrinkles": ("no wrinkles", "fine wrinkles", "wrinkles", "deep wrinkles"),
                "freckles": ("no freckles", "a few freckles", "freckles", "many freckles")},
    "smile": {"none": "a blank expression", "up": ("a slight smile", "a smile", "a big smile"),
              "down": ("a slightly frowning expression", "a frowning expression", "a very frowning expression")},
    "flags": {"double_eyelid": ("double eyelids", "monolids"), "glasses": ("glasses", "no glasses"),
              "dimples": ("dimples", "no dimples"), "beard": ("", "no beard")},
    "marks": {"moles": ("a mole", "no moles"), "scars": ("a scar", "no scars")},
    "places": {"under_eye": "under the eye", "eye": "by the eye", "brow": "on the brow",
               "forehead": "on the forehead", "cheek": "on the cheek", "nose": "on the nose",
               "mouth": "by the mouth", "chin": "on the chin"},
    "people": {
        "male": ("a boy", "a teenage boy", "a man in his twenties", "a man in his thirties", "a middle-aged man",
                 "an old man", "a man"),
        "female": ("a girl", "a teenage girl", "a woman in her twenties", "a woman in her thirties",
                   "a middle-aged woman", "an old woman", "a woman"),
        None: ("a child", "a teenager", "a person in their twenties", "a person in their thirties",
               "a middle-aged person", "an elderly person", "a face"),
    },
    "origins": {"new": "a random face (seed {seed})", "photo": "a face made from your photo",
                "morph": "a morph of {me} ({me_share}%) and {other} ({other_share}%)", "face": "a face"},
}

KO: dict[str, Any] = {
    "degree": ("살짝 ", "", "아주 "),
    "nouns": {"face": "얼굴", "eyes": "눈", "brows": "눈썹", "nose": "코", "mouth": "입", "lips": "입술",
              "mouth_corners": "입꼬리", "jaw": "턱", "forehead": "이마", "cheekbones": "광대", "cheeks": "볼",
              "ears": "귀", "skin": "피부", "hair": "머리", "beard": "턱수염", "eye_spacing": "미간",
              "forehead_width": "이마"},
    "degrees": {
        "eye_size": ("큰", "작은"), "eye_tilt": ("올라간", "처진"), "eye_depth": ("움푹한", "튀어나온"),
        "eye_spacing": ("넓은", "좁은"), "brow_thickness": ("굵은", "얇은"), "nose_size": ("큰", "작은"),
        "nose_length": ("기다란", "짧은"), "nose_bridge": ("오똑한", "납작한"), "mouth_width": ("큰", "작은"),
        "lip_fullness": ("두툼한", "얇은"), "mouth_corners": ("올라간", "내려간"), "jaw_width": ("넓은", "좁은"),
        "forehead_height": ("높은", "좁은"), "forehead_width": ("널찍한", "좁다란"),
        "cheekbones": ("높은", "납작한"), "cheek_fullness": ("통통한", "움푹한"), "ear_size": ("큰", "작은"),
        "hair_length": ("기다란", "짧은"),
    },
    "enums": {
        "eye_colour": {"dark": "검은", "brown": "갈색", "hazel": "헤이즐색", "green": "초록색", "blue": "파란",
                       "grey": "회색"},
        "brow_shape": {"straight": "일자", "arched": "아치형", "angled": "갈매기"},
        "face_shape": {"oval": "계란형", "round": "둥근", "square": "각진", "long": "긴", "heart": "하트형",
                       "v": "갸름한"},
        "skin_tone": {"fair": "하얀", "medium": "중간톤", "tan": "구릿빛", "dark": "까무잡잡한"},
        "hair_colour": {"black": "검은", "brown": "갈색", "blond": "금발", "red": "빨간", "grey": "회색",
                        "white": "하얀"},
        "beard_colour": {"black": "검은", "brown": "갈색", "blond": "노란", "red": "빨간", "grey": "회색",
                         "white": "하얀"},
    },
    # 아주 오똑한 짧은 코: degree words first, then 하다 adjectives; a bare 긴 or 짧은 said first after a
    # comma is misread by the analyser, and so is a bare adjective before a degree word
    "degrees_first": True,
    # 넓은 미간: the space between, not the eyes; 널찍한 이마 on its own (좁다란 높은 이마 reads badly)
    "parts": {"eye_spacing": "eye_spacing", "forehead_width": "forehead_width"},
    "hair_styles": {"bowl": "바가지 머리", "bob": "단발머리", "long": "긴 머리", "short": "짧은 머리",
                    "buzz": "삭발", "bald": "대머리", "curly": "곱슬머리", "wavy": "웨이브 머리",
                    "ponytail": "포니테일", "bun": "올림머리", "side_part": "옆가르마", "bangs": "앞머리"},
    "style_words": ("long", "short"),
    "beards": {"full": "턱수염", "stubble": "수염자국", "moustache": "콧수염", "goatee": "염소수염"},
    "tidy": {True: "정리된", False: "덥수룩한"},
    "hairlines": {"straight": "일자 헤어라인", "m_shaped": "M자 헤어라인", "receding": "뒤로 밀린 헤어라인",
                  "widows_peak": "V자 헤어라인"},
    "amounts": {"wrinkles": ("주름 없음", "잔주름", "주름", "깊은 주름"),
                "freckles": ("주근깨 없음", "약간의 주근깨", "주근깨", "주근깨투성이")},
    "smile": {"none": "무표정한 얼굴", "up": ("살짝 미소", "미소", "활짝 미소"),
              "down": ("살짝 찡그린 표정", "찡그린 표정", "아주 찡그린 표정")},
    "flags": {"double_eyelid": ("쌍꺼풀", "무쌍"), "glasses": ("안경", "안경 없음"),
              "dimples": ("보조개", "보조개 없음"), "beard": ("", "수염 없음")},
    "marks": {"moles": ("점", "점 없음"), "scars": ("흉터", "흉터 없음")},
    "places": {"under_eye": "눈 밑에", "eye": "눈가에", "brow": "눈썹에", "forehead": "이마에", "cheek": "볼에",
               "nose": "코에", "mouth": "입가에", "chin": "턱에"},
    "people": {
        "male": ("남자 아이", "10대 남자", "20대 남자", "30대 남자", "중년 남자", "노년 남자", "남자"),
        "female": ("여자 아이", "10대 여자", "20대 여자", "30대 여자", "중년 여자", "노년 여자", "여자"),
        None: ("아이", "10대", "20대", "30대", "중년", "노인", ""),
    },
    "origins": {"new": "무작위 얼굴 (시드 {seed})", "photo": "보내 주신 사진으로 만든 얼굴",
                "morph": "{me} {me_share}% · {other} {other_share}% 합성 얼굴", "face": "얼굴"},
}
WORDS = {"en": EN, "ko": KO}
AGE_ORDER = ENUMS["age_band"]


def _strength(value: float) -> int | None:
    """0 slight, 1 plain, 2 very; None: too near zero to say."""
    size = abs(value)
    if size < SILENT_BELOW:
        return None
    return 0 if size < SLIGHT_BELOW else 1 if size < VERY_FROM else 2


def _amount(value: float) -> int:
    """0 none, 1 slight, 2 plain, 3 very (wrinkles, freckles: 0 … 1)."""
    strength = _strength(value)
    return 0 if strength is None or value < 0 else strength + 1


def _part_words(a: Attributes, w: dict[str, Any]) -> dict[str, list[str]]:
    """The adjectives said on each part, degrees first, then shapes and colours."""
    words: dict[str, list[str]] = {}
    for name, part in DEGREE_PARTS.items():
        part = w.get("parts", {}).get(name, part)
        value = getattr(a, name)
        if value is None or (strength := _strength(value)) is None:
            continue
        if name == "hair_length" and a.hair_style in ("long", "short") and (value > 0) == (a.hair_style == "long"):
            if strength != 2:
                continue                        # "long hair" says it already
            words.setdefault(part, []).append(w["degree"][2].strip())
            continue
        word = w["degrees"][name][0 if value > 0 else 1]
        words.setdefault(part, []).append(w["degree"][strength] + word)
    for part, said in words.items() if w.get("degrees_first") else ():
        words[part] = sorted(said, key=lambda x: (" " not in x, not x.endswith("한")))
    for name, part in ENUM_PARTS.items():
        value = getattr(a, name)
        if value is not None:
            words.setdefault(part, []).append(w["enums"][name][value])
    return words


def _article(phrase: str) -> str:
    """English "a" before a singular noun phrase, "an" before a vowel sound."""
    if not phrase.startswith("a "):
        return phrase
    rest = phrase[2:]
    return ("an " if rest[:1] in "aeiou" and not rest.startswith("one") else "a ") + rest


def _with(adjectives: list[str], noun: str, locale: str) -> str:
    """Adjectives before a noun ("a" moves to the front in English)."""
    if not adjectives:
        return noun
    if locale == "en" and noun.startswith(("a ", "an ")):
        return _article("a " + " ".join(adjectives) + " " + noun.split(" ", 1)[1])
    return " ".join(adjectives) + " " + noun


def _phrases(a: Attributes, locale: str) -> list[str]:
    w = WORDS[locale]
    words = _part_words(a, w)
    said: list[str] = []
    for part in PARTS:
        adjectives = words.get(part, [])
        if part == "hair":
            if a.hair_style or a.hair_colour or adjectives:
                said.append(_hair(a, adjectives, w, locale))
        elif part == "hairline":
            if a.hairline:
                said.append(w["hairlines"][a.hairline])
        elif part == "smile":
            if a.smile is not None:
                strength = _strength(a.smile)
                said.append(w["smile"]["none"] if strength is None
                            else w["smile"]["up" if a.smile > 0 else "down"][strength])
        elif part in ("wrinkles", "freckles"):
            value = getattr(a, part)
            if value is not None:
                said.append(w["amounts"][part][_amount(value)])
        elif part in MARKS:
            places = getattr(a, part)
            if places is not None:
                one, none = w["marks"][part]
                said.extend([_place(w["places"][p], one, locale) for p in places] or [none])
        elif part == "beard":
            if a.beard == "none":
                said.append(w["flags"]["beard"][1])
            elif a.beard or adjectives or a.beard_tidy is not None:
                tidy = [] if a.beard_tidy is None else [w["tidy"][a.beard_tidy]]
                noun = w["beards"].get(a.beard or "full")
                said.append(_with(tidy + adjectives, noun, locale))
        elif part in ("double_eyelid", "glasses", "dimples"):
            value = getattr(a, part)
            if value is not None:
                said.append(w["flags"][part][0 if value else 1])
        elif adjectives:
            said.append(_with(adjectives, w["nouns"][part], locale))
    return said


def _hair(a: Attributes, lengths: list[str], w: dict[str, Any], locale: str) -> str:
    """Length, style word, colour, "hair": "very long curly black hair", "짧은 검은 머리"."""
    colour = [w["enums"]["hair_colour"][a.hair_colour]] if a.hair_colour else []
    style = w["hair_styles"].get(a.hair_style or "", w["nouns"]["hair"])
    if a.hair_style in w["style_words"]:
        word, noun = style.split(" ", 1)
        return " ".join([*lengths, word, *colour, noun])
    return _with(lengths + colour, style, locale)


def _place(place: str, mark: str, locale: str) -> str:
    return f"{mark} {place}" if locale == "en" else f"{place} {mark}"


def _person(a: Attributes, locale: str) -> str:
    row = WORDS[locale]["people"][a.gender]
    return row[AGE_ORDER.index(a.age_band)] if a.age_band in AGE_ORDER else row[-1]


def _join(subject: str, phrases: Sequence[str], locale: str) -> str:
    if locale == "ko":
        return ", ".join(filter(None, (subject, *phrases))) or KO["nouns"]["face"]
    if not phrases:
        return subject
    listed = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
    return f"{subject} with {listed}"


def describe_back(attributes: Attributes, locale: str) -> str:
    """The attributes as a short noun phrase in `locale` ("en" or "ko")."""
    if locale not in WORDS:
        raise ValueError(f"unsupported locale {locale!r}; expected one of {LOCALES}")
    return _join(_person(attributes, locale), _phrases(attributes, locale), locale)


# --- what a stored face is known to be ------------------------------------------------------

ORIGINS = ("new", "describe", "photo", "morph")   # where words about a face start over


def _edited(a: Attributes, field: str, amount: float, value: Any) -> Attributes:
    """`a` after one stored edit (facegen.recipes: {field, amount, value})."""
    if field == "age":
        if a.age_band not in AGE_ORDER or not int(amount):
            return a
        moved = max(0, min(len(AGE_ORDER) - 1, AGE_ORDER.index(a.age_band) + int(amount)))
        return replace(a, age_band=AGE_ORDER[moved])
    if field not in {f.name for f in fields(Attributes)}:
        return a
    if field in (*DEGREES, "hair_length"):
        current = getattr(a, field) or 0.0
        new = value if value is not None else current + amount
        return replace(a, **{field: round(max(-1.0, min(1.0, float(new))), 2)})
    if field in MARKS and value is not None:
        places = tuple(value)
        return replace(a, **{field: tuple(dict.fromkeys((*(getattr(a, field) or ()), *places))) if places else ()})
    return a if value is None else replace(a, **{field: value})


def attributes_along(lineage: Sequence[tuple[str, Mapping[str, Any]]]) -> tuple[tuple[str, Mapping[str, Any]], Attributes]:
    """What words said about a face along its history: `lineage` is (operation, params) of the
    face, its parent, … (as recipes.asked takes it). Returns the step the face started from (a
    description, a random seed, a photo, a morph; the oldest step when none is) and the
    attributes: the description's, changed by every edit since."""
    steps = []
    for operation, params in lineage:
        steps.append((operation, params))
        if operation in ORIGINS:
            break
    origin = steps[-1] if steps else ("face", {})
    attributes = Attributes(**{k: (tuple(v) if k in MARKS and v is not None else v)
                               for k, v in (origin[1].get("attributes") or {}).items()}) \
        if origin[0] == "describe" else Attributes()
    for operation, params in reversed(steps):
        if operation == "edit":
            for e in params.get("edits", ()):
                attributes = _edited(attributes, e["field"], e.get("amount") or 0.0, e.get("value"))
    return origin, attributes


def face_words(lineage: Sequence[tuple[str, Mapping[str, Any]]], *, me: str = "?", other: str = "?"
               ) -> dict[str, str]:
    """The words of a face in both languages (see attributes_along). A face that did not start
    from a description says where it came from, then what edits set since. `me` and `other`
    name a morph's two faces ("#3", a gallery name)."""
    (operation, params), attributes = attributes_along(lineage)
    out = {}
    for locale in LOCALES:
        if operation == "describe":
            out[locale] = describe_back(attributes, locale)
            continue
        share = round(float(params.get("ratio", 0.5)) * 100)
        origin = WORDS[locale]["origins"].get(operation, WORDS[locale]["origins"]["face"])
        subject = origin.format(seed=params.get("seed", 0), me=me, other=other, me_share=share,
                                other_share=100 - share)
        out[locale] = _join(subject, _phrases(attributes, locale), locale)
    return out


def generic_words(locale: str) -> str:
    """What an old face stored without words is called."""
    return WORDS[locale]["origins"]["face"]
