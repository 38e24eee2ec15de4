"""What one training run is: the networks' shape and the recipe's numbers, with the defaults
stylegan2-ada-pytorch's `--cfg=auto` picks for a resolution on one GPU.

The `auto` rule, as NVIDIA's train.py states it (here with one device):

    batch      min(4096 / R, 32)             (64 px and below: 32; 128: 32; 256: 16; 1024: 4)
    mbstd      min(batch, 4)                 pictures per minibatch-standard-deviation group
    channels   base 16384 below 512 px, 32768 from 512 px; at most 512 per layer
    lr         0.0025, 0.002 at 1024 px
    γ (R1)     0.0002 · R² / batch
    EMA        batch · 10 / 32 kimg half-life, ramped up over the first 5 % of the images seen
    mapping    2 layers; z and w of 512
    augment    ADA (augment.py) from p = 0, target 0.6, p moving 0 → 1 in 500 kimg at most

`--batch` changes only the batch, as in NVIDIA's code: γ, the EMA and the group size stay those
of the automatic batch.

Several processes (torchrun) split the batch and change nothing else, so the same command makes
the same run on any number of them (NVIDIA's `auto` grows the batch with the GPUs instead; here
a bigger batch is asked for with `--batch`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from facegen.training.augment import AUGMENT_MODES
from facegen.training.loss import LossSettings

MIN_RESOLUTION, MAX_RESOLUTION = 8, 1024
FP16_RESOLUTIONS = 4   # NVIDIA's num_fp16_res: with --fp16, the blocks of the 4 highest resolutions


class TrainingError(ValueError):
    """A run that cannot start or go on; the message says why in one line."""


def check_resolution(resolution: int) -> None:
    if resolution < MIN_RESOLUTION or resolution > MAX_RESOLUTION or resolution & (resolution - 1):
        raise TrainingError(f"--res must be a power of two from {MIN_RESOLUTION} to {MAX_RESOLUTION}, "
                            f"not {resolution}")


@dataclass(frozen=True)
class TrainingOptions:
    resolution: int                      # side of the pictures, the dataset's
    batch: int                           # pictures per step
    gamma: float                         # R1 weight γ
    ema_kimg: float                      # half-life of G's moving average, in thousands of pictures
    mbstd_group: int                     # D's minibatch-std group size (the batch must split into groups)
    lr: float = 0.0025                   # Adam learning rate of both networks
    ema_rampup: float | None = 0.05      # EMA half-life at most this share of the pictures seen; None = none
    mirror: bool = False                 # also train on left-right flipped pictures
    seed: int = 0                        # initial weights, latents, noise and data order
    # augmentation of D's pictures (augment.py)
    aug: str = "ada"                     # ada: p steered toward ada_target; fixed: p stays; noaug: none
    augment_p: float = 0.0               # the probability of each transform at the start (ada) or always (fixed)
    ada_target: float = 0.6              # ada: the mean sign of D(real) that p is steered to hold
    ada_kimg: float = 500                # ada: thousands of pictures over which p can move by 1
    # the networks (fixed by a checkpoint when fine-tuning or resuming)
    z_dim: int = 512
    w_dim: int = 512
    map_layers: int = 2
    channel_base: int = 16384            # feature maps at side r: min(channel_base / r, channel_max)
    channel_max: int = 512
    conv_clamp: float | None = 256         # activation clamp (NVIDIA's, for half precision)
    fp16: bool = False                     # feature maps of the top FP16_RESOLUTIONS in float16 (NVIDIA's mixed precision)

    def __post_init__(self) -> None:
        check_resolution(self.resolution)
        if self.batch < 1:
            raise TrainingError(f"--batch must be at least 1, not {self.batch}")
        group = min(self.mbstd_group, self.batch)
        if self.batch % group:
            raise TrainingError(f"--batch {self.batch} does not split into the discriminator's groups of "
                                f"{self.mbstd_group} pictures; use a multiple of {self.mbstd_group}")
        if self.gamma < 0:
            raise TrainingError(f"--gamma must not be negative, not {self.gamma}")
        if self.aug not in AUGMENT_MODES:
            raise TrainingError(f"--aug must be one of {', '.join(AUGMENT_MODES)}, not {self.aug}")
        if not 0 <= self.augment_p <= 1:
            raise TrainingError(f"--p must be a probability from 0 to 1, not {self.augment_p}")
        if self.aug == "noaug" and self.augment_p:
            raise TrainingError(f"--p {self.augment_p} needs --aug ada or fixed: --aug noaug augments nothing")
        if not 0 < self.ada_target < 1:
            raise TrainingError(f"--target must be between 0 and 1 (not included), not {self.ada_target}")
        if self.ada_kimg <= 0:
            raise TrainingError(f"--ada-kimg must be more than 0, not {self.ada_kimg}")

    def fp16_from(self) -> int | None:
        """The lowest resolution whose blocks run in float16 (never below 8 px, as in NVIDIA's
        code), or None without --fp16."""
        if not self.fp16:
            return None
        return max(self.resolution * 2 // 2 ** FP16_RESOLUTIONS, 8)

    def generator_kwargs(self, img_channels: int) -> dict[str, Any]:
        return dict(z_dim=self.z_dim, w_dim=self.w_dim, img_resolution=self.resolution, img_channels=img_channels,
                    mapping_kwargs=dict(num_layers=self.map_layers),
                    synthesis_kwargs=dict(channel_base=self.channel_base, channel_max=self.channel_max,
                                          conv_clamp=self.conv_clamp))

    def discriminator_kwargs(self, img_channels: int) -> dict[str, Any]:
        return dict(img_resolution=self.resolution, img_channels=img_channels, channel_base=self.channel_base,
                    channel_max=self.channel_max, conv_clamp=self.conv_clamp, mbstd_group_size=self.mbstd_group)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def auto_options(resolution: int, **overrides: Any) -> TrainingOptions:
    """NVIDIA's `auto` configuration for one device at `resolution`, then `overrides` (None values
    are ignored; `batch` changes the batch alone, see the module docstring)."""
    check_resolution(resolution)
    batch = max(min(4096 // resolution, 32), 1)
    auto = TrainingOptions(
        resolution=resolution, batch=batch, gamma=0.0002 * resolution ** 2 / batch, ema_kimg=batch * 10 / 32,
        mbstd_group=min(batch, 4), lr=0.002 if resolution >= 1024 else 0.0025,
        channel_base=32768 if resolution >= 512 else 16384)
    return replace(auto, **{k: v for k, v in overrides.items() if v is not None})


def check_processes(options: TrainingOptions, processes: int) -> None:
    """Several processes split every batch evenly, each share into whole minibatch-std groups, and
    the path-length half-batch too, so that the run equals one process's (distributed.py)."""
    if processes == 1:
        return
    share = options.batch // processes
    pl_batch = max(options.batch // LossSettings.pl_batch_shrink, 1)
    if options.batch % processes or share % options.mbstd_group or pl_batch % processes:
        step = processes * math.lcm(options.mbstd_group, LossSettings.pl_batch_shrink)
        raise TrainingError(f"--batch {options.batch} does not split over {processes} processes: each share must be "
                            f"whole groups of {options.mbstd_group} pictures (the discriminator's minibatch "
                            f"groups) and the path-length half-batch must split too; use a multiple of {step}")
