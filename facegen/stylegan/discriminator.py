"""StyleGAN2 discriminator in the stylegan2-ada-pytorch layout (the `D` of NVIDIA's pickles).

The stylegan2-ada-pytorch and stylegan3 repositories train the same discriminator: one block
per resolution from the image's side down to 8 px, each halving the side, then an epilogue at
4×4 (minibatch standard deviation, a 3×3 conv, two dense layers) that gives one logit. In the
default "resnet" architecture a block is

    x ─ conv0 (3×3) ─ conv1 (3×3, blur, stride 2) ─ × √½ ─┐
    └── skip (1×1, blur, stride 2, linear, no bias) × √½ ──┴─ + → next block

and only the first block reads the picture (fromrgb, 1×1). "skip" reads a blurred, halved
copy of the picture in every block; "orig" is the plain chain. Parameter and buffer names
follow NVIDIA's (`b256.conv0.weight`, `b4.fc.bias`, …) so the recorded module state loads
without renaming. Everything runs in float32; conditional discriminators (c_dim > 0) are not
built here.

For photo inversion only the trunk matters: `features` returns each block's output, the
activations a trained D uses to tell real faces from drawn ones, from fine (half the image's
side) to coarse (4×4).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from facegen.stylegan.networks2 import FullyConnectedLayer, channels_at
from facegen.stylegan.ops import LRELU_GAIN, LRELU_SLOPE, bias_act, check_shape, fir_filter, upfirdn2d

ARCHITECTURES = ("resnet", "skip", "orig")
HALF = math.sqrt(0.5)   # the resnet branches are each scaled by √½ so their sum keeps the variance


def blur_padding(f: torch.Tensor, down: int = 2) -> tuple[int, int]:
    """Padding before and after that makes a blur followed by `down`× subsampling map a side
    of n to n / down (NVIDIA's convention, filters of even length)."""
    taps = f.shape[-1]
    return (taps - down + 1) // 2, (taps - down) // 2


def downsample2x(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Blur with the FIR filter and keep every second sample: side n → n / 2."""
    lo, hi = blur_padding(f)
    return upfirdn2d(x, f, down=2, padding=(lo, hi, lo, hi))


class Conv2dLayer(nn.Module):
    """Convolution with equalized learning rate, optional 2× downsampling (blur, then stride 2)
    and leaky ReLU (×√2)."""

    def __init__(self,
                 in_channels: int,                 # input feature maps
                 out_channels: int,                # output feature maps
                 kernel_size: int,                 # square kernel side (1 or 3 here)
                 bias: bool = True,                # add a learned per-channel bias
                 lrelu: bool = True,               # leaky ReLU after the bias; False = linear
                 down: int = 1,                    # 2 = halve the side
                 conv_clamp: float | None = None,  # clamp the output to ±conv_clamp·gain; None = no clamp
                 resample_filter: Sequence[float] = (1, 3, 3, 1),  # FIR taps of the blur before downsampling
                 ) -> None:
        super().__init__()
        self.lrelu, self.down, self.conv_clamp = lrelu, down, conv_clamp
        self.padding = kernel_size // 2
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.register_buffer("resample_filter", fir_filter(resample_filter))

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        check_shape("Conv2dLayer input", x, [None, self.weight.shape[1], None, None])
        w = (self.weight * self.weight_gain).to(x.dtype)
        if self.down > 1:
            lo, hi = blur_padding(self.resample_filter, self.down)
            p = self.padding
            x = upfirdn2d(x, self.resample_filter, padding=(p + lo, p + hi, p + lo, p + hi))
            x = F.conv2d(x, w, stride=self.down)
        else:
            x = F.conv2d(x, w, padding=self.padding)
        act_gain = (LRELU_GAIN if self.lrelu else 1.0) * gain
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        bias = None if self.bias is None else self.bias.to(x.dtype)
        return bias_act(x, bias, slope=LRELU_SLOPE if self.lrelu else None, gain=act_gain, clamp=clamp)


class DiscriminatorBlock(nn.Module):
    """Side r → r / 2: (fromrgb), conv0, conv1 with downsampling (and the resnet skip)."""

    def __init__(self,
                 in_channels: int,                 # feature maps from the previous block; 0 = the first block
                 tmp_channels: int,                # feature maps inside the block
                 out_channels: int,                # feature maps passed on
                 resolution: int,                  # the side this block reads
                 img_channels: int,                # colour channels of the picture
                 architecture: str = "resnet",     # "resnet", "skip" or "orig" (see the module docstring)
                 conv_clamp: float | None = None,  # activation clamp of the convolutions
                 resample_filter: Sequence[float] = (1, 3, 3, 1),  # FIR taps for downsampling
                 ) -> None:
        super().__init__()
        self.in_channels, self.resolution, self.architecture = in_channels, resolution, architecture
        self.register_buffer("resample_filter", fir_filter(resample_filter))
        conv = dict(conv_clamp=conv_clamp, resample_filter=resample_filter)
        if in_channels == 0 or architecture == "skip":
            self.fromrgb = Conv2dLayer(img_channels, tmp_channels, 1, **conv)
        self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, 3, **conv)
        self.conv1 = Conv2dLayer(tmp_channels, out_channels, 3, down=2, **conv)
        if architecture == "resnet":
            self.skip = Conv2dLayer(tmp_channels, out_channels, 1, bias=False, lrelu=False, down=2,
                                    resample_filter=resample_filter)
        self.use_fp16 = False   # half-precision feature maps: set by training's --fp16 (enable_fp16), never saved

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        dtype = torch.float16 if self.use_fp16 else torch.float32
        x = None if x is None else x.to(dtype)
        if hasattr(self, "fromrgb"):
            y = self.fromrgb(img.to(dtype))
            x = y if x is None else x + y
            img = downsample2x(img, self.resample_filter) if self.architecture == "skip" else None
        if self.architecture == "resnet":
            y = self.skip(x, gain=HALF)
            x = y + self.conv1(self.conv0(x), gain=HALF)
        else:
            x = self.conv1(self.conv0(x))
        return x, img


def minibatch_std(x: torch.Tensor, group_size: int | None, num_channels: int) -> torch.Tensor:
    """Append `num_channels` maps holding the standard deviation of the features across groups
    of `group_size` pictures (None = the whole batch): how varied the batch is."""
    n, c, h, w = x.shape
    g = min(group_size, n) if group_size is not None else n
    if n % g:
        raise ValueError(f"minibatch std: a batch of {n} does not split into groups of {g}")
    y = x.reshape(g, -1, num_channels, c // num_channels, h, w)
    y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt()   # [n/g, F, c/F, H, W]
    y = y.mean(dim=[2, 3, 4]).reshape(-1, num_channels, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y], dim=1)


class DiscriminatorEpilogue(nn.Module):
    """4×4 features → one logit: (fromrgb), minibatch std, 3×3 conv, dense, dense."""

    def __init__(self,
                 in_channels: int,                 # feature maps at 4×4
                 img_channels: int,                # colour channels of the picture
                 architecture: str = "resnet",     # "skip" reads the 4×4 picture once more
                 mbstd_group_size: int | None = 4, # pictures per minibatch-std group; None = the whole batch
                 mbstd_num_channels: int = 1,      # minibatch-std maps appended; 0 = none
                 conv_clamp: float | None = None,  # activation clamp of the convolution
                 ) -> None:
        super().__init__()
        self.architecture = architecture
        self.mbstd_group_size, self.mbstd_num_channels = mbstd_group_size, mbstd_num_channels
        if architecture == "skip":
            self.fromrgb = Conv2dLayer(img_channels, in_channels, 1)
        self.conv = Conv2dLayer(in_channels + mbstd_num_channels, in_channels, 3, conv_clamp=conv_clamp)
        self.fc = FullyConnectedLayer(in_channels * 4 * 4, in_channels, lrelu=True)
        self.out = FullyConnectedLayer(in_channels, 1)

    def forward(self, x: torch.Tensor, img: torch.Tensor | None) -> torch.Tensor:
        x = x.to(torch.float32)
        if self.architecture == "skip":
            x = x + self.fromrgb(img)
        if self.mbstd_num_channels > 0:
            x = minibatch_std(x, self.mbstd_group_size, self.mbstd_num_channels)
        return self.out(self.fc(self.conv(x).flatten(1)))


class Discriminator(nn.Module):
    """Picture in [-1, 1] → realness logit; `features` gives the trunk's activations."""

    def __init__(self,
                 img_resolution: int,              # side of the pictures it reads, a power of two ≥ 8
                 img_channels: int = 3,            # colour channels
                 architecture: str = "resnet",     # "resnet" (NVIDIA's default), "skip" or "orig"
                 channel_base: int = 32768,        # feature maps at side r: min(channel_base // r, channel_max)
                 channel_max: int = 512,           # most feature maps in any block
                 conv_clamp: float | None = None,  # activation clamp (FFHQ models: 256), None = no clamp
                 resample_filter: Sequence[float] = (1, 3, 3, 1),  # FIR taps for downsampling
                 mbstd_group_size: int | None = 4, # see DiscriminatorEpilogue
                 mbstd_num_channels: int = 1,      # see DiscriminatorEpilogue
                 ) -> None:
        super().__init__()
        if img_resolution < 8 or img_resolution & (img_resolution - 1):
            raise ValueError(f"img_resolution must be a power of two ≥ 8, got {img_resolution}")
        if architecture not in ARCHITECTURES:
            raise ValueError(f"discriminator architecture must be one of {', '.join(ARCHITECTURES)}, "
                             f"got {architecture!r}")
        self.img_resolution, self.img_channels = img_resolution, img_channels
        self.init_kwargs = dict(img_resolution=img_resolution, img_channels=img_channels, architecture=architecture,
                                channel_base=channel_base, channel_max=channel_max, conv_clamp=conv_clamp,
                                resample_filter=list(resample_filter), mbstd_group_size=mbstd_group_size,
                                mbstd_num_channels=mbstd_num_channels)
        self.block_resolutions = [2 ** i for i in range(int(np.log2(img_resolution)), 2, -1)]
        for res in self.block_resolutions:
            tmp = channels_at(res, channel_base, channel_max)
            setattr(self, f"b{res}", DiscriminatorBlock(
                tmp if res < img_resolution else 0, tmp, channels_at(res // 2, channel_base, channel_max),
                resolution=res, img_channels=img_channels, architecture=architecture, conv_clamp=conv_clamp,
                resample_filter=resample_filter))
        self.b4 = DiscriminatorEpilogue(channels_at(4, channel_base, channel_max), img_channels, architecture,
                                        mbstd_group_size, mbstd_num_channels, conv_clamp)

    def _trunk(self, img: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        check_shape("discriminator input", img, [None, self.img_channels, self.img_resolution, self.img_resolution])
        x, img = None, img.to(torch.float32)
        out = []
        for res in self.block_resolutions:
            x, img = getattr(self, f"b{res}")(x, img)
            out.append((x, img))
        return out

    def features(self, img: torch.Tensor) -> list[torch.Tensor]:
        """Each block's output: [N, C, R/2, R/2], [N, C, R/4, R/4], …, [N, C, 4, 4]."""
        return [x for x, _ in self._trunk(img)]

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """The realness logit [N, 1] (minibatch std mixes pictures within each group)."""
        x, img = self._trunk(img)[-1]
        return self.b4(x, img)
