"""The montage parameter table: every drawable trait at a fixed (row, channel) of W+.

Rows run coarse → fine, like StyleGAN's layers, so layer crossover means the same thing here:
row 0 face shape and jaw; 1 forehead, hairline and hair style; 2 eye and nose geometry;
3 mouth geometry; 4 brows and ears; 5 colours; 6 age lines, shading depth and skin marks;
7 facial hair, glasses and scars. Each w entry is ~N(0, 1) and decodes through the normal CDF
onto its parameter's range (categoricals by quantile, with prior shares), so lerping w morphs
smoothly and the zero latent is the average face. Each parameter belongs to a region and is
read from that region's donor, `code.part(region)`.

Dormant parameters (issue #14's marks and features) came after faces were stored: a stored
face holds a random N(0, 1) value in their slots. So they read their neutral value (none,
or the middle) wherever |w| ≤ DORMANT_EDGE, a height no random latent reaches, and only
values beyond it move them: random faces never show them, old faces draw as they did, and
what a description asks for is encoded out there.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields
from statistics import NormalDist

import numpy as np

from facegen.facecode import FaceCode

NUM_WS = 8
W_DIM = 16
_NORMAL = NormalDist()
# Encoding clips shares to this margin so a value at its range's end has a finite w.
_EDGE = 1e-4
# Dormant parameters: neutral for |w| ≤ DORMANT_EDGE (N(0, 1) passes 5 once in 3.5 million
# draws); a continuous one reaches the end of its range DORMANT_SPAN further out, a categorical
# one gives each further choice a band DORMANT_BAND wide.
DORMANT_EDGE = 5.0
DORMANT_SPAN = 5.0
DORMANT_BAND = 2.0

HAIR_STYLES = ("bowl", "bob", "long", "short", "buzz", "bald", "curly", "wavy", "ponytail", "bun",
               "side_part", "bangs")
HAIRLINES = ("straight", "round", "widows_peak", "m_shaped")
BEARDS = ("none", "stubble", "moustache", "goatee", "full")
GLASSES_SHAPES = ("round", "rect", "oval")
GLASSES_COLOURS = ("black", "brown", "metal")
# The words below are facegen.attributes' vocabulary, written out again on purpose: stored faces
# encode a choice by its place in these tuples, so new words go at the end (tests check both agree).
# Colours said apart from the sampled ones (None: the iris colour ramp, the hair's colour).
EYE_COLOURS = (None, "dark", "brown", "hazel", "green", "blue", "grey")
BEARD_COLOURS = (None, "black", "brown", "blond", "red", "grey", "white")
# Where moles and scars can sit (MarkPlace), one parameter each: a mark on the image's left or
# right side, or None.
MARK_PLACES = ("under_eye", "eye", "brow", "forehead", "cheek", "nose", "mouth", "chin")
SIDES = (None, "left", "right")


@dataclass(frozen=True)
class ParamSpec:
    name: str
    row: int
    channel: int
    region: str
    low: float = 0.0                  # range of a continuous parameter, natural units
    high: float = 1.0
    choices: tuple = ()               # values of a categorical parameter …
    shares: tuple[float, ...] = ()    # … and the prior share of each
    doc: str = ""
    dormant: bool = False             # neutral unless |w| > DORMANT_EDGE (see the module doc)

    @property
    def categorical(self) -> bool:
        return bool(self.choices)

    @property
    def neutral(self):
        """What a dormant parameter reads on random and old faces: its first choice, or 0 (none,
        or the middle of a -1 … +1 range)."""
        return self.choices[0] if self.categorical else min(max(0.0, self.low), self.high)

    def decode(self, w: float):
        if self.dormant:
            return self._decode_dormant(float(w))
        u = _NORMAL.cdf(float(w))
        if not self.categorical:
            return self.low + (self.high - self.low) * u
        edges = np.cumsum(self.shares)
        return self.choices[min(int(np.searchsorted(edges, u, side="right")), len(self.choices) - 1)]

    def encode(self, value) -> float:
        if self.dormant:
            return self._encode_dormant(value)
        if self.categorical:
            index = self.choices.index(value)  # ValueError names an unknown choice
            edges = np.concatenate([[0.0], np.cumsum(self.shares)])
            u = (edges[index] + edges[index + 1]) / 2
        else:
            u = (float(value) - self.low) / (self.high - self.low)
        return _NORMAL.inv_cdf(min(max(u, _EDGE), 1.0 - _EDGE))

    def _decode_dormant(self, w: float):
        beyond = abs(w) - DORMANT_EDGE
        if self.categorical:
            if w <= DORMANT_EDGE:
                return self.choices[0]
            return self.choices[min(len(self.choices) - 1, max(1, math.ceil(beyond / DORMANT_BAND)))]
        share = min(max(beyond / DORMANT_SPAN, 0.0), 1.0)
        end = self.high if w > 0 else self.low
        return self.neutral + (end - self.neutral) * share

    def _encode_dormant(self, value) -> float:
        if self.categorical:
            index = self.choices.index(value)  # ValueError names an unknown choice
            return 0.0 if index == 0 else DORMANT_EDGE + DORMANT_BAND * (index - 0.5)
        value = self.clamp(value)
        if value == self.neutral:
            return 0.0
        end = self.high if value > self.neutral else self.low
        share = (value - self.neutral) / (end - self.neutral)
        return math.copysign(DORMANT_EDGE + DORMANT_SPAN * share, value - self.neutral)

    def clamp(self, value: float) -> float:
        return min(max(float(value), self.low), self.high)


def _bool(name: str, row: int, channel: int, region: str, share_true: float, doc: str) -> ParamSpec:
    return ParamSpec(name, row, channel, region, choices=(False, True),
                     shares=(1.0 - share_true, share_true), doc=doc)


def _dormant(name: str, row: int, channel: int, region: str, low: float = 0.0, high: float = 1.0,
             choices: tuple = (), doc: str = "") -> ParamSpec:
    return ParamSpec(name, row, channel, region, low, high, choices=choices, doc=doc, dormant=True)


def _marks(kind: str, row: int, channels: tuple[int, ...]) -> tuple[ParamSpec, ...]:
    """One parameter per place: which side's mark of this kind sits there."""
    return tuple(_dormant(f"{kind}_{place}", row, channel, "lines", choices=SIDES, doc=f"a {kind} at the {place}")
                 for place, channel in zip(MARK_PLACES, channels, strict=True))


