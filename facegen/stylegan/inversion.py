"""A photo → a W+ latent of the operator's StyleGAN ("me" for the photoreal backend).

The aligned photo (facegen.stylegan.align) is fitted by gradient descent on W+, in the manner
of the official StyleGAN2 projector:

- start from the average w (or the best of a few mapped samples, `starts`), every row free;
- Adam with the projector's schedule: the learning rate ramps up over the first 5% of the
  steps and down along a half cosine over the last 25%; Gaussian noise on w (5% of w's spread,
  fading out over the first 75% of the steps) keeps the early steps exploring;
- stop early when the loss plateaus (no relative gain of `min_improvement` within `patience`
  steps); keep the best latent seen;
- a progress callback gets the fraction done after every step and 1.0 at the end.

The loss compares the synthesized picture with the photo:
- `lpips-vgg16`: the official projector's VGG16 LPIPS network, the operator's `vgg16.pt`
  (DREAMFACE_LPIPS_VGG). That file is a TorchScript program: loading it runs code from the
  file, so it must be the operator's own trusted copy; nothing downloads it.
- otherwise, when the checkpoint carries its discriminator (NVIDIA training snapshots do),
  `discriminator-features`: the differences of D's block activations at every resolution,
  each pixel's feature vector scaled to unit length first (as LPIPS does with VGG's), plus the
  pixel terms below at 64 px and under for colours and layout. A trained D's features are
  tuned to exactly these faces; no extra file is needed.
- otherwise `pixel-ssim`: a multi-scale pixel loss (mean squared error plus SSIM at each
  level of a 2× pyramid). It needs no file; it matches colours and shapes well and fine
  texture less well than a perceptual network.
`make_loss` is the one place that chooses. The name of the loss used is part of the result
(and so of the stored face's parameters).

Noise maps: a face is stored as W+ only and is rendered with the checkpoint's constant noise,
so by default only W+ is fitted, under that same noise; what the stored face shows is what
was fitted. `optimize_noise=True` also fits the noise maps as the projector does (starting
from fresh Gaussian noise, regularized against spatial autocorrelation at every scale and
renormalized after each step) and returns them; the chat does not use it, because those maps
could not be stored with the face.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from facegen.facecode import FaceCode
from facegen.stylegan.discriminator import Discriminator
from facegen.stylegan.loaders import AnyGenerator
from facegen.stylegan.networks2 import SynthesisLayer

Progress = Callable[[float], None]
LOSS_RESOLUTION = 256   # losses look at the picture at most this large (the projector's choice)


@dataclass(frozen=True)
class InversionSettings:
    steps: int = 500                 # most optimization steps (DREAMFACE_INVERSION_STEPS)
    learning_rate: float = 0.1       # Adam's peak learning rate
    lr_rampup: float = 0.05          # fraction of the steps over which the rate rises from 0
    lr_rampdown: float = 0.25        # fraction of the steps over which it falls back to 0 (half cosine)
    w_noise: float = 0.05            # noise added to w at the start, × w's spread; 0 = none
    w_noise_ramp: float = 0.75       # fraction of the steps over which that noise fades out
    starts: int = 1                  # 1: start at w_avg; n: the best of w_avg and n − 1 mapped samples
    patience: int = 50               # steps without enough gain before stopping early; 0 = never stop early
    min_improvement: float = 2e-3    # relative gain of the best loss that counts as progress
    optimize_noise: bool = False     # also fit the noise maps (not storable with a face; see above)
    noise_weight: float = 1e5        # weight of the noise maps' autocorrelation penalty
    w_samples: int = 10_000          # mapped samples for w's spread
    seed: int = 0                    # for the sampled starts and the w noise

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"inversion needs at least one step, got {self.steps}")


@dataclass(frozen=True)
class Inversion:
    code: FaceCode                   # the fitted W+
    loss_name: str                   # which loss fitted it: "lpips-vgg16", "discriminator-features" or "pixel-ssim"
    steps: int                       # steps run
    stopped_early: bool              # the loss plateaued before `steps`
    distance: float                  # the loss between the fitted picture and the photo
    seconds: float
    noise: dict[str, torch.Tensor] | None = None   # fitted noise maps by layer (optimize_noise only)

    def metadata(self) -> dict[str, Any]:
        """What is recorded with the face: plain JSON."""
        return {"loss": self.loss_name, "steps": self.steps, "stopped_early": self.stopped_early,
                "distance": round(self.distance, 6), "seconds": round(self.seconds, 2)}


# --- losses --------------------------------------------------------------------------------------

def to_tensor(image: Image.Image, device: torch.device | str = "cpu") -> torch.Tensor:
    """An RGB image → [1, 3, H, W] float in [-1, 1], the generator's range."""
    pixels = torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32).copy())
    return (pixels.permute(2, 0, 1)[None] / 127.5 - 1).to(device)


