"""Part blending: a face whose eyes (nose, mouth, …) come from a donor latent, the rest from its base.

StyleGAN's styles act on the whole picture, so a part cannot be swapped in W+. Instead the
synthesis is split at one resolution ("the blend level", 32–64 px on FFHQ models): the base and
each donor are synthesized up to it, their feature maps (and, for StyleGAN2's skip
architecture, the partial image) are mixed inside the region's soft mask, and the rest of the
synthesis continues from the mix with the **base's** W+.

Why the base's W+ after the split: the rows past the blend level set colour, lighting and
micro-texture. Taking them from the base keeps skin tone and light continuous across the mask's
edge, so the seam heals in the remaining layers; the donor contributes what the low rows draw,
the shape and placement of the feature ("a different nose"), not its own colouring.

Masks are defined once, in normalized coordinates of an FFHQ-aligned face (x right, y down,
both 0…1; eye centres near (0.375, 0.47) and (0.625, 0.47)), as unions of ellipses with a
Gaussian feather, and sampled at each feature map's sample centres, so they mean the same at
any resolution. The feather is cut to exactly 0 at 3σ, and feature maps are mixed with
`lerp(base, donor, mask)`, which returns the base bit for bit where the mask is 0: pixels far
from a region (beyond the receptive field of the layers after the split, ~0.12 of the width)
are exactly the base face's.

StyleGAN2: the split is after the block whose resolution is the largest power of two ≤ 64 and
≤ img_resolution / 4 (64 px at 256–1024 px; 32 at 128). StyleGAN3 has no blocks: the split is
after the last layer whose sampling rate is within the same bound (layers carry margins around
the image, which the masks account for), and donors are synthesized with the base's w[0] (the
row that sets the Fourier input's rotation and translation), so a donor's part is drawn in the
base face's frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from facegen.stylegan.loaders import AnyGenerator

Ellipse = tuple[float, float, float, float]   # centre x, centre y, radius x, radius y (image units)

# The regions a grid can offer, on the FFHQ-aligned layout, in the order a user meets them.
REGION_SHAPES: dict[str, tuple[Ellipse, ...]] = {
    "eyes": ((0.375, 0.47, 0.085, 0.045), (0.625, 0.47, 0.085, 0.045)),
    "brows": ((0.37, 0.405, 0.095, 0.033), (0.63, 0.405, 0.095, 0.033)),
    "nose": ((0.5, 0.585, 0.07, 0.105),),
    "mouth": ((0.5, 0.745, 0.125, 0.055),),
    "jaw": ((0.5, 0.86, 0.27, 0.1), (0.27, 0.73, 0.06, 0.12), (0.73, 0.73, 0.06, 0.12)),
    "forehead": ((0.5, 0.3, 0.2, 0.075),),
    "hair": ((0.5, 0.13, 0.4, 0.13), (0.15, 0.42, 0.09, 0.26), (0.85, 0.42, 0.09, 0.26)),
}
REGIONS: tuple[str, ...] = tuple(REGION_SHAPES)
FEATHER = 0.025          # σ of the Gaussian feather outside each ellipse, in image widths
FEATHER_CUT = 3.0        # the mask is exactly 0 beyond this many σ
MAX_BLEND_RESOLUTION = 64


def region_box(region: str) -> tuple[float, float, float, float]:
    """The box (left, top, right, bottom, in image units) outside which the region's mask is 0:
    its ellipses' bounds widened by the cut feather."""
    try:
        ellipses = REGION_SHAPES[region]
    except KeyError:
        raise ValueError(f"unknown region {region!r}; stylegan regions: {', '.join(REGIONS)}") from None
    reach = FEATHER * FEATHER_CUT
    return (max(0.0, min(cx - rx for cx, _, rx, _ in ellipses) - reach),
            max(0.0, min(cy - ry for _, cy, _, ry in ellipses) - reach),
            min(1.0, max(cx + rx for cx, _, rx, _ in ellipses) + reach),
            min(1.0, max(cy + ry for _, cy, _, ry in ellipses) + reach))


