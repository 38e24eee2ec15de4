"""Draw a montage face from its parameters: a composite-style portrait in Pillow.

Layout in canvas units (0..1, y down): the eye line is fixed at EYE_LINE and the face is centred
on CX; every feature is placed from the face width and its own region's parameters only, so a
region's parameters never move pixels outside that region's box (see regions.py).
Painting order (STEPS, at the end): hair behind the head, neck and clothes, ears, the shaded
face, age lines, nose, eyes, brows, skin marks (freckles, moles, scars), beard, mouth, moustache,
hair in front, glasses. Each step
declares which regions it reads, so a region's candidates recompute only those steps
(`redraw`) and repaint only the region's box (`RegionPainter`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from facegen.backend import MAX_SIZE
from facegen.montage.canvas import Box, Canvas, Op, Sketch, shade_cell
from facegen.montage.palette import BACKGROUND, Palette, mix, scale
from facegen.montage.params import MARK_PLACES, MontageParams, positive
from facegen.montage.shapes import bezier, ellipse, hermite, mirror, quad, rotate, stroke, taper

CX = 0.5
EYE_LINE = 0.45
TEMPLE_Y = 0.35          # where the skull's curve meets the side of the face
CHEEK_Y = EYE_LINE + 0.06
SKULL_RY = 0.22
HAIRLINE_END_Y = 0.31    # hairline meets the temples here whatever its shape
NECK_TOP = 0.6           # hidden behind the face; nothing below the neck is drawn above it
CHEEK_BULGE = 0.016      # how far full (+) or hollow (−) cheeks move the contour, at most
MIN_SIZE = 16

# Fixed pseudo-random jitter for hair strands and rough beards: the same for every face, so
# morphs never flicker.
_JITTER = np.random.default_rng(7).uniform(-1.0, 1.0, size=(64, 4))
_TUFTS = np.random.default_rng(11).uniform(0.0, 1.0, size=97)
# Freckles, in the order they appear as there are more: (across −1 … 1, down 0 … 1, size 0 … 1).
_FRECKLES = np.random.default_rng(13).uniform((-1.0, 0.0, 0.0), (1.0, 1.0, 1.0), size=(90, 3))


@dataclass(frozen=True)
class Head:
    """Outline of the head from the face and jaw parameters."""
    fw: float           # face width at the cheekbones
    hc: float           # half of fw
    ht: float           # half width at the temples
    chin_y: float
    right_upper: np.ndarray   # crown → temple → cheek (face parameters only)
    right_lower: np.ndarray   # cheek → jaw angle → chin (jaw parameters)

    @property
    def outline(self) -> np.ndarray:
        right = np.concatenate([self.right_upper, self.right_lower[1:]])
        return np.concatenate([right, mirror(right)[1:-1]])

    @property
    def lower(self) -> np.ndarray:
        """Cheek to cheek around the chin (right then left)."""
        return np.concatenate([self.right_lower, mirror(self.right_lower)[1:]])


# The regions whose parameters shape the head (tests check it); others reuse a face's head.
HEAD_REGIONS = frozenset({"face", "jaw"})


def head(p: MontageParams) -> Head:
    hc = p.face_width / 2
    ht = hc * p.forehead_width
    crown = ellipse(CX, TEMPLE_Y, ht, SKULL_RY, 20, -np.pi / 2, 0.0)
    crown = np.vstack([crown, [CX + ht, TEMPLE_Y]])
    bulge = 0.016 * p.cheekbones
    temple_to_cheek = hermite((CX + ht, TEMPLE_Y), (0.25, 1), (CX + hc + bulge, CHEEK_Y), (0, 1), 10)
    chin_y = EYE_LINE + p.face_length
    cheek = np.array([CX + hc + bulge, CHEEK_Y])
    gonion = np.array([CX + hc * p.jaw_width, chin_y - 0.075 - 0.02 * p.jaw_angle])
    corner = np.array([CX + p.face_width * p.chin_width / 2, chin_y - 0.012 - 0.01 * p.jaw_angle])
    chin = np.array([CX, chin_y])
    smooth = (corner - cheek) / np.linalg.norm(corner - cheek)
    towards_corner = (corner - gonion) / np.linalg.norm(corner - gonion)
    a = p.jaw_angle
    arrive = (1 - a) * smooth + a * np.array([-0.15, 1.0])
    leave = (1 - a) * smooth + a * towards_corner
    cheek_to_jaw = hermite(cheek, (0, 1), gonion, arrive, 12)
    # full cheeks round the contour out between cheekbone and jaw, hollow ones pull it in
    cheek_to_jaw[:, 0] += CHEEK_BULGE * p.cheek_fullness * np.sin(np.linspace(0.0, np.pi, 12))
    lower = np.concatenate([
        cheek_to_jaw,
        hermite(gonion, leave, corner, (-1, 0.45 - 0.3 * a), 10)[1:],
        hermite(corner, (-1, 0.45 - 0.3 * a), chin, (-1, 0), 8)[1:],
    ])
    return Head(p.face_width, hc, ht, chin_y, np.concatenate([crown, temple_to_cheek[1:]]), lower)


def render(p: MontageParams, size: int = 512, window: Box | None = None) -> Image.Image:
    """The face at size × size pixels, or only the part inside `window` (left, top, right, bottom)."""
    check_size(size)
    return paint(draw(p, size), window)


@dataclass(frozen=True)
class Drawing:
    """One face's drawing operations at one size, per step of STEPS; no pixels yet."""
    size: int
    head: Head
    ops: tuple[tuple[Op, ...], ...]


def draw(p: MontageParams, size: int) -> Drawing:
    """Every step's geometry for the face."""
    h = head(p)
    return Drawing(size, h, _sketch(p, h, size, STEPS))


def redraw(drawing: Drawing, p: MontageParams, region: str) -> Drawing:
    """The drawing of a face that differs from `drawing`'s only in `region`'s parameters: the
    steps that read that region are drawn again, every other step's ops are reused."""
    again = [step for step in STEPS if region in step.reads]
    h = head(p) if region in HEAD_REGIONS else drawing.head
    fresh = iter(_sketch(p, h, drawing.size, again))
    return Drawing(drawing.size, h, tuple(next(fresh) if region in step.reads else ops
                                    for step, ops in zip(STEPS, drawing.ops)))


def paint(drawing: Drawing, window: Box | None = None) -> Image.Image:
    """The drawing's pixels: the whole picture, or only the part inside `window`."""
    canvas = Canvas(drawing.size, align_window(window, drawing.size), BACKGROUND)
    for ops in drawing.ops:
        canvas.play(ops)
    return _crop(canvas, window)


class RegionPainter:
    """Paints faces that differ from a base face only in one region, inside a window.

    The window starts from the base face's canvas as it stands before the first step that reads
    the region (painted once), so each face costs only the region's own geometry and the
    pixels of the later steps inside the window.
    """

    def __init__(self, base: Drawing, region: str, window: Box | None = None) -> None:
        self.base, self.region, self.window = base, region, window
        reads = [region in step.reads for step in STEPS]
        self._first = reads.index(True) if any(reads) else len(STEPS)
        self._start = Canvas(base.size, align_window(window, base.size), BACKGROUND)
        for ops in base.ops[:self._first]:
            self._start.play(ops)

    def __call__(self, p: MontageParams) -> Image.Image:
        canvas = self._start.copy()
        for ops in redraw(self.base, p, self.region).ops[self._first:]:
            canvas.play(ops)
        return _crop(canvas, self.window)