def _at_most(images: torch.Tensor, side: int) -> torch.Tensor:
    """Area-average down to `side` when larger (the generator's sides are powers of two)."""
    if images.shape[-1] > side:
        images = F.adaptive_avg_pool2d(images, (side, side))
    return images


class LpipsVgg16:
    """LPIPS distance with the official projector's VGG16 (a TorchScript file; loading runs it)."""

    name = "lpips-vgg16"

    def __init__(self, path: str | Path, target: torch.Tensor) -> None:
        if not Path(path).is_file():
            raise FileNotFoundError(f"DREAMFACE_LPIPS_VGG: no such file {path}")
        with warnings.catch_warnings():   # torch calls TorchScript deprecated; the official file is one
            warnings.simplefilter("ignore", DeprecationWarning)
            self.net = torch.jit.load(str(path), map_location=target.device).eval()
        with torch.no_grad():
            self.target = self._features(target)

    def _features(self, images: torch.Tensor) -> torch.Tensor:
        # the network takes pixels in [0, 255]; return_lpips gives normalized, weighted features
        pixels = (_at_most(images, LOSS_RESOLUTION) + 1) * 127.5
        return self.net(pixels, resize_images=False, return_lpips=True)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return (self._features(images) - self.target).square().sum(dim=1)


def _gaussian_window(size: int, sigma: float, device: torch.device) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    g = torch.exp(-x.square() / (2 * sigma ** 2))
    g = torch.outer(g, g)
    return (g / g.sum())[None, None].repeat(3, 1, 1, 1)


