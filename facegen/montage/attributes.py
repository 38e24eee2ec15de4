"""Attributes → montage parameters, attribute edits on an existing face, and back: the attributes
a face's parameters show (`attributes_of`, for captions).

Degrees in Attributes run over [-1, 1] and map linearly onto a parameter's range (0 is the
middle); `wrinkles` and `freckles` run over [0, 1] with 0 meaning none. Gender and age band are
not single parameters: each nudges a group of them (hair, jaw, brows, lashes, lips, lines,
greying, cheeks). A description asks for everything it says and samples the rest, except
accessories and marks: glasses, a beard, moles, scars and freckles appear only when said.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from facegen.attributes import ENUMS, MARKS, Attributes, Edit
from facegen.facecode import FaceCode
from facegen.montage.palette import hair_rgb
from facegen.montage.params import (MARK_PLACES, SPECS, MontageParams, decode, from_position, position, positive,
                                    with_params)

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
    "forehead_height": ("hairline_height",),
    "forehead_width": ("forehead_width",),
    "cheekbones": ("cheekbones",),
    "cheek_fullness": ("cheek_fullness",),
    "eye_depth": ("eye_depth",),
    "nose_bridge": ("nose_bridge",),
    "ear_size": ("ear_size",),
}
# parameters whose range runs against their attribute: a high forehead is a hairline high up (small y)
REVERSED = frozenset({"hairline_height"})
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
# brow shape → natural values (straight brows lie nearly level)
BROW_SHAPES: dict[str, dict[str, float]] = {
    "straight": {"brow_arch": 0.0, "brow_angle": 0.0, "brow_tilt": 1.0},
    "arched": {"brow_arch": 1.0, "brow_angle": 0.0, "brow_tilt": -1.0},
    "angled": {"brow_arch": 0.6, "brow_angle": 1.0},
}
# hairline → natural values; "receding" is the M pushed far back
HAIRLINES: dict[str, dict[str, object]] = {
    "straight": {"hairline_shape": "straight", "hairline_recession": 0.0},
    "m_shaped": {"hairline_shape": "m_shaped", "hairline_recession": 0.0},
    "widows_peak": {"hairline_shape": "widows_peak", "hairline_recession": 0.0},
    "receding": {"hairline_shape": "m_shaped", "hairline_recession": 0.8},
}
# A description that speaks of the forehead gets a hair style that shows it (unless it names
# one): a fringe covers the forehead, and only swept-back hair shows the hairline's shape.
_COVERS_FOREHEAD = ("bowl", "bangs", "side_part")
_SHOWS_HAIRLINE = ("short", "buzz", "ponytail", "bun")
FEMALE_STYLES = ("long", "bob", "wavy", "ponytail", "bun", "bangs", "curly")
MALE_STYLES = ("short", "side_part", "buzz", "short", "side_part", "curly")
# age band → natural values of the age-related parameters; young faces have no lines and
# fuller cheeks, and the lines, the bags and the hollows grow band by band
AGE_BANDS: dict[str, dict[str, float]] = {
    "child": {"wrinkles": -0.7, "eye_bags": -1.0, "hair_grey": -3.0, "cheek_fullness": 0.6},
    "teen": {"wrinkles": -0.6, "eye_bags": -0.9, "hair_grey": -3.0, "cheek_fullness": 0.4},
    "twenties": {"wrinkles": -0.45, "eye_bags": -0.6, "hair_grey": -3.0, "cheek_fullness": 0.25},
    "thirties": {"wrinkles": 0.1, "eye_bags": -0.1, "hair_grey": -2.0, "cheek_fullness": 0.05},
    "middle": {"wrinkles": 0.45, "eye_bags": 0.35, "hair_grey": 0.25, "cheek_fullness": -0.15},
    "senior": {"wrinkles": 0.85, "eye_bags": 0.7, "hair_grey": 0.8, "cheek_fullness": -0.35},
}
# proportions that change with age, as shifts of the sampled positions: children have bigger
# eyes, a smaller nose and a shorter rounder face; older faces thinner lips, longer noses and
# ears, heavier lids
AGE_SHAPES: dict[str, dict[str, float]] = {
    "child": {"eye_size": 0.8, "nose_width": -0.9, "nose_length": -1.2, "face_length": -1.4, "jaw_width": -0.7},
    "middle": {"upper_lip": -0.15, "lower_lip": -0.15, "nose_length": 0.1, "ear_size": 0.15},
    "senior": {"upper_lip": -0.4, "lower_lip": -0.4, "nose_length": 0.25, "ear_size": 0.4, "eye_openness": -0.25},
}
# "older" by one step, per parameter (natural units); see edit()
_AGE_STEP = {"wrinkles": 0.35, "eye_bags": 0.4, "hair_grey": 0.3}

EDITABLE = tuple(Attributes.__dataclass_fields__) + ("age",)


def from_attributes(sampled: FaceCode, attributes: Attributes, seed: int) -> FaceCode:
    """`sampled` (the seed's random face) changed to show every specified attribute; glasses
    and beards nobody asked for are taken off (marks and freckles never show on random faces)."""
    plain = with_params(sampled, {"glasses": False, "beard": "none"})
    return with_params(plain, _changes(plain, attributes, np.random.default_rng([seed, 1])))


def edit(code: FaceCode, change: Edit) -> FaceCode:
    """A relative change: degrees move by `amount` (or are set to `value` when one is given),
    enums and flags take `value`, marks (`moles`, `scars`) add the places in `value` to the
    face's (an empty `value` clears them), and "age" moves every age-related parameter `amount`
    steps older (negative: younger)."""
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
            return _position(param, getattr(p, param)) + change.amount
        return with_params(code, {param: _from_position(param, degree(param)) for param in DEGREE_PARAMS[name]})
    if name in ("wrinkles", "freckles"):
        if change.value is not None:           # "주름 없애줘", "no freckles"
            return with_params(code, {name: _amount_value(name, float(change.value))})
        return with_params(code, {name: _amount_value(name, _amount_of(name, getattr(p, name)) + change.amount)})
    if change.value is None:
        raise ValueError(f"editing {name!r} needs a value, e.g. Edit({name!r}, value=...)")
    if name in MARKS:
        places = set(_places(name, change.value))   # none: clear them all; some: add them
        if places:
            places |= {place for place in MARK_PLACES if getattr(p, _mark(name, place)) is not None}
        return with_params(code, _marks(code, p, name, places))
    if name in ENUMS and change.value not in ENUMS[name]:
        raise ValueError(f"{name} must be one of {', '.join(ENUMS[name])}, not {change.value!r}")
    return with_params(code, _changes(code, Attributes(**{name: change.value}), np.random.default_rng([0, 1])))


def params_of(fields: Iterable[str]) -> set[str]:
    """The parameters that show these attribute fields ("age" included): what a remix that keeps
    them must leave as they are."""
    out: set[str] = set()
    for name in fields:
        out |= set(_FIELD_PARAMS.get(name, ()))
    return out


def _changes(code: FaceCode, attributes: Attributes, rng: np.random.Generator) -> dict[str, object]:
    """The parameter values that show the specified attributes on the face `code`; `rng` picks
    what the attributes leave open (a beard's kind, a hair style)."""
    p = decode(code)
    changes: dict[str, object] = {}
    a = attributes
    beard_kind = a.beard
    if beard_kind is None and (a.beard_tidy or a.beard_colour) and p.beard == "none":
        beard_kind = str(rng.choice(["full", "goatee", "moustache"]))   # "a tidy beard", "a white beard"
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
            changes.update({name: _from_position(name, degree) for name in params})
    if a.mouth_corners is not None and a.smile is None:
        # said how the corners sit but not how broad the smile is: no grin beyond the corners
        smile = SPECS["smile"]
        changes["smile"] = from_position(smile, min(position(smile, p.smile), max(0.0, a.mouth_corners)))
    for name in ("wrinkles", "freckles"):
        if getattr(a, name) is not None:
            changes[name] = _amount_value(name, getattr(a, name))
    if a.hair_style:
        changes["hair_style"] = a.hair_style
    else:
        style = changes.get("hair_style", p.hair_style)
        if (a.hairline and style not in _SHOWS_HAIRLINE) or (_shows_forehead(a) and style in _COVERS_FOREHEAD):
            changes["hair_style"] = "ponytail" if gender == "female" else "short"
    if _shows_forehead(a):
        changes["fringe_length"] = min(p.fringe_length, 0.5)   # a bob's fringe stays above the brows
    if a.hair_colour:
        changes.update(HAIR_COLOURS[a.hair_colour])
    if a.skin_tone:
        changes["skin_tone"] = SKIN_TONES[a.skin_tone]
    if beard_kind:
        changes["beard"] = beard_kind
    for flag in ("double_eyelid", "glasses", "beard_tidy", "dimples"):
        if getattr(a, flag) is not None:
            changes[flag] = bool(getattr(a, flag))
    for name in ("eye_colour", "beard_colour"):
        if getattr(a, name) is not None:
            changes[name] = getattr(a, name)
    if a.brow_shape:
        changes.update(BROW_SHAPES[a.brow_shape])
    if a.hairline:
        changes.update(HAIRLINES[a.hairline])
    for kind in MARKS:
        if getattr(a, kind) is not None:
            changes.update(_marks(code, p, kind, set(_places(kind, getattr(a, kind)))))
    return changes


def _shows_forehead(a: Attributes) -> bool:
    return bool(a.hairline or a.forehead_height is not None or "forehead" in (*(a.moles or ()), *(a.scars or ())))


def _mark(kind: str, place: str) -> str:
    """The parameter of a mark kind ("moles", "scars") at one place."""
    return f"{kind[:-1]}_{place}"


def _places(kind: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"{kind} takes places (a list of {', '.join(MARK_PLACES)}), not {value!r}")
    places = tuple(value)
    unknown = [place for place in places if place not in MARK_PLACES]
    if unknown:
        raise ValueError(f"{kind} can sit at {', '.join(MARK_PLACES)}, not {', '.join(map(str, unknown))}")
    return places


def _marks(code: FaceCode, p: MontageParams, kind: str, places: set[str]) -> dict[str, object]:
    """Marks of one kind exactly at `places`: a mark already there keeps its side; a new one goes
    to the side the face's latent leans to in that slot (random faces: the seed decides)."""
    changes: dict[str, object] = {}
    for place in MARK_PLACES:
        name = _mark(kind, place)
        side = getattr(p, name)
        if place in places and side is None:
            spec = SPECS[name]
            side = "left" if code.part(spec.region)[spec.row, spec.channel] < 0 else "right"
        changes[name] = side if place in places else None
    return changes


def _position(name: str, value: float) -> float:
    d = position(SPECS[name], value)
    return -d if name in REVERSED else d


def _from_position(name: str, degree: float) -> float:
    return from_position(SPECS[name], -degree if name in REVERSED else degree)


def _amount_value(name: str, amount: float) -> float:
    """wrinkles and freckles: 0 (none) … 1 (most) onto the parameter's natural scale."""
    d = min(max(float(amount), 0.0), 1.0)
    if name == "freckles":
        return d
    return _WRINKLE_NONE + (_WRINKLE_DEEP - _WRINKLE_NONE) * d


def _amount_of(name: str, value: float) -> float:
    if name == "freckles":
        return value
    return (max(value, _WRINKLE_NONE) - _WRINKLE_NONE) / (_WRINKLE_DEEP - _WRINKLE_NONE)


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
    for name, shift in AGE_SHAPES.get(band, {}).items():
        spec = SPECS[name]
        changes[name] = from_position(spec, position(spec, getattr(p, name)) + shift)
    if band in ("child", "teen"):
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


def _field_params() -> dict[str, tuple[str, ...]]:
    """Every attribute field ("age" too) → the parameters that show it."""
    age = {*AGE_BANDS["senior"], *_AGE_STEP, *(n for shape in AGE_SHAPES.values() for n in shape), "beard"}
    table: dict[str, tuple[str, ...]] = {
        **DEGREE_PARAMS,
        "gender": ("jaw_width", "jaw_angle", "brow_thickness", "face_width", "lashes", "lip_colour", "beard",
                   "hair_style"),
        "age_band": tuple(sorted(age)), "age": tuple(sorted(age)),
        "face_shape": tuple(FACE_SHAPES["oval"]),
        "hair_style": ("hair_style", "fringe_length"),
        "hair_colour": ("hair_darkness", "hair_red", "hair_grey"),
        "skin_tone": ("skin_tone", "skin_warmth"),
        "mouth_corners": ("mouth_corners", "smile"),
        "wrinkles": ("wrinkles",), "freckles": ("freckles",),
        "beard": ("beard", "beard_length", "beard_tidy"), "beard_tidy": ("beard", "beard_tidy"),
        "glasses": ("glasses",), "double_eyelid": ("double_eyelid",), "dimples": ("dimples",),
        "eye_colour": ("eye_colour", "iris_colour"), "beard_colour": ("beard_colour",),
        "brow_shape": tuple(BROW_SHAPES["straight"]),
        "hairline": ("hairline_shape", "hairline_recession"),
    }
    for kind in MARKS:
        table[kind] = tuple(_mark(kind, place) for place in MARK_PLACES)
    missing = set(EDITABLE) - set(table)
    if missing or not all(name in SPECS for names in table.values() for name in names):
        raise AssertionError(f"attribute fields without montage parameters: {missing}")
    return table


_FIELD_PARAMS = _field_params()


# --- the other way: what a face shows, in attributes ------------------------------------------

# gender: the mean of lashes and lip colour, which _gender sets to 0.75–0.95 and 0.5–0.9 for a
# woman, 0–0.15 and 0–0.2 for a man; random faces in between are said without one
_FEMALE_FROM, _MALE_BELOW = 0.6, 0.4


def attributes_of(p: MontageParams) -> Attributes:
    """The attributes a face shows, on the fields below (the rest stay None): the inverse of
    from_attributes on those fields, so that a face made from attributes_of(p) shows them again. Each is read from what is
    drawn: the nearest skin tone, hair colour (in RGB) and age band (lines, bags and cheek
    fullness) to the face's, gender from lashes and lip colour (a beard says "man"), degrees
    from their parameter's place in its range. Glasses and a beard are said only when drawn."""
    said: dict[str, Any] = {
        "gender": _gender_of(p),
        "age_band": _age_band_of(p),
        "hair_style": p.hair_style,
        "hair_length": _hair_length_of(p),
        "hair_colour": None if p.hair_style == "bald" else _hair_colour_of(p),
        "skin_tone": min(SKIN_TONES, key=lambda tone: abs(SKIN_TONES[tone] - p.skin_tone)),
        "eye_size": _position("eye_size", p.eye_size),
        "smile": _position("smile", p.smile),
        "glasses": True if p.glasses else None,
        "beard": None if p.beard == "none" else p.beard,
    }
    return Attributes(**said)


def _gender_of(p: MontageParams) -> str | None:
    if p.beard != "none":
        return "male"
    looks = (p.lashes + p.lip_colour) / 2
    return "female" if looks >= _FEMALE_FROM else "male" if looks < _MALE_BELOW else None


def _age_features(wrinkles: float, eye_bags: float, cheek_fullness: float) -> np.ndarray:
    """What shows of age: lines and bags (none at or below 0) and cheek fullness. Grey hair is
    left to the hair colour, which a description may set apart from the age."""
    return np.array([positive(wrinkles), positive(eye_bags), cheek_fullness])


def _age_band_of(p: MontageParams) -> str:
    here = _age_features(p.wrinkles, p.eye_bags, p.cheek_fullness)
    return min(AGE_BANDS, key=lambda band: float(np.linalg.norm(_age_features(
        AGE_BANDS[band]["wrinkles"], AGE_BANDS[band]["eye_bags"], AGE_BANDS[band]["cheek_fullness"]) - here)))


def _hair_length_of(p: MontageParams) -> float | None:
    """Said where the style has a length to speak of ("long hair" is long already)."""
    return None if p.hair_style in ("bald", "buzz", "long", "short") else _position("hair_length", p.hair_length)


def _hair_colour_of(p: MontageParams) -> str:
    """The colour word whose parameters, put on this face, draw the nearest colour to its own."""
    own = {"hair_darkness": p.hair_darkness, "hair_red": p.hair_red, "hair_grey": p.hair_grey}

    def drawn(values: dict[str, float]) -> np.ndarray:
        return hair_rgb(values["hair_darkness"], values["hair_red"], values["hair_grey"])

    here = drawn(own)
    return min(HAIR_COLOURS, key=lambda colour: float(np.linalg.norm(drawn({**own, **HAIR_COLOURS[colour]}) - here)))
