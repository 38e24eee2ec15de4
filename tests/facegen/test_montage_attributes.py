"""Attributes → montage faces and attribute edits, checked in parameters and in pixels."""

from __future__ import annotations

import numpy as np
import pytest

from facegen.attributes import ENUMS, Attributes, Edit
from facegen.montage import MontageBackend, decode
from facegen.montage.attributes import EDITABLE, SKIN_TONES
from facegen.montage.params import SPECS, position, positive, with_params
from facegen.montage.render import CX, EYE_LINE

BACKEND = MontageBackend()
SIZE = 256


def face(seed: int = 5, **attributes):
    return BACKEND.from_attributes(Attributes(**attributes), seed)


def crop(code, box) -> np.ndarray:
    """Pixels of a box given in canvas units."""
    (image,) = BACKEND.render([code], SIZE)
    left, top, right, bottom = (round(v * SIZE) for v in box)
    return np.asarray(image, dtype=np.float64)[top:bottom, left:right]


def luminance(pixels: np.ndarray) -> np.ndarray:
    return pixels @ np.array([0.299, 0.587, 0.114])


# -- parameters -------------------------------------------------------------------------------

def test_unspecified_attributes_come_from_the_seed():
    assert face(3) == BACKEND.sample(3)
    assert decode(face(3, glasses=True)).eye_size == decode(BACKEND.sample(3)).eye_size


@pytest.mark.parametrize("field", ["hair_style", "beard", "face_shape", "skin_tone", "hair_colour", "age_band", "gender"])
def test_every_enum_value_is_honoured(field):
    for value in ENUMS[field]:
        for seed in (1, 2):
            p = decode(face(seed, **{field: value}))
            if field == "hair_style":
                assert p.hair_style == value
            elif field == "beard":
                assert p.beard == value
            elif field == "skin_tone":
                assert p.skin_tone == pytest.approx(SKIN_TONES[value], abs=1e-4)
            elif field == "hair_colour":
                dark, grey = p.hair_darkness, positive(p.hair_grey)
                assert {"black": dark > 0.9 and grey == 0, "brown": 0.5 < dark < 0.75 and grey == 0,
                        "blond": dark < 0.2 and grey == 0, "red": p.hair_red > 0.5,
                        "grey": 0.4 < grey < 0.8, "white": grey > 0.9}[value]
            elif field == "face_shape":
                width, jaw = position(SPECS["face_width"], p.face_width), position(SPECS["jaw_width"], p.jaw_width)
                assert {"round": width > 0.3, "square": p.jaw_angle > 0.8 and jaw > 0.5, "long": p.face_length > 0.34,
                        "v": jaw < -0.5 and p.chin_width < 0.25, "heart": jaw < -0.5,
                        "oval": p.jaw_angle < 0.3}[value]
            elif field == "age_band":
                assert (positive(p.wrinkles) > 0.3) == (value in ("middle", "senior"))
                assert (positive(p.hair_grey) > 0.5) == (value == "senior")
            elif field == "gender":
                assert (p.beard == "none") if value == "female" else p.hair_style not in ("long", "bob", "bun", "ponytail")
                assert (p.lashes > 0.7) == (value == "female")


@pytest.mark.parametrize("field,params", [
    ("eye_size", ["eye_size"]), ("eye_tilt", ["eye_tilt"]), ("eye_spacing", ["eye_spacing"]),
    ("nose_size", ["nose_width", "nose_tip"]), ("nose_length", ["nose_length"]), ("mouth_width", ["mouth_width"]),
    ("lip_fullness", ["upper_lip", "lower_lip"]), ("mouth_corners", ["mouth_corners"]), ("smile", ["smile"]),
    ("brow_thickness", ["brow_thickness"]), ("jaw_width", ["jaw_width"]), ("hair_length", ["hair_length"]),
])
def test_degrees_set_their_parameters(field, params):
    for degree in (-1.0, -0.35, 0.35, 0.7, 1.0):
        p = decode(face(9, **{field: degree}))
        for name in params:
            assert position(SPECS[name], getattr(p, name)) == pytest.approx(degree, abs=0.01), name


def test_flags_and_wrinkles():
    for value in (True, False):
        p = decode(face(4, glasses=value, double_eyelid=value, beard_tidy=value))
        assert p.glasses is value and p.double_eyelid is value and p.beard_tidy is value
    assert positive(decode(face(4, wrinkles=0.0)).wrinkles) == 0
    assert positive(decode(face(4, wrinkles=1.0)).wrinkles) > 0.9
    assert 0 < positive(decode(face(4, wrinkles=0.35)).wrinkles) < positive(decode(face(4, wrinkles=0.7)).wrinkles)


def test_a_tidy_beard_without_a_kind_gives_a_beard_and_a_man():
    for seed in range(6):
        p = decode(face(seed, beard_tidy=True))
        assert p.beard != "none" and p.beard_tidy and p.lashes < 0.2