# Lengths are fractions of the canvas side unless the doc says "/ face width". The eye line
# sits at a fixed height (see render.EYE_LINE); many lengths are measured from it.
PARAMS: tuple[ParamSpec, ...] = (
    # row 0: face shape and jaw
    ParamSpec("face_width", 0, 0, "face", 0.41, 0.52, doc="cheekbone width"),
    ParamSpec("forehead_width", 0, 1, "face", 0.86, 0.98, doc="temple width / face width"),
    ParamSpec("cheekbones", 0, 2, "face", 0.0, 1.0, doc="cheekbone prominence"),
    ParamSpec("neck_width", 0, 3, "face", 0.40, 0.54, doc="/ face width"),
    ParamSpec("face_length", 0, 8, "jaw", 0.29, 0.385, doc="eye line to chin"),
    ParamSpec("jaw_width", 0, 9, "jaw", 0.64, 0.88, doc="width at the jaw angle / face width"),
    ParamSpec("chin_width", 0, 10, "jaw", 0.20, 0.42, doc="/ face width"),
    ParamSpec("jaw_angle", 0, 11, "jaw", 0.0, 1.0, doc="0 round … 1 square jaw angle"),
    _dormant("cheek_fullness", 0, 12, "jaw", -1.0, 1.0, doc="볼살: -1 hollow … +1 full, below the cheekbones"),
    # row 1: forehead, hairline, hair style
    ParamSpec("hair_style", 1, 0, "hair", choices=HAIR_STYLES,
              shares=(0.06, 0.1, 0.14, 0.16, 0.06, 0.04, 0.07, 0.07, 0.06, 0.05, 0.12, 0.07)),
    ParamSpec("hair_length", 1, 1, "hair", 0.0, 1.0, doc="0 shortest … 1 longest for the style"),
    ParamSpec("hair_volume", 1, 2, "hair", 0.0, 1.0),
    ParamSpec("fringe_length", 1, 3, "hair", 0.0, 1.0, doc="how far a fringe comes down"),
    ParamSpec("hair_part", 1, 8, "hair", -1.0, 1.0, doc="parting: -1 image left … +1 image right"),
    ParamSpec("hairline_height", 1, 9, "forehead", 0.20, 0.27, doc="hairline centre height (y)"),
    ParamSpec("hairline_shape", 1, 10, "forehead", choices=HAIRLINES, shares=(0.35, 0.3, 0.15, 0.2)),
    _dormant("hairline_recession", 1, 11, "forehead", doc="how far the hairline has receded past its height"),
    # row 2: eye and nose geometry
    ParamSpec("eye_size", 2, 0, "eyes", 0.17, 0.23, doc="eye width / face width"),
    ParamSpec("eye_openness", 2, 1, "eyes", 0.16, 0.40, doc="lid opening / eye width"),
    ParamSpec("eye_spacing", 2, 2, "eyes", 0.40, 0.50, doc="between eye centres / face width"),
    ParamSpec("eye_tilt", 2, 3, "eyes", -14.0, 10.0, doc="degrees, outer corners up (눈꼬리) > 0"),
    _bool("double_eyelid", 2, 8, "eyes", 0.5, "쌍꺼풀: a crease line above the lid"),
    ParamSpec("iris_size", 2, 9, "eyes", 0.38, 0.50, doc="iris diameter / eye width"),
    ParamSpec("eye_height", 2, 10, "eyes", -0.010, 0.010, doc="eyes below (+) or above the eye line"),
    ParamSpec("lashes", 2, 11, "eyes", 0.0, 1.0),
    _dormant("eye_depth", 2, 6, "eyes", -1.0, 1.0, doc="-1 protruding … +1 deep-set (shadow under the brow)"),
    ParamSpec("nose_length", 2, 4, "nose", 0.105, 0.145, doc="eye line to nose tip"),
    ParamSpec("nose_width", 2, 5, "nose", 0.20, 0.38, doc="across the nostril wings / face width"),
    ParamSpec("nose_bridge", 2, 12, "nose", 0.0, 1.0, doc="bridge width and definition"),
    ParamSpec("nose_tip", 2, 13, "nose", 0.0, 1.0, doc="tip size"),
    # row 3: mouth geometry
    ParamSpec("mouth_width", 3, 0, "mouth", 0.32, 0.50, doc="/ face width"),
    ParamSpec("upper_lip", 3, 1, "mouth", 0.008, 0.019),
    ParamSpec("lower_lip", 3, 2, "mouth", 0.010, 0.025),
    ParamSpec("mouth_drop", 3, 3, "mouth", 0.19, 0.225, doc="eye line to where the lips meet"),
    ParamSpec("mouth_corners", 3, 8, "mouth", -1.0, 1.0, doc="입꼬리: -1 down … +1 up"),
    ParamSpec("smile", 3, 9, "mouth", -1.0, 1.0, doc="above 0 the lips part and show teeth"),
    ParamSpec("cupid_bow", 3, 10, "mouth", 0.0, 1.0),
    _dormant("dimples", 3, 11, "mouth", choices=(False, True), doc="보조개 beside the mouth corners"),
    # row 4: brows and ears
    ParamSpec("brow_thickness", 4, 0, "brows", 0.007, 0.020),
    ParamSpec("brow_arch", 4, 1, "brows", 0.0, 1.0),
    ParamSpec("brow_tilt", 4, 2, "brows", -8.0, 12.0, doc="degrees, outer ends up > 0"),
    ParamSpec("brow_raise", 4, 3, "brows", 0.030, 0.052, doc="eye line to brow"),
    ParamSpec("brow_length", 4, 8, "brows", 0.20, 0.27, doc="/ face width"),
    _dormant("brow_angle", 4, 11, "brows", doc="0 a curved arch … 1 a sharp corner at the peak"),
    ParamSpec("ear_size", 4, 9, "ears", 0.095, 0.13, doc="ear height"),
    ParamSpec("ear_protrusion", 4, 10, "ears", 0.0, 1.0),
    # row 5: colours
    ParamSpec("skin_tone", 5, 0, "skin", 0.0, 1.0, doc="0 fair … 1 dark"),
    ParamSpec("skin_warmth", 5, 1, "skin", -1.0, 1.0, doc="-1 olive … +1 rosy"),
    ParamSpec("hair_darkness", 5, 3, "hair", 0.08, 1.0, doc="0 platinum … 1 black"),
    ParamSpec("hair_red", 5, 8, "hair", -2.0, 1.0, doc="red tint, none at or below 0"),
    ParamSpec("hair_grey", 5, 9, "hair", -3.0, 1.0, doc="greying, none at or below 0"),
    ParamSpec("iris_colour", 5, 10, "eyes", 0.0, 1.0, doc="0 dark brown … 1 light"),
    ParamSpec("lip_colour", 5, 11, "mouth", 0.0, 1.0, doc="0 pale … 1 red"),
    ParamSpec("clothes_hue", 5, 4, "clothes", 0.0, 1.0),
    ParamSpec("clothes_shade", 5, 12, "clothes", 0.0, 1.0, doc="0 dark … 1 light"),
    _dormant("eye_colour", 5, 13, "eyes", choices=EYE_COLOURS, doc="an iris colour said (None: iris_colour's)"),
    _dormant("beard_colour", 5, 14, "facial_hair", choices=BEARD_COLOURS, doc="facial hair colour (None: the hair's)"),
    # row 6: age lines and shading
    ParamSpec("wrinkles", 6, 0, "lines", -0.8, 1.0, doc="forehead, eye and smile lines; none at or below 0"),
    ParamSpec("eye_bags", 6, 1, "lines", -1.0, 1.0, doc="none at or below 0"),
    ParamSpec("shading", 6, 8, "skin", 0.75, 1.25, doc="depth of the modelling shadows"),
    _dormant("freckles", 6, 2, "lines", doc="주근깨 over the nose and cheeks: 0 none … 1 many"),
    *_marks("mole", 6, (3, 4, 5, 6, 7, 9, 10, 11)),
    # row 7: facial hair and glasses
    ParamSpec("beard", 7, 0, "facial_hair", choices=BEARDS, shares=(0.55, 0.15, 0.1, 0.08, 0.12)),
    _bool("beard_tidy", 7, 1, "facial_hair", 0.6, "trimmed edges rather than rough"),
    ParamSpec("beard_length", 7, 2, "facial_hair", 0.0, 1.0),
    _bool("glasses", 7, 8, "glasses", 0.25, "wears glasses"),
    ParamSpec("glasses_shape", 7, 9, "glasses", choices=GLASSES_SHAPES, shares=(0.35, 0.4, 0.25)),
    ParamSpec("glasses_size", 7, 10, "glasses", 0.0, 1.0),
    ParamSpec("glasses_colour", 7, 11, "glasses", choices=GLASSES_COLOURS, shares=(0.45, 0.25, 0.3)),
    *_marks("scar", 7, (3, 4, 5, 6, 7, 12, 13, 14)),
)
SPECS: dict[str, ParamSpec] = {spec.name: spec for spec in PARAMS}
REGION_PARAMS: dict[str, tuple[str, ...]] = {
    region: tuple(s.name for s in PARAMS if s.region == region) for region in dict.fromkeys(s.region for s in PARAMS)}


