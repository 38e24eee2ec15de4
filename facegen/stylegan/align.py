"""FFHQ-style alignment: a photo's face cropped, rotated and scaled the way the FFHQ dataset's
faces were, so a StyleGAN trained on FFHQ can be fitted to it.

The recipe (written from its description in the FFHQ dataset's documentation, on dlib's 68
landmarks):
- e = the vector between the two eye centres, m = from their midpoint to the mouth's centre
  (the midpoint of the mouth corners);
- the crop is a square oriented along e minus m turned by 90° (so both the eye line and the
  nose-to-mouth line set the roll); its half-side is max(2·|e|, 1.8·|m|), its centre lies a
  tenth of m below the eyes' midpoint;
- what the square takes from outside the photo is filled by mirroring the photo, blurred
  and faded toward its median colour the further it lies from the edge, as FFHQ did, so the
  generator is not asked to draw a hard border.

With the eyes dominating the size (the usual case), the eye centres land at 37.5% and 62.5% of
the width and slightly above the middle: about (384, 480) and (640, 480) in a 1024-px FFHQ
image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from facegen.landmarks import EYE_LEFT, EYE_RIGHT, MOUTH_LEFT, MOUTH_RIGHT

SUPERSAMPLE = 4   # the quad is resampled at this multiple of the output side, then reduced (antialiasing)


@dataclass(frozen=True)
class Quad:
    """The crop in photo pixels: corners top-left, bottom-left, bottom-right, top-right."""
    corners: np.ndarray   # (4, 2) float (x, y)

    @property
    def side(self) -> float:
        return float(np.linalg.norm(self.corners[3] - self.corners[0]))


def ffhq_quad(points: np.ndarray) -> Quad:
    """The FFHQ crop for 68 dlib landmarks (x, y in pixels)."""
    points = np.asarray(points, dtype=np.float64)
    eye_left, eye_right = points[EYE_LEFT].mean(axis=0), points[EYE_RIGHT].mean(axis=0)
    eyes = (eye_left + eye_right) / 2
    eye_to_eye = eye_right - eye_left
    eye_to_mouth = (points[MOUTH_LEFT] + points[MOUTH_RIGHT]) / 2 - eyes
    # x: the crop's horizontal axis; eye_to_mouth turned 90° counter-clockwise points along +x too
    x = eye_to_eye + np.array([eye_to_mouth[1], -eye_to_mouth[0]])
    x *= max(2.0 * np.hypot(*eye_to_eye), 1.8 * np.hypot(*eye_to_mouth)) / np.hypot(*x)
    y = np.array([-x[1], x[0]])   # x turned 90° clockwise: "down" in the crop
    centre = eyes + 0.1 * eye_to_mouth
    return Quad(np.stack([centre - x - y, centre - x + y, centre + x + y, centre + x - y]))


def _pad_for(image: Image.Image, quad: Quad) -> tuple[Image.Image, np.ndarray]:
    """The photo grown by mirrored margins wherever the quad reaches outside it (blurred and
    faded toward the median colour with distance, as FFHQ did); returns it and the shifted quad."""
    border = max(round(quad.side * 0.1), 3)
    lo = np.floor(quad.corners.min(axis=0)).astype(int) - border
    hi = np.ceil(quad.corners.max(axis=0)).astype(int) + border
    left, top = max(-lo[0], 0), max(-lo[1], 0)
    right, bottom = max(hi[0] - image.width, 0), max(hi[1] - image.height, 0)
    if not (left or top or right or bottom):
        return image, quad.corners
    # np.pad's reflect mode cannot pad more than the side once; repeat until it is wide enough
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
    pads = np.array([top, bottom, left, right])
    while pads.any():
        h, w = pixels.shape[:2]
        step = np.minimum(pads, [h - 1, h - 1, w - 1, w - 1])
        pixels = np.pad(pixels, ((step[0], step[1]), (step[2], step[3]), (0, 0)), mode="reflect")
        pads -= step
    h, w = pixels.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # per padded side: 0 at the photo's edge, 1 at the margin's far edge, negative inside
    reach = np.full((h, w), -np.inf, dtype=np.float32)
    for dist, pad in ((left - xx, left), (xx - (left + image.width - 1), right),
                      (top - yy, top), (yy - (top + image.height - 1), bottom)):
        if pad:
            reach = np.maximum(reach, dist / pad)
    reach = reach[..., None]
    blurred = np.asarray(Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(max(quad.side * 0.02, 1.0))), dtype=np.float32)
    # blurred in the margins and a third of a margin into the photo; faded to the median outward
    pixels += (blurred - pixels) * np.clip(reach * 3 + 1, 0, 1)
    pixels += (np.median(pixels.reshape(-1, 3), axis=0) - pixels) * np.clip(reach, 0, 1)
    return Image.fromarray(pixels.round().clip(0, 255).astype(np.uint8)), quad.corners + [left, top]


def align_face(image: Image.Image, points: np.ndarray, size: int) -> Image.Image:
    """The face of `points` as an FFHQ-aligned RGB square of `size` pixels."""
    quad = ffhq_quad(points)
    padded, corners = _pad_for(image.convert("RGB"), quad)
    # Shrink large photos first with a proper filter: the quad transform samples bilinearly.
    work = size * SUPERSAMPLE
    shrink = int(np.floor(quad.side / work))
    if shrink > 1:
        padded = padded.resize((round(padded.width / shrink), round(padded.height / shrink)), Image.LANCZOS)
        corners = corners / shrink
    out = padded.transform((work, work), Image.QUAD, tuple(corners.flatten()), Image.BILINEAR)
    return out.resize((size, size), Image.LANCZOS)
