"""Issue #14's marks and features on montage renders: each attribute said in words shows, checked
in pixels against the same face without it (several seeds each), at places the renderer's own
geometry (the head outline, the eye line) gives."""

from __future__ import annotations

import numpy as np
import pytest

from facegen.attributes import MARK_PLACES, Attributes
from facegen.montage import MontageBackend, decode
from facegen.montage.palette import BACKGROUND, EYE_COLOURS
from facegen.montage.render import CX, EYE_LINE, SCARS, TEMPLE_Y, head, mark_spot

BACKEND = MontageBackend()
SIZE = 384
SEEDS = (1, 2, 3)
# a plain face to change one thing on: fair skin and black hair swept back, so marks, brows and
# the hairline stand out; nothing over the features
PLAIN = dict(gender="male", age_band="twenties", skin_tone="fair", hair_colour="black", hair_style="short",
             smile=-0.2)


def face(seed: int, **attributes):
    return BACKEND.from_attributes(Attributes(**{**PLAIN, **attributes}), seed)


def picture(code, size: int = SIZE) -> np.ndarray:
    (image,) = BACKEND.render([code], size)
    return np.asarray(image, dtype=np.float64)


def luminance(pixels: np.ndarray) -> np.ndarray:
    return pixels @ np.array([0.299, 0.587, 0.114])


def px(v: float, size: int = SIZE) -> int:
    return round(v * size)


def darker(before: np.ndarray, after: np.ndarray, by: float = 25) -> np.ndarray:
    """Where `after` is darker than `before` by more than `by` luminance levels."""
    return luminance(before) - luminance(after) > by


def background(pixels: np.ndarray) -> np.ndarray:
    return np.all(np.abs(pixels - BACKGROUND) < 3, axis=-1)


# -- marks ------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_freckles_add_small_dark_dots_over_the_nose_and_cheeks(seed):
    plain = luminance(picture(face(seed)))
    dots = {amount: plain - luminance(picture(face(seed, freckles=amount))) > 8 for amount in (0.3, 1.0)}
    band = np.zeros_like(plain, bool)
    band[px(EYE_LINE + 0.03):px(EYE_LINE + 0.14), px(CX - 0.2):px(CX + 0.2)] = True
    for amount, changed in dots.items():
        assert not changed[~band].any(), f"freckles {amount} changed pixels off the nose and cheeks"
    few, many = dots[0.3].sum(), dots[1.0].sum()
    assert 40 < few and 2.5 * few < many, (few, many)
    # dots, not a smear: most of the band stays as it was
    assert many < 0.12 * band.sum()
    assert not (plain - luminance(picture(face(seed, freckles=0.0))) != 0).any()


@pytest.mark.parametrize("place", MARK_PLACES)
def test_a_mole_darkens_a_small_spot_at_its_place(place):
    for seed in SEEDS:
        code = face(seed, moles=(place,))
        (side,) = {getattr(decode(code), f"mole_{place}")} - {None}
        x, y = mark_spot(head(decode(code)), place, side)
        spot = darker(picture(face(seed)), picture(code), 40)
        ys, xs = np.nonzero(spot)
        assert 8 <= len(xs) <= 40, (seed, len(xs))          # about a 4-pixel dot at 384 px
        assert abs(xs.mean() - x * SIZE) < 2 and abs(ys.mean() - y * SIZE) < 2, (seed, side)


def test_a_mole_goes_to_the_side_the_seed_picks_when_none_is_said():
    sides = {seed: decode(face(seed, moles=("cheek",))).mole_cheek for seed in range(12)}
    assert set(sides.values()) == {"left", "right"}
    assert all(decode(face(seed, moles=("cheek",))).mole_cheek == side for seed, side in sides.items())


@pytest.mark.parametrize("place", MARK_PLACES)
def test_a_scar_draws_a_pale_line_with_dark_edges_at_its_place(place):
    (x, y), (dx, dy) = SCARS[place]
    for seed in SEEDS:
        code = face(seed, scars=(place,))
        side = 1 if getattr(decode(code), f"scar_{place}") == "right" else -1
        fw = head(decode(code)).fw
        before, after = luminance(picture(face(seed))), luminance(picture(code))
        near = np.zeros_like(before, bool)
        cx, cy, reach = CX + side * x * fw, EYE_LINE + y, max(abs(dx), abs(dy)) / 2 + 0.012
        near[px(cy - reach):px(cy + reach), px(cx - reach):px(cx + reach)] = True
        changed = np.abs(after - before) > 15
        assert not changed[~near].any(), (seed, "a scar changed pixels away from its place")
        assert changed.sum() > 25, (seed, changed.sum())
        # darker edges and stitches on every skin; on the brow the pale line cuts through the hair
        assert (before - after > 15).sum() > 10


