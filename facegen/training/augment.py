"""ADA: the pictures D sees are augmented, with a probability p that training adapts.

Written from "Training Generative Adversarial Networks with Limited Data" (Karras et al. 2020).
Each picture goes through every transform of the pipeline, each applied with probability p on
its own, with random strengths (NVIDIA's `bgc` set and strengths, `Strengths` below):

    blit    x-flip, rotation by a multiple of 90°, integer translation (≤ 1/8 of the side)
    geom    isotropic scaling (log2 ~ N(0, 0.2²)), arbitrary rotation, anisotropic scaling
            (log2 ~ N(0, 0.2²)), fractional translation (~ N(0, 0.125²) of the side)
    color   brightness (+N(0, 0.2²)), contrast (log2 ~ N(0, 0.5²)), luma flip, hue rotation
            about the grey axis, saturation (log2 ~ N(0, 1))

The arbitrary rotation happens twice (before and after the anisotropic scaling), each with
probability 1 − √(1 − p), so that the picture is rotated at all with probability p. The geometric
transforms make one matrix per picture and one bilinear resampling, mirrored beyond the edges
(NVIDIA's code resamples at twice the size through a wavelet filter to avoid aliasing; this one
resamples once at the picture's size). Blit transforms land on whole pixels, so alone they
move pixels without blurring them. The colour transforms make one 4×4 matrix on (r, g, b, 1) in the [-1, 1]
range G draws in; a grey picture goes through it as three equal channels.

Randomness comes from the generator passed in (the run's, so a resume goes on exactly). Every
number is drawn for the whole batch and each process keeps its own rows, as distributed.py
does for the rest. With p = 0 nothing is drawn and the pictures pass unchanged, so a run whose
p stays 0 is the run without augmentation.

Augmentation is differentiable with respect to the pictures to any order: G learns through it,
and R1 (a gradient with respect to the reals, itself differentiated with respect to D) goes
through it twice. Older torch releases cannot differentiate grid_sample's backward, so the
resampling is a small autograd function whose backward is linear in the incoming gradient and
has the resampling itself as its backward.

The controller (`ada_adjust`) moves p every ADA_INTERVAL steps by the sign of r_t − target,
where r_t is the mean sign of D's outputs on the (augmented) reals since the last move: D that
is sure of every real picture (r_t → 1) is overfitting, so p rises; p can go from 0 to 1 in
`ada_kimg` thousand pictures, and never below 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from facegen.training.distributed import Shard

BLIT = ("xflip", "rotate90", "xint")
GEOM = ("scale", "rotate", "aniso", "xfrac")
COLOR = ("brightness", "contrast", "lumaflip", "hue", "saturation")
TRANSFORMS = BLIT + GEOM + COLOR       # NVIDIA's `bgc`, in the order they are applied
ADA_INTERVAL = 4                       # steps between moves of p
AUGMENT_MODES = ("ada", "noaug", "fixed")

_BILINEAR, _REFLECTION = 0, 2          # grid_sampler's interpolation and padding codes


@dataclass(frozen=True)
class Strengths:
    """How strong each transform is when applied (NVIDIA's defaults)."""

    xint_max: float = 0.125         # integer translation: uniform in ±this · side, rounded to pixels
    scale_std: float = 0.2          # isotropic scaling: log2 of the factor ~ N(0, this²)
    rotate_max: float = 1.0         # rotation: uniform in ±this · 180°
    aniso_std: float = 0.2          # anisotropic scaling: log2 of the x factor ~ N(0, this²), y gets 1/x
    xfrac_std: float = 0.125        # fractional translation: ~ N(0, this²) · side
    brightness_std: float = 0.2     # added to every channel: ~ N(0, this²)
    contrast_std: float = 0.5       # log2 of the contrast factor ~ N(0, this²)
    hue_max: float = 1.0            # hue rotation: uniform in ±this · 180°
    saturation_std: float = 1.0     # log2 of the saturation factor ~ N(0, this²)


class AugmentPipe:
    """The augmentation D's input goes through; `p` is each transform's probability (set by
    the training loop)."""

    def __init__(self, p: float = 0.0, transforms: Iterable[str] = TRANSFORMS,
                 strengths: Strengths = Strengths()) -> None:
        transforms = tuple(transforms)
        unknown = sorted(set(transforms) - set(TRANSFORMS))
        if unknown:
            raise ValueError(f"unknown augmentations {unknown}; known: {', '.join(TRANSFORMS)}")
        self.p, self.transforms, self.strengths = p, frozenset(transforms), strengths

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None,
                 shard: Shard = Shard()) -> torch.Tensor:
        """Augmented copies of a batch [N, C, H, W] in [-1, 1] (the shard's rows of the whole batch)."""
        if self.p <= 0:
            return images
        draw = _Draws(images.shape[0], self.p, generator, shard)
        sampling = self._sampling_matrices(draw, images.shape[3], images.shape[2])
        if not torch.equal(sampling, _identity(3, draw.rows)):
            images = _resample(images, sampling)
        colour = self._colour_matrices(draw)
        if not torch.equal(colour, _identity(4, draw.rows)):
            images = _recolour(images, colour)
        return images

    def _sampling_matrices(self, draw: _Draws, width: int, height: int) -> torch.Tensor:
        """Per picture, the 3×3 matrix from an output pixel to where it is read in the input
        (pixel units, origin at the centre): the inverse of the transforms, composed in order."""
        s, on, n = self.strengths, self.transforms.__contains__, draw.rows
        one, zero = torch.ones(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)
        sampling = _identity(3, n)
        if on("xflip"):
            flip = draw.gated(draw.integers(2), zero)
            sampling = sampling @ _scaling(1 - 2 * flip, one)
        if on("rotate90"):
            quarter = draw.gated(draw.integers(4), zero) * (math.pi / 2)
            sampling = sampling @ _rotation(-quarter, exact=True)
        if on("xint"):
            shift = draw.gated(draw.uniform(-s.xint_max, s.xint_max, columns=2), zero[:, None])
            sampling = sampling @ _translation(-(shift[:, 0] * width).round(), -(shift[:, 1] * height).round())
        if on("scale"):
            factor = draw.gated(2 ** (draw.normal() * s.scale_std), one)
            sampling = sampling @ _scaling(1 / factor, 1 / factor)
        rotate_p = 1 - math.sqrt(max(1 - self.p, 0))   # either rotation: p in all
        if on("rotate"):
            angle = draw.gated(draw.uniform(-math.pi * s.rotate_max, math.pi * s.rotate_max), zero, rotate_p)
            sampling = sampling @ _rotation(-angle)
        if on("aniso"):
            factor = draw.gated(2 ** (draw.normal() * s.aniso_std), one)
            sampling = sampling @ _scaling(1 / factor, factor)
        if on("rotate"):
            angle = draw.gated(draw.uniform(-math.pi * s.rotate_max, math.pi * s.rotate_max), zero, rotate_p)
            sampling = sampling @ _rotation(-angle)
        if on("xfrac"):
            shift = draw.gated(draw.normal(columns=2) * s.xfrac_std, zero[:, None])
            sampling = sampling @ _translation(-shift[:, 0] * width, -shift[:, 1] * height)
        return sampling

    def _colour_matrices(self, draw: _Draws) -> torch.Tensor:
        """Per picture, the 4×4 matrix on (r, g, b, 1): the colour transforms, composed in order."""
        s, on, n = self.strengths, self.transforms.__contains__, draw.rows
        one, zero = torch.ones(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)
        luma = torch.tensor([1.0, 1.0, 1.0, 0.0], dtype=torch.float64) / math.sqrt(3)   # the grey axis
        along_luma = torch.outer(luma, luma)                                           # projection onto it
        colour = _identity(4, n)
        if on("brightness"):
            offset = draw.gated(draw.normal() * s.brightness_std, zero)
            colour = _colour_offset(offset) @ colour
        if on("contrast"):
            factor = draw.gated(2 ** (draw.normal() * s.contrast_std), one)
            colour = _colour_scaling(factor) @ colour
        if on("lumaflip"):
            flip = draw.gated(draw.integers(2), zero)
            colour = (torch.eye(4, dtype=torch.float64) - 2 * along_luma * flip[:, None, None]) @ colour
        if on("hue"):
            angle = draw.gated(draw.uniform(-math.pi * s.hue_max, math.pi * s.hue_max), zero)
            colour = _rotation_about(luma[:3], angle) @ colour
        if on("saturation"):
            factor = draw.gated(2 ** (draw.normal() * s.saturation_std), one)
            colour = (along_luma + (torch.eye(4, dtype=torch.float64) - along_luma) * factor[:, None, None]) @ colour
        return colour