def test_mouth_corners_without_a_smile_cap_the_sampled_grin():
    for seed in range(8):
        p = decode(face(seed, mouth_corners=0.35))
        assert position(SPECS["smile"], p.smile) <= 0.35 + 1e-3


def test_seed_sentence_attributes():
    p = decode(face(7, hair_style="bowl", eye_tilt=-0.7, mouth_corners=0.35, skin_tone="medium", wrinkles=0.0,
                    beard_tidy=True))
    assert p.hair_style == "bowl" and p.eye_tilt < -5 and p.mouth_corners == pytest.approx(0.35, abs=0.01)
    assert p.skin_tone == pytest.approx(0.42, abs=1e-4) and positive(p.wrinkles) == 0 and p.beard != "none"


# -- edits ------------------------------------------------------------------------------------

def test_more_smile_raises_smile_by_the_amount():
    code = face(2, smile=-0.2)
    after = decode(BACKEND.edit(code, Edit("smile", amount=0.5)))
    assert position(SPECS["smile"], after.smile) == pytest.approx(0.3, abs=0.01)
    assert decode(BACKEND.edit(code, Edit("smile", amount=-5))).smile == pytest.approx(SPECS["smile"].low, abs=1e-3)


def test_a_degree_edit_with_a_value_sets_it():
    code = face(2, smile=0.9, wrinkles=0.8)
    assert position(SPECS["smile"], decode(BACKEND.edit(code, Edit("smile", value=0.0))).smile) == pytest.approx(0, abs=0.01)
    assert positive(decode(BACKEND.edit(code, Edit("wrinkles", value=0.0))).wrinkles) == 0
    assert positive(decode(BACKEND.edit(face(2, wrinkles=0.0), Edit("wrinkles", amount=0.5))).wrinkles) > 0.2


def test_older_adds_lines_bags_and_grey():
    young = face(3, age_band="twenties")
    older = decode(BACKEND.edit(young, Edit("age", amount=1)))
    much_older = decode(BACKEND.edit(young, Edit("age", amount=2)))
    before = decode(young)
    for name in ("wrinkles", "eye_bags", "hair_grey"):
        assert positive(getattr(before, name)) < positive(getattr(older, name)) < positive(getattr(much_older, name))


def test_add_glasses_and_remove_beard_change_only_that():
    code = face(8, beard="full", glasses=False)
    with_glasses = BACKEND.edit(code, Edit("glasses", value=True))
    assert decode(with_glasses).glasses is True
    shaved = decode(BACKEND.edit(with_glasses, Edit("beard", value="none")))
    assert shaved.beard == "none" and shaved.glasses is True
    assert shaved.eye_size == decode(code).eye_size and shaved.hair_style == decode(code).hair_style


def test_edits_follow_part_donors():
    code = face(8).with_part("mouth", BACKEND.sample(40).base)
    edited = BACKEND.edit(code, Edit("mouth_width", amount=0.4))
    before, after = decode(code), decode(edited)
    assert position(SPECS["mouth_width"], after.mouth_width) == pytest.approx(
        min(1.0, position(SPECS["mouth_width"], before.mouth_width) + 0.4), abs=0.01)


@pytest.mark.parametrize("bad", [Edit("horns", amount=1), Edit("beard", value="braided"), Edit("glasses")])
def test_bad_edits_are_clear_errors(bad):
    with pytest.raises(ValueError) as error:
        BACKEND.edit(face(1), bad)
    assert bad.field in str(error.value) or "value" in str(error.value)
    assert "age" in EDITABLE


# -- pixels -----------------------------------------------------------------------------------

CHEEK = (CX + 0.1, EYE_LINE + 0.06, CX + 0.16, EYE_LINE + 0.1)
EYE_BAND = (CX - 0.2, EYE_LINE - 0.05, CX + 0.2, EYE_LINE + 0.05)
CHIN = (CX - 0.08, EYE_LINE + 0.26, CX + 0.08, EYE_LINE + 0.29)
FOREHEAD = (CX - 0.09, 0.27, CX + 0.09, 0.33)
CROWN = (CX - 0.06, 0.14, CX + 0.06, 0.18)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dark_skin_is_darker_than_fair_skin_on_the_cheek(seed):
    plain = {"beard": "none", "glasses": False}
    fair = luminance(crop(face(seed, skin_tone="fair", **plain), CHEEK)).mean()
    medium = luminance(crop(face(seed, skin_tone="medium", **plain), CHEEK)).mean()
    dark = luminance(crop(face(seed, skin_tone="dark", **plain), CHEEK)).mean()
    assert fair > medium + 20 > dark + 40


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_glasses_add_dark_pixels_around_the_eyes(seed):
    code = with_params(face(seed, glasses=False, skin_tone="medium"), {"glasses_colour": "black"})
    without = crop(code, EYE_BAND)
    glasses = crop(BACKEND.edit(code, Edit("glasses", value=True)), EYE_BAND)
    dark = lambda px: int((luminance(px) < 80).sum())  # noqa: E731
    assert dark(glasses) > dark(without) + 100
    # metal frames are lighter, but still change the eye band visibly
    metal = crop(BACKEND.edit(with_params(code, {"glasses_colour": "metal"}), Edit("glasses", value=True)), EYE_BAND)
    assert np.any(np.abs(metal - without) > 30, axis=2).mean() > 0.02


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_beard_darkens_the_chin(seed):
    common = {"skin_tone": "fair", "hair_colour": "black", "gender": "male"}
    shaved = luminance(crop(face(seed, beard="none", **common), CHIN)).mean()
    bearded = luminance(crop(face(seed, beard="full", **common), CHIN)).mean()
    stubble = luminance(crop(face(seed, beard="stubble", **common), CHIN)).mean()
    assert bearded < stubble - 10 < shaved - 20