def region_mask(region: str, size: int, margin: float = 0.0, rate: float | None = None) -> np.ndarray:
    """The region's soft mask [size, size] in 0…1, sampled at the sample centres of a feature map
    that covers the image with `rate` samples per image width, `margin` samples beyond each
    edge (StyleGAN3's layers; rate defaults to size, no margin)."""
    try:
        ellipses = REGION_SHAPES[region]
    except KeyError:
        raise ValueError(f"unknown region {region!r}; stylegan regions: {', '.join(REGIONS)}") from None
    rate = float(size if rate is None else rate)
    u = (np.arange(size, dtype=np.float64) + 0.5 - margin) / rate
    x, y = np.meshgrid(u, u)
    mask = np.zeros((size, size))
    for cx, cy, rx, ry in ellipses:
        r = np.hypot((x - cx) / rx, (y - cy) / ry)
        # outside: the distance to the ellipse, approximated along the ray from its centre
        outside = np.maximum(r - 1.0, 0.0) * np.hypot((x - cx), (y - cy)) / np.maximum(r, 1e-9)
        m = np.exp(-0.5 * (outside / FEATHER) ** 2)
        m[outside > FEATHER_CUT * FEATHER] = 0.0
        mask = np.maximum(mask, m)
    return mask.astype(np.float32)


@dataclass(frozen=True)
class Split:
    """Where the synthesis is split: after block/layer `index`; W+ rows [0, rows) drive the part
    before it (the donor's), the rest the part after it (the base's)."""
    index: int
    rows: int
    size: int        # side of the feature map at the split
    rate: float      # its samples per image width
    margin: float    # its samples beyond each image edge


