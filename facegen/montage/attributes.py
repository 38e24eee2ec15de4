"""Attributes → montage parameters, and attribute edits on an existing face.

Degrees in Attributes run over [-1, 1] and map linearly onto a parameter's range (0 is the
middle); `wrinkles` runs over [0, 1] with 0 meaning none. Gender and age band are not single
parameters: each nudges a group of them (hair, jaw, brows, lashes, lips, lines, greying).
"""

from __future__ import annotations

import numpy as np

from facegen.attributes import ENUMS, Attributes, Edit
from facegen.facecode import FaceCode
from facegen.montage.params import SPECS, MontageParams, decode, from_position, position, with_params

# degree attribute → the parameters it drives
DEGREE_PARAMS: dict[str, tuple[str, ...]] = {
    "eye_size": ("eye_size",),
    "eye_tilt": ("eye_tilt",),
    "eye_spacing": ("eye_spacing",),
    "nose_size": ("nose_width", "nose_tip"),
    "nose_length": ("nose_length",),
    "mouth_width": ("mouth_width",),
    "lip_fullness": ("upper_lip", "lower_lip"),
    "mouth_corners": ("mouth_corners",),
    "smile": ("smile",),
    "brow_thickness": ("brow_thickness",),
    "jaw_width": ("jaw_width",),
    "hair_length": ("hair_length",),
}
# wrinkles: 0 (none) … 1 (deep) onto the `wrinkles` parameter's natural scale
_WRINKLE_NONE, _WRINKLE_DEEP = -0.4, 1.0

SKIN_TONES = {"fair": 0.08, "medium": 0.42, "tan": 0.66, "dark": 0.9}
HAIR_COLOURS: dict[str, dict[str, float]] = {
    "black": {"hair_darkness": 0.97, "hair_red": -1.0, "hair_grey": -2.0},
    "brown": {"hair_darkness": 0.62, "hair_red": -1.0, "hair_grey": -2.0},
    "blond": {"hair_darkness": 0.14, "hair_red": -1.0, "hair_grey": -2.0},
    "red": {"hair_darkness": 0.45, "hair_red": 0.85, "hair_grey": -2.0},
    "grey": {"hair_grey": 0.6},
    "white": {"hair_grey": 0.97},
}
# face shape → positions in [-1, 1] of the shape parameters
FACE_SHAPES: dict[str, dict[str, float]] = {
    "oval": {"face_width": -0.2, "face_length": 0.2, "jaw_width": -0.2, "chin_width": 0.0, "jaw_angle": -0.6},
    "round": {"face_width": 0.6, "face_length": -0.6, "jaw_width": 0.5, "chin_width": 0.5, "jaw_angle": -0.9},
    "square": {"face_width": 0.4, "face_length": -0.1, "jaw_width": 0.9, "chin_width": 0.7, "jaw_angle": 0.9},
    "long": {"face_width": -0.7, "face_length": 0.9, "jaw_width": -0.2, "chin_width": 0.0, "jaw_angle": -0.2},
    "heart": {"face_width": 0.2, "face_length": 0.1, "jaw_width": -0.7, "chin_width": -0.7, "jaw_angle": -0.5},
    "v": {"face_width": -0.1, "face_length": 0.3, "jaw_width": -0.9, "chin_width": -0.9, "jaw_angle": -0.3},
}
FEMALE_STYLES = ("long", "bob", "wavy", "ponytail", "bun", "bangs", "curly")
MALE_STYLES = ("short", "side_part", "buzz", "short", "side_part", "curly")
# age band → natural values of the age-related parameters
AGE_BANDS: dict[str, dict[str, float]] = {
    "child": {"wrinkles": -0.7, "eye_bags": -1.0, "hair_grey": -3.0},
    "teen": {"wrinkles": -0.6, "eye_bags": -0.9, "hair_grey": -3.0},
    "twenties": {"wrinkles": -0.45, "eye_bags": -0.6, "hair_grey": -3.0},
    "thirties": {"wrinkles": 0.1, "eye_bags": -0.1, "hair_grey": -2.0},
    "middle": {"wrinkles": 0.45, "eye_bags": 0.35, "hair_grey": 0.25},
    "senior": {"wrinkles": 0.85, "eye_bags": 0.7, "hair_grey": 0.8},
}
# child faces: bigger eyes, smaller nose, shorter rounder face (positions)
_CHILD_SHAPE = {"eye_size": 0.7, "nose_width": -0.7, "nose_length": -0.8, "face_length": -0.9, "jaw_width": -0.5}
# "older" by one step, per parameter (natural units); see edit()
_AGE_STEP = {"wrinkles": 0.35, "eye_bags": 0.4, "hair_grey": 0.3}

EDITABLE = tuple(Attributes.__dataclass_fields__) + ("age",)


