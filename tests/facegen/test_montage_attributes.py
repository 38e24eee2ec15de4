"""Attributes → montage faces and attribute edits, checked in parameters and in pixels."""

from __future__ import annotations

import numpy as np
import pytest

from facegen.attributes import ENUMS, MARK_PLACES, Attributes, Edit
from facegen.montage import MontageBackend, decode
from facegen.montage.attributes import EDITABLE, SKIN_TONES
from facegen.latent import remix
from facegen.montage.params import PARAMS, SPECS, position, positive, with_params
from facegen.montage.render import CX, EYE_LINE, fold_line, head

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
    # everything but the accessories, which nobody asked for (see below)
    assert face(3) == with_params(BACKEND.sample(3), {"glasses": False, "beard": "none"})
    assert decode(face(3, glasses=True)).eye_size == decode(BACKEND.sample(3)).eye_size


UNASKED = [{}, {"gender": "male"}, {"gender": "female", "age_band": "twenties"}, {"age_band": "senior"},
           {"gender": "male", "hair_style": "bowl", "skin_tone": "medium", "smile": 0.4},
           {"face_shape": "square", "eye_colour": "blue", "cheekbones": 0.7}]


@pytest.mark.parametrize("said", UNASKED)
def test_accessories_and_marks_appear_only_when_asked_for(said):
    """Issue #14: about one described face in four wore glasses nobody asked for."""
    for seed in range(40):
        p = decode(face(seed, **said))
        assert p.glasses is False and p.beard == "none" and p.freckles == 0 and p.dimples is False, seed
        assert all(getattr(p, f"{kind}_{place}") is None for kind in ("mole", "scar") for place in MARK_PLACES)
    # …while a random new face still may wear them
    assert any(decode(BACKEND.sample(seed)).glasses for seed in range(40))
    assert any(decode(BACKEND.sample(seed)).beard != "none" for seed in range(40))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_unasked_glasses_leave_no_dark_frame_around_the_eyes(seed):
    """The same in pixels: the eye band of a described face is no darker than its face without
    glasses, where the seed alone draws them."""
    sampled = next(s for s in range(seed * 100, seed * 100 + 50) if decode(BACKEND.sample(s)).glasses)
    described = crop(face(sampled, gender="female", hair_style="ponytail"), EYE_BAND)
    bare = crop(with_params(face(sampled, gender="female", hair_style="ponytail"), {"glasses": False}), EYE_BAND)
    assert np.array_equal(described, bare)


def test_said_accessories_and_marks_appear():
    p = decode(face(4, glasses=True, beard="goatee", freckles=0.6, dimples=True, moles=("mouth", "chin"),
                    scars=("brow",)))
    assert p.glasses and p.beard == "goatee" and p.freckles == pytest.approx(0.6) and p.dimples
    assert {p.mole_mouth, p.mole_chin, p.scar_brow} <= {"left", "right"} and p.mole_cheek is None
    assert decode(face(4, beard_colour="white")).beard != "none"          # "흰 수염": a white beard, so a beard


@pytest.mark.parametrize("field", ["hair_style", "beard", "face_shape", "skin_tone", "hair_colour", "age_band",
                                   "gender", "eye_colour", "brow_shape", "hairline", "beard_colour"])
def test_every_enum_value_is_honoured(field):
    for value in ENUMS[field]:
        for seed in (1, 2):
            p = decode(face(seed, **{field: value}))
            if field in ("eye_colour", "beard_colour"):
                assert getattr(p, field) == value
            elif field == "brow_shape":
                assert {"straight": p.brow_arch < 0.05 and p.brow_angle == 0, "arched": p.brow_arch > 0.95,
                        "angled": p.brow_angle > 0.95}[value]
            elif field == "hairline":
                assert (p.hairline_shape, p.hairline_recession > 0.5) == {
                    "straight": ("straight", False), "m_shaped": ("m_shaped", False),
                    "widows_peak": ("widows_peak", False), "receding": ("m_shaped", True)}[value]
                assert p.hair_style in ("short", "buzz", "ponytail", "bun")   # a style that shows it
            elif field == "hair_style":
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
    ("forehead_height", ["-hairline_height"]), ("forehead_width", ["forehead_width"]), ("cheekbones", ["cheekbones"]),
    ("cheek_fullness", ["cheek_fullness"]), ("eye_depth", ["eye_depth"]), ("nose_bridge", ["nose_bridge"]),
    ("ear_size", ["ear_size"]),
])
def test_degrees_set_their_parameters(field, params):
    """A "-" says the parameter runs the other way: a high forehead is a hairline high up."""
    for degree in (-1.0, -0.35, 0.35, 0.7, 1.0):
        p = decode(face(9, **{field: degree}))
        for name in params:
            sign = -1 if name.startswith("-") else 1
            value = getattr(p, name.lstrip("-"))
            assert sign * position(SPECS[name.lstrip("-")], value) == pytest.approx(degree, abs=0.01), name
        edited = decode(BACKEND.edit(face(9, **{field: degree}), Edit(field, amount=-0.3)))
        name = params[0].lstrip("-")
        assert abs(position(SPECS[name], getattr(edited, name)) - position(SPECS[name], getattr(p, name))) \
            == pytest.approx(0.3 if degree > -0.7 else degree + 1, abs=0.01)