def ada_adjust(p: float, rt: float, target: float, pictures: int, ada_kimg: float) -> float:
    """The next p from r_t (the mean sign of D(real) over the last `pictures` pictures): up when
    D is surer of the reals than `target`, down when less sure, by pictures / (ada_kimg · 1000);
    never below 0."""
    direction = (rt > target) - (rt < target)
    return max(p + direction * pictures / (ada_kimg * 1000), 0.0)


# --- random numbers -----------------------------------------------------------------------------

class _Draws:
    """Random numbers for this process's rows, drawn for the whole batch (distributed.py's rule),
    in float64 so the matrices are exact where they should be."""

    def __init__(self, rows: int, p: float, generator: torch.Generator | None, shard: Shard) -> None:
        self.rows, self.p, self.generator, self.shard = rows, p, generator, shard

    def _whole(self, draw, columns: int | None) -> torch.Tensor:
        shape = [self.rows * self.shard.count] + ([columns] if columns else [])
        return self.shard.rows(draw(shape, generator=self.generator)).to(torch.float64)

    def uniform(self, low: float, high: float, columns: int | None = None) -> torch.Tensor:
        return low + (high - low) * self._whole(torch.rand, columns)

    def normal(self, columns: int | None = None) -> torch.Tensor:
        return self._whole(torch.randn, columns)

    def integers(self, count: int) -> torch.Tensor:
        """Whole numbers 0 … count − 1, as floats."""
        return (self._whole(torch.rand, None) * count).floor()

    def gated(self, value: torch.Tensor, identity: torch.Tensor, probability: float | None = None) -> torch.Tensor:
        """`value` for the pictures this transform is applied to (each with `probability`, p by
        default), `identity` for the others."""
        applied = self._whole(torch.rand, None) < (self.p if probability is None else probability)
        return torch.where(applied.view(-1, *[1] * (value.dim() - 1)), value, identity)


