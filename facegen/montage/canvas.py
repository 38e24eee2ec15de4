"""A supersampled drawing surface in canvas units, which can cover the whole face or one window.

Drawing a window (a region's box) gives the same pixels as the full picture inside that window,
as long as the window is aligned to the shading grid (`shade_cell`) and padded by CROP_MARGIN: the soft
shading is drawn on a coarse grid, blurred and scaled up, and both steps only look a bounded
distance around each pixel.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

Colour = tuple[int, int, int]
Box = tuple[int, int, int, int]

SHADE_GRID = 128        # the shading grid has about this many cells across the picture
CROP_MARGIN = 48        # pixels (at 512 px, scaled with size) drawn around a window so blurs see their neighbourhood
SOFT_BLUR = 0.020       # blur radii of the two shading layers, canvas units
TIGHT_BLUR = 0.007


def shade_cell(size: int) -> int:
    """Output pixels per cell of the shading grid."""
    return max(1, size // SHADE_GRID)


def supersampling(size: int) -> int:
    """Drawing scale per output pixel: 2× at 256 px and up, more for small pictures."""
    return max(2, -(-384 // size))


class Canvas:
    """RGB picture plus two shading layers, addressed in canvas units."""

    def __init__(self, size: int, window: Box, background: Colour) -> None:
        self.size = size
        self.ss = supersampling(size)
        self.window = window
        left, top, right, bottom = window
        self.scale = size * self.ss
        self.origin = np.array([left * self.ss, top * self.ss], float)
        self.image = Image.new("RGB", ((right - left) * self.ss, (bottom - top) * self.ss), background)
        self.draw = ImageDraw.Draw(self.image)
        self.cell = shade_cell(size)
        cells = (-(-(right - left) // self.cell), -(-(bottom - top) // self.cell))
        self._cell_scale = size / self.cell
        self._cell_origin = np.array([left / self.cell, top / self.cell], float)
        self.soft = Image.new("L", cells, 0)
        self.tight = Image.new("L", cells, 0)
        self.light = Image.new("L", cells, 0)

    # -- geometry ----------------------------------------------------------------------------
    def px(self, points: np.ndarray) -> list[float]:
        """Drawing-pixel coordinates as a flat [x0, y0, x1, y1, …] list (what ImageDraw takes fastest)."""
        return _snap(np.asarray(points, float) * self.scale - self.origin)

    def units(self, length: float) -> float:
        """A canvas-unit length in drawing pixels."""
        return length * self.scale

    # -- painting ----------------------------------------------------------------------------
    def polygon(self, points: np.ndarray, fill: Colour, outline: Colour | None = None,
                width: float = 0.0) -> None:
        xy = self.px(points)
        self.draw.polygon(xy, fill=fill)
        if outline is not None:
            self.draw.line(xy + xy[:2], fill=outline, width=max(1, round(self.units(width))), joint="curve")

    def line(self, points: np.ndarray, fill: Colour, width: float) -> None:
        self.draw.line(self.px(points), fill=fill, width=max(1, round(self.units(width))), joint="curve")

    def bounds(self, xy: list[float], pad: int = 0) -> Box | None:
        """Integer pixel box around drawing coordinates, inside the picture; None if outside."""
        pts = np.asarray(xy).reshape(-1, 2)
        left = max(0, int(np.floor(pts[:, 0].min())) - pad)
        top = max(0, int(np.floor(pts[:, 1].min())) - pad)
        right = min(self.image.width, int(np.ceil(pts[:, 0].max())) + 1 + pad)
        bottom = min(self.image.height, int(np.ceil(pts[:, 1].max())) + 1 + pad)
        return (left, top, right, bottom) if right > left and bottom > top else None

    @staticmethod
    def _mask(xy: list[float], box: Box, fill: int = 255) -> Image.Image:
        mask = Image.new("L", (box[2] - box[0], box[3] - box[1]), 0)
        local = (np.asarray(xy).reshape(-1, 2) - box[:2]).ravel().tolist()
        ImageDraw.Draw(mask).polygon(local, fill=fill)
        return mask

    def blend_polygon(self, points: np.ndarray, fill: Colour, alpha: float) -> None:
        """A translucent fill (lens tint): composite through a polygon mask."""
        xy = self.px(points)
        box = self.bounds(xy)
        if box:
            self.image.paste(fill, box, self._mask(xy, box, round(255 * alpha)))

    def texture(self, area: np.ndarray, fill: Colour, density: float, grain: int) -> None:
        """Speckle `fill` over a polygon (stubble, buzz cut): fixed noise, so it never flickers."""
        xy = self.px(area)
        soften = max(1, round(self.units(0.006)))
        box = self.bounds(xy, pad=soften)
        if not box:
            return
        mask = self._mask(xy, box).filter(ImageFilter.BoxBlur(soften))
        left, top = int(self.origin[0]) + box[0], int(self.origin[1]) + box[1]
        noise = _noise(self.scale, grain).crop((left, top, left + box[2] - box[0], top + box[3] - box[1]))
        speckle = ImageChops.multiply(mask, noise.point([min(255, round(v * density)) for v in range(256)]))
        self.image.paste(fill, box, speckle)

    @contextmanager
    def clipped(self, points: np.ndarray) -> Iterator[None]:
        """Drawing inside the block lands only inside the polygon (iris in the eye, strands in hair)."""
        xy = self.px(points)
        box = self.bounds(xy)
        if box is None:
            yield
            return
        left, top = box[:2]
        image, draw, origin = self.image, self.draw, self.origin
        patch = image.crop(box)
        mask = self._mask(xy, box)
        self.image, self.draw = patch, ImageDraw.Draw(patch)
        self.origin = origin + (left, top)
        try:
            yield
        finally:
            self.image, self.draw, self.origin = image, draw, origin
            image.paste(patch, (left, top), mask)

    # -- shading -------------------------------------------------------------------------------
    def shade(self, points: np.ndarray, darkness: float, soft: bool = True) -> None:
        """Add darkness (0..1) inside a polygon to a shading layer; blurred when applied."""
        name = "soft" if soft else "tight"
        setattr(self, name, self._add(getattr(self, name), points, darkness))

    def highlight(self, points: np.ndarray, amount: float) -> None:
        """Add light (0..1) inside a polygon: the skin's lit planes (forehead, nose, cheekbones)."""
        self.light = self._add(self.light, points, amount)

    def _add(self, layer: Image.Image, points: np.ndarray, amount: float) -> Image.Image:
        pts = _snap(np.asarray(points, float) * self._cell_scale - self._cell_origin)
        patch = Image.new("L", layer.size, 0)
        ImageDraw.Draw(patch).polygon(pts, fill=max(0, min(255, round(255 * amount))))
        return ImageChops.add(layer, patch)

    def shade_line(self, points: np.ndarray, darkness: float, width: float, soft: bool = True) -> None:
        """Add darkness along a thick line (the face's edge) to a shading layer."""
        layer = self.soft if soft else self.tight
        pts = _snap(np.asarray(points, float) * self._cell_scale - self._cell_origin)
        patch = Image.new("L", layer.size, 0)
        ImageDraw.Draw(patch).line(pts, fill=max(0, min(255, round(255 * darkness))),
                                   width=max(1, round(width * self._cell_scale)), joint="curve")
        if soft:
            self.soft = ImageChops.add(layer, patch)
        else:
            self.tight = ImageChops.add(layer, patch)

    def paint_skin(self, outline: np.ndarray, skin: Colour, shadow: Colour, light: Colour,
                   strength: float = 1.0) -> None:
        """Fill the face with skin, darkened toward `shadow` and lit toward `light` as the shading
        layers say. The tones are mixed on the coarse shading grid (they are smooth), scaled up
        once, and pasted through the sharp face outline."""
        xy = self.px(outline)
        box = self.bounds(xy)
        if not box:
            return
        soft = np.asarray(self.soft.filter(ImageFilter.GaussianBlur(SOFT_BLUR * self._cell_scale)), np.float32)
        tight = np.asarray(self.tight.filter(ImageFilter.GaussianBlur(TIGHT_BLUR * self._cell_scale)), np.float32)
        lit = np.asarray(self.light.filter(ImageFilter.GaussianBlur(SOFT_BLUR * self._cell_scale)), np.float32)
        dark = np.clip((soft + tight) * (strength / 255.0), 0.0, 1.0)[..., None]
        lit = (lit / 255.0)[..., None]
        tone = np.float32(skin) * (1 - dark) + np.float32(shadow) * dark
        tone = tone * (1 - lit) + np.float32(light) * lit
        cells = Image.fromarray(np.floor(tone + 0.5).astype(np.uint8), "RGB")
        self.image.paste(self._upscale(cells, box), box, self._mask(xy, box))

    def _upscale(self, cells_image: Image.Image, box: Box) -> Image.Image:
        """The part of a shading-grid layer under `box`, scaled up to drawing pixels."""
        # scale up only the cells under the skin's box; cell edges stay where the full picture has them
        cell = self.cell * self.ss
        first = (box[0] // cell, box[1] // cell)
        last = (-(-box[2] // cell), -(-box[3] // cell))
        # one cell of context each side so bilinear weights match the full-size resize; the
        # context outside the layer repeats its edge, as a full-size resize would
        cells = _edge_padded(cells_image).crop((first[0], first[1], last[0] + 2, last[1] + 2))
        # bilinear up to output pixels, then plain repetition up to drawing pixels: the final
        # reduction averages each repeated block back, and it is four times less work
        big = cells.resize((cells.width * self.cell, cells.height * self.cell), Image.BILINEAR)
        if self.ss > 1:
            big = big.resize((big.width * self.ss, big.height * self.ss), Image.NEAREST)
        offset = (box[0] - (first[0] - 1) * cell, box[1] - (first[1] - 1) * cell)
        return big.crop((offset[0], offset[1], offset[0] + box[2] - box[0], offset[1] + box[3] - box[1]))

    def finish(self) -> Image.Image:
        if self.ss == 1:
            return self.image
        return self.image.reduce(self.ss)


def _edge_padded(image: Image.Image) -> Image.Image:
    """The image with a one-pixel border repeating its edge pixels, origin shifted by one."""
    padded = np.pad(np.asarray(image), [(1, 1), (1, 1)] + [(0, 0)] * (image.mode == "RGB"), mode="edge")
    return Image.fromarray(padded, image.mode)


def _snap(points: np.ndarray) -> list[float]:
    """Whole-pixel coordinates, flattened. Pillow's rasterizer rounds fractional vertices with
    arithmetic that depends on their magnitude, so a window would differ from the full picture
    by a pixel here and there; whole numbers shift exactly."""
    return np.floor(points + 0.5).ravel().tolist()


@lru_cache(maxsize=4)
def _noise(scale: int, grain: int) -> Image.Image:
    """Sparse speckles over the whole canvas, the same for every face at this scale."""
    rng = np.random.default_rng(20240603)
    cells = -(-scale // grain)
    values = rng.random((cells, cells))
    speckle = np.where(values > 0.55, (values - 0.55) / 0.45 * 255, 0).astype(np.uint8)
    return Image.fromarray(speckle, "L").resize((cells * grain, cells * grain), Image.NEAREST)