def test_flags_and_wrinkles():
    for value in (True, False):
        p = decode(face(4, glasses=value, double_eyelid=value, beard_tidy=value, dimples=value))
        assert p.glasses is value and p.double_eyelid is value and p.beard_tidy is value and p.dimples is value
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


def test_mark_edits_add_places_and_an_empty_list_clears_them():
    code = face(6, moles=("cheek",))
    side = decode(code).mole_cheek
    more = decode(BACKEND.edit(code, Edit("moles", value=("under_eye", "chin"))))
    assert (more.mole_cheek, more.mole_under_eye is not None, more.mole_chin is not None, more.mole_nose) == (
        side, True, True, None)
    assert more.scar_cheek is None                       # moles and scars are kept apart
    cleared = decode(BACKEND.edit(BACKEND.edit(code, Edit("moles", value=("nose",))), Edit("moles", value=())))
    assert all(getattr(cleared, f"mole_{place}") is None for place in MARK_PLACES)
    scarred = decode(BACKEND.edit(code, Edit("scars", value=["brow"])))    # a list from JSON works too
    assert scarred.scar_brow in ("left", "right") and scarred.mole_cheek == side
    with pytest.raises(ValueError, match="can sit at"):
        BACKEND.edit(code, Edit("moles", value=("elbow",)))
    with pytest.raises(ValueError, match="takes places"):
        BACKEND.edit(code, Edit("scars", value="cheek"))


def test_freckles_step_and_a_zero_clears_them():
    code = face(6, freckles=0.4)
    assert decode(BACKEND.edit(code, Edit("freckles", amount=0.3))).freckles == pytest.approx(0.7)
    assert decode(BACKEND.edit(code, Edit("freckles", value=0))).freckles == 0
    assert decode(BACKEND.edit(face(6), Edit("freckles", amount=0.5))).freckles == pytest.approx(0.5)


@pytest.mark.parametrize("field, value, param, expected", [
    ("dimples", True, "dimples", True), ("eye_colour", "green", "eye_colour", "green"),
    ("brow_shape", "angled", "brow_angle", 1.0), ("hairline", "receding", "hairline_shape", "m_shaped"),
    ("beard_colour", "grey", "beard_colour", "grey"),
])
def test_new_enum_and_flag_edits_take_their_value_and_change_only_that(field, value, param, expected):
    code = face(8, beard="full", glasses=True, hair_style="short")
    before, after = decode(code), decode(BACKEND.edit(code, Edit(field, value=value)))
    assert getattr(after, param) == expected
    assert (after.beard, after.glasses, after.eye_size, after.skin_tone) == (before.beard, True, before.eye_size,
                                                                             before.skin_tone)


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


# -- age bands --------------------------------------------------------------------------------

BANDS = ENUMS["age_band"]          # child … senior, youngest first
AGE_SIZE = 384


def aged(gender: str, band: str, seed: int):
    """A described face of one band, its hair off the forehead and nothing over the features."""
    return face(seed, gender=gender, age_band=band, hair_style="short" if gender == "male" else "ponytail")


def age_luminance(code) -> np.ndarray:
    (image,) = BACKEND.render([code], AGE_SIZE)
    return luminance(np.asarray(image, dtype=np.float64))


def fold_depth(code) -> float:
    """How much darker the nasolabial folds are than the skin 0.012 to either side of them,
    along the middle of each fold (the renderer's fold_line), both sides summed."""
    lum, h = age_luminance(code), head(decode(code))
    depth = 0.0
    for sgn in (1, -1):
        line = fold_line(h, sgn)[3:9]
        along = np.gradient(line, axis=0)
        across = np.stack([-along[:, 1], along[:, 0]], axis=1) / np.linalg.norm(along, axis=1, keepdims=True) * 0.012
        at = lambda points: np.mean([lum[round(y * AGE_SIZE), round(x * AGE_SIZE)] for x, y in points])  # noqa: E731
        depth += (at(line + across) + at(line - across)) / 2 - at(line)
    return depth