# --- matrices -----------------------------------------------------------------------------------

def _identity(size: int, rows: int) -> torch.Tensor:
    return torch.eye(size, dtype=torch.float64).repeat(rows, 1, 1)


def _matrices(*entries: torch.Tensor | float, size: int, rows: int) -> torch.Tensor:
    """[rows, size, size] from row-major entries, each a per-picture tensor or a number."""
    columns = [e if isinstance(e, torch.Tensor) else torch.full([rows], float(e), dtype=torch.float64)
               for e in entries]
    return torch.stack(columns, dim=1).view(rows, size, size)


def _translation(tx: torch.Tensor, ty: torch.Tensor) -> torch.Tensor:
    return _matrices(1, 0, tx, 0, 1, ty, 0, 0, 1, size=3, rows=len(tx))


def _scaling(sx: torch.Tensor, sy: torch.Tensor) -> torch.Tensor:
    return _matrices(sx, 0, 0, 0, sy, 0, 0, 0, 1, size=3, rows=len(sx))


def _rotation(angle: torch.Tensor, exact: bool = False) -> torch.Tensor:
    """Rotation by `angle` (radians); `exact` rounds cos and sin, for multiples of 90°."""
    cos, sin = angle.cos(), angle.sin()
    if exact:
        cos, sin = cos.round(), sin.round()
    return _matrices(cos, -sin, 0, sin, cos, 0, 0, 0, 1, size=3, rows=len(angle))