@pytest.mark.parametrize("seed", SEEDS)
def test_dimples_dent_both_cheeks_beside_the_mouth_and_deepen_in_a_smile(seed):
    def dent(**said) -> np.ndarray:
        return luminance(picture(face(seed, **said))) - luminance(picture(face(seed, dimples=True, **said)))

    for said in ({}, {"smile": 0.8}):
        changed = dent(**said) > 12
        ys, xs = np.nonzero(changed)
        assert (xs < px(CX - 0.1)).sum() > 10 and (xs > px(CX + 0.1)).sum() > 10, said
        assert ys.min() > px(EYE_LINE + 0.14) and ys.max() < px(EYE_LINE + 0.27)
    assert dent(smile=0.8).clip(0).sum() > dent().clip(0).sum()


# -- features ---------------------------------------------------------------------------------

def hairline_y(pixels: np.ndarray, x: float) -> float:
    """Where black hair ends coming down the column at x (canvas units)."""
    column = luminance(pixels[:, px(x)])
    top = px(0.14)
    skin = np.nonzero(column[top:px(0.42)] > 120)[0]
    return (top + skin[0]) / SIZE


@pytest.mark.parametrize("seed", SEEDS)
def test_a_high_forehead_starts_the_hair_higher(seed):
    low, high = (hairline_y(picture(face(seed, forehead_height=d)), CX) for d in (-1.0, 1.0))
    assert high < low - 0.05, (low, high)


def row_width(pixels: np.ndarray, y: float) -> float:
    """Width of what is not background along the row at y (canvas units)."""
    inside = np.nonzero(~background(pixels[px(y)]))[0]
    return (inside[-1] - inside[0]) / SIZE


@pytest.mark.parametrize("seed", SEEDS)
def test_a_broad_forehead_widens_the_head_at_the_temples(seed):
    narrow, broad = (row_width(picture(face(seed, forehead_width=d)), TEMPLE_Y) for d in (-1.0, 1.0))
    assert broad > narrow + 0.04, (narrow, broad)


@pytest.mark.parametrize("seed", SEEDS)
def test_full_cheeks_round_the_face_out_below_the_cheekbones_and_hollow_ones_shadow_it(seed):
    hollow, full = picture(face(seed, cheek_fullness=-1.0)), picture(face(seed, cheek_fullness=1.0))
    y = EYE_LINE + 0.15
    assert row_width(full, y) > row_width(hollow, y) + 0.02
    h = head(decode(face(seed)))
    box = (slice(px(EYE_LINE + 0.09), px(EYE_LINE + 0.14)), slice(px(CX + h.hc * 0.55), px(CX + h.hc * 0.85)))
    assert luminance(full[box]).mean() > luminance(hollow[box]).mean() + 10


@pytest.mark.parametrize("seed", SEEDS)
def test_prominent_cheekbones_catch_light_above_a_deeper_hollow(seed):
    def relief(code) -> float:
        pixels, h = luminance(picture(code)), head(decode(code))
        lit = pixels[px(EYE_LINE + 0.055):px(EYE_LINE + 0.075), px(CX + h.hc * 0.5):px(CX + h.hc * 0.7)].mean()
        under = pixels[px(EYE_LINE + 0.105):px(EYE_LINE + 0.125), px(CX + h.hc * 0.62):px(CX + h.hc * 0.82)].mean()
        return lit - under

    flat, prominent = relief(face(seed, cheekbones=-1.0)), relief(face(seed, cheekbones=1.0))
    assert prominent > flat + 12, (flat, prominent)


def eye_centre(code) -> tuple[float, float, float]:
    """The image-right eye's centre and width, from its parameters (render._eye_geometry)."""
    p = decode(code)
    fw = head(p).fw
    return CX + p.eye_spacing * fw / 2, EYE_LINE + p.eye_height, p.eye_size * fw


@pytest.mark.parametrize("seed", SEEDS)
def test_deep_set_eyes_sit_in_shadow_under_the_brow_protruding_ones_catch_light(seed):
    def socket(code) -> float:
        x, y, w = eye_centre(code)
        return luminance(picture(code)[px(y - 0.04):px(y - 0.012), px(x - w * 0.4):px(x + w * 0.4)]).mean()

    protruding, middle, deep = (socket(face(seed, eye_depth=d)) for d in (-1.0, 0.0, 1.0))
    assert protruding > middle + 4 and middle > deep + 8, (protruding, middle, deep)