def from_attributes(sampled: FaceCode, attributes: Attributes, seed: int) -> FaceCode:
    """`sampled` (the seed's random face) changed to show every specified attribute."""
    p = decode(sampled)
    rng = np.random.default_rng([seed, 1])  # choices the attributes leave open (a hair style, a beard)
    changes: dict[str, object] = {}
    a = attributes
    beard_kind = a.beard
    if beard_kind is None and a.beard_tidy:
        beard_kind = str(rng.choice(["full", "goatee", "moustache"]))
    gender = a.gender or ("male" if beard_kind not in (None, "none") else None)
    if gender:
        changes.update(_gender(p, gender, rng, keep_style=a.hair_style is not None))
    if a.age_band:
        changes.update(_age_band(p, a.age_band))
    if a.face_shape:
        changes.update({name: from_position(SPECS[name], d) for name, d in FACE_SHAPES[a.face_shape].items()})
    for attribute, params in DEGREE_PARAMS.items():
        degree = getattr(a, attribute)
        if degree is not None:
            changes.update({name: from_position(SPECS[name], degree) for name in params})
    if a.mouth_corners is not None and a.smile is None:
        # said how the corners sit but not how broad the smile is: no grin beyond the corners
        smile = SPECS["smile"]
        changes["smile"] = from_position(smile, min(position(smile, p.smile), max(0.0, a.mouth_corners)))
    if a.wrinkles is not None:
        changes["wrinkles"] = _wrinkle_value(a.wrinkles)
    if a.hair_style:
        changes["hair_style"] = a.hair_style
    if a.hair_colour:
        changes.update(HAIR_COLOURS[a.hair_colour])
    if a.skin_tone:
        changes["skin_tone"] = SKIN_TONES[a.skin_tone]
    if beard_kind:
        changes["beard"] = beard_kind
    for flag in ("double_eyelid", "glasses", "beard_tidy"):
        if getattr(a, flag) is not None:
            changes[flag] = bool(getattr(a, flag))
    return with_params(sampled, changes)


def edit(code: FaceCode, change: Edit) -> FaceCode:
    """A relative change: degrees move by `amount` (or are set to `value` when one is given),
    enums and flags take `value`, and "age" moves every age-related parameter `amount` steps
    older (negative: younger)."""
    name = change.field
    if name not in EDITABLE:
        raise ValueError(f"cannot edit {name!r}; editable fields: {', '.join(EDITABLE)}")
    p = decode(code)
    if name == "age":
        return with_params(code, _older(p, change.amount))
    if name in DEGREE_PARAMS:
        def degree(param: str) -> float:
            if change.value is not None:       # "stop smiling": set, not step
                return float(change.value)
            return position(SPECS[param], getattr(p, param)) + change.amount
        return with_params(code, {param: from_position(SPECS[param], degree(param)) for param in DEGREE_PARAMS[name]})
    if name == "wrinkles":
        if change.value is not None:           # "주름 없애줘"
            return with_params(code, {"wrinkles": _wrinkle_value(float(change.value))})
        current = (max(p.wrinkles, _WRINKLE_NONE) - _WRINKLE_NONE) / (_WRINKLE_DEEP - _WRINKLE_NONE)
        return with_params(code, {"wrinkles": _wrinkle_value(current + change.amount)})
    if change.value is None:
        raise ValueError(f"editing {name!r} needs a value, e.g. Edit({name!r}, value=...)")
    if name in ENUMS and change.value not in ENUMS[name]:
        raise ValueError(f"{name} must be one of {', '.join(ENUMS[name])}, not {change.value!r}")
    return from_attributes(code, Attributes(**{name: change.value}), seed=0)


def _wrinkle_value(degree: float) -> float:
    d = min(max(float(degree), 0.0), 1.0)
    return _WRINKLE_NONE + (_WRINKLE_DEEP - _WRINKLE_NONE) * d


def _nudge(p: MontageParams, name: str, target: float) -> float:
    """Halfway between the sampled position and a target position: gendered, still varied."""
    spec = SPECS[name]
    return from_position(spec, 0.5 * position(spec, getattr(p, name)) + target)


def _gender(p: MontageParams, gender: str, rng: np.random.Generator, keep_style: bool) -> dict[str, object]:
    female = gender == "female"
    changes: dict[str, object] = {
        "jaw_width": _nudge(p, "jaw_width", -0.45 if female else 0.35),
        "jaw_angle": _nudge(p, "jaw_angle", -0.4 if female else 0.3),
        "brow_thickness": _nudge(p, "brow_thickness", -0.5 if female else 0.35),
        "face_width": _nudge(p, "face_width", -0.3 if female else 0.2),
        "lashes": 0.75 + 0.2 * rng.random() if female else 0.15 * rng.random(),
        "lip_colour": 0.5 + 0.4 * rng.random() if female else 0.2 * rng.random(),
    }
    if female:
        changes["beard"] = "none"
    if not keep_style:
        styles = FEMALE_STYLES if female else MALE_STYLES
        if p.hair_style not in styles:
            changes["hair_style"] = str(rng.choice(styles))
    return changes


def _age_band(p: MontageParams, band: str) -> dict[str, object]:
    changes: dict[str, object] = dict(AGE_BANDS[band])
    if band == "child":
        changes.update({name: from_position(SPECS[name], d) for name, d in _CHILD_SHAPE.items()})
        changes["beard"] = "none"
    if band == "teen":
        changes["beard"] = "none"
    return changes


def _older(p: MontageParams, steps: float) -> dict[str, object]:
    changes = {}
    for name, step in _AGE_STEP.items():
        value = getattr(p, name)
        # parameters that mean "none" below zero start showing at once when aging
        start = max(value, 0.0) if steps > 0 else value
        changes[name] = SPECS[name].clamp(start + step * steps)
    return changes