@dataclass(frozen=True)
class MontageParams:
    """One face in natural units (see PARAMS for each field's range and meaning)."""
    face_width: float
    forehead_width: float
    cheekbones: float
    neck_width: float
    face_length: float
    jaw_width: float
    chin_width: float
    jaw_angle: float
    cheek_fullness: float
    hair_style: str
    hair_length: float
    hair_volume: float
    fringe_length: float
    hair_part: float
    hairline_height: float
    hairline_shape: str
    hairline_recession: float
    eye_size: float
    eye_openness: float
    eye_spacing: float
    eye_tilt: float
    double_eyelid: bool
    iris_size: float
    eye_height: float
    lashes: float
    eye_depth: float
    nose_length: float
    nose_width: float
    nose_bridge: float
    nose_tip: float
    mouth_width: float
    upper_lip: float
    lower_lip: float
    mouth_drop: float
    mouth_corners: float
    smile: float
    cupid_bow: float
    dimples: bool
    brow_thickness: float
    brow_arch: float
    brow_tilt: float
    brow_raise: float
    brow_length: float
    brow_angle: float
    ear_size: float
    ear_protrusion: float
    skin_tone: float
    skin_warmth: float
    hair_darkness: float
    hair_red: float
    hair_grey: float
    iris_colour: float
    lip_colour: float
    clothes_hue: float
    clothes_shade: float
    eye_colour: str | None
    beard_colour: str | None
    wrinkles: float
    eye_bags: float
    shading: float
    freckles: float
    mole_under_eye: str | None
    mole_eye: str | None
    mole_brow: str | None
    mole_forehead: str | None
    mole_cheek: str | None
    mole_nose: str | None
    mole_mouth: str | None
    mole_chin: str | None
    beard: str
    beard_tidy: bool
    beard_length: float
    glasses: bool
    glasses_shape: str
    glasses_size: float
    glasses_colour: str
    scar_under_eye: str | None
    scar_eye: str | None
    scar_brow: str | None
    scar_forehead: str | None
    scar_cheek: str | None
    scar_nose: str | None
    scar_mouth: str | None
    scar_chin: str | None