def check_size(size: int) -> None:
    if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"montage renders between {MIN_SIZE} and {MAX_SIZE} pixels a side, not {size!r}")


def align_window(window: Box | None, size: int) -> Box:
    """The window widened to the shading grid (the whole picture for None)."""
    if window is None:
        return 0, 0, size, size
    cell = shade_cell(size)
    left, top, right, bottom = window
    return left // cell * cell, top // cell * cell, min(size, -(-right // cell) * cell), min(size, -(-bottom // cell) * cell)


def _crop(canvas: Canvas, window: Box | None) -> Image.Image:
    picture = canvas.finish()
    if window is None:
        return picture
    left, top = window[0] - canvas.window[0], window[1] - canvas.window[1]
    return picture.crop((left, top, left + window[2] - window[0], top + window[3] - window[1]))


def _sketch(p: MontageParams, h: Head, size: int, steps) -> tuple[tuple[Op, ...], ...]:
    sketch = Sketch(size)
    colours = Palette(p)
    out = []
    for step in steps:
        step.draw(sketch, p, h, colours)
        out.append(sketch.take())
    return tuple(out)


# -- hair ------------------------------------------------------------------------------------

_LONG_STYLES = ("bob", "long", "wavy", "curly", "bangs")


def _hair_end(p: MontageParams) -> float:
    """How far down hanging hair reaches."""
    if p.hair_style == "bob":
        return 0.64 + 0.1 * p.hair_length
    if p.hair_style == "curly":
        return 0.62 + 0.26 * p.hair_length
    return 0.80 + 0.22 * p.hair_length


def _volume(p: MontageParams) -> float:
    if p.hair_style in ("ponytail", "bun", "buzz"):
        return 0.006
    return 0.014 + 0.03 * p.hair_volume + (0.02 if p.hair_style == "curly" else 0.0)


def _hair_dome(h: Head, vol: float, n: int = 28) -> np.ndarray:
    """The top of the hair from the image-left side over the crown to the right side."""
    return ellipse(CX, TEMPLE_Y, h.ht + vol + 0.008, SKULL_RY + vol, n, np.pi, 2 * np.pi)


def _wobble(points: np.ndarray, amplitude: float, waves: float, phase: float = 0.0) -> np.ndarray:
    """Push an outline sideways in a wave (wavy and curly hair)."""
    t = np.linspace(0, 1, len(points))
    out = np.array(points, float)
    out[:, 0] += amplitude * np.sin(2 * np.pi * waves * t + phase)
    return out