def blend_split(generator: AnyGenerator) -> Split:
    synthesis = generator.synthesis
    limit = min(MAX_BLEND_RESOLUTION, generator.img_resolution // 4)
    if generator.arch == "stylegan2":
        resolutions = synthesis.block_resolutions
        index = max([i for i, res in enumerate(resolutions) if res <= limit], default=0)
        rows = sum(getattr(synthesis, f"b{res}").num_conv for res in resolutions[:index + 1])
        # the last block before the split draws its toRGB with the next row: the donor's too
        return Split(index, rows + 1, resolutions[index], float(resolutions[index]), 0.0)
    margin = (synthesis.input.size - synthesis.input.sampling_rate) / 2
    names = synthesis.layer_names
    candidates = []
    for i, name in enumerate(names[:-2]):           # the last two layers have no margin and are the finest
        layer = getattr(synthesis, name)
        if layer.out_size - 2 * margin <= limit:
            candidates.append(i)
    index = max(candidates, default=0)
    layer = getattr(synthesis, names[index])
    return Split(index, index + 2, layer.out_size, float(layer.out_size - 2 * margin), margin)


class PartBlender:
    """Renders faces with part donors on one generator (see the module docstring)."""

    def __init__(self, generator: AnyGenerator) -> None:
        self.generator = generator
        self.split = blend_split(generator)
        self._masks: dict[str, torch.Tensor] = {}

    def mask(self, region: str) -> torch.Tensor:
        """The region's mask at the split, [1, 1, size, size] on the generator's device."""
        if region not in self._masks:
            s = self.split
            m = region_mask(region, s.size, s.margin, s.rate)
            device = next(self.generator.parameters()).device
            self._masks[region] = torch.from_numpy(m)[None, None].to(device)
        return self._masks[region]

    def synthesize(self, bases: torch.Tensor, parts: Sequence[Mapping[str, torch.Tensor]],
                   noise_mode: str = "const", generator: torch.Generator | None = None) -> torch.Tensor:
        """Images [N, C, H, W] for bases [N, num_ws, w_dim] with each face's donors by region
        ([num_ws, w_dim] each). Regions are mixed in name order; where masks overlap the later
        one wins by its mask's weight."""
        n = bases.shape[0]
        donors = [(i, region, latent) for i, face_parts in enumerate(parts) for region, latent in sorted(face_parts.items())]
        ws = torch.cat([bases] + [latent[None].to(bases) for _, _, latent in donors]) if donors else bases
        if self.generator.arch == "stylegan3" and donors:
            ws = ws.clone()
            ws[n:, 0] = bases[[i for i, _, _ in donors], 0]   # donors drawn in the base's frame
        state = self._head(ws, noise_mode, generator)
        mixed = [t[:n].clone() if t is not None else None for t in state]
        for k, (i, region, _) in enumerate(donors):
            m = self.mask(region).to(state[0].dtype)
            for t, out in zip(state, mixed):
                if t is not None:
                    out[i] = torch.lerp(out[i], t[n + k], m[0])
        return self._tail(bases, mixed, noise_mode, generator)

    # StyleGAN2: blocks [0, index] then the rest; state = (features, image so far)
    # StyleGAN3: input and layers [0, index] then the rest; state = (features, None)

    def _head(self, ws: torch.Tensor, noise_mode: str, generator: torch.Generator | None):
        synthesis, s = self.generator.synthesis, self.split
        ws = ws.to(torch.float32)
        if self.generator.arch == "stylegan2":
            x = img = None
            first = 0
            for res in synthesis.block_resolutions[:s.index + 1]:
                block = getattr(synthesis, f"b{res}")
                x, img = block(x, img, ws.narrow(1, first, block.num_conv + 1), noise_mode, generator)
                first += block.num_conv
            return x, img
        rows = ws.unbind(dim=1)
        x = synthesis.input(rows[0])
        for name, w in zip(synthesis.layer_names[:s.index + 1], rows[1:]):
            x = getattr(synthesis, name)(x, w)
        return x, None

    def _tail(self, ws: torch.Tensor, state, noise_mode: str, generator: torch.Generator | None) -> torch.Tensor:
        synthesis, s = self.generator.synthesis, self.split
        ws = ws.to(torch.float32)
        x, img = state
        if self.generator.arch == "stylegan2":
            first = s.rows - 1
            for res in synthesis.block_resolutions[s.index + 1:]:
                block = getattr(synthesis, f"b{res}")
                x, img = block(x, img, ws.narrow(1, first, block.num_conv + 1), noise_mode, generator)
                first += block.num_conv
            return img
        rows = ws.unbind(dim=1)
        for name, w in zip(synthesis.layer_names[s.index + 1:], rows[s.index + 2:]):
            x = getattr(synthesis, name)(x, w)
        return x * synthesis.output_scale if synthesis.output_scale != 1 else x


def describe_split(generator: AnyGenerator) -> str:
    """One line for the README and logs: where this generator is split for part blending."""
    s = blend_split(generator)
    unit = "block" if generator.arch == "stylegan2" else "layer"
    return (f"{generator.arch} {generator.img_resolution}px: split after {unit} {s.index} "
            f"({s.rate:g} px per image width), donor rows w[0:{s.rows}]")


def mask_overlay(image: Image.Image, regions: Sequence[str] = REGIONS) -> Image.Image:
    """The picture with each region's mask tinted over it, for checking masks by eye."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float64) / 255
    size = rgb.shape[0]
    colours = np.array([[1, 0.2, 0.2], [1, 0.8, 0.1], [0.2, 0.9, 0.3], [0.2, 0.6, 1],
                        [0.8, 0.3, 1], [0.1, 0.9, 0.9], [1, 0.5, 0.0]])
    out = rgb.copy()
    for region, colour in zip(regions, colours[np.arange(len(regions)) % len(colours)]):
        m = region_mask(region, size)[..., None] * 0.55
        out = out * (1 - m) + colour * m
    return Image.fromarray((out * 255).round().clip(0, 255).astype(np.uint8))


__all__ = ["REGIONS", "REGION_SHAPES", "PartBlender", "Split", "blend_split", "describe_split", "mask_overlay",
           "region_box", "region_mask"]