def ssim(a: torch.Tensor, b: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Mean structural similarity per image, for pictures in [-1, 1] (dynamic range 2)."""
    c1, c2 = (0.01 * 2) ** 2, (0.03 * 2) ** 2

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, window, groups=3)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a.square()
    var_b = blur(b * b) - mu_b.square()
    cov = blur(a * b) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a.square() + mu_b.square() + c1) * (var_a + var_b + c2))
    return index.flatten(1).mean(dim=1)


class PixelSsim:
    """Mean squared error plus (1 − SSIM) on a 2× pyramid down to 8 px: no model file needed."""

    name = "pixel-ssim"
    MIN_SIDE = 8

    def __init__(self, target: torch.Tensor, max_side: int = LOSS_RESOLUTION) -> None:
        self.max_side = max_side   # the pyramid's top level: the picture area-averaged to at most this side
        self.full = target.clamp(-1, 1)
        self.targets = self._pyramid(self.full)
        self.windows = [_gaussian_window(min(11, t.shape[-1] // 2 * 2 - 1), 1.5, target.device) for t in self.targets]

    def _pyramid(self, images: torch.Tensor) -> list[torch.Tensor]:
        levels = [_at_most(images, self.max_side)]
        while levels[-1].shape[-1] // 2 >= self.MIN_SIDE:
            levels.append(F.avg_pool2d(levels[-1], 2))
        return levels

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        # Pictures are clamped to [-1, 1] when shown: where the photo is pure white (black), a
        # drawn pixel at or beyond white (black) already matches, and only the other way is an
        # error (a hinge, so a pixel saturated the wrong way still gets a gradient).
        t = self.full
        r = images - t
        r = torch.where(t >= 1, r.clamp(max=0), torch.where(t <= -1, r.clamp(min=0), r))
        total = images.new_zeros(images.shape[0])
        for level, target, window in zip(self._pyramid(t + r), self.targets, self.windows):
            total = total + (level - target).square().flatten(1).mean(dim=1) + (1 - ssim(level, target, window))
        return total / len(self.targets)


def unit_channels(x: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    """Scale each pixel's feature vector (dim 1) to unit length, LPIPS's normalization."""
    return x * (x.square().sum(dim=1, keepdim=True) + eps).rsqrt()


class DiscriminatorFeatures:
    """The checkpoint's own discriminator as a perceptual network: squared differences of its
    unit-normalized block activations (summed over channels, averaged over pixels, then over
    blocks), plus PixelSsim at `PIXEL_SIDE` px and under."""

    name = "discriminator-features"
    PIXEL_SIDE = 64   # the pixel terms keep colours and layout; the features carry the detail

    def __init__(self, discriminator: Discriminator, target: torch.Tensor) -> None:
        self.discriminator = discriminator
        self.pixels = PixelSsim(target, max_side=self.PIXEL_SIDE)
        with torch.no_grad():
            self.targets = [unit_channels(f) for f in discriminator.features(self._sized(target.clamp(-1, 1)))]

    def _sized(self, images: torch.Tensor) -> torch.Tensor:
        side = self.discriminator.img_resolution   # a checkpoint's D reads its G's pictures; others are resized
        if images.shape[-1] != side:
            images = F.interpolate(images, size=(side, side), mode="bilinear", align_corners=False, antialias=True)
        return images

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The feature distance alone, per image."""
        layers = self.discriminator.features(self._sized(images))
        return sum((unit_channels(f) - t).square().sum(dim=1).mean(dim=(1, 2))
                   for f, t in zip(layers, self.targets)) / len(layers)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return self.features(images) + self.pixels(images)


Loss = LpipsVgg16 | DiscriminatorFeatures | PixelSsim


def make_loss(target: torch.Tensor, lpips_vgg: str | Path | None = None,
              discriminator: Discriminator | None = None) -> Loss:
    """The best loss available, in order: LPIPS from the operator's vgg16.pt, the checkpoint's
    discriminator features, pixels + SSIM."""
    if lpips_vgg:
        return LpipsVgg16(lpips_vgg, target)
    if discriminator is not None:
        return DiscriminatorFeatures(discriminator.to(target.device), target)
    return PixelSsim(target)


# --- the optimization ----------------------------------------------------------------------------

def learning_rate(t: float, s: InversionSettings) -> float:
    """The projector's schedule at t ∈ [0, 1): linear ramp-up, flat, half-cosine ramp-down."""
    down = min(1.0, (1.0 - t) / s.lr_rampdown)
    down = 0.5 - 0.5 * math.cos(down * math.pi)
    return s.learning_rate * down * min(1.0, t / s.lr_rampup)


def noise_penalty(maps: list[torch.Tensor]) -> torch.Tensor:
    """Squared autocorrelation of each noise map with itself shifted by one pixel, down and
    right, at every scale of a 2× pyramid: structure the maps should not carry."""
    total = torch.zeros([], device=maps[0].device)
    for v in maps:
        v = v[None, None]
        while True:
            total = total + (v * torch.roll(v, 1, dims=3)).mean().square() + (v * torch.roll(v, 1, dims=2)).mean().square()
            if v.shape[2] <= 8:
                break
            v = F.avg_pool2d(v, 2)
    return total


def _w_stats(generator: AnyGenerator, samples: int, rng: np.random.RandomState, device: torch.device) -> float:
    z = torch.from_numpy(rng.randn(samples, generator.z_dim)).to(device)
    with torch.no_grad():
        w = generator.mapping(z)[:, 0]
    return float((w - generator.mapping.w_avg).square().sum(dim=1).mean().sqrt())


def _starting_point(generator: AnyGenerator, loss: Callable[[torch.Tensor], torch.Tensor], s: InversionSettings,
                    rng: np.random.RandomState, device: torch.device, noise_mode: str) -> torch.Tensor:
    w_avg = generator.mapping.w_avg.reshape(1, 1, -1).repeat(1, generator.num_ws, 1)
    if s.starts <= 1:
        return w_avg
    z = torch.from_numpy(rng.randn(s.starts - 1, generator.z_dim)).to(device)
    with torch.no_grad():
        candidates = torch.cat([w_avg, generator.mapping(z, truncation_psi=0.7)])
        distances = torch.cat([loss(generator.synthesis(c[None], noise_mode=noise_mode)) for c in candidates])
    return candidates[int(distances.argmin())][None]


def invert(generator: AnyGenerator, target: Image.Image, settings: InversionSettings = InversionSettings(), *,
           lpips_vgg: str | Path | None = None, discriminator: Discriminator | None = None,
           progress: Progress | None = None, noise_mode: str = "const") -> Inversion:
    """Fit W+ so that the generator draws `target` (an aligned face, any size: it is resized
    to the generator's resolution) under `noise_mode` ("const" or "none": the noise the face
    will be rendered with). `lpips_vgg` and `discriminator` offer the losses (see make_loss)."""
    if noise_mode not in ("const", "none"):
        raise ValueError(f"inversion fits under fixed noise: 'const' or 'none', not {noise_mode!r}")
    started = time.monotonic()
    s = settings
    device = generator.mapping.w_avg.device
    resolution = generator.img_resolution
    if target.size != (resolution, resolution):
        target = target.convert("RGB").resize((resolution, resolution), Image.LANCZOS)
    loss = make_loss(to_tensor(target, device), lpips_vgg, discriminator)
    rng = np.random.RandomState(s.seed)
    torch_rng = torch.Generator(device=device).manual_seed(s.seed)
    w_std = _w_stats(generator, s.w_samples, rng, device)

    if s.optimize_noise:
        generator = copy.deepcopy(generator)   # the maps are fitted on a copy; the backend's stay as they are
    layers = [m for m in generator.synthesis.modules() if isinstance(m, SynthesisLayer)] if s.optimize_noise else []
    for layer in layers:
        layer.noise_const = torch.randn(layer.noise_const.shape, generator=torch_rng, device=device).requires_grad_()
    noise_maps = [layer.noise_const for layer in layers]

    w_opt = _starting_point(generator, loss, s, rng, device, noise_mode).clone().requires_grad_()
    optimizer = torch.optim.Adam([w_opt, *noise_maps], betas=(0.9, 0.999), lr=s.learning_rate)
    best, best_w, history = math.inf, w_opt.detach().clone(), []
    steps_run, stopped_early = 0, False
    for step in range(s.steps):
        t = step / s.steps
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(t, s)
        w_noise = w_std * s.w_noise * max(0.0, 1.0 - t / s.w_noise_ramp) ** 2
        ws = w_opt + torch.randn(w_opt.shape, generator=torch_rng, device=device) * w_noise
        distance = loss(generator.synthesis(ws, noise_mode=noise_mode)).sum()
        total = distance + s.noise_weight * noise_penalty(noise_maps) if noise_maps else distance
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        with torch.no_grad():
            for v in noise_maps:   # keep the maps zero-mean, unit-variance noise
                v -= v.mean()
                v *= v.square().mean().rsqrt()
        value = float(total.detach())
        history.append(value)
        if value < best:
            best, best_w = value, ws.detach().clone()   # the latent this loss was measured at
        steps_run = step + 1
        if progress is not None:
            progress(steps_run / s.steps)
        if s.patience and _plateaued(history, s.patience, s.min_improvement):
            stopped_early = True
            break
    if progress is not None and steps_run < s.steps:
        progress(1.0)
    with torch.no_grad():
        final = float(loss(generator.synthesis(best_w, noise_mode=noise_mode)).sum())
    return Inversion(FaceCode(best_w[0].cpu().numpy()), loss.name, steps_run, stopped_early, final,
                     time.monotonic() - started,
                     {name: m.noise_const.detach().clone() for name, m in generator.synthesis.named_modules()
                      if isinstance(m, SynthesisLayer)} if s.optimize_noise else None)


def _plateaued(history: list[float], patience: int, min_improvement: float) -> bool:
    """The best loss of the last `patience` steps is not `min_improvement` (relative) below the
    best before them."""
    if len(history) <= patience:
        return False
    before = min(history[:-patience])
    return min(history[-patience:]) >= before * (1 - min_improvement)
