"""The attribute vocabulary shared by description parsing (text → Attributes) and backends
(Attributes → FaceCode). Every field is optional: None means "not said, sample it".

Degrees are floats in [-1, 1]: negative means less / smaller / down, positive more / bigger /
up; words like 살짝 / slightly give about ±0.35, plain ±0.7, 아주 / very ±1.0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Gender = Literal["male", "female"]
AgeBand = Literal["child", "teen", "twenties", "thirties", "middle", "senior"]
HairStyle = Literal["bowl", "bob", "long", "short", "buzz", "bald", "curly", "wavy", "ponytail", "bun",
                    "side_part", "bangs"]
HairColour = Literal["black", "brown", "blond", "red", "grey", "white"]
SkinTone = Literal["fair", "medium", "tan", "dark"]
Beard = Literal["none", "stubble", "moustache", "goatee", "full"]
FaceShape = Literal["oval", "round", "square", "long", "heart", "v"]
EyeColour = Literal["dark", "brown", "hazel", "green", "blue", "grey"]
BrowShape = Literal["straight", "arched", "angled"]
Hairline = Literal["straight", "m_shaped", "receding", "widows_peak"]
# where a mole (beauty spot) or a scar sits; the renderer picks the side when none is said
MarkPlace = Literal["under_eye", "eye", "brow", "forehead", "cheek", "nose", "mouth", "chin"]

ENUMS: dict[str, tuple[str, ...]] = {
    "gender": Gender.__args__,
    "age_band": AgeBand.__args__,
    "hair_style": HairStyle.__args__,
    "hair_colour": HairColour.__args__,
    "skin_tone": SkinTone.__args__,
    "beard": Beard.__args__,
    "face_shape": FaceShape.__args__,
    "eye_colour": EyeColour.__args__,
    "brow_shape": BrowShape.__args__,
    "hairline": Hairline.__args__,
    "beard_colour": HairColour.__args__,
}
DEGREES = ("eye_size", "eye_tilt", "eye_spacing", "nose_size", "nose_length", "mouth_width",
           "lip_fullness", "mouth_corners", "smile", "brow_thickness", "jaw_width", "wrinkles",
           "forehead_height", "forehead_width", "cheekbones", "cheek_fullness", "eye_depth", "nose_bridge",
           "ear_size", "freckles")
FLAGS = ("double_eyelid", "glasses", "beard_tidy", "dimples")
# marks with places: a tuple of MarkPlace values; () says "none" ("no moles")
MARKS = ("moles", "scars")
MARK_PLACES: tuple[str, ...] = MarkPlace.__args__


@dataclass
class Attributes:
    gender: Gender | None = None
    age_band: AgeBand | None = None
    face_shape: FaceShape | None = None
    jaw_width: float | None = None          # -1 narrow … +1 wide
    hair_style: HairStyle | None = None
    hair_length: float | None = None        # -1 very short … +1 very long
    hair_colour: HairColour | None = None
    brow_thickness: float | None = None
    eye_size: float | None = None
    eye_spacing: float | None = None        # -1 close-set … +1 wide-set
    eye_tilt: float | None = None           # outer corners (눈꼬리): -1 down … +1 up
    double_eyelid: bool | None = None       # 쌍꺼풀
    nose_size: float | None = None
    nose_length: float | None = None
    mouth_width: float | None = None
    lip_fullness: float | None = None
    mouth_corners: float | None = None      # 입꼬리: -1 down … +1 up
    smile: float | None = None
    skin_tone: SkinTone | None = None
    wrinkles: float | None = None           # 0 none … 1 deep; negation gives 0
    beard: Beard | None = None
    beard_tidy: bool | None = None
    glasses: bool | None = None
    # issue #14's vocabulary: what composite systems ask witnesses about
    forehead_height: float | None = None    # 이마: -1 low … +1 high (넓은 이마 in Korean is mostly this)
    forehead_width: float | None = None     # -1 narrow … +1 broad
    cheekbones: float | None = None         # 광대: -1 flat … +1 prominent
    cheek_fullness: float | None = None     # 볼살: -1 hollow … +1 full
    eye_depth: float | None = None          # -1 protruding … +1 deep-set (움푹한 눈)
    eye_colour: EyeColour | None = None
    brow_shape: BrowShape | None = None     # 일자 눈썹 straight, arched, angled
    nose_bridge: float | None = None        # 콧대: -1 low/flat … +1 high (오똑한 코)
    beard_colour: HairColour | None = None  # facial hair apart from the hair (흰 수염)
    ear_size: float | None = None
    hairline: Hairline | None = None        # M자 이마 m_shaped, receding
    freckles: float | None = None           # 주근깨: 0 none … 1 many; negation gives 0
    dimples: bool | None = None             # 보조개
    moles: tuple[MarkPlace, ...] | None = None   # 점 / beauty spots, by place; () none
    scars: tuple[MarkPlace, ...] | None = None   # 흉터, by place; () none

    def specified(self) -> dict[str, Any]:
        """Only the fields that were said, for JSON output and comparisons in tests."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Description:
    """The result of parsing one description."""
    attributes: Attributes = field(default_factory=Attributes)
    impressions: list[str] = field(default_factory=list)   # 선한, 성실, kind, trustworthy …
    unknown: list[str] = field(default_factory=list)       # content words nobody understood

    def to_json(self) -> dict[str, Any]:
        return {"attributes": self.attributes.specified(), "impressions": self.impressions,
                "unknown": self.unknown}


@dataclass(frozen=True)
class Edit:
    """A relative change to an existing face: `field` from Attributes plus a signed amount
    (for degrees) or a value (for enums and flags). "more smile" → Edit("smile", amount=+0.5);
    "add glasses" → Edit("glasses", value=True); "older" → Edit("age", amount=+1)."""
    field: str
    amount: float = 0.0
    value: Any = None
