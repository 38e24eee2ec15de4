"""Colours of skin, hair, eyes, lips and clothes from the colour parameters."""

from __future__ import annotations

import colorsys

import numpy as np

from facegen.montage.params import MontageParams, positive

Colour = tuple[int, int, int]

BACKGROUND: Colour = (214, 218, 222)
_SKIN_RAMP = np.array([(246, 222, 204), (232, 194, 166), (208, 160, 124), (170, 118, 82), (104, 68, 48)], float)
_HAIR_RAMP = np.array([(226, 204, 150), (176, 132, 82), (104, 70, 44), (52, 38, 30), (22, 20, 20)], float)
_RED_HAIR = np.array((160, 72, 36), float)
_GREY_HAIR = np.array((196, 194, 190), float)
_IRIS_RAMP = np.array([(48, 30, 22), (92, 62, 38), (104, 112, 80), (96, 132, 160)], float)
# an eye colour said in words (MontageParams.eye_colour), in place of the sampled ramp's
EYE_COLOURS: dict[str, Colour] = {"dark": (40, 26, 20), "brown": (100, 62, 34), "hazel": (128, 98, 50),
                                  "green": (78, 128, 70), "blue": (76, 128, 186), "grey": (136, 144, 152)}
# a beard colour said apart from the hair (MontageParams.beard_colour): (darkness, red, grey) as
# the hair parameters would give it
BEARD_SHADES: dict[str, tuple[float, float, float]] = {
    "black": (0.97, -1.0, -2.0), "brown": (0.62, -1.0, -2.0), "blond": (0.14, -1.0, -2.0),
    "red": (0.45, 0.85, -2.0), "grey": (0.6, -1.0, 0.6), "white": (0.6, -1.0, 0.97)}


def _ramp(ramp: np.ndarray, t: float) -> np.ndarray:
    x = min(max(t, 0.0), 1.0) * (len(ramp) - 1)
    i = min(int(x), len(ramp) - 2)
    return ramp[i] + (ramp[i + 1] - ramp[i]) * (x - i)


def _rgb(c: np.ndarray) -> Colour:
    return tuple(int(round(min(255.0, max(0.0, v)))) for v in c)  # type: ignore[return-value]


def mix(a: Colour, b: Colour, t: float) -> Colour:
    return _rgb(np.asarray(a, float) * (1 - t) + np.asarray(b, float) * t)


def scale(c: Colour, k: float) -> Colour:
    return _rgb(np.asarray(c, float) * k)


def hair_rgb(darkness: float, red: float, grey: float) -> np.ndarray:
    """The hair colour the three hair parameters draw (RGB floats)."""
    hair = _ramp(_HAIR_RAMP, darkness)
    red = positive(red) * (1 - 0.6 * darkness)
    hair = hair * (1 - red) + _RED_HAIR * red
    grey = positive(grey)
    return hair * (1 - grey) + (_GREY_HAIR + 40 * grey) * grey


class Palette:
    def __init__(self, p: MontageParams) -> None:
        skin = _ramp(_SKIN_RAMP, p.skin_tone)
        skin = skin + np.array([6.0, -2.0, -6.0]) * p.skin_warmth
        self.skin = _rgb(skin)
        self.skin_shadow = _rgb(skin * np.array([0.62, 0.50, 0.48]))
        self.neck = _rgb(skin * 0.90)
        self.line = _rgb(skin * np.array([0.55, 0.42, 0.38]))          # creases and outlines
        self.highlight = _rgb(skin + (255 - skin) * 0.35)
        self.skin_light = _rgb(skin + (255 - skin) * 0.3 + np.array([4.0, 4.0, 8.0]))

        hair = hair_rgb(p.hair_darkness, p.hair_red, p.hair_grey)
        self.hair, self.hair_dark, self.hair_light = _rgb(hair), _rgb(hair * 0.62), _rgb(hair + (255 - hair) * 0.22)
        self.brow = _rgb(hair * 0.8)
        beard = hair if p.beard_colour is None else hair_rgb(*BEARD_SHADES[p.beard_colour])
        self.beard, self.beard_dark = _rgb(beard), _rgb(beard * 0.62)
        self.beard_light = _rgb(beard + (255 - beard) * 0.22)

        self.iris = _rgb(_ramp(_IRIS_RAMP, p.iris_colour)) if p.eye_colour is None else EYE_COLOURS[p.eye_colour]
        self.eye_white = (236, 232, 228)
        lip = skin * np.array([0.86, 0.62, 0.62]) * (1 - 0.35 * p.lip_colour) + np.array((176, 52, 64)) * 0.35 * p.lip_colour
        self.lip = _rgb(lip)
        self.lip_dark = _rgb(lip * 0.6)

        r, g, b = colorsys.hsv_to_rgb(p.clothes_hue, 0.35, 0.25 + 0.6 * p.clothes_shade)
        self.clothes = _rgb(np.array((r, g, b)) * 255)
        self.clothes_dark = _rgb(np.array((r, g, b)) * 255 * 0.7)
        self.glasses = {"black": (28, 26, 26), "brown": (86, 52, 30), "metal": (150, 146, 140)}[p.glasses_colour]


def to_lab(colour: Colour) -> np.ndarray:
    """CIE L*a*b* (D65) of an sRGB colour: distances in it follow what people see."""
    rgb = np.asarray(colour, float) / 255.0
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])