LOWER_FACE = (CX - 0.3, EYE_LINE + 0.1, CX + 0.3, EYE_LINE + 0.45)


def _neighbours(a: np.ndarray) -> list[np.ndarray]:
    padded = np.pad(a, 1, mode="edge")
    h, w = a.shape
    return [padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


def _grow(mask: np.ndarray, steps: int, dark: bool) -> np.ndarray:
    """Dilate (dark=True) or erode the mask by `steps` pixels."""
    for _ in range(steps):
        mask = (np.logical_or if dark else np.logical_and).reduce(_neighbours(mask))
    return mask


def _edge_length(mask: np.ndarray) -> int:
    return int((mask[1:] != mask[:-1]).sum() + (mask[:, 1:] != mask[:, :-1]).sum())


def beard_texture_and_edge(tidy: bool, kind: str, seed: int) -> tuple[float, float]:
    """Fine texture (spread of luminance about its 3×3 mean inside the beard) and edge
    raggedness (the beard's outline length over that of its outline smoothed by 2 px) of a
    black beard on fair skin."""
    code = with_params(BACKEND.sample(seed), {
        "beard": kind, "beard_tidy": tidy, "beard_length": 0.6, "skin_tone": 0.1, "hair_darkness": 0.95,
        "hair_grey": -2.0, "hair_red": -1.0, "glasses": False, "hair_style": "short"})
    lum = luminance(crop(code, LOWER_FACE))
    beard = lum < 120
    inside = _grow(beard, 3, dark=False)
    texture = float((lum - np.mean(_neighbours(lum), axis=0))[inside].std())
    smooth = _grow(_grow(_grow(_grow(beard, 2, True), 2, False), 2, False), 2, True)
    return texture, _edge_length(beard) / _edge_length(smooth)


@pytest.mark.parametrize("kind", ["full", "goatee", "moustache"])
def test_a_tidy_beard_has_an_even_grain_and_a_clean_edge_a_rough_one_neither(kind):
    # 깔끔하게 정리된 수염 (a neatly trimmed beard) must not look shaggy
    for seed in (1, 2, 3):
        tidy_texture, tidy_edge = beard_texture_and_edge(True, kind, seed)
        rough_texture, rough_edge = beard_texture_and_edge(False, kind, seed)
        assert rough_texture > 2 * tidy_texture, (seed, tidy_texture, rough_texture)
        assert rough_edge > 1.1 * tidy_edge, (seed, tidy_edge, rough_edge)


def test_wrinkles_draw_lines_on_the_forehead():
    for seed in (1, 2):
        smooth = luminance(crop(face(seed, hair_style="bald", wrinkles=0.0), FOREHEAD))
        lined = luminance(crop(face(seed, hair_style="bald", wrinkles=1.0), FOREHEAD))
        assert lined.mean() < smooth.mean() - 2 and lined.std() > smooth.std() + 3


def test_black_hair_is_darker_than_blond_hair():
    for seed in (1, 2):
        black = luminance(crop(face(seed, hair_style="short", hair_colour="black"), CROWN)).mean()
        blond = luminance(crop(face(seed, hair_style="short", hair_colour="blond"), CROWN)).mean()
        assert blond > black + 80


def test_a_broad_smile_shows_teeth():
    mouth = lambda code: crop(code, (CX - 0.08, EYE_LINE + 0.17, CX + 0.08, EYE_LINE + 0.24))  # noqa: E731
    for seed in (1, 2):
        closed = mouth(face(seed, smile=-1.0, beard="none"))
        grin = mouth(face(seed, smile=1.0, beard="none"))
        bright = lambda px: int((px.min(axis=2) > 200).sum())  # noqa: E731
        assert bright(grin) > bright(closed) + 20