def _check_table() -> None:
    names = [f.name for f in fields(MontageParams)]
    if sorted(names) != sorted(SPECS):
        raise AssertionError(f"MontageParams and PARAMS disagree: {set(names) ^ set(SPECS)}")
    slots = [(s.row, s.channel) for s in PARAMS]
    if len(set(slots)) != len(slots) or not all(0 <= r < NUM_WS and 0 <= c < W_DIM for r, c in slots):
        raise AssertionError("PARAMS slots must be unique and inside [NUM_WS, W_DIM]")


_check_table()


def decode(code: FaceCode) -> MontageParams:
    """Each region's parameters read from that region's donor latent."""
    if code.shape != (NUM_WS, W_DIM):
        raise ValueError(f"montage faces have latents of shape {(NUM_WS, W_DIM)}, got {code.shape}")
    return MontageParams(**{s.name: s.decode(code.part(s.region)[s.row, s.channel]) for s in PARAMS})


def encode(params: MontageParams, base: FaceCode | None = None) -> FaceCode:
    """The inverse of decode: a FaceCode whose every region shows `params`.

    Slots that hold no parameter keep `base`'s values (zeros without a base); part donors are
    dropped, since the result carries every region's parameters in its base.
    """
    latent = np.zeros((NUM_WS, W_DIM), np.float32) if base is None else np.array(base.base, np.float32)
    for spec in PARAMS:
        latent[spec.row, spec.channel] = spec.encode(getattr(params, spec.name))
    return FaceCode(latent)