def _colour_offset(offset: torch.Tensor) -> torch.Tensor:
    return _matrices(1, 0, 0, offset, 0, 1, 0, offset, 0, 0, 1, offset, 0, 0, 0, 1, size=4, rows=len(offset))


def _colour_scaling(factor: torch.Tensor) -> torch.Tensor:
    return _matrices(factor, 0, 0, 0, 0, factor, 0, 0, 0, 0, factor, 0, 0, 0, 0, 1, size=4, rows=len(factor))


def _rotation_about(axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """4×4 rotations of (r, g, b) about a unit axis by per-picture angles (Rodrigues' formula)."""
    x, y, z = axis.tolist()
    cross = torch.tensor([[0, -z, y], [z, 0, -x], [-y, x, 0]], dtype=torch.float64)
    cos, sin = angle.cos()[:, None, None], angle.sin()[:, None, None]
    rgb = cos * torch.eye(3, dtype=torch.float64) + sin * cross + (1 - cos) * torch.outer(axis, axis)
    out = _identity(4, len(angle))
    out[:, :3, :3] = rgb
    return out


# --- applying them ------------------------------------------------------------------------------

def _resample(images: torch.Tensor, sampling: torch.Tensor) -> torch.Tensor:
    """Each picture read through its sampling matrix (pixel units, centred), bilinearly, mirrored
    beyond the edges."""
    n, c, h, w = images.shape
    to_pixels = torch.diag(torch.tensor([w / 2, h / 2, 1.0], dtype=torch.float64))   # from grid_sample's [-1, 1]
    theta = torch.linalg.inv(to_pixels) @ sampling @ to_pixels
    grid = F.affine_grid(theta[:, :2].to(images.device, images.dtype), [n, c, h, w], align_corners=False)
    return _GridSample.apply(images, grid)


def _recolour(images: torch.Tensor, colour: torch.Tensor) -> torch.Tensor:
    """(r, g, b) ← M·(r, g, b, 1) per picture; a grey picture as three equal channels, averaged after."""
    colour = colour.to(images.device, images.dtype)
    grey = images.shape[1] == 1
    rgb = images.expand(-1, 3, -1, -1) if grey else images
    out = torch.einsum("nij,njhw->nihw", colour[:, :3, :3], rgb) + colour[:, :3, 3, None, None]
    return out.mean(dim=1, keepdim=True) if grey else out


class _GridSample(torch.autograd.Function):
    """Bilinear grid_sample with reflection, differentiable in the pictures to any order (the
    grid, made of random numbers, takes no gradient)."""

    @staticmethod
    def forward(ctx, images: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(grid)
        ctx.images_shape = images.shape
        return F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (grid,) = ctx.saved_tensors
        return _GridSampleBackward.apply(grad, grid, ctx.images_shape), None


class _GridSampleBackward(torch.autograd.Function):
    """The pictures' gradient of `_GridSample`: linear in `grad`, so its own backward is the
    forward resampling of the incoming gradient."""

    @staticmethod
    def forward(ctx, grad: torch.Tensor, grid: torch.Tensor, images_shape: torch.Size) -> torch.Tensor:
        ctx.save_for_backward(grid)
        placeholder = grad.new_zeros(images_shape)   # bilinear sampling's gradient does not read the pictures
        images_grad, _ = torch.ops.aten.grid_sampler_2d_backward(grad, placeholder, grid, _BILINEAR, _REFLECTION,
                                                                 False, [True, False])
        return images_grad

    @staticmethod
    def backward(ctx, grad_grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (grid,) = ctx.saved_tensors
        return _GridSample.apply(grad_grad, grid), None, None
