"""Where each region's parameters may change pixels, in canvas units (left, top, right, bottom).

A region's parameters only ever move pixels inside its boxes (tests check this on renders), so
a candidate grid can draw each candidate by repainting only these boxes over a cached face.
Face shape, skin tone and hair reach across the whole picture.
"""

from __future__ import annotations

import math

from facegen.backend import WHOLE_PICTURE as WHOLE, UnitBox
from facegen.montage.params import REGION_PARAMS

# Grid regions first, in the order a user meets them.
REGION_BOXES: dict[str, tuple[UnitBox, ...]] = {
    "eyes": ((0.20, 0.33, 0.80, 0.57),),
    "brows": ((0.27, 0.30, 0.73, 0.48),),
    "nose": ((0.33, 0.36, 0.67, 0.72),),
    "mouth": ((0.31, 0.56, 0.69, 0.83),),
    "jaw": ((0.10, 0.42, 0.90, 1.0),),
    "forehead": ((0.23, 0.10, 0.77, 0.36),),
    "hair": (WHOLE,),
    "ears": ((0.17, 0.40, 0.32, 0.59), (0.68, 0.40, 0.83, 0.59)),
    "facial_hair": ((0.15, 0.46, 0.85, 0.92),),
    "glasses": ((0.19, 0.37, 0.81, 0.54),),
    "lines": ((0.19, 0.23, 0.81, 0.80),),
    "face": (WHOLE,),
    "skin": (WHOLE,),
    "clothes": ((0.0, 0.83, 1.0, 1.0),),
}
REGIONS: tuple[str, ...] = tuple(REGION_BOXES)

if set(REGIONS) != set(REGION_PARAMS):
    raise AssertionError(f"regions without boxes or parameters: {set(REGIONS) ^ set(REGION_PARAMS)}")


def region_box(region: str) -> UnitBox:
    """The one box around all of a region's boxes (both ears make one wide box)."""
    boxes = REGION_BOXES.get(region)
    if boxes is None:
        raise ValueError(f"unknown region {region!r}; montage regions: {', '.join(REGIONS)}")
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def pixel_boxes(region: str, size: int) -> list[tuple[int, int, int, int]]:
    """A region's boxes in pixels of a size × size picture (rounded outward)."""
    try:
        boxes = REGION_BOXES[region]
    except KeyError:
        raise ValueError(f"unknown region {region!r}; montage regions: {', '.join(REGIONS)}") from None
    return [(math.floor(l * size), math.floor(t * size), min(size, math.ceil(r * size)), min(size, math.ceil(b * size)))
            for l, t, r, b in boxes]