def said_params(code: FaceCode) -> list[str]:
    """The dormant parameters this face shows (past DORMANT_EDGE in the latent they are read
    from): only a description or an edit puts them there."""
    return [s.name for s in PARAMS if s.dormant and abs(float(code.part(s.region)[s.row, s.channel])) > DORMANT_EDGE]


def keep_params(code: FaceCode, changed: FaceCode, names: Iterable[str]) -> FaceCode:
    """`changed` with the named parameters' slots as `code` holds them, in the base and in every
    part donor (the two faces have the same donors, as a remix of `code` has)."""
    specs = [SPECS[name] for name in names]
    rows, channels = [s.row for s in specs], [s.channel for s in specs]

    def kept(original: np.ndarray, latent: np.ndarray) -> np.ndarray:
        out = np.array(latent, np.float32)
        out[rows, channels] = original[rows, channels]
        return out

    return FaceCode(kept(code.base, changed.base), {r: kept(code.part(r), w) for r, w in changed.parts.items()})


def position(spec: ParamSpec, value: float) -> float:
    """Where a continuous value sits in its range, as a degree in [-1, 1]."""
    return 2.0 * (float(value) - spec.low) / (spec.high - spec.low) - 1.0


def from_position(spec: ParamSpec, degree: float) -> float:
    """The value at degree d ∈ [-1, 1] of a continuous parameter's range (d clamped)."""
    d = min(max(float(degree), -1.0), 1.0)
    return spec.low + (spec.high - spec.low) * (d + 1.0) / 2.0


def positive(value: float) -> float:
    """For parameters that mean "none" at or below zero."""
    return max(0.0, float(value)) if math.isfinite(value) else 0.0


def with_params(code: FaceCode, changes: dict[str, object]) -> FaceCode:
    """The face with some parameters set, each written where its region reads it (the region's
    donor if it has one, else the base); every other slot stays bit-for-bit the same."""
    base = np.array(code.base, np.float32)
    parts = {region: np.array(latent, np.float32) for region, latent in code.parts.items()}
    for name, value in changes.items():
        try:
            spec = SPECS[name]
        except KeyError:
            raise ValueError(f"unknown montage parameter {name!r}") from None
        target = parts.get(spec.region, base)
        target[spec.row, spec.channel] = spec.encode(value)
    return FaceCode(base, parts)
