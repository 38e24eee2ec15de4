"""`MontageBackend`: the built-in CPU backend (facegen.backend.Backend) drawing composite faces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image

from facegen.attributes import Attributes, Edit
from facegen.backend import DEFAULT_SIZE
from facegen.facecode import FaceCode
from facegen.latent import default_layer_ranges
from facegen.montage import attributes as montage_attributes
from facegen.montage.params import NUM_WS, W_DIM, decode
from facegen.montage.regions import REGIONS, pixel_boxes
from facegen.montage.render import check_size, pad_window, render

# Bump whenever the same FaceCode would be drawn differently.
CHECKPOINT_ID = "montage-1"
# Largest share of the picture a region's padded box may cover for region-only redraws.
REGION_REDRAW_MAX_AREA = 0.4


class MontageBackend:
    name = "montage"
    checkpoint_id = CHECKPOINT_ID
    num_ws = NUM_WS
    w_dim = W_DIM
    layer_ranges: Mapping[str, slice] = default_layer_ranges(NUM_WS)
    regions: Sequence[str] = REGIONS

    def sample(self, seed: int) -> FaceCode:
        return FaceCode(np.random.default_rng(seed).standard_normal((NUM_WS, W_DIM)).astype(np.float32))

    def average(self) -> np.ndarray:
        return np.zeros((NUM_WS, W_DIM), np.float32)

    def render(self, codes: Sequence[FaceCode], size: int = DEFAULT_SIZE) -> list[Image.Image]:
        check_size(size)
        return [render(decode(code), size) for code in codes]

    def render_region(self, code: FaceCode, codes: Sequence[FaceCode], region: str,
                      size: int = DEFAULT_SIZE) -> list[Image.Image]:
        """Faces that differ from `code` only in `region`: `code` is drawn once and each face
        repaints just that region's boxes over it, when that is cheaper than drawing it whole."""
        check_size(size)
        boxes = pixel_boxes(region, size)
        padded = [pad_window(box, size) for box in boxes]
        # Each window repaints every step that reaches it, so windows only pay off while they are
        # few and small (measured in bench/render.py): otherwise draw the faces whole.
        if len(padded) > 1 or sum((r - l) * (b - t) for l, t, r, b in padded) > REGION_REDRAW_MAX_AREA * size * size:
            return self.render(codes, size)
        base = render(decode(code), size)
        out = []
        for candidate in codes:
            params = decode(candidate)
            picture = base.copy()
            for box in boxes:
                picture.paste(render(params, size, window=box), box[:2])
            out.append(picture)
        return out

    def from_attributes(self, attributes: Attributes, seed: int) -> FaceCode:
        return montage_attributes.from_attributes(self.sample(seed), attributes, seed)

    def edit(self, code: FaceCode, edit: Edit) -> FaceCode:
        return montage_attributes.edit(code, edit)