def line_darkness(code) -> float:
    """Forehead lines, crow's feet and eye bags: in a box where each would be, how far pixels
    fall below the box's median skin, averaged (a plain box of skin gives about 0)."""
    lum, fw = age_luminance(code), head(decode(code)).fw
    boxes = {(-0.15, 0.15, 0.285, 0.335): (1,),                                   # forehead
             (0.39, 0.42, EYE_LINE + 0.003, EYE_LINE + 0.03): (1, -1),            # crow's feet
             (0.18, 0.26, EYE_LINE + 0.035, EYE_LINE + 0.055): (1, -1)}           # under the eyes
    total = 0.0
    for (x0, x1, y0, y1), sides in boxes.items():
        for sgn in sides:
            left, right = sorted((CX + sgn * x0 * fw, CX + sgn * x1 * fw))
            patch = lum[round(y0 * AGE_SIZE):round(y1 * AGE_SIZE), round(left * AGE_SIZE):round(right * AGE_SIZE)]
            total += (np.median(patch) - patch).clip(0).mean()
    return total


@pytest.mark.parametrize("gender", ["female", "male"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ageing_grows_band_by_band_and_young_faces_have_no_folds(gender, seed):
    """Issue #14: a described "young woman" was drawn with deep nasolabial folds that read 45+."""
    folds = {band: fold_depth(aged(gender, band, seed)) for band in BANDS}
    lines = {band: line_darkness(aged(gender, band, seed)) for band in BANDS}
    for band in ("child", "teen", "twenties"):
        assert abs(folds[band]) < 4, (band, folds)                   # no folds at all
        assert abs(lines[band] - lines["twenties"]) < 1.5, (band, lines)
    assert folds["twenties"] + 8 < folds["thirties"] < folds["middle"] - 8 < folds["senior"] - 16, folds
    assert lines["thirties"] < lines["middle"] - 4 < lines["senior"] - 8, lines


def test_proportions_age_with_the_band():
    for seed in (1, 2):
        p = {band: decode(aged("female", band, seed)) for band in BANDS}
        assert p["child"].eye_size > p["twenties"].eye_size and p["child"].face_length < p["twenties"].face_length
        lips = [p[band].upper_lip + p[band].lower_lip for band in ("thirties", "middle", "senior")]
        ears = [p[band].ear_size for band in ("thirties", "middle", "senior")]
        cheeks = [p[band].cheek_fullness for band in BANDS]
        assert lips == sorted(lips, reverse=True) and ears == sorted(ears) and cheeks == sorted(cheeks, reverse=True)


# -- style remix ------------------------------------------------------------------------------

SEED_SENTENCE = {"hair_style": "bowl", "eye_tilt": -0.7, "mouth_corners": 0.35, "skin_tone": "medium", "wrinkles": 0.0,
                 "beard_tidy": True}


@pytest.mark.parametrize("layers", ["coarse", "middle", "fine"])
def test_a_style_remix_keeps_every_described_attribute(layers):
    """Issue #14: a style remix of the seed sentence's bearded man took the beard off, changed
    the skin tone and added age lines. What was said stays; the rest of the layers change."""
    described = face(7, **SEED_SENTENCE, moles=("cheek",), eye_colour="hazel")
    asked = [*SEED_SENTENCE, "moles", "eye_colour", "glasses", "beard"]
    before = decode(described)
    changed = set()
    for seed in range(8):
        after = decode(BACKEND.remix(described, 500 + seed, BACKEND.layer_ranges[layers], asked))
        assert (after.hair_style, after.skin_tone, after.wrinkles, after.beard, after.beard_tidy, after.glasses,
                after.mouth_corners, after.eye_tilt, after.mole_cheek, after.eye_colour) == (
                before.hair_style, before.skin_tone, before.wrinkles, before.beard, True, False,
                before.mouth_corners, before.eye_tilt, before.mole_cheek, "hazel")
        changed |= {spec.name for spec in PARAMS if getattr(after, spec.name) != getattr(before, spec.name)}
    rows = range(BACKEND.num_ws)[BACKEND.layer_ranges[layers]]
    assert changed and all(SPECS[name].row in rows for name in changed)


def test_a_remix_that_keeps_nothing_is_the_plain_latent_remix():
    code = face(7, **SEED_SENTENCE)
    fine = BACKEND.layer_ranges["fine"]
    assert BACKEND.remix(code, 3, fine) == remix(code, BACKEND.sample(3).base, fine)
    assert any(decode(BACKEND.remix(code, seed, fine)).beard != decode(code).beard for seed in range(8))