def iris_colour(code) -> np.ndarray:
    """The mean colour of the image-right iris, sampled beside the pupil (clear of the lid, the
    pupil and the catch-light)."""
    p = decode(code)
    x, y, w = eye_centre(code)
    cx, cy, r = x + 0.03 * w, y - w * p.eye_openness * 0.3, p.iris_size * w / 2
    pixels = picture(code)
    return np.mean([pixels[px(cy + 0.65 * r * np.sin(a)), px(cx + 0.65 * r * np.cos(a))] for a in (0.0, 0.5, 2.6, np.pi)],
                   axis=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_each_eye_colour_reads_as_itself(seed):
    seen = {colour: iris_colour(face(seed, eye_colour=colour)) for colour in EYE_COLOURS}
    for colour, rgb in seen.items():
        nearest = min(EYE_COLOURS, key=lambda c: np.linalg.norm(rgb - EYE_COLOURS[c]))
        assert nearest == colour, (colour, rgb)
    blue, brown, green = seen["blue"], seen["brown"], seen["green"]
    assert blue[2] - blue[0] > brown[2] - brown[0] + 80          # blue eyes raise the blue channel
    assert green[1] - (green[0] + green[2]) / 2 > 30
    assert luminance(seen["dark"]) < luminance(brown) - 15 < luminance(seen["grey"]) - 40


def brow_top(code, size: int = 768) -> np.ndarray:
    """The top edge of the image-right brow, column by column from its inner end outward (y in
    pixels of a size-pixel render, big enough for a brow's few pixels of rise to measure)."""
    p = decode(code)
    fw = head(p).fw
    pixels = luminance(picture(code, size))
    top, bottom = px(EYE_LINE - 0.11, size), px(EYE_LINE - 0.015, size)
    tops = []
    for x in np.linspace(CX + 0.1 * fw, CX + (0.075 + p.brow_length) * fw, 24):
        dark = np.nonzero(pixels[top:bottom, px(x, size)] < 90)[0]
        tops.append(top + dark[0] if len(dark) else np.nan)
    return np.array(tops, float)


@pytest.mark.parametrize("seed", SEEDS)
def test_arched_brows_rise_in_the_middle_straight_ones_lie_flat_angled_ones_break(seed):
    shapes = {shape: brow_top(face(seed, brow_shape=shape, brow_thickness=0.7))
              for shape in ("straight", "arched", "angled")}

    def rise(top: np.ndarray) -> float:
        """How far the brow's highest point sits above its two ends, in pixels."""
        return (top[0] + top[-1]) / 2 - np.nanmin(top)

    assert rise(shapes["arched"]) > rise(shapes["straight"]) + 4
    assert rise(shapes["straight"]) < 8

    def bend(top: np.ndarray) -> float:
        """How sharply the brow turns at its peak: the slope of the six columns after the peak
        less that of the six before (a corner turns all at once, an arch a little at a time)."""
        peak, columns = int(np.nanargmin(top)), np.arange(len(top))
        before, after = slice(max(0, peak - 6), peak + 1), slice(peak, peak + 7)
        return np.polyfit(columns[after], top[after], 1)[0] - np.polyfit(columns[before], top[before], 1)[0]

    assert bend(shapes["angled"]) > 1.5 * bend(shapes["arched"]) > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_a_high_nose_bridge_is_modelled_in_light_and_shadow_a_low_one_barely(seed):
    def relief(code) -> float:
        row = luminance(picture(code)[px(EYE_LINE + 0.04):px(EYE_LINE + 0.07), px(CX - 0.05):px(CX + 0.05)])
        return float(row.max(axis=1).mean() - row.min(axis=1).mean())

    low, high = relief(face(seed, nose_bridge=-1.0)), relief(face(seed, nose_bridge=1.0))
    assert high > low + 20, (low, high)


@pytest.mark.parametrize("seed", SEEDS)
def test_big_ears_show_more_beside_the_face(seed):
    def ear(code) -> int:
        pixels, h = picture(code), head(decode(code))
        beside = ~background(pixels[px(EYE_LINE - 0.05):px(EYE_LINE + 0.2), px(CX + h.hc + 0.02):px(CX + h.hc + 0.1)])
        return int(beside.sum())

    small, big = ear(face(seed, ear_size=-1.0)), ear(face(seed, ear_size=1.0))
    assert big > 1.5 * small > 0, (small, big)


@pytest.mark.parametrize("seed", SEEDS)
def test_hairlines_keep_their_shape(seed):
    h = head(decode(face(seed)))

    def profile(hairline: str) -> dict[str, float]:
        pixels = picture(face(seed, hairline=hairline))
        at = lambda u: np.mean([hairline_y(pixels, CX + s * u * h.ht * 0.9) for s in (1, -1)])  # noqa: E731
        return {"centre": hairline_y(pixels, CX), "near": at(0.3), "mid": at(0.5), "corner": at(0.65)}

    straight, m, peak, receding = (profile(s) for s in ("straight", "m_shaped", "widows_peak", "receding"))
    assert abs(straight["mid"] - straight["centre"]) < 0.01            # level across the forehead
    assert m["corner"] < m["centre"] - 0.03                            # M자: the temple corners climb back
    assert peak["centre"] > peak["near"] + 0.01                        # a point comes down in the middle
    assert receding["centre"] < straight["centre"] - 0.02               # the whole line has gone back
    assert receding["corner"] < receding["centre"]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_beard_can_have_its_own_colour(seed):
    chin = (slice(px(EYE_LINE + 0.25), px(EYE_LINE + 0.28)), slice(px(CX - 0.06), px(CX + 0.06)))
    crown = (slice(px(0.15), px(0.18)), slice(px(CX - 0.05), px(CX + 0.05)))
    black, white, red = (picture(face(seed, beard="full", beard_colour=colour)) for colour in (None, "white", "red"))
    assert luminance(white[chin]).mean() > luminance(black[chin]).mean() + 80
    assert (red[chin][..., 0] - red[chin][..., 2]).mean() > 40
    for pixels in (black, white, red):
        assert luminance(pixels[crown]).mean() < 60                     # the hair stays black
