"""Drawing in two halves: a `Sketch` records what to draw, a `Canvas` rasterizes it.

Face steps draw on a Sketch in canvas units (0..1 on both axes); it turns every shape into
whole-pixel coordinates of the full supersampled picture and keeps the list of drawing
operations ("ops"), no pixels. A Canvas plays ops into the whole picture or into one window of
it. Geometry is therefore computed once per face, and a window (a region's box) can be painted
again from stored ops at the cost of its pixels only.

A window gives the same pixels as the full picture inside it, as long as it is aligned to the
shading grid (`shade_cell`): the soft shading is drawn on a coarse grid, blurred and scaled up,
and both steps only look a bounded distance around each pixel, so a window keeps that much
shading around it (`shading_margin`). Coordinates are whole pixels, so shifting them into a
window is exact (Pillow's rasterizer rounds fractional vertices with arithmetic that depends on
their magnitude).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

Colour = tuple[int, int, int]
Box = tuple[int, int, int, int]
# ("polygon", xy, fill) | ("line", xy, fill, width) | ("blend", xy, fill, alpha) |
# ("texture", xy, fill, density, grain) | ("clip", xy, ops) | ("layers", {layer: image}) |
# ("skin", xy, skin, shadow, light, strength); xy in drawing pixels of the whole picture, an
# (n, 2) float array of whole numbers; layer images cover the whole picture's shading grid.
Op = tuple

SHADE_GRID = 128        # the shading grid has about this many cells across the picture
CROP_MARGIN = 48        # pixels (at 512 px, scaled with size) of shading kept around a window for its blurs
SOFT_BLUR = 0.020       # blur radii of the two shading layers, canvas units
TIGHT_BLUR = 0.007
TEXTURE_SOFTEN = 0.006  # how far a texture fades in from its outline, canvas units


def shade_cell(size: int) -> int:
    """Output pixels per cell of the shading grid."""
    return max(1, size // SHADE_GRID)


def supersampling(size: int) -> int:
    """Drawing scale per output pixel: 2× at 256 px and up, more for small pictures."""
    return max(2, -(-384 // size))


class Sketch:
    """Records drawing operations for a size × size picture, in canvas units; draws nothing."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.scale = size * supersampling(size)
        self._cell_scale = size / shade_cell(size)
        self._cells_across = -(-size // shade_cell(size))
        self.ops: list[Op] = []
        self._layers: dict[str, Image.Image] = {}
        self._patch: tuple[str, Image.Image] | None = None

    def px(self, points: np.ndarray) -> np.ndarray:
        """Whole drawing-pixel coordinates of canvas-unit points."""
        return np.floor(np.asarray(points, float) * self.scale + 0.5)

    def units(self, length: float) -> float:
        """A canvas-unit length in drawing pixels."""
        return length * self.scale

    def _cells(self, points: np.ndarray) -> list[float]:
        return np.floor(np.asarray(points, float) * self._cell_scale + 0.5).ravel().tolist()

    # -- painting ----------------------------------------------------------------------------
    def polygon(self, points: np.ndarray, fill: Colour) -> None:
        self.ops.append(("polygon", self.px(points), fill))

    def line(self, points: np.ndarray, fill: Colour, width: float) -> None:
        self.ops.append(("line", self.px(points), fill, max(1, round(self.units(width)))))

    def blend_polygon(self, points: np.ndarray, fill: Colour, alpha: float) -> None:
        """A translucent fill (lens tint)."""
        self.ops.append(("blend", self.px(points), fill, round(255 * alpha)))

    def texture(self, area: np.ndarray, fill: Colour, density: float, grain: int) -> None:
        """Speckle `fill` over a polygon (stubble, buzz cut): fixed noise, so it never flickers."""
        self.ops.append(("texture", self.px(area), fill, density, grain))

    @contextmanager
    def clipped(self, points: np.ndarray) -> Iterator[None]:
        """Drawing inside the block lands only inside the polygon (iris in the eye, strands in hair)."""
        outer, self.ops = self.ops, []
        try:
            yield
        finally:
            inner, self.ops = self.ops, outer
            self.ops.append(("clip", self.px(points), inner))

    # -- shading -------------------------------------------------------------------------------
    # Shading is rasterized here, on the coarse grid of the whole picture: it is small, and a
    # step's shading then costs a window one addition per layer. Additions saturate at 255
    # and are never negative, so their order does not matter.
    def shade(self, points: np.ndarray, darkness: float, soft: bool = True) -> None:
        """Add darkness (0..1) inside a polygon to a shading layer; blurred when applied."""
        self._layer_draw("soft" if soft else "tight").polygon(self._cells(points), fill=_level(darkness))

    def highlight(self, points: np.ndarray, amount: float) -> None:
        """Add light (0..1) inside a polygon: the skin's lit planes (forehead, nose, cheekbones)."""
        self._layer_draw("light").polygon(self._cells(points), fill=_level(amount))

    def shade_line(self, points: np.ndarray, darkness: float, width: float, soft: bool = True) -> None:
        """Add darkness along a thick line (the face's edge) to a shading layer."""
        self._layer_draw("soft" if soft else "tight").line(
            self._cells(points), fill=_level(darkness), width=max(1, round(width * self._cell_scale)), joint="curve")

    def _layer_draw(self, name: str) -> ImageDraw.ImageDraw:
        """A blank patch to draw one shape on; `take` adds it to the layer."""
        self._flush()
        self._patch = (name, Image.new("L", (self._cells_across, self._cells_across), 0))
        return ImageDraw.Draw(self._patch[1])

    def _flush(self) -> None:
        if self._patch is not None:
            name, patch = self._patch
            self._layers[name] = ImageChops.add(self._layers[name], patch) if name in self._layers else patch
            self._patch = None

    def take(self) -> tuple[Op, ...]:
        """The ops recorded since the last take, the shading as one ("layers", …) op first."""
        self._flush()
        ops = ((("layers", self._layers),) if self._layers else ()) + tuple(self.ops)
        self.ops, self._layers = [], {}
        return ops

    def paint_skin(self, outline: np.ndarray, skin: Colour, shadow: Colour, light: Colour,
                   strength: float = 1.0) -> None:
        """Fill the face with skin, darkened toward `shadow` and lit toward `light` as the shading
        layers (everything shaded so far) say."""
        if self._layers or self._patch:
            # a step's shading is played before its other ops (see `take`)
            raise RuntimeError("shade in a step before the one that paints the skin")
        self.ops.append(("skin", self.px(outline), skin, shadow, light, strength))


class Canvas:
    """An RGB picture (or one window of it) plus three shading layers, painted from ops.

    The shading layers cover the window widened by `shading_margin`, so that their blur sees
    the same neighbourhood as in the whole picture; the RGB picture covers just the window.
    """

    def __init__(self, size: int, window: Box, background: Colour) -> None:
        self.size = size
        self.ss = supersampling(size)
        self.scale = size * self.ss
        self.cell = shade_cell(size)
        left, top, right, bottom = window
        if any(v % self.cell for v in window[:2]):
            raise ValueError(f"window {window} is not aligned to the {self.cell}-px shading grid")
        self.window = window
        self.origin = np.array([left * self.ss, top * self.ss], float)
        self.image = Image.new("RGB", ((right - left) * self.ss, (bottom - top) * self.ss), background)
        self.draw = ImageDraw.Draw(self.image)
        margin = shading_margin(size)
        layer_box = (max(0, left - margin), max(0, top - margin), min(size, right + margin), min(size, bottom + margin))
        cells = (-(-(layer_box[2] - layer_box[0]) // self.cell), -(-(layer_box[3] - layer_box[1]) // self.cell))
        self._cell_scale = size / self.cell
        self._cell_origin = np.array([layer_box[0] // self.cell, layer_box[1] // self.cell], float)
        # where this picture's first cell sits in the layers
        self._cell_offset = ((left - layer_box[0]) // self.cell, (top - layer_box[1]) // self.cell)
        self.layers = {name: Image.new("L", cells, 0) for name in ("soft", "tight", "light")}
        self._play = {"polygon": self._polygon, "line": self._line, "blend": self._blend, "texture": self._texture,
                      "clip": self._clip, "layers": self._add_layers, "skin": self._skin}

    def play(self, ops: Sequence[Op]) -> None:
        for op in ops:
            self._play[op[0]](*op[1:])

    def copy(self) -> "Canvas":
        """A canvas to paint on further without changing this one."""
        other = copy.copy(self)
        other.image = self.image.copy()
        other.draw = ImageDraw.Draw(other.image)
        other.layers = {name: layer.copy() for name, layer in self.layers.items()}
        other._play = {name: getattr(other, method.__name__) for name, method in self._play.items()}
        return other

    def finish(self) -> Image.Image:
        return self.image.reduce(self.ss) if self.ss > 1 else self.image

    # -- geometry ----------------------------------------------------------------------------
    def _xy(self, points: np.ndarray) -> list[float]:
        """Drawing pixels relative to this picture, flat [x0, y0, x1, y1, …] (what ImageDraw takes fastest)."""
        return (points - self.origin).ravel().tolist()

    def bounds(self, xy: list[float], pad: int = 0, clip: bool = True) -> Box | None:
        """Integer pixel box around drawing coordinates, cut to the picture unless `clip` is
        False; None if it misses the picture."""
        pts = np.asarray(xy).reshape(-1, 2)
        left, top = int(np.floor(pts[:, 0].min())) - pad, int(np.floor(pts[:, 1].min())) - pad
        right, bottom = int(np.ceil(pts[:, 0].max())) + 1 + pad, int(np.ceil(pts[:, 1].max())) + 1 + pad
        if right <= 0 or bottom <= 0 or left >= self.image.width or top >= self.image.height:
            return None
        if clip:
            left, top = max(0, left), max(0, top)
            right, bottom = min(self.image.width, right), min(self.image.height, bottom)
        return left, top, right, bottom

    @staticmethod
    def _mask(xy: list[float], box: Box, fill: int = 255) -> Image.Image:
        mask = Image.new("L", (box[2] - box[0], box[3] - box[1]), 0)
        local = (np.asarray(xy).reshape(-1, 2) - box[:2]).ravel().tolist()
        ImageDraw.Draw(mask).polygon(local, fill=fill)
        return mask

    # -- ops -----------------------------------------------------------------------------------
    def _polygon(self, points: np.ndarray, fill: Colour) -> None:
        self.draw.polygon(self._xy(points), fill=fill)

    def _line(self, points: np.ndarray, fill: Colour, width: int) -> None:
        self.draw.line(self._xy(points), fill=fill, width=width, joint="curve")

    def _blend(self, points: np.ndarray, fill: Colour, alpha: int) -> None:
        xy = self._xy(points)
        box = self.bounds(xy)
        if box:
            self.image.paste(fill, box, self._mask(xy, box, alpha))

    def _texture(self, points: np.ndarray, fill: Colour, density: float, grain: int) -> None:
        xy = self._xy(points)
        soften = max(1, round(TEXTURE_SOFTEN * self.scale))
        # the mask is drawn whole (not cut to the picture) so its blurred edge matches the full picture's
        box = self.bounds(xy, pad=soften, clip=False)
        if not box:
            return
        mask = self._mask(xy, box).filter(ImageFilter.BoxBlur(soften))
        inside = self.bounds([box[0], box[1], box[2] - 1, box[3] - 1])
        if not inside:
            return
        mask = mask.crop((inside[0] - box[0], inside[1] - box[1], inside[2] - box[0], inside[3] - box[1]))
        left, top = int(self.origin[0]) + inside[0], int(self.origin[1]) + inside[1]
        noise = _noise(self.scale, grain).crop((left, top, left + mask.width, top + mask.height))
        speckle = ImageChops.multiply(mask, noise.point([min(255, round(v * density)) for v in range(256)]))
        self.image.paste(fill, inside, speckle)

    def _clip(self, points: np.ndarray, ops: Sequence[Op]) -> None:
        xy = self._xy(points)
        box = self.bounds(xy)
        if box is None:
            return          # the clip shape misses this picture, and so does all drawn inside it
        left, top = box[:2]
        image, draw, origin = self.image, self.draw, self.origin
        patch = image.crop(box)
        self.image, self.draw = patch, ImageDraw.Draw(patch)
        self.origin = origin + (left, top)
        try:
            self.play(ops)
        finally:
            self.image, self.draw, self.origin = image, draw, origin
        image.paste(patch, (left, top), self._mask(xy, box))

    def _add_layers(self, layers: dict[str, Image.Image]) -> None:
        """Add a step's shading (drawn on the whole picture's grid) under this canvas's layers."""
        left, top = (int(v) for v in self._cell_origin)
        for name, whole in layers.items():
            layer = self.layers[name]
            self.layers[name] = ImageChops.add(layer, whole.crop((left, top, left + layer.width, top + layer.height)))

    def _skin(self, points: np.ndarray, skin: Colour, shadow: Colour, light: Colour, strength: float) -> None:
        """The tones are mixed on the coarse shading grid (they are smooth), scaled up once, and
        pasted through the sharp face outline."""
        xy = self._xy(points)
        box = self.bounds(xy)
        if not box:
            return
        blur = {"soft": SOFT_BLUR, "tight": TIGHT_BLUR, "light": SOFT_BLUR}
        soft, tight, lit = (np.asarray(self.layers[name].filter(ImageFilter.GaussianBlur(blur[name] * self._cell_scale)),
                                       np.float32) for name in ("soft", "tight", "light"))
        dark = np.clip((soft + tight) * (strength / 255.0), 0.0, 1.0)[..., None]
        lit = (lit / 255.0)[..., None]
        tone = np.float32(skin) * (1 - dark) + np.float32(shadow) * dark
        tone = tone * (1 - lit) + np.float32(light) * lit
        cells = Image.fromarray(np.floor(tone + 0.5).astype(np.uint8), "RGB")
        self.image.paste(self._upscale(cells, box), box, self._mask(xy, box))

    def _upscale(self, cells_image: Image.Image, box: Box) -> Image.Image:
        """The part of a shading-grid layer under `box` (drawing pixels of this picture), scaled
        up to drawing pixels."""
        # scale up only the cells under the skin's box; cell edges stay where the full picture has them
        cell = self.cell * self.ss
        dx, dy = self._cell_offset
        first = (box[0] // cell + dx, box[1] // cell + dy)
        last = (-(-box[2] // cell) + dx, -(-box[3] // cell) + dy)
        # one cell of context each side so bilinear weights match the full-size resize; the
        # context outside the layer repeats its edge, as a full-size resize would
        cells = _edge_padded(cells_image).crop((first[0], first[1], last[0] + 2, last[1] + 2))
        # bilinear up to output pixels, then plain repetition up to drawing pixels: the final
        # reduction averages each repeated block back, and it is four times less work
        big = cells.resize((cells.width * self.cell, cells.height * self.cell), Image.BILINEAR)
        if self.ss > 1:
            big = big.resize((big.width * self.ss, big.height * self.ss), Image.NEAREST)
        offset = (box[0] - (first[0] - dx - 1) * cell, box[1] - (first[1] - dy - 1) * cell)
        return big.crop((offset[0], offset[1], offset[0] + box[2] - box[0], offset[1] + box[3] - box[1]))


def shading_margin(size: int) -> int:
    """Pixels of shading kept around a window: the blurs reach about this far."""
    return CROP_MARGIN * size // 512 + 2 * shade_cell(size)


def _level(amount: float) -> int:
    return max(0, min(255, round(255 * amount)))


def _edge_padded(image: Image.Image) -> Image.Image:
    """The image with a one-pixel border repeating its edge pixels, origin shifted by one."""
    padded = np.pad(np.asarray(image), [(1, 1), (1, 1)] + [(0, 0)] * (image.mode == "RGB"), mode="edge")
    return Image.fromarray(padded, image.mode)


@lru_cache(maxsize=4)
def _noise(scale: int, grain: int) -> Image.Image:
    """Sparse speckles over the whole canvas, the same for every face at this scale."""
    rng = np.random.default_rng(20240603)
    cells = -(-scale // grain)
    values = rng.random((cells, cells))
    speckle = np.where(values > 0.55, (values - 0.55) / 0.45 * 255, 0).astype(np.uint8)
    return Image.fromarray(speckle, "L").resize((cells * grain, cells * grain), Image.NEAREST)
