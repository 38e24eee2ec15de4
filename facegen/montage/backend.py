"""`MontageBackend`: the built-in CPU backend (the facegen.backend contract) drawing composite faces."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields

import numpy as np
from PIL import Image

from facegen.attributes import Attributes, Edit
from facegen.backend import DEFAULT_SIZE, Backend, FittedFace, PhotoFitOptions, Progress, UnitBox
from facegen.facecode import FaceCode
from facegen.latent import default_layer_ranges, morph, remix
from facegen.montage import attributes as montage_attributes
from facegen.montage.canvas import Box
from facegen.montage.params import NUM_WS, PARAMS, REGION_PARAMS, W_DIM, MontageParams, decode, keep_params, said_params
from facegen.montage.regions import REGIONS, pixel_boxes, region_box
from facegen.montage.render import RegionPainter, check_size, draw, paint, render

# Bump whenever the same FaceCode would be drawn differently at the sizes faces are shown
# (DEFAULT_SIZE). A change seen only in small pictures (glasses frames kept a pixel wide, which
# moves nothing from 286 px up) keeps it: a bump leaves every stored face without its style.
CHECKPOINT_ID = "montage-2"
# A region whose boxes span more of the picture than this is repainted whole (still reusing
# the other steps' geometry): cropping and pasting would save little.
REGION_WINDOW_MAX_AREA = 0.6


class MontageBackend(Backend):
    name = "montage"
    checkpoint_id = CHECKPOINT_ID
    resolution = DEFAULT_SIZE   # drawn as vectors: any size is native
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

    def region_box(self, region: str) -> UnitBox:
        return region_box(region)

    def render_region(self, code: FaceCode, codes: Sequence[FaceCode], region: str,
                      size: int = DEFAULT_SIZE) -> list[Image.Image]:
        """Faces that differ from `code` only in `region`: `code` is drawn once; each face
        recomputes only the drawing steps that read that region and repaints the region's boxes
        over the base picture (a candidate that differs elsewhere too is drawn whole)."""
        check_size(size)
        base_params = decode(code)
        base = draw(base_params, size)
        boxes = pixel_boxes(region, size)
        window = _window(boxes, size)
        region_painter = RegionPainter(base, region, window)
        base_picture = paint(base) if window else None
        out = []
        for candidate in codes:
            params = decode(candidate)
            if not _same_outside(base_params, params, region):
                out.append(paint(draw(params, size)))
            elif window is None:
                out.append(region_painter(params))
            else:
                patch = region_painter(params)
                picture = base_picture.copy()
                for box in boxes:
                    local = (box[0] - window[0], box[1] - window[1], box[2] - window[0], box[3] - window[1])
                    picture.paste(patch.crop(local), box[:2])
                out.append(picture)
        return out

    def variations(self, code: FaceCode, n: int, strength: float, seed: int) -> list[FaceCode]:
        """The default mutation, except that what a description or an edit switched on (marks, an
        eye or beard colour said, freckles: dormant parameters, see params.py) stays as it was:
        the mutation's pull toward the average would wear them away (a blue iris said turning
        green, a red beard blond), and random faces never show them anyway."""
        said = said_params(code)
        return [keep_params(code, child, said) for child in super().variations(code, n, strength, seed)]

    def morph(self, a: FaceCode, b: FaceCode, ratio: float, mode: str = "linear") -> FaceCode:
        """facegen.latent.morph's shares, taken by each drawn trait rather than by its w: a
        measure (a width, a colour) is blended by value, so its share moves it evenly (a blend
        of w moves a value near its range's end hardly at all until late); a choice (hair
        style, beard, glasses, …) is not blended, since a blend of two choices' w reads as the
        choices between them (a ponytail and a short cut give wavy, curly, bald, buzz on the
        way), unlike either face: it is the choice of the face holding the larger share of its
        slot (a's at a share of exactly 0.5). As a's share rises every trait moves only toward a."""
        blended = morph(a, b, ratio, mode)
        ones = np.ones(a.shape, np.float32)
        a_share = morph(FaceCode(ones), FaceCode(0 * ones), ratio, mode).base   # each slot's, by mode

        def by_trait(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
            out = np.array(w, np.float32)
            for spec in PARAMS:
                i, share = (spec.row, spec.channel), a_share[spec.row, spec.channel]
                if spec.categorical or share in (0.0, 1.0):   # all of one face: its w exactly
                    out[i] = x[i] if share >= 0.5 else y[i]
                else:
                    out[i] = spec.encode(share * spec.decode(x[i]) + (1.0 - share) * spec.decode(y[i]))
            return out

        return FaceCode(by_trait(a.base, b.base, blended.base),
                        {r: by_trait(a.part(r), b.part(r), w) for r, w in blended.parts.items()})

    def remix(self, code: FaceCode, seed: int, layers: slice, keep: Iterable[str] = ()) -> FaceCode:
        """Fresh rows `layers`, except the parameters that show the kept attributes (a bearded,
        medium-skinned, unlined face described so stays so, whatever else the remix changes)."""
        return keep_params(code, remix(code, self.sample(seed).base, layers), montage_attributes.params_of(keep))

    def from_attributes(self, attributes: Attributes, seed: int) -> FaceCode:
        return montage_attributes.from_attributes(self.sample(seed), attributes, seed)

    def edit(self, code: FaceCode, edit: Edit) -> FaceCode:
        return montage_attributes.edit(code, edit)

    def from_photo(self, photo: Image.Image, seed: int, *, options: PhotoFitOptions = PhotoFitOptions(),
                   progress: Progress | None = None) -> FittedFace:
        """The photo measured, then fitted for likeness (photo_fit.py): several seconds, with
        progress. The same photo always gives the same face: what is not measured is seeded
        from the photo's pixels, so `seed` and `options.steps` do not apply; `options.evaluations`
        and `options.caricature` do. Kept with the face: the likeness (descriptor distance to the
        photo), never the photo's descriptor."""
        from facegen.montage.photo_fit import fit_photo   # loads dlib's models: only when asked
        fit = fit_photo(photo, self, evaluations=options.evaluations, caricature_strength=options.caricature,
                        progress=progress)
        return FittedFace(fit.code, {} if fit.likeness is None else {"likeness": round(fit.likeness, 3)})


def _window(boxes: list[Box], size: int) -> Box | None:
    """One window around all of a region's boxes, or None where painting the whole picture
    costs about the same."""
    window = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
    left, top, right, bottom = window
    return None if (right - left) * (bottom - top) > REGION_WINDOW_MAX_AREA * size * size else window


def _same_outside(a: MontageParams, b: MontageParams, region: str) -> bool:
    inside = REGION_PARAMS[region]
    return all(getattr(a, f.name) == getattr(b, f.name) for f in fields(a) if f.name not in inside)
