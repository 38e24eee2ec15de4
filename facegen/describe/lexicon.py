"""What words mean, independent of language: entry types, the parts of a face a word can
attach to, and the shared meanings (BIG, UP, TIDY, …) that the Korean and English tables
point their words at. A meaning is defined once here, so 큰 and big cannot drift apart.

Values follow facegen/attributes.py: degrees are written at plain strength (±0.7); a degree
word (살짝 / slightly 0.35, 아주 / very 1.0) rescales them. `present` is a pseudo-field:
True re-applies what the part's noun means (수염 → full beard), False applies its absence.
`age` is a pseudo-field too: ±1 band, used by edits ("older"); descriptions use age_band.
A mark (moles, scars) is set to HERE: the places said next to it (눈 밑에 점 → ("under_eye",)).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

PLAIN = 0.7     # strength of an adjective with no degree word
SLIGHT = 0.35
VERY = 1.0
HERE = "here"   # a mark's value until the resolver knows where it sits


@dataclass(frozen=True)
class Setting:
    field: str                          # an Attributes field, or "present" / "age"
    value: float | str | bool | tuple[str, ...]
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
    reported: bool = False              # the impression is reported even when it sets features (날카로운)


@dataclass(frozen=True)
class Degree:
    intensity: float                    # replaces PLAIN: 0.35 slight … 1.0 very


@dataclass(frozen=True)
class Negator:
    scope: str                          # "next" (안, not), "prev" (않다, 아니다), "head" (no, without),
                                        # "prev_head" (glasses off: the noun before it)


@dataclass(frozen=True)
class Position:
    """밑 / under, 옆 / by, on: ties the part next to it to a mark (a mole under the eye).
    A position is never a direction: 눈 밑에 점 is no droopy eye."""
    below: bool = False


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


Entry = Head | Modifier | Degree | Negator | Position | Impression | Comparative | Filler | Copula

FILLER = Filler()
LINK = Filler(link=True)
COPULA = Copula()


@dataclass(frozen=True)
class Part:
    present: tuple[Setting, ...] = ()   # what 있다 / have means for it (a bare mention too, for PRESENCE_PARTS)
    absent: tuple[Setting, ...] = ()    # what "no …" / 없는 means
    degree: str | None = None           # the field a bare "more / less" steps (광대 줄여줘, more freckles)
    place: str | None = None            # where a mark said on this part sits (MarkPlace)
    place_below: str | None = None      # … when said under it (눈 밑 → under_eye)
    mark: bool = False                  # a mark on the skin: takes the places said next to it, and a
                                        # word that sets nothing on it still describes it (큰 점, faint scar)
    placed: Mapping[str, tuple[Setting, ...]] = field(default_factory=dict)   # what it means said at a place


def S(field_name: str, value: float | str | bool | tuple[str, ...], weak: bool = False) -> Setting:
    return Setting(field_name, value, weak)


PRESENT = (S("present", True),)
ABSENT = (S("present", False),)


def _degree(name: str, **more) -> Part:
    """A part whose 있다 / 없다 mean more / less of one degree (광대가 있다, 볼살이 없다)."""
    return Part(present=(S(name, PLAIN),), absent=(S(name, -PLAIN),), degree=name, **more)


def _mark(name: str) -> Part:
    return Part(present=(S(name, HERE),), absent=(S(name, ()),), mark=True)


PARTS: Mapping[str, Part] = MappingProxyType({
    "person": Part(),
    "age": Part(),                      # 나이: "나이 든", "나이가 많은"
    "face": Part(),
    "jaw": Part(degree="jaw_width", place="chin"),
    "cheeks": _degree("cheek_fullness", place="cheek"),       # 볼, 볼살
    "cheekbones": _degree("cheekbones", place="cheek"),       # 광대
    "forehead": Part(degree="forehead_height", place="forehead"),
    "hairline": Part(),
    "ears": Part(degree="ear_size"),
    "hair": Part(absent=(S("hair_style", "bald"),), degree="hair_length"),
    "brows": Part(degree="brow_thickness", place="brow"),
    "eyes": Part(degree="eye_size", place="eye", place_below="under_eye"),
    "eye_corners": Part(place="eye", place_below="under_eye"),
    "eye_spacing": Part(degree="eye_spacing", place="brow"),
    "double_eyelid": Part(present=(S("double_eyelid", True),), absent=(S("double_eyelid", False),)),
    "nose": Part(degree="nose_size", place="nose", place_below="mouth"),
    "mouth": Part(degree="mouth_width", place="mouth"),
    "lips": Part(degree="lip_fullness", place="mouth"),
    "mouth_corners": Part(degree="mouth_corners", place="mouth"),
    "corners": Part(),                  # "corners" before we know whose (resolved to eye/mouth)
    "smile": Part(present=(S("smile", PLAIN),), absent=(S("smile", 0.0),), degree="smile"),
    "skin": Part(),
    "wrinkles": Part(present=(S("wrinkles", PLAIN),), absent=(S("wrinkles", 0.0),), degree="wrinkles", mark=True),
    "freckles": Part(present=(S("freckles", PLAIN),), absent=(S("freckles", 0.0),), degree="freckles", mark=True),
    "dimples": Part(present=(S("dimples", True),), absent=(S("dimples", False),), mark=True),
    "moles": _mark("moles"),
    "scars": _mark("scars"),
    # 코 밑에 수염: a beard said under the nose is a moustache
    "beard": Part(present=(S("beard", "full"),), absent=(S("beard", "none"),),
                  placed={"mouth": (S("beard", "moustache"),)}),
    "glasses": Part(present=(S("glasses", True),), absent=(S("glasses", False),)),
})
# parts whose bare mention says they are there (수염 → a beard, 점 → a mole)
PRESENCE_PARTS = ("double_eyelid", "smile", "wrinkles", "beard", "glasses", "freckles", "dimples", "moles", "scars")
# parts 있다 / 없다 can describe: the present ones, and degrees that have a "none" (광대 없는 얼굴)
HAVING_PARTS = PRESENCE_PARTS + ("cheeks", "cheekbones")
# parts a mark can sit on
PLACE_PARTS = tuple(name for name, part in PARTS.items() if part.place)


def head(part: str, *settings: Setting) -> Head:
    assert part in PARTS, part
    return Head(part, tuple(settings) or (PARTS[part].present if part in PRESENCE_PARTS else ()))


def mod(default: str | None = None, impression: str | None = None, quiet: bool = False, reported: bool = False,
        **effects: tuple[Setting, ...] | Setting) -> Modifier:
    for part in effects:
        assert part in PARTS, part
    normal = {part: (s,) if isinstance(s, Setting) else tuple(s) for part, s in effects.items()}
    return Modifier(MappingProxyType(normal), default, impression, quiet, reported)


def vary(base: Modifier, **effects: tuple[Setting, ...] | Setting) -> Modifier:
    """`base` with some parts meaning something else (넓은 이마 is a high forehead in Korean)."""
    changed = mod(**effects)
    return Modifier(MappingProxyType({**base.effects, **changed.effects}), base.default, base.impression,
                    base.quiet, base.reported)


def _on(parts: tuple[str, ...], settings: tuple[Setting, ...]) -> dict[str, tuple[Setting, ...]]:
    return {part: settings for part in parts}


# ---- shared meanings ------------------------------------------------------------------------
# Sizes
BIG = mod(eyes=S("eye_size", PLAIN), nose=S("nose_size", PLAIN), mouth=S("mouth_width", PLAIN),
          lips=S("lip_fullness", PLAIN), smile=S("smile", VERY), ears=S("ear_size", PLAIN),
          forehead=S("forehead_height", PLAIN), cheekbones=S("cheekbones", PLAIN), beard=S("beard", "full"),
          glasses=(), face=())
HUGE = mod(eyes=S("eye_size", VERY), nose=S("nose_size", VERY), mouth=S("mouth_width", VERY),
           lips=S("lip_fullness", VERY), smile=S("smile", VERY), ears=S("ear_size", VERY),
           forehead=S("forehead_height", VERY), glasses=())
SMALL = mod(eyes=S("eye_size", -PLAIN), nose=S("nose_size", -PLAIN), mouth=S("mouth_width", -PLAIN),
            lips=S("lip_fullness", -PLAIN), jaw=S("jaw_width", -PLAIN), ears=S("ear_size", -PLAIN),
            forehead=S("forehead_height", -PLAIN), cheekbones=S("cheekbones", -PLAIN), glasses=(), face=())
TINY = mod(eyes=S("eye_size", -VERY), nose=S("nose_size", -VERY), mouth=S("mouth_width", -VERY),
           lips=S("lip_fullness", -VERY), ears=S("ear_size", -VERY))
# a length word only guesses the style: 긴 웨이브 머리 stays wavy
LONG = mod(hair=(S("hair_style", "long", weak=True), S("hair_length", PLAIN)), face=S("face_shape", "long"),
           nose=S("nose_length", PLAIN), beard=())
SHORT = mod(hair=(S("hair_style", "short", weak=True), S("hair_length", -PLAIN)), nose=S("nose_length", -PLAIN),
            beard=())
HAIR_MEDIUM_LENGTH = mod(default="hair", hair=S("hair_length", SLIGHT))   # shoulder-length
HAIR_VERY_LONG = mod(default="hair", hair=(S("hair_style", "long"), S("hair_length", VERY)))
WIDE = mod(mouth=S("mouth_width", PLAIN), eye_spacing=S("eye_spacing", PLAIN), jaw=S("jaw_width", PLAIN),
           face=S("jaw_width", PLAIN), nose=S("nose_size", PLAIN), eyes=S("eye_size", PLAIN),
           forehead=S("forehead_width", PLAIN), cheekbones=S("cheekbones", PLAIN))
NARROW = mod(mouth=S("mouth_width", -PLAIN), eye_spacing=S("eye_spacing", -PLAIN), jaw=S("jaw_width", -PLAIN),
             face=S("jaw_width", -PLAIN), nose=S("nose_size", -PLAIN), eyes=S("eye_size", -PLAIN),
             forehead=S("forehead_width", -PLAIN))
# 넓은 이마 / 좁은 이마 in Korean speak of the height between brows and hairline
WIDE_KO = vary(WIDE, forehead=S("forehead_height", PLAIN))
NARROW_KO = vary(NARROW, forehead=S("forehead_height", -PLAIN))
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
             **_on(("mouth", "lips", "mouth_corners"), (S("mouth_corners", -PLAIN),)),
             cheeks=S("cheek_fullness", PLAIN))   # sagging cheeks: jowls, not drooping eyes

# Heights and depths: nose bridge, forehead, cheekbones, eyes in their sockets
HIGH = mod(nose=S("nose_bridge", PLAIN), forehead=S("forehead_height", PLAIN), hairline=S("forehead_height", PLAIN),
           cheekbones=S("cheekbones", PLAIN), cheeks=S("cheekbones", PLAIN),
           eye_corners=S("eye_tilt", PLAIN), mouth_corners=S("mouth_corners", PLAIN))   # 오똑한 코, high cheekbones
HIGH_NOSE = mod(nose=S("nose_bridge", PLAIN))       # 콧날이 선: only a nose stands
LOW = mod(nose=S("nose_bridge", -PLAIN), forehead=S("forehead_height", -PLAIN), hairline=S("forehead_height", -PLAIN),
          cheekbones=S("cheekbones", -PLAIN))
FLAT = mod(nose=S("nose_bridge", -PLAIN), cheekbones=S("cheekbones", -PLAIN), brows=S("brow_shape", "straight"))
PROTRUDING = mod(cheekbones=S("cheekbones", PLAIN), cheeks=S("cheekbones", PLAIN), eyes=S("eye_depth", -PLAIN),
                 ears=S("ear_size", PLAIN), nose=S("nose_bridge", PLAIN))
DEEP = mod(wrinkles=S("wrinkles", VERY), eyes=S("eye_depth", PLAIN), cheeks=S("cheek_fullness", -PLAIN),
           dimples=PRESENT, skin=S("skin_tone", "dark"))
SUNKEN = mod(eyes=S("eye_depth", PLAIN), cheeks=S("cheek_fullness", -PLAIN), dimples=PRESENT, wrinkles=PRESENT)

# Nose
SNUB_NOSE = mod(nose=S("nose_length", -PLAIN))
HOOKED_NOSE = mod(nose=S("nose_length", PLAIN))
BULBOUS_NOSE = mod(nose=S("nose_size", PLAIN))
BUTTON_NOSE = mod(nose=S("nose_size", -PLAIN))
POINTED = mod(nose=S("nose_length", SLIGHT), jaw=S("face_shape", "v"), face=S("face_shape", "v"))

# Lips, brows, cheeks
FULL = mod(lips=S("lip_fullness", PLAIN), mouth=S("lip_fullness", PLAIN), cheeks=S("cheek_fullness", PLAIN),
           face=S("face_shape", "round"), beard=(), brows=S("brow_thickness", PLAIN))
THICK = mod(brows=S("brow_thickness", PLAIN), lips=S("lip_fullness", PLAIN), double_eyelid=PRESENT, beard=(),
            hair=())
THIN = mod(brows=S("brow_thickness", -PLAIN), lips=S("lip_fullness", -PLAIN), face=S("face_shape", "v"),
           nose=S("nose_size", -SLIGHT), cheeks=S("cheek_fullness", -PLAIN), hair=(), beard=(),
           person=S("cheek_fullness", -PLAIN), default="person")   # 마른 남자, a thin woman, "thinner": the cheeks show it
LIGHT_BROWS = mod(brows=S("brow_thickness", -PLAIN))
ARCHED = mod(brows=S("brow_shape", "arched"), default="brows")
ANGLED = mod(brows=S("brow_shape", "angled"), default="brows")

# Face shape
OVAL = mod(face=S("face_shape", "oval"), default="face")
ROUND = mod(face=S("face_shape", "round"), cheeks=S("cheek_fullness", PLAIN), jaw=S("face_shape", "round"),
            eyes=S("eye_size", SLIGHT, weak=True), brows=S("brow_shape", "arched"), glasses=())
SQUARE = mod(face=S("face_shape", "square"), jaw=S("face_shape", "square"), brows=S("brow_shape", "angled"),
             glasses=())
HEART = mod(face=S("face_shape", "heart"), default="face")
V_SHAPE = mod(face=S("face_shape", "v"), jaw=S("face_shape", "v"), default="face")
CHUBBY = mod(face=S("face_shape", "round"), cheeks=S("cheek_fullness", PLAIN), jaw=S("face_shape", "round"),
             person=S("face_shape", "round"), default="person")

# Colours: each colour word means something for hair, skin, eyes and/or beard
WHITE = mod(skin=S("skin_tone", "fair"), person=S("skin_tone", "fair"), hair=S("hair_colour", "white"),
            beard=S("beard_colour", "white"), glasses=(), brows=())
BLACK = mod(skin=S("skin_tone", "dark"), person=S("skin_tone", "dark"), hair=S("hair_colour", "black"),
            beard=S("beard_colour", "black"), eyes=S("eye_colour", "dark"), glasses=(),
            brows=S("brow_thickness", PLAIN))
DARK = mod(skin=S("skin_tone", "dark"), hair=S("hair_colour", "black"), beard=S("beard_colour", "black"),
           eyes=S("eye_colour", "dark"), brows=S("brow_thickness", PLAIN), impression=None)
FAIR = mod(skin=S("skin_tone", "fair"), hair=S("hair_colour", "blond"), beard=S("beard_colour", "blond"))
PALE = mod(skin=S("skin_tone", "fair"), hair=S("hair_colour", "blond"), brows=S("brow_thickness", -PLAIN), eyes=())
PALE_PERSON = mod(default="skin", skin=S("skin_tone", "fair"), hair=S("hair_colour", "blond"),
                  brows=S("brow_thickness", -PLAIN), eyes=())   # "a pale guy": said of no part, it is the skin
BRIGHT = mod(skin=S("skin_tone", "fair"), hair=S("hair_colour", "blond"), impression=None)
MEDIUM_SKIN = mod(skin=S("skin_tone", "medium"))
TAN = mod(skin=S("skin_tone", "tan"), default="skin")
DARK_SKIN = mod(skin=S("skin_tone", "dark"), default="skin")
FAIR_SKIN = mod(skin=S("skin_tone", "fair"), default="skin")
BROWN = mod(hair=S("hair_colour", "brown"), skin=S("skin_tone", "dark"), eyes=S("eye_colour", "brown"),
            beard=S("beard_colour", "brown"), brows=())
HAZEL = mod(eyes=S("eye_colour", "hazel"), hair=S("hair_colour", "brown"))
BLUE = mod(eyes=S("eye_colour", "blue"))
GREEN = mod(eyes=S("eye_colour", "green"))
BLOND = mod(hair=S("hair_colour", "blond"), beard=S("beard_colour", "blond"), default="hair", brows=())
RED = mod(hair=S("hair_colour", "red"), beard=S("beard_colour", "red"), lips=())
GREY = mod(hair=S("hair_colour", "grey"), beard=S("beard_colour", "grey"), eyes=S("eye_colour", "grey"),
           default="hair", brows=())
YELLOW = mod(hair=S("hair_colour", "blond"), skin=S("skin_tone", "medium"), beard=S("beard_colour", "blond"))

# Hair style adjectives, hairline
CURLY = mod(hair=S("hair_style", "curly"), default="hair")
WAVY = mod(hair=S("hair_style", "wavy"), default="hair")
STRAIGHT = mod(hair=(), nose=(), brows=S("brow_shape", "straight"), hairline=S("hairline", "straight"), quiet=True)
BALD = mod(hair=S("hair_style", "bald"), forehead=S("hairline", "receding"), hairline=S("hairline", "receding"),
           cheeks=S("cheek_fullness", -PLAIN), default="hair")     # 머리가 벗겨진, 이마가 벗겨진, 볼살이 빠진
TIED_BACK = mod(hair=S("hair_style", "ponytail"))
CROPPED = mod(hair=(S("hair_style", "short"), S("hair_length", -PLAIN)), default="hair", beard=())
RECEDING = mod(default="hairline", **_on(("hairline", "hair", "forehead"), (S("hairline", "receding"),)))
M_SHAPED = mod(default="hairline", **_on(("hairline", "hair", "forehead"), (S("hairline", "m_shaped"),)))
WIDOWS_PEAK = mod(default="hairline", **_on(("hairline", "hair", "forehead"), (S("hairline", "widows_peak"),)))

# Skin surface, wrinkles and marks
WRINKLED = mod(default="wrinkles", wrinkles=PRESENT, face=S("wrinkles", PLAIN), skin=S("wrinkles", PLAIN))
SMOOTH = mod(skin=S("wrinkles", 0.0), face=S("wrinkles", 0.0), forehead=S("wrinkles", 0.0), hair=())
FINE = mod(wrinkles=S("wrinkles", SLIGHT), hair=(), brows=S("brow_thickness", -PLAIN))
FEW = mod(wrinkles=S("wrinkles", SLIGHT), freckles=S("freckles", SLIGHT), hair=(), beard=(),
          brows=S("brow_thickness", -PLAIN))
MANY = mod(wrinkles=S("wrinkles", VERY), freckles=S("freckles", VERY), cheeks=S("cheek_fullness", PLAIN),
           beard=(), hair=(), brows=S("brow_thickness", PLAIN), age=(S("age_band", "senior"), S("age", 1)))
FRECKLED = mod(default="freckles", freckles=PRESENT, **_on(PLACE_PARTS + ("face", "skin"), (S("freckles", PLAIN),)))
SCARRED = mod(default="scars", scars=PRESENT, **_on(PLACE_PARTS, (S("scars", HERE),)))
DIMPLED = mod(default="dimples", dimples=PRESENT, **_on(("cheeks", "jaw", "face", "smile"), (S("dimples", True),)))

# Beard kinds and grooming
STUBBLY = mod(default="beard", beard=S("beard", "stubble"))
TIDY = mod(beard=S("beard_tidy", True), hair=(), brows=())
ROUGH = mod(beard=S("beard_tidy", False), hair=(), brows=S("brow_thickness", PLAIN))

# Presence and absence (있다 / 없다, wear / without, shave)
HAVE = mod(quiet=True, **_on(HAVING_PARTS, PRESENT))
LACK = mod(quiet=True, hair=ABSENT, **_on(HAVING_PARTS, ABSENT))
SHAVE = mod(default="beard", beard=ABSENT, hair=(S("hair_style", "buzz"),), face=(S("beard", "none"),))
BESPECTACLED = mod(default="glasses", glasses=PRESENT)

# Expression
SMILING = mod(default="smile", **_on(("smile", "face", "mouth", "person", "eyes", "lips"),
                                     (S("smile", PLAIN),)))
FROWNING = mod(default="smile", **_on(("smile", "face", "mouth", "person", "eyes", "brows"),
                                      (S("smile", -PLAIN),)))
EXPRESSIONLESS = mod(default="smile", **_on(("smile", "face", "person"), (S("smile", 0.0),)))


# Impressions whose look is known: reported, and guessed onto the face (anything said outright wins)
def sharp_look(label: str) -> Modifier:
    """날카로운 / 매서운 / sharp, fierce: upturned, narrower eyes under stronger brows."""
    look = (S("eye_tilt", PLAIN, weak=True), S("eye_size", -PLAIN, weak=True), S("brow_thickness", PLAIN, weak=True))
    return mod(default="eyes", impression=label, reported=True,
               **_on(("eyes", "eye_corners", "brows", "face", "person"), look))


def serious_look(label: str) -> Modifier:
    """진지한 / serious, stern: no smile, level brows."""
    look = (S("smile", 0.0, weak=True), S("brow_shape", "straight", weak=True))
    return mod(default="face", impression=label, reported=True,
               **_on(("face", "person", "eyes", "brows", "mouth", "smile"), look))


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
