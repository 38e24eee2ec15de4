"""What words mean, independent of language: entry types, the parts of a face a word can
attach to, and the shared meanings (BIG, UP, TIDY, …) that the Korean and English tables
point their words at. A meaning is defined once here, so 큰 and big cannot drift apart.

Values follow facegen/attributes.py: degrees are written at plain strength (±0.7); a degree
word (살짝 / slightly 0.35, 아주 / very 1.0) rescales them. `present` is a pseudo-field:
True re-applies what the part's noun means (수염 → full beard), False applies its absence.
`age` is a pseudo-field too: ±1 band, used by edits ("older"); descriptions use age_band.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

PLAIN = 0.7     # strength of an adjective with no degree word
SLIGHT = 0.35
VERY = 1.0


@dataclass(frozen=True)
class Setting:
    field: str                          # an Attributes field, or "present" / "age"
    value: float | str | bool
    weak: bool = False                  # a guess (할아버지 → senior): loses to anything said outright


@dataclass(frozen=True)
class Head:
    """A noun naming a part (눈, hair) or the person (남자, woman), with what it says by itself."""
    part: str
    settings: tuple[Setting, ...] = ()


@dataclass(frozen=True)
class Modifier:
    """An adjective, verb or colour word: what it does to each part it can describe."""
    effects: Mapping[str, tuple[Setting, ...]]
    default: str | None = None          # the part it describes when no compatible noun is near
    impression: str | None = None       # reported as an impression when it describes no part
    quiet: bool = False                 # describing nothing is fine (있다, wear, up): not "unknown"


@dataclass(frozen=True)
class Degree:
    intensity: float                    # replaces PLAIN: 0.35 slight … 1.0 very


@dataclass(frozen=True)
class Negator:
    scope: str                          # "next" (안, not), "prev" (않다, 아니다), "head" (no, without)


@dataclass(frozen=True)
class Impression:
    label: str


@dataclass(frozen=True)
class Comparative:
    sign: int                           # +1 more / 더, -1 less / 덜 (used by edits)


@dataclass(frozen=True)
class Filler:
    """Understood and meaningless here: particles, copulas, generic nouns (모양, style)."""
    link: bool = False                  # a modifier may reach its noun across it (둥근 모양의 얼굴)


@dataclass(frozen=True)
class Copula:
    """is / are / looks: an adjective after it describes the noun before it."""


Entry = Head | Modifier | Degree | Negator | Impression | Comparative | Filler | Copula

FILLER = Filler()
LINK = Filler(link=True)
COPULA = Copula()


@dataclass(frozen=True)
class Part:
    present: tuple[Setting, ...] = ()   # what a bare mention means when a modifier asks for it
    absent: tuple[Setting, ...] = ()    # what "no …" / 없는 means


def S(field_name: str, value: float | str | bool, weak: bool = False) -> Setting:
    return Setting(field_name, value, weak)


PRESENT = (S("present", True),)
ABSENT = (S("present", False),)

PARTS: Mapping[str, Part] = MappingProxyType({
    "person": Part(),
    "age": Part(),                      # 나이: "나이 든", "나이가 많은"
    "face": Part(),
    "jaw": Part(),
    "cheeks": Part(),
    "forehead": Part(),
    "hair": Part(absent=(S("hair_style", "bald"),)),
    "brows": Part(),
    "eyes": Part(),
    "eye_corners": Part(),
    "eye_spacing": Part(),
    "double_eyelid": Part(present=(S("double_eyelid", True),), absent=(S("double_eyelid", False),)),
    "nose": Part(),
    "mouth": Part(),
    "lips": Part(),
    "mouth_corners": Part(),
    "corners": Part(),                  # "corners" before we know whose (resolved to eye/mouth)
    "smile": Part(present=(S("smile", PLAIN),), absent=(S("smile", 0.0),)),
    "skin": Part(),
    "wrinkles": Part(present=(S("wrinkles", PLAIN),), absent=(S("wrinkles", 0.0),)),
    "beard": Part(present=(S("beard", "full"),), absent=(S("beard", "none"),)),
    "glasses": Part(present=(S("glasses", True),), absent=(S("glasses", False),)),
})
PRESENCE_PARTS = ("double_eyelid", "smile", "wrinkles", "beard", "glasses")


def head(part: str, *settings: Setting) -> Head:
    assert part in PARTS, part
    return Head(part, tuple(settings) or PARTS[part].present)


def mod(default: str | None = None, impression: str | None = None, quiet: bool = False,
        **effects: tuple[Setting, ...] | Setting) -> Modifier:
    for part in effects:
        assert part in PARTS, part
    normal = {part: (s,) if isinstance(s, Setting) else tuple(s) for part, s in effects.items()}
    return Modifier(MappingProxyType(normal), default, impression, quiet)


def _on(parts: tuple[str, ...], settings: tuple[Setting, ...]) -> dict[str, tuple[Setting, ...]]:
    return {part: settings for part in parts}


# ---- shared meanings ------------------------------------------------------------------------
# Sizes
BIG = mod(eyes=S("eye_size", PLAIN), nose=S("nose_size", PLAIN), mouth=S("mouth_width", PLAIN),
          lips=S("lip_fullness", PLAIN), smile=S("smile", VERY), glasses=(), face=())
HUGE = mod(eyes=S("eye_size", VERY), nose=S("nose_size", VERY), mouth=S("mouth_width", VERY),
           lips=S("lip_fullness", VERY), smile=S("smile", VERY), glasses=())
SMALL = mod(eyes=S("eye_size", -PLAIN), nose=S("nose_size", -PLAIN), mouth=S("mouth_width", -PLAIN),
            lips=S("lip_fullness", -PLAIN), jaw=S("jaw_width", -PLAIN), glasses=(), face=())
TINY = mod(eyes=S("eye_size", -VERY), nose=S("nose_size", -VERY), mouth=S("mouth_width", -VERY),
           lips=S("lip_fullness", -VERY))
# a length word only guesses the style: 긴 웨이브 머리 stays wavy
LONG = mod(hair=(S("hair_style", "long", weak=True), S("hair_length", PLAIN)), face=S("face_shape", "long"),
           nose=S("nose_length", PLAIN), beard=())
SHORT = mod(hair=(S("hair_style", "short", weak=True), S("hair_length", -PLAIN)), nose=S("nose_length", -PLAIN),
            beard=())
HAIR_MEDIUM_LENGTH = mod(default="hair", hair=S("hair_length", SLIGHT))   # shoulder-length
HAIR_VERY_LONG = mod(default="hair", hair=(S("hair_style", "long"), S("hair_length", VERY)))
WIDE = mod(mouth=S("mouth_width", PLAIN), eye_spacing=S("eye_spacing", PLAIN), jaw=S("jaw_width", PLAIN),
           face=S("jaw_width", PLAIN), nose=S("nose_size", PLAIN), eyes=S("eye_size", PLAIN), forehead=())
NARROW = mod(mouth=S("mouth_width", -PLAIN), eye_spacing=S("eye_spacing", -PLAIN), jaw=S("jaw_width", -PLAIN),
             face=S("jaw_width", -PLAIN), nose=S("nose_size", -PLAIN), eyes=S("eye_size", -PLAIN), forehead=())
WIDE_SET = mod(eyes=S("eye_spacing", PLAIN), eye_spacing=S("eye_spacing", PLAIN))
CLOSE_SET = mod(eyes=S("eye_spacing", -PLAIN), eye_spacing=S("eye_spacing", -PLAIN))
NARROW_EYES = mod(eyes=S("eye_size", -PLAIN), brows=S("brow_thickness", -PLAIN), lips=S("lip_fullness", -PLAIN))

# Tilt of the outer eye corners and of the mouth corners
UP = mod(quiet=True, **_on(("eyes", "eye_corners"), (S("eye_tilt", PLAIN),)),
         **_on(("mouth", "lips", "mouth_corners"), (S("mouth_corners", PLAIN),)),
         nose=S("nose_length", -SLIGHT), brows=())
DOWN = mod(quiet=True, **_on(("eyes", "eye_corners"), (S("eye_tilt", -PLAIN),)),
           **_on(("mouth", "lips", "mouth_corners"), (S("mouth_corners", -PLAIN),)), brows=())
DROOPY = mod(default="eyes", **_on(("eyes", "eye_corners"), (S("eye_tilt", -PLAIN),)),
             **_on(("mouth", "lips", "mouth_corners"), (S("mouth_corners", -PLAIN),)))

# Nose
HIGH_NOSE = mod(nose=S("nose_length", PLAIN), forehead=(), cheeks=())     # 오똑한 / high-bridged: a longer, defined nose
FLAT_NOSE = mod(nose=S("nose_length", -PLAIN))
HOOKED_NOSE = mod(nose=S("nose_length", PLAIN))
BULBOUS_NOSE = mod(nose=S("nose_size", PLAIN))
BUTTON_NOSE = mod(nose=S("nose_size", -PLAIN))
POINTED = mod(nose=S("nose_length", SLIGHT), jaw=S("face_shape", "v"), face=S("face_shape", "v"))

# Lips, brows
FULL = mod(lips=S("lip_fullness", PLAIN), mouth=S("lip_fullness", PLAIN), cheeks=S("face_shape", "round"),
           face=S("face_shape", "round"), beard=(), brows=S("brow_thickness", PLAIN))
THICK = mod(brows=S("brow_thickness", PLAIN), lips=S("lip_fullness", PLAIN), beard=(), hair=())
THIN = mod(brows=S("brow_thickness", -PLAIN), lips=S("lip_fullness", -PLAIN), face=S("face_shape", "v"),
           nose=S("nose_size", -SLIGHT), hair=(), beard=())
LIGHT_BROWS = mod(brows=S("brow_thickness", -PLAIN))

# Face shape
OVAL = mod(face=S("face_shape", "oval"), default="face")
ROUND = mod(face=S("face_shape", "round"), cheeks=S("face_shape", "round"), jaw=S("face_shape", "round"),
            eyes=S("eye_size", SLIGHT, weak=True), glasses=())
SQUARE = mod(face=S("face_shape", "square"), jaw=S("face_shape", "square"), glasses=())
HEART = mod(face=S("face_shape", "heart"), default="face")
V_SHAPE = mod(face=S("face_shape", "v"), jaw=S("face_shape", "v"), default="face")
CHUBBY = mod(face=S("face_shape", "round"), cheeks=S("face_shape", "round"), jaw=S("face_shape", "round"),
             person=S("face_shape", "round"))

# Colours: each colour word means something for hair and/or skin
WHITE = mod(skin=S("skin_tone", "fair"), hair=S("hair_colour", "white"), beard=(), glasses=(), brows=())
BLACK = mod(skin=S("skin_tone", "dark"), hair=S("hair_colour", "black"), beard=(), eyes=(), glasses=(),
            brows=S("brow_thickness", PLAIN))
DARK = mod(skin=S("skin_tone", "dark"), hair=S("hair_colour", "black"), beard=(), eyes=(),
           brows=S("brow_thickness", PLAIN), impression=None)
FAIR = mod(skin=S("skin_tone", "fair"), hair=S("hair_colour", "blond"))
PALE = mod(skin=S("skin_tone", "fair"), hair=S("hair_colour", "blond"), brows=S("brow_thickness", -PLAIN))
BRIGHT = mod(skin=S("skin_tone", "fair"), hair=S("hair_colour", "blond"), impression=None)
MEDIUM_SKIN = mod(skin=S("skin_tone", "medium"))
TAN = mod(skin=S("skin_tone", "tan"), default="skin")
DARK_SKIN = mod(skin=S("skin_tone", "dark"), default="skin")
FAIR_SKIN = mod(skin=S("skin_tone", "fair"), default="skin")
BROWN = mod(hair=S("hair_colour", "brown"), skin=S("skin_tone", "dark"), eyes=(), beard=(), brows=())
BLOND = mod(hair=S("hair_colour", "blond"), default="hair", brows=())
RED = mod(hair=S("hair_colour", "red"), beard=(), lips=())
GREY = mod(hair=S("hair_colour", "grey"), default="hair", beard=(), brows=())
YELLOW = mod(hair=S("hair_colour", "blond"), skin=S("skin_tone", "medium"))

# Hair style adjectives
CURLY = mod(hair=S("hair_style", "curly"), default="hair")
WAVY = mod(hair=S("hair_style", "wavy"), default="hair")
STRAIGHT = mod(hair=(), nose=(), brows=(), quiet=True)
BALD = mod(hair=S("hair_style", "bald"), default="hair")
TIED_BACK = mod(hair=S("hair_style", "ponytail"))
CROPPED = mod(hair=(S("hair_style", "short"), S("hair_length", -PLAIN)), default="hair", beard=())

# Skin surface and wrinkles
WRINKLED = mod(default="wrinkles", wrinkles=PRESENT, face=S("wrinkles", PLAIN), skin=S("wrinkles", PLAIN))
SMOOTH = mod(skin=S("wrinkles", 0.0), face=S("wrinkles", 0.0), forehead=S("wrinkles", 0.0), hair=())
DEEP = mod(wrinkles=S("wrinkles", VERY), eyes=(), skin=S("skin_tone", "dark"))
FINE = mod(wrinkles=S("wrinkles", SLIGHT), hair=(), brows=S("brow_thickness", -PLAIN))
FEW = mod(wrinkles=S("wrinkles", SLIGHT), hair=(), beard=(), brows=S("brow_thickness", -PLAIN))
MANY = mod(wrinkles=S("wrinkles", VERY), beard=(), hair=(), brows=S("brow_thickness", PLAIN),
           age=(S("age_band", "senior"), S("age", 1)))

# Beard kinds and grooming
STUBBLY = mod(default="beard", beard=S("beard", "stubble"))
TIDY = mod(beard=S("beard_tidy", True), hair=(), brows=())
ROUGH = mod(beard=S("beard_tidy", False), hair=(), brows=S("brow_thickness", PLAIN))

# Presence and absence (있다 / 없다, wear / without, shave)
HAVE = mod(quiet=True, **_on(PRESENCE_PARTS, PRESENT))
LACK = mod(quiet=True, hair=ABSENT, **_on(PRESENCE_PARTS, ABSENT))
SHAVE = mod(default="beard", beard=ABSENT, hair=(S("hair_style", "buzz"),), face=(S("beard", "none"),))
BEARDED = mod(default="beard", beard=PRESENT)
BESPECTACLED = mod(default="glasses", glasses=PRESENT)

# Expression
SMILING = mod(default="smile", **_on(("smile", "face", "mouth", "person", "eyes", "lips"),
                                     (S("smile", PLAIN),)))
FROWNING = mod(default="smile", **_on(("smile", "face", "mouth", "person", "eyes", "brows"),
                                      (S("smile", -PLAIN),)))
EXPRESSIONLESS = mod(default="smile", **_on(("smile", "face", "person"), (S("smile", 0.0),)))

# Age adjectives (the "age" step is what an edit such as "older" uses)
YOUNG = mod(default="person", person=(S("age_band", "twenties"), S("age", -1)),
            age=(S("age_band", "twenties"), S("age", -1)), face=(S("age_band", "twenties"), S("age", -1)))
CHILDLIKE = mod(default="person", person=(S("age_band", "child"), S("age", -1)),
                age=(S("age_band", "child"), S("age", -1)))
OLD = mod(default="person", person=(S("age_band", "senior"), S("age", 1)),
          age=(S("age_band", "senior"), S("age", 1)), face=(S("age_band", "senior"), S("age", 1)))
MIDDLE_AGED = mod(default="person", person=S("age_band", "middle"))
AGE_UP = mod(quiet=True, age=(S("age_band", "senior"), S("age", 1)))    # 나이 (가) 들다

AGE_BANDS = (("child", 0, 12), ("teen", 13, 19), ("twenties", 20, 29), ("thirties", 30, 39),
             ("middle", 40, 59), ("senior", 60, 200))


def age_band_of(years: int) -> str | None:
    for band, low, high in AGE_BANDS:
        if low <= years <= high:
            return band
    return None


def person(gender: str | None = None, age: str | None = None, *, weak_gender: bool = False,
           weak_age: bool = True) -> Head:
    settings: list[Setting] = []
    if gender:
        settings.append(S("gender", gender, weak_gender))
    if age:
        settings.append(S("age_band", age, weak_age and gender is not None))
    return Head("person", tuple(settings))


def age_head(years: int) -> Head | None:
    band = age_band_of(years)
    return Head("person", (S("age_band", band),)) if band else None


@dataclass
class Table:
    """One language's words: lemma → entry, plus multi-word phrases (lemma tuples)."""
    words: dict[str, Entry] = field(default_factory=dict)
    phrases: dict[tuple[str, ...], Entry] = field(default_factory=dict)

    def add(self, entry: Entry, *lemmas: str) -> None:
        for lemma in lemmas:
            if " " in lemma:
                self.phrases[tuple(lemma.split())] = entry
            else:
                self.words[lemma] = entry

    def impressions(self, *labels: str) -> None:
        for label in labels:
            lemma, _, shown = label.partition("=")
            self.add(Impression(shown or lemma), lemma)