def _hair_back(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    style = p.hair_style
    vol = _volume(p)
    if style in _LONG_STYLES:
        end = _hair_end(p)
        side = h.hc + 0.035 + vol
        right = np.concatenate([
            hermite((CX + h.ht + vol + 0.008, TEMPLE_Y), (0, 1), (CX + side, EYE_LINE + 0.08), (0.1, 1), 8),
            hermite((CX + side, EYE_LINE + 0.08), (0.1, 1), (CX + side + 0.02, end), (0.1, 1), 10)[1:],
        ])
        if style == "wavy":
            right = _wobble(right, 0.012, 3.0)
        bottom = quad((CX + side + 0.02, end), (CX, end + 0.03), (CX - side - 0.02, end), 10)
        shape = np.concatenate([_hair_dome(h, vol), right, bottom[1:-1], mirror(right)])
        if style == "curly":
            c.polygon(shape, col.hair)
            for x, y in shape[::2]:
                r = 0.028 + 0.01 * p.hair_volume
                c.polygon(ellipse(x, y, r, r, 16), col.hair)
        else:
            c.polygon(shape, col.hair)
        for i in range(10):
            jx = _JITTER[i]
            x0 = CX + (side + 0.01) * (1 if i % 2 else -1) * (0.75 + 0.2 * jx[0])
            c.line(quad((x0, EYE_LINE), (x0 + 0.01 * jx[1], (EYE_LINE + end) / 2), (x0 + 0.015 * jx[2], end - 0.01)),
                   col.hair_dark, 0.0025)
    elif style == "ponytail":
        # the tail hangs behind the head, showing beside the neck on the side away from the part
        sgn = -1 if p.hair_part > 0 else 1
        end = 0.66 + 0.2 * p.hair_length
        spine = quad((CX + sgn * h.ht * 0.6, 0.3), (CX + sgn * (h.hc + 0.07), 0.42), (CX + sgn * (h.hc + 0.02), end), 16)
        tail = stroke(spine, taper(16, 0.075 + 0.03 * p.hair_volume, 0.3, 0.5, 0.2))
        c.polygon(tail, col.hair)
        with c.clipped(tail):
            for k in range(5):
                c.line(spine + np.array([sgn * 0.01 * (k - 2), 0.0]), col.hair_dark if k % 2 else col.hair_light, 0.002)
    elif style == "bun":
        r = 0.055 + 0.02 * p.hair_volume
        c.polygon(ellipse(CX, TEMPLE_Y - SKULL_RY - r * 0.55, r, r * 0.85, 28), col.hair)
        c.line(ellipse(CX, TEMPLE_Y - SKULL_RY - r * 0.55, r * 0.6, r * 0.45, 16, 3.3, 6.0), col.hair_dark, 0.003)


def _hairline(p: MontageParams, h: Head) -> np.ndarray:
    """Right temple → centre → left temple; the ends are fixed, the shape is the forehead's."""
    u = np.linspace(1.0, -1.0, 33)
    a = np.abs(u)
    drop = HAIRLINE_END_Y - p.hairline_height
    shape = p.hairline_shape
    if shape == "straight":
        y = p.hairline_height + drop * a ** 4
    elif shape == "round":
        y = p.hairline_height + drop * a ** 2
    elif shape == "widows_peak":
        y = p.hairline_height + drop * a ** 2.5 + 0.022 * np.clip(1 - a / 0.22, 0, 1) ** 1.5
    else:  # m_shaped: the temples climb back (a bump that vanishes at the centre and the ends)
        y = p.hairline_height + 0.01 + (drop - 0.01) * a ** 4 - 0.4 * a ** 2 * (1 - a)
    # a receding hairline: the whole line goes back, the temple corners furthest; the ends stay
    r = p.hairline_recession
    y = y - r * (0.05 + 0.05 * a ** 2) * (1 - a ** 8)
    x = CX + u * h.ht * 0.9
    crown = TEMPLE_Y - SKULL_RY * np.sqrt(1 - (x - CX) ** 2 / h.ht ** 2)
    return np.stack([x, np.maximum(y, crown + 0.015)], axis=1)   # never past the top of the head


def _cap(p: MontageParams, h: Head, vol: float, side_y: float) -> np.ndarray:
    """Hair covering the skull down to the hairline, with short sides and sideburns."""
    dome = _hair_dome(h, vol)
    x_in = CX + h.ht * 0.97
    right_side = np.array([[CX + h.ht + vol + 0.004, side_y], [x_in + 0.012, side_y + 0.02], [x_in, side_y + 0.02],
                           [CX + h.ht * 0.93, HAIRLINE_END_Y + 0.02]])
    return np.concatenate([dome, right_side, _hairline(p, h), mirror(right_side)])


def _strands(c: Sketch, p: MontageParams, h: Head, vol: float, colour, light) -> None:
    """Combed lines from the hairline region toward the crown."""
    part = CX + p.hair_part * h.ht * 0.45
    for i in range(14):
        j = _JITTER[i + 10]
        x0 = CX + (i / 13 * 2 - 1) * h.ht * 0.95
        top = (part + (x0 - part) * 0.25, TEMPLE_Y - SKULL_RY - vol * 0.6)
        c.line(quad((x0 + 0.01 * j[0], HAIRLINE_END_Y + 0.01), (x0 + 0.02 * j[1], 0.2 + 0.02 * j[2]), top, 10),
               colour if i % 3 else light, 0.0022)


def _hair_front(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    style = p.hair_style
    vol = _volume(p)
    if style == "bald":
        for sgn in (1, -1):
            fringe = ellipse(CX, TEMPLE_Y + 0.02, h.ht + 0.012, SKULL_RY, 12, -0.02, 0.5)
            inner = ellipse(CX, TEMPLE_Y + 0.02, h.ht - 0.01, SKULL_RY, 12, -0.02, 0.5)[::-1]
            patch = np.concatenate([fringe, inner])
            c.polygon(patch if sgn > 0 else mirror(patch), mix(col.hair, col.skin, 0.35))
        return
    if style == "bowl":
        fringe_y = 0.30 + 0.065 * p.fringe_length
        right = np.array([[CX + h.ht + vol + 0.008, TEMPLE_Y], [CX + h.ht + vol + 0.004, EYE_LINE - 0.012],
                          [CX + h.ht * 0.9, EYE_LINE - 0.012], [CX + h.ht * 0.86, fringe_y + 0.01]])
        edge = np.stack([np.linspace(CX + h.ht * 0.86, CX - h.ht * 0.86, 25),
                         fringe_y + 0.004 * np.abs(np.sin(np.linspace(0, 9 * np.pi, 25)))], axis=1)
        shape = np.concatenate([_hair_dome(h, vol), right, edge, mirror(right)])
        c.polygon(shape, col.hair)
        with c.clipped(shape):
            for i in range(24):
                x = CX + (i / 23 * 2 - 1) * h.ht
                c.line(quad((CX + (x - CX) * 0.3, TEMPLE_Y - SKULL_RY), (x * 1.0 + 0.01 * _JITTER[i, 0], 0.24),
                            (x, fringe_y + 0.01)), col.hair_dark if i % 3 else col.hair_light, 0.0022)
        return
    if style == "buzz":
        cap = _cap(p, h, vol, EYE_LINE - 0.02)
        c.polygon(cap, mix(col.hair, col.skin, 0.5))
        c.texture(cap, col.hair_dark, 1.0, max(1, round(c.units(0.003))))
        return
    tight = style in ("ponytail", "bun")
    cap = _cap(p, h, vol, EYE_LINE - (0.035 if tight else 0.02))
    c.polygon(cap, col.hair)
    with c.clipped(cap):
        _strands(c, p, h, vol, col.hair_dark, col.hair_light)
    if style == "side_part":
        _swoop(c, p, h, vol, col)
    if style in _LONG_STYLES:
        _curtains(c, p, h, vol, col)
    if style == "bangs" or (style == "bob" and p.fringe_length > 0.55):
        _fringe(c, p, h, vol, col)
    if style == "curly":
        for x, y in _hairline(p, h)[::3]:
            r = 0.016 + 0.008 * p.hair_volume
            c.polygon(ellipse(x, y - 0.004, r, r * 0.9, 12), col.hair)
            c.line(ellipse(x, y - 0.004, r * 0.6, r * 0.5, 8, 0.3, 2.8), col.hair_dark, 0.002)


def _swoop(c: Sketch, p: MontageParams, h: Head, vol: float, col: Palette) -> None:
    """A side-parted sweep of hair across the forehead."""
    sgn = 1 if p.hair_part >= 0 else -1
    part_x = CX + sgn * h.ht * 0.45
    far_x = CX - sgn * h.ht * 0.98
    low = 0.255 + 0.05 * p.fringe_length
    top = np.array([[part_x, TEMPLE_Y - SKULL_RY + 0.01]])
    lower = quad((part_x, 0.24), (CX - sgn * h.ht * 0.1, low + 0.015), (far_x, low + 0.04), 14)
    upper = quad((far_x - sgn * 0.01, 0.27), (CX - sgn * h.ht * 0.6, 0.14 - vol), (part_x, TEMPLE_Y - SKULL_RY + 0.01), 12)
    shape = np.concatenate([top, lower, upper])
    c.polygon(shape, col.hair)
    for k in range(5):
        f = (k + 1) / 6
        c.line(quad((part_x, 0.2), (CX - sgn * h.ht * 0.2, 0.2 + (low - 0.2) * f + 0.01),
                    (far_x, 0.26 + (low - 0.22) * f)), col.hair_dark if k % 2 else col.hair_light, 0.0022)


def _curtains(c: Sketch, p: MontageParams, h: Head, vol: float, col: Palette) -> None:
    """Hair hanging down beside the face, parted near the middle."""
    end = _hair_end(p)
    part = CX + p.hair_part * h.ht * 0.3
    for sgn in (1, -1):
        inner = np.concatenate([
            quad((part, 0.2), (part + sgn * h.ht * 0.45, 0.2), (CX + sgn * h.ht * 0.88, 0.33), 10),
            quad((CX + sgn * h.ht * 0.88, 0.33), (CX + sgn * h.hc * 0.86, EYE_LINE + 0.05),
                 (CX + sgn * h.hc * 0.9, min(end, EYE_LINE + 0.22)), 10)[1:],
            quad((CX + sgn * h.hc * 0.9, min(end, EYE_LINE + 0.22)), (CX + sgn * h.hc * 0.85, end - 0.04),
                 (CX + sgn * (h.hc * 0.8), end), 6)[1:],
        ])
        outer = np.concatenate([
            quad((CX + sgn * (h.hc + 0.02 + vol), end), (CX + sgn * (h.hc + 0.03 + vol), EYE_LINE + 0.05),
                 (CX + sgn * (h.ht + vol), TEMPLE_Y), 10),
            ellipse(CX, TEMPLE_Y, h.ht + vol + 0.004, SKULL_RY + vol * 0.8, 10,
                    0.0 if sgn > 0 else np.pi, -np.pi / 2 if sgn > 0 else 1.5 * np.pi)[1:],
        ])
        if p.hair_style == "wavy":
            inner = _wobble(inner, 0.008, 2.5)
            outer = _wobble(outer, 0.01, 2.5, np.pi)
        shape = np.concatenate([inner, outer])
        c.polygon(shape, col.hair)
        with c.clipped(shape):
            for k in range(6):
                f = k / 5
                x0 = CX + sgn * (h.hc * (0.88 + 0.12 * f) + 0.01)
                c.line(quad((part + sgn * 0.03 * f, 0.2), (x0 + sgn * 0.01, EYE_LINE), (x0, end)),
                       col.hair_dark if k % 2 else col.hair_light, 0.0022)


def _fringe(c: Sketch, p: MontageParams, h: Head, vol: float, col: Palette) -> None:
    """Straight-cut bangs over the forehead."""
    fringe_y = 0.31 + 0.06 * p.fringe_length
    top = ellipse(CX, TEMPLE_Y, h.ht * 0.98, SKULL_RY * 0.75, 14, np.pi, 2 * np.pi)
    edge = np.stack([np.linspace(CX + h.ht * 0.95, CX - h.ht * 0.95, 21),
                     fringe_y + 0.005 * np.abs(np.sin(np.linspace(0, 8 * np.pi, 21)))], axis=1)
    shape = np.concatenate([top, [[CX + h.ht * 0.98, fringe_y - 0.01]], edge])
    c.polygon(shape, col.hair)
    with c.clipped(shape):
        for i in range(18):
            x = CX + (i / 17 * 2 - 1) * h.ht
            c.line(quad((x * 0.5 + CX * 0.5, 0.16), (x, 0.25), (x + 0.004 * _JITTER[i, 1], fringe_y + 0.01)),
                   col.hair_dark if i % 3 else col.hair_light, 0.002)


# -- body -------------------------------------------------------------------------------------

def _neck_and_clothes(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    nw = p.neck_width * h.fw / 2
    neck = np.array([[CX - nw, NECK_TOP], [CX + nw, NECK_TOP], [CX + nw * 1.06, 0.96], [CX - nw * 1.06, 0.96]])
    c.polygon(neck, col.neck)
    with c.clipped(neck):  # the jaw's shadow on the neck, in steps that read as a soft edge
        for k in range(6):
            c.polygon(h.lower + np.array([0.0, 0.045 - 0.007 * k]), mix(col.neck, col.skin_shadow, 0.12 + 0.1 * k))
    collar_y = 0.865
    right = quad((CX + nw * 1.02, collar_y), (CX + 0.27, 0.87), (1.02, 0.95), 14)
    collar = quad((CX - nw * 1.02, collar_y), (CX, collar_y + 0.07), (CX + nw * 1.02, collar_y), 12)
    body = np.concatenate([mirror(right), collar[1:-1], right, [[1.02, 1.02], [-0.02, 1.02]]])
    c.polygon(body, col.clothes)
    c.line(collar, col.clothes_dark, 0.006)
    for sgn in (1, -1):
        seam = quad((CX + sgn * nw * 1.1, 0.93), (CX + sgn * nw * 1.4, 0.97), (CX + sgn * nw * 1.45, 1.01))
        c.line(seam, col.clothes_dark, 0.003)


def _ears(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    top = EYE_LINE - 0.012
    bottom = top + p.ear_size
    out = (0.026 + 0.02 * p.ear_protrusion) * p.ear_size / 0.11   # bigger ears stand out further too
    x0 = CX + h.hc - 0.012
    ear = np.concatenate([
        bezier((x0, top + 0.01), (x0 + out * 0.6, top - 0.012), (x0 + out * 1.1, top + 0.004), (x0 + out, top + 0.35 * p.ear_size)),
        bezier((x0 + out, top + 0.35 * p.ear_size), (x0 + out * 0.9, bottom - 0.03), (x0 + out * 0.7, bottom),
               (x0 + 0.006, bottom - 0.008))[1:],
    ])
    helix = bezier((x0 + 0.004, top + 0.02), (x0 + out * 0.7, top + 0.002), (x0 + out * 0.9, top + 0.03),
                   (x0 + out * 0.55, bottom - 0.03))
    bowl = ellipse(x0 + out * 0.35, top + p.ear_size * 0.5, out * 0.28, p.ear_size * 0.22, 16)
    for sgn in (1, -1):
        flip = (lambda pts: pts) if sgn > 0 else mirror
        c.polygon(flip(ear), col.skin)
        c.polygon(flip(bowl), mix(col.skin, col.skin_shadow, 0.55))
        c.line(flip(helix), col.line, 0.003)
        c.line(flip(ear), mix(col.skin, col.line, 0.5), 0.0025)


# -- shading ----------------------------------------------------------------------------------

def _face_shading(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    c.shade_line(h.outline, 0.42, 0.045)
    c.highlight(ellipse(CX, 0.29, h.ht * 0.5, 0.05, 16), 0.35)
    full = p.cheek_fullness
    for sgn in (1, -1):
        # the hollow under the cheekbone: deeper under prominent cheekbones, filled by full cheeks
        hollow = ellipse(CX + sgn * h.hc * 0.72, EYE_LINE + 0.115, 0.05, 0.022 + 0.01 * p.cheekbones, 16)
        c.shade(rotate(hollow, (CX + sgn * h.hc * 0.72, EYE_LINE + 0.115), -20 * sgn),
                (0.05 + 0.4 * p.cheekbones) * (1 - 0.6 * full))
        c.shade(ellipse(CX + sgn * h.ht * 0.92, TEMPLE_Y + 0.02, 0.03, 0.05, 12), 0.25)
        c.highlight(ellipse(CX + sgn * h.hc * 0.6, EYE_LINE + 0.065, 0.045, 0.02, 12), 0.08 + 0.48 * p.cheekbones)
        if full > 0:
            c.highlight(ellipse(CX + sgn * h.hc * 0.5, EYE_LINE + 0.1, 0.05, 0.032, 12), 0.25 * full)
    chin_y = h.chin_y
    c.shade(ellipse(CX, chin_y - 0.004, h.fw * 0.2, 0.016, 16), 0.25)
    c.highlight(ellipse(CX, chin_y - 0.035, h.fw * 0.09, 0.014, 12), 0.3)


def _eye_geometry(p: MontageParams, h: Head) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float, float]:
    """The image-right eye: (upper lid, lower lid, almond outline, centre x, centre y, width)."""
    ew = p.eye_size * h.fw
    eh = ew * p.eye_openness
    ex = CX + p.eye_spacing * h.fw / 2
    ey = EYE_LINE + p.eye_height
    lift = np.tan(np.radians(p.eye_tilt)) * ew / 2
    inner = (ex - ew / 2, ey + lift)
    outer = (ex + ew / 2, ey - lift)
    upper = bezier(inner, (inner[0] + 0.18 * ew, ey - eh * 1.2), (outer[0] - 0.32 * ew, ey - eh * 1.25 - lift * 0.4), outer, 16)
    lower = bezier(outer, (outer[0] - 0.25 * ew, ey + eh * 0.55), (inner[0] + 0.25 * ew, ey + eh * 0.6), inner, 14)
    return upper, lower, np.concatenate([upper, lower[1:-1]]), ex, ey, ew


def _eye_shading(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    upper, lower, almond, ex, ey, ew = _eye_geometry(p, h)
    deep = p.eye_depth   # deep-set eyes sit in the brow's shadow; protruding ones catch light on the lid
    for flip in (lambda pts: pts, mirror):
        c.shade(flip(ellipse(ex, ey - 0.012, ew * 0.78, 0.034, 20)), 0.30 + 0.3 * deep)
        c.shade(flip(ellipse(ex - ew * 0.6, ey - 0.004, ew * 0.2, 0.02, 12)), 0.25 + 0.15 * deep)
        lid = np.concatenate([upper, (upper + np.array([0, -0.012]))[::-1]])
        c.shade(flip(lid), 0.22 + 0.2 * deep, soft=False)
        if deep < 0:
            c.highlight(flip(ellipse(ex + 0.05 * ew, ey - 0.016, ew * 0.4, 0.01, 12)), -0.5 * deep)


def _nose_geometry(p: MontageParams, h: Head) -> tuple[float, float, float]:
    return EYE_LINE + p.nose_length, p.nose_width * h.fw / 2, 0.018 + 0.014 * p.nose_bridge


def _nose_shading(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    tip_y, nw, bw = _nose_geometry(p, h)
    for sgn in (1, -1):
        side = np.array([[CX + sgn * bw, EYE_LINE - 0.02], [CX + sgn * (bw + 0.012), EYE_LINE - 0.02],
                         [CX + sgn * (nw * 0.75 + 0.008), tip_y - 0.03], [CX + sgn * nw * 0.7, tip_y - 0.03]])
        c.shade(side, 0.1 + 0.4 * p.nose_bridge)
        c.shade(ellipse(CX + sgn * nw * 1.02, tip_y - 0.006, 0.012, 0.016, 12), 0.35, soft=False)
    c.shade(ellipse(CX, tip_y + 0.018, nw * 0.8, 0.012, 16), 0.55)
    # a high bridge: lit down its ridge, shadowed at its sides; a low one barely modelled
    c.highlight(np.array([[CX - 0.006, EYE_LINE - 0.01], [CX + 0.006, EYE_LINE - 0.01],
                          [CX + 0.012, tip_y - 0.01], [CX - 0.012, tip_y - 0.01]]), 0.15 + 0.45 * p.nose_bridge)


def _mouth_geometry(p: MontageParams, h: Head):
    """Lip seam, upper lip outline, lower lip outline and the open-mouth gap, image left → right."""
    my = EYE_LINE + p.mouth_drop
    mw = p.mouth_width * h.fw / 2
    grin = positive(p.smile)
    lift = 0.011 * p.mouth_corners + 0.006 * p.smile
    left, right = (CX - mw, my - lift), (CX + mw, my - lift)
    sag = 0.004 * grin + 0.002 * p.mouth_corners
    seam = bezier(left, (CX - mw * 0.45, my + sag), (CX + mw * 0.45, my + sag), right, 20)
    gap = max(0.0, grin - 0.35) * 0.04
    bell = np.sin(np.linspace(0, np.pi, len(seam))) ** 0.8
    low_seam = seam + np.stack([np.zeros(len(seam)), gap * bell], axis=1)
    peak = my - p.upper_lip - sag * 0.3
    dip = peak + p.upper_lip * 0.35 * p.cupid_bow
    upper = np.concatenate([
        bezier(left, (CX - mw * 0.7, my - p.upper_lip * 0.4), (CX - mw * 0.45, peak), (CX - mw * 0.2, peak), 10),
        quad((CX - mw * 0.2, peak), (CX - mw * 0.05, peak), (CX, dip), 5)[1:],
        quad((CX, dip), (CX + mw * 0.05, peak), (CX + mw * 0.2, peak), 5)[1:],
        bezier((CX + mw * 0.2, peak), (CX + mw * 0.45, peak), (CX + mw * 0.7, my - p.upper_lip * 0.4), right, 10)[1:],
    ])
    bottom_y = my + gap + p.lower_lip + sag
    lower = bezier(right, (CX + mw * 0.6, bottom_y + 0.002), (CX - mw * 0.6, bottom_y + 0.002), left, 20)
    return seam, low_seam, upper, lower, my, mw, gap


def _dimple_centre(p: MontageParams, h: Head, sgn: int) -> tuple[float, float]:
    """Where a dimple sits: beside the mouth corner on side `sgn`, a little below it."""
    my, mw = EYE_LINE + p.mouth_drop, p.mouth_width * h.fw / 2
    return CX + sgn * (mw + 0.026), my + 0.006 - 0.011 * p.mouth_corners - 0.006 * p.smile


def _mouth_shading(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    seam, low_seam, upper, lower, my, mw, gap = _mouth_geometry(p, h)
    c.shade(ellipse(CX, my + gap + p.lower_lip + 0.016, mw * 0.55, 0.012, 16), 0.4)
    for sgn in (1, -1):
        c.shade(ellipse(CX + sgn * mw * 1.05, my - 0.002, 0.01, 0.012, 10), 0.3, soft=False)
    c.shade(np.array([[CX - 0.008, my - p.upper_lip - 0.03], [CX - 0.004, my - p.upper_lip - 0.03],
                      [CX - 0.006, my - p.upper_lip], [CX - 0.012, my - p.upper_lip]]), 0.2, soft=False)
    if p.dimples:
        for sgn in (1, -1):
            c.shade(ellipse(*_dimple_centre(p, h, sgn), 0.008, 0.016, 10), 0.5 + 0.3 * positive(p.smile), soft=False)


def fold_line(h: Head, sgn: int) -> np.ndarray:
    """The smile line from beside the nose to past the mouth corner (nominal positions)."""
    return quad((CX + sgn * h.fw * 0.15, EYE_LINE + 0.11), (CX + sgn * h.fw * 0.25, EYE_LINE + 0.16),
                (CX + sgn * h.fw * 0.235, EYE_LINE + 0.225), 12)


def _line_shading(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    k = positive(p.wrinkles)
    bags = positive(p.eye_bags)
    for sgn in (1, -1):
        fold = fold_line(h, sgn)
        if k > 0:   # smile lines deepen with age; young faces have none
            c.shade(stroke(fold, taper(len(fold), 0.008 + 0.012 * k)), 0.42 * k, soft=False)
        if bags > 0:
            arc = ellipse(CX + sgn * h.fw * 0.22, EYE_LINE + 0.018, h.fw * 0.085, 0.022, 12, 0.35, np.pi - 0.35)
            c.shade(stroke(arc, taper(len(arc), 0.012)), 0.3 * bags, soft=False)


# -- features ---------------------------------------------------------------------------------

def _age_lines(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    k = positive(p.wrinkles)
    bags = positive(p.eye_bags)
    crease = mix(col.skin, col.line, 0.35 + 0.45 * k)
    if k > 0.12:
        rows = 1 + int(k * 3.2)
        for i in range(rows):
            y = 0.325 - 0.022 * i
            line = quad((CX - h.fw * 0.22, y + 0.004), (CX, y - 0.008 - 0.003 * _JITTER[i, 0]), (CX + h.fw * 0.22, y + 0.004), 16)
            c.polygon(stroke(line, taper(16, 0.0018 + 0.0022 * k, 0.4, 0.4)), crease)
        for sgn in (1, -1):
            x = CX + sgn * h.fw * 0.39
            for j in range(1 + int(k * 2.5)):
                a = (j - 1) * 0.35
                ray = np.array([[x, EYE_LINE + 0.002 + 0.006 * (j - 1)],
                                [x + sgn * 0.03 * np.cos(a), EYE_LINE + 0.002 + 0.006 * (j - 1) + 0.03 * np.sin(a)]])
                ray = quad(ray[0], (ray[0] + ray[1]) / 2, ray[1], 6)
                c.polygon(stroke(ray, taper(6, 0.0025 * k + 0.001, 0.1, 0.8)), crease)
    for sgn in (1, -1):
        fold = fold_line(h, sgn)
        if k > 0.05:
            c.polygon(stroke(fold, taper(len(fold), 0.001 + 0.0035 * k, 0.3, 0.5)),
                      mix(col.skin, col.line, 0.2 + 0.55 * k))
        if bags > 0.2:
            arc = ellipse(CX + sgn * h.fw * 0.22, EYE_LINE + 0.02, h.fw * 0.08, 0.024, 12, 0.4, np.pi - 0.4)
            c.polygon(stroke(arc, taper(12, 0.0012 + 0.002 * bags)), mix(col.skin, col.line, 0.3 + 0.4 * bags))
        if k > 0.55:
            marionette = quad((CX + sgn * h.fw * 0.19, EYE_LINE + 0.225), (CX + sgn * h.fw * 0.2, EYE_LINE + 0.25),
                              (CX + sgn * h.fw * 0.18, EYE_LINE + 0.275), 8)
            c.polygon(stroke(marionette, taper(8, 0.003 * k)), crease)


# Where moles and scars sit, on the image's right side (the left mirrors it): x from the centre
# in face widths, y from the eye line; a scar runs along (dx, dy) through that point, in canvas
# units. Fixed places, so a mark moves with the face's width only.
MARK_SPOTS: dict[str, tuple[float, float]] = {
    "under_eye": (0.25, 0.055), "eye": (0.40, -0.012), "brow": (0.25, -0.095), "forehead": (0.13, -0.15),
    "cheek": (0.31, 0.105), "nose": (0.065, 0.07), "mouth": (0.2, 0.152), "chin": (0.1, 0.272),
}
SCARS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {   # (centre, run)
    "under_eye": ((0.24, 0.062), (0.042, 0.016)), "eye": ((0.41, 0.0), (0.014, 0.04)),
    "brow": ((0.22, -0.055), (0.01, 0.05)), "forehead": ((0.12, -0.14), (0.06, -0.016)),
    "cheek": ((0.3, 0.1), (0.036, 0.055)), "nose": ((0.0, 0.035), (0.045, 0.01)),
    "mouth": ((0.15, 0.156), (0.006, 0.036)), "chin": ((0.06, 0.27), (0.05, 0.005)),
}


def mark_spot(h: Head, place: str, side: str) -> tuple[float, float]:
    """Where a mole at `place` on `side` ("left" / "right" of the picture) is drawn."""
    x, y = MARK_SPOTS[place]
    return CX + (1 if side == "right" else -1) * x * h.fw, EYE_LINE + y


def _marks(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    """Freckles, moles and scars: drawn over brows and lines, under beards, hair and glasses."""
    freckles = p.freckles
    if freckles > 0:
        dot = mix(col.skin, col.line, 0.3 + 0.3 * freckles)
        for u, v, size in _FRECKLES[:round(len(_FRECKLES) * freckles)]:
            # a band over the nose and the upper cheeks, higher toward the nose
            x, y = CX + u * h.fw * 0.34, EYE_LINE + 0.04 + 0.07 * v + 0.02 * abs(u)
            r = 0.0016 + 0.0014 * size
            c.polygon(ellipse(x, y, r, r * 0.85, 8), dot)
    mole = mix(col.line, (42, 28, 22), 0.55)
    for place in MARK_PLACES:
        side = getattr(p, f"mole_{place}")
        if side is not None:
            x, y = mark_spot(h, place, side)
            c.polygon(ellipse(x, y, 0.0058, 0.0052, 12), mole)
    for place in MARK_PLACES:
        side = getattr(p, f"scar_{place}")
        if side is not None:
            _scar(c, h, col, place, 1 if side == "right" else -1)


def _scar(c: Sketch, h: Head, col: Palette, place: str, sgn: int) -> None:
    """A healed cut: a pale raised line with darker edges and stitch marks across it."""
    (x, y), (dx, dy) = SCARS[place]
    centre, run = np.array([CX + sgn * x * h.fw, EYE_LINE + y]), np.array([sgn * dx, dy])
    bend = np.array([-run[1], run[0]]) * 0.15
    line = quad(centre - run / 2, centre + bend, centre + run / 2, 10)
    edge = mix(col.skin, col.line, 0.75)
    c.polygon(stroke(line, taper(10, 0.01, 0.2, 0.2, 0.4)), edge)
    c.polygon(stroke(line, taper(10, 0.0055, 0.2, 0.2, 0.3)), mix(col.skin, (238, 196, 192), 0.6))
    across = np.array([-run[1], run[0]]) / np.linalg.norm(run) * 0.0075
    for t in (0.25, 0.5, 0.75):
        point = line[round(t * 9)]
        c.line(np.array([point - across, point + across]), edge, 0.002)


def _nose(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    tip_y, nw, bw = _nose_geometry(p, h)
    tip_r = 0.012 + 0.01 * p.nose_tip
    c.polygon(ellipse(CX, tip_y - tip_r * 0.7, tip_r * 0.5, tip_r * 0.32, 12), mix(col.skin, col.highlight, 0.5))
    for sgn in (1, -1):
        ala = bezier((CX + sgn * nw * 0.62, tip_y - 0.03), (CX + sgn * nw * 1.12, tip_y - 0.022),
                     (CX + sgn * nw * 1.1, tip_y + 0.01), (CX + sgn * nw * 0.55, tip_y + 0.009), 14)
        c.polygon(stroke(ala, taper(14, 0.0045, 0.5, 0.3)), col.line)
        nostril = rotate(ellipse(CX + sgn * nw * 0.42, tip_y + 0.006, nw * 0.22, 0.0055, 14),
                         (CX + sgn * nw * 0.42, tip_y + 0.006), -12 * sgn)
        c.polygon(nostril, scale(col.line, 0.55))
    tip = quad((CX - nw * 0.3, tip_y + 0.006), (CX, tip_y + 0.004 + tip_r * 0.8), (CX + nw * 0.3, tip_y + 0.006), 10)
    c.polygon(stroke(tip, taper(10, 0.0025)), mix(col.skin, col.line, 0.6))
    bridge = quad((CX - bw * 1.0, EYE_LINE - 0.005), (CX - bw * 1.05, tip_y - 0.05), (CX - nw * 0.6, tip_y - 0.032), 12)
    c.polygon(stroke(bridge, taper(12, 0.0018 + 0.0016 * p.nose_bridge, 0.5, 0.5)),
              mix(col.skin, col.line, 0.25 + 0.4 * p.nose_bridge))


def _eyes(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    upper, lower, almond, ex, ey, ew = _eye_geometry(p, h)
    eh = ew * p.eye_openness
    r = p.iris_size * ew / 2
    ink = (38, 28, 26)
    for flip in (lambda pts: pts, mirror):
        shape = flip(almond)
        c.polygon(shape, col.eye_white)
        centre = flip(np.array([[ex + 0.03 * ew, ey - eh * 0.3]]))[0]
        with c.clipped(shape):
            c.polygon(ellipse(centre[0], centre[1], r, r, 24), col.iris)
            c.line(ellipse(centre[0], centre[1], r, r, 24), scale(col.iris, 0.5), 0.002)
            c.polygon(ellipse(centre[0], centre[1], r * 0.42, r * 0.42, 16), (18, 14, 14))
            c.polygon(ellipse(centre[0] + r * 0.35, centre[1] - r * 0.35, r * 0.18, r * 0.18, 10), (250, 250, 250))
            c.polygon(stroke(flip(upper) + np.array([0, 0.004]), 0.008), mix(col.eye_white, col.skin_shadow, 0.5))
        c.polygon(stroke(flip(upper), taper(16, 0.0065, 0.25, 0.12, 0.3)), ink)
        c.polygon(stroke(flip(lower), taper(14, 0.0022, 0.4, 0.4)), mix(col.skin, col.line, 0.7))
        if p.double_eyelid:
            crease = upper[2:-1] + np.array([0.0, -eh * 0.5])
            crease = crease + np.stack([np.zeros(len(crease)), np.linspace(0.003, 0.0, len(crease))], axis=1)
            c.polygon(stroke(flip(crease), taper(len(crease), 0.0028, 0.3, 0.3)), col.line)
        if p.eye_depth > 0.2:   # deep-set: the socket's rim shows as a fold between lid and brow
            rim = upper[1:] + np.array([0.0, -eh * 0.8 - 0.008])
            c.polygon(stroke(flip(rim), taper(len(rim), 0.0035 * p.eye_depth, 0.3, 0.3)),
                      mix(col.skin, col.line, 0.3 + 0.5 * p.eye_depth))
        if p.lashes > 0.35:
            for k in range(5):
                base = upper[9 + k if 9 + k < len(upper) else -1]
                tipp = base + np.array([0.004 + 0.002 * k, -0.009 - 0.006 * p.lashes])
                c.polygon(stroke(flip(np.array([base, tipp])), [0.0022, 0.0006]), ink)


def _brows(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    inner_x = CX + 0.085 * h.fw
    length = p.brow_length * h.fw
    y0 = EYE_LINE - p.brow_raise
    outer = (inner_x + length, y0 - np.tan(np.radians(p.brow_tilt)) * length)
    peak = (inner_x + length * 0.62, min(y0, outer[1]) - 0.006 - 0.026 * p.brow_arch)
    spine = quad((inner_x, y0), (peak[0], peak[1] - 0.004), outer, 18)
    if p.brow_angle > 0:   # angled: two straight runs meeting in a corner where the curve peaks
        apex = spine[8] + np.array([0.0, -0.008])
        angled = np.concatenate([np.linspace((inner_x, y0), apex, 11), np.linspace(apex, outer, 8)[1:]])
        spine = (1 - p.brow_angle) * spine + p.brow_angle * angled
    widths = taper(18, p.brow_thickness, 0.08, 0.75, 0.3)
    shape = stroke(spine, widths)
    for flip in (lambda pts: pts, mirror):
        c.polygon(flip(shape), col.brow)
        for k in range(9):
            f = k / 9
            i = int(f * 16)
            base = spine[i] + np.array([0, widths[i] * 0.35])
            hair = np.array([base, base + np.array([0.012, -widths[i] * 0.8])])
            c.line(flip(hair), col.hair_dark, 0.0016)


def _beard_area(h: Head, grow: float) -> np.ndarray:
    """Cheeks, jaw and chin below the cheek line, pushed out by `grow` (more under the chin)."""
    lower = h.lower
    centre = np.array([CX, EYE_LINE + 0.1])
    away = lower - centre
    away = away / np.linalg.norm(away, axis=1, keepdims=True)
    below = np.clip((lower[:, 1] - EYE_LINE - 0.12) / 0.2, 0, 1)
    outer = lower + away * (grow * (0.3 + 0.7 * below))[:, None]
    fw = h.fw
    top = np.array([[CX - fw * 0.48, CHEEK_Y - 0.02], [CX - fw * 0.33, EYE_LINE + 0.12], [CX - fw * 0.2, EYE_LINE + 0.155],
                    [CX - fw * 0.08, EYE_LINE + 0.158], [CX, EYE_LINE + 0.162], [CX + fw * 0.08, EYE_LINE + 0.158],
                    [CX + fw * 0.2, EYE_LINE + 0.155], [CX + fw * 0.33, EYE_LINE + 0.12], [CX + fw * 0.48, CHEEK_Y - 0.02]])
    return np.concatenate([outer, top])


def _moustache_shape(h: Head, length: float) -> np.ndarray:
    fw = h.fw
    top = quad((CX - fw * 0.19, EYE_LINE + 0.19), (CX, EYE_LINE + 0.135), (CX + fw * 0.19, EYE_LINE + 0.19), 14)
    bottom = quad((CX + fw * 0.2 + 0.01 * length, EYE_LINE + 0.198 + 0.02 * length), (CX, EYE_LINE + 0.18),
                  (CX - fw * 0.2 - 0.01 * length, EYE_LINE + 0.198 + 0.02 * length), 14)
    return np.concatenate([top, bottom])


def _shag(outline: np.ndarray, amount: float, tufts: int = 130) -> tuple[np.ndarray, np.ndarray]:
    """An untrimmed beard's ragged outline: the closed outline resampled evenly, every other
    point pushed out into a tuft of uneven length (fixed jitter). Also returns the outward normals."""
    closed = np.vstack([outline, outline[:1]])
    along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(closed, axis=0), axis=1))])
    t = np.linspace(0.0, along[-1], tufts, endpoint=False)
    points = np.stack([np.interp(t, along, closed[:, 0]), np.interp(t, along, closed[:, 1])], axis=1)
    tangent = np.roll(points, -1, axis=0) - np.roll(points, 1, axis=0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    x, y = points[:, 0], points[:, 1]
    if np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y) < 0:   # clockwise: flip to point outward
        normal = -normal
    jitter = _TUFTS[np.arange(tufts) % len(_TUFTS)]
    push = amount * np.where(np.arange(tufts) % 2 == 0, 0.15 + 0.85 * jitter ** 2, -0.2 * jitter)
    return points + normal * push[:, None], normal


def _hair_patch(c: Sketch, p: MontageParams, h: Head, col: Palette, shape: np.ndarray) -> None:
    """A beard or moustache in its colour (the hair's unless said); short beards let skin through.

    Trimmed: the clean outline it is given and a fine, even grain. Untrimmed: a shaggy outline
    of tufts with stray hairs poking out, a coarse speckle and light hairs through it."""
    fill = mix(col.beard, col.skin, 0.3 * (1 - p.beard_length))
    if p.beard_tidy:
        c.polygon(shape, fill)
        c.texture(shape, col.beard_dark, 0.7, max(1, round(c.units(0.001))))
        return
    shape, normal = _shag(shape, 0.008 + 0.006 * p.beard_length)
    c.polygon(shape, fill)
    c.texture(shape, col.beard_dark, 1.0, max(1, round(c.units(0.004))))
    for point, out in zip(shape[::2], normal[::2]):
        c.line(np.array([point - out * 0.004, point + out * 0.005]), col.beard_dark, 0.0016)
    with c.clipped(shape):
        for k in range(24):
            j = _JITTER[(k + 20) % len(_JITTER)]
            x = CX + h.fw * 0.45 * j[0]
            y = EYE_LINE + 0.17 + 0.13 * abs(j[1])
            c.line(np.array([[x, y], [x + 0.008 * j[2], y + 0.02 + 0.012 * p.beard_length]]), col.beard_light, 0.0018)


def _beard(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    """Stubble, full beard or goatee: everything below the mouth's level, drawn under the lips."""
    L = p.beard_length
    if p.beard == "stubble":
        grain = max(1, round(c.units(0.0025)))
        c.texture(_beard_area(h, 0.0), col.beard_dark, 0.55 + 0.45 * L, grain)
        c.texture(_moustache_shape(h, 0.0), col.beard_dark, 0.6 + 0.4 * L, grain)
    elif p.beard == "full":
        # a trimmed beard follows the jaw; an untrimmed one grows out from it
        _hair_patch(c, p, h, col, _beard_area(h, 0.004 + (0.008 if p.beard_tidy else 0.03) * L))
    elif p.beard == "goatee":
        chin_y = h.chin_y
        _hair_patch(c, p, h, col, np.concatenate([
            quad((CX - h.fw * 0.13, EYE_LINE + 0.232), (CX, EYE_LINE + 0.222), (CX + h.fw * 0.13, EYE_LINE + 0.232), 8),
            quad((CX + h.fw * 0.13, EYE_LINE + 0.232), (CX + h.fw * 0.12, chin_y + 0.02 * L), (CX, chin_y + 0.01 + 0.035 * L), 8)[1:],
            quad((CX, chin_y + 0.01 + 0.035 * L), (CX - h.fw * 0.12, chin_y + 0.02 * L), (CX - h.fw * 0.13, EYE_LINE + 0.232), 8)[1:],
        ]))


def _moustache(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    """Drawn over the upper lip, as moustaches are."""
    if p.beard in ("moustache", "goatee", "full"):
        _hair_patch(c, p, h, col, _moustache_shape(h, p.beard_length))


def _mouth(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    seam, low_seam, upper, lower, my, mw, gap = _mouth_geometry(p, h)
    c.polygon(np.concatenate([low_seam, lower[1:-1]]), col.lip)
    c.polygon(np.concatenate([upper, seam[::-1][1:-1]]), mix(col.lip, col.lip_dark, 0.3))
    if gap > 0.001:
        opening = np.concatenate([seam, low_seam[::-1]])
        c.polygon(opening, (70, 34, 36))
        with c.clipped(opening):
            # a narrow gap shows dark; teeth appear as the lips part further
            teeth = np.concatenate([seam, (seam + np.array([0, max(0.0, gap - 0.005) * 0.8]))[::-1]])
            c.polygon(teeth, (238, 234, 226))
            for k in range(1, 6):
                x = CX + (k - 3) * mw * 0.16
                c.line(np.array([[x, my - 0.01], [x, my + gap]]), (208, 202, 196), 0.0012)
    c.polygon(stroke(seam, taper(len(seam), 0.0045, 0.15, 0.15, 0.4)), col.lip_dark)
    shine = ellipse(CX, my + gap + p.lower_lip * 0.45, mw * 0.3, p.lower_lip * 0.16, 12)
    c.polygon(shine, mix(col.lip, (255, 255, 255), 0.25))
    c.polygon(stroke(lower[2:-2], taper(len(lower) - 4, 0.0018, 0.3, 0.3)), mix(col.lip, col.lip_dark, 0.4))
    for sgn, corner in ((-1, seam[0]), (1, seam[-1])):
        corner_line = np.array([corner, corner + np.array([sgn * 0.008, -0.004 * p.mouth_corners])])
        c.polygon(stroke(corner_line, [0.0025, 0.0008]), col.line)
        if p.dimples:   # 보조개: a short curved dent beside each corner, deeper in a smile
            x, y = _dimple_centre(p, h, sgn)
            dent = quad((x - sgn * 0.003, y - 0.016), (x + sgn * 0.008, y), (x - sgn * 0.001, y + 0.014), 10)
            c.polygon(stroke(dent, taper(10, 0.004 + 0.002 * positive(p.smile), 0.3, 0.3)),
                      mix(col.skin, col.line, 0.65 + 0.3 * positive(p.smile)))


# -- glasses ----------------------------------------------------------------------------------

GLASSES_MIN_FRAME_PX = 1.0   # the frames' least width in the picture's own pixels


def _lens(p: MontageParams, h: Head) -> tuple[np.ndarray, float, float]:
    lw = h.fw * (0.09 + 0.025 * p.glasses_size)
    lx = CX + h.fw * 0.215
    if p.glasses_shape == "round":
        shape = ellipse(lx, EYE_LINE + 0.004, lw, lw * 0.88, 36)
    elif p.glasses_shape == "oval":
        shape = ellipse(lx, EYE_LINE + 0.004, lw, lw * 0.66, 36)
    else:
        t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
        cx_, cy_ = np.cos(t), np.sin(t)
        shape = np.stack([lx + lw * np.sign(cx_) * np.abs(cx_) ** 0.45,
                          EYE_LINE + 0.004 + lw * 0.68 * np.sign(cy_) * np.abs(cy_) ** 0.45], axis=1)
    return shape, lx, lw


def _glasses(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    if not p.glasses:
        return
    lens, lx, lw = _lens(p, h)
    # at least a pixel wide: thinner frames vanish when a small picture is averaged down (at 64 px
    # and under, a training set's pictures and a grid's thumbnails would not show glasses at all)
    frame = max(0.0035 if p.glasses_colour == "metal" else 0.0065, GLASSES_MIN_FRAME_PX / c.size)
    top = lens[:, 1].min()
    for flip in (lambda pts: pts, mirror):
        c.blend_polygon(flip(lens), (226, 234, 242), 0.08)
        glare = quad((lx + lw * 0.25, top + lw * 0.25), (lx + lw * 0.5, top + lw * 0.35), (lx + lw * 0.55, top + lw * 0.7), 6)
        c.line(flip(glare), (246, 248, 250), 0.003)
        c.line(np.vstack([flip(lens), flip(lens)[:1]]), col.glasses, frame)
        arm = np.array([[lx + lw * 0.98, top + 0.012], [CX + h.hc + 0.004, EYE_LINE - 0.006]])
        c.line(flip(arm), col.glasses, frame * 0.9)
    bridge = quad((2 * CX - lx + lw * 0.98, EYE_LINE - 0.006), (CX, EYE_LINE - 0.018), (lx - lw * 0.98, EYE_LINE - 0.006), 10)
    c.line(bridge, col.glasses, frame)


# -- the painting order ---------------------------------------------------------------------

def _skin(c: Sketch, p: MontageParams, h: Head, col: Palette) -> None:
    c.paint_skin(h.outline, col.skin, col.skin_shadow, col.skin_light, p.shading)


@dataclass(frozen=True)
class Step:
    draw: Callable[[Sketch, MontageParams, Head, Palette], None]
    # Regions whose parameters the step reads, directly or through the head outline (face, jaw)
    # and the palette. A face that differs only in other regions draws the same ops here
    # (tests check this), which is what lets `redraw` skip the step.
    reads: frozenset[str]


def _step(draw_step: Callable[[Sketch, MontageParams, Head, Palette], None], *regions: str) -> Step:
    return Step(draw_step, frozenset(regions))


STEPS: tuple[Step, ...] = (
    _step(_hair_back, "hair", "face"),
    _step(_neck_and_clothes, "face", "jaw", "skin", "clothes"),
    _step(_ears, "ears", "face", "skin"),
    _step(_face_shading, "face", "jaw"),
    _step(_eye_shading, "eyes", "face"),
    _step(_nose_shading, "nose", "face"),
    _step(_mouth_shading, "mouth", "face"),
    _step(_line_shading, "lines", "face"),
    _step(_skin, "face", "jaw", "skin"),
    _step(_age_lines, "lines", "face", "skin"),
    _step(_nose, "nose", "face", "skin"),
    _step(_eyes, "eyes", "face", "skin"),
    _step(_brows, "brows", "face", "hair"),
    _step(_marks, "lines", "face", "skin"),
    _step(_beard, "facial_hair", "face", "jaw", "hair", "skin"),
    _step(_mouth, "mouth", "face", "skin"),
    _step(_moustache, "facial_hair", "face", "hair", "skin"),
    _step(_hair_front, "hair", "forehead", "face", "skin"),
    _step(_glasses, "glasses", "face"),
)
