"""StyleGAN2 generator in the stylegan2-ada-pytorch layout (config F, "skip" generator).

Module and parameter names follow NVIDIA's state dicts (`mapping.fc0.weight`,
`synthesis.b64.conv0.affine.bias`, …) so weights from either kind of checkpoint load without
renaming. Everything runs in float32 whatever precision the checkpoint was trained with.

Which rows of W+ drive which resolution (R = img_resolution, num_ws = 2·log2(R) − 2):
w[0] drives the 4×4 convolution; for the block at 2^k (k ≥ 3) w[2k−5] drives its upsampling
conv (and the previous block's toRGB), w[2k−4] its second conv; the last row feeds the final
toRGB. At 1024 px that makes w[0:4] the 4–8 px "coarse" styles, w[4:8] 16–32 px "middle"
and w[8:18] 64–1024 px "fine", the split of the StyleGAN paper.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from facegen.stylegan.ops import (LRELU_GAIN, LRELU_SLOPE, bias_act, check_shape, fir_filter,
                                  grouped_conv, grouped_conv_up2, modulate, normalize_2nd_moment,
                                  upsample2x)

NOISE_MODES = ("const", "random", "none")


class FullyConnectedLayer(nn.Module):
    """Dense layer with equalized learning rate: weights are stored divided by `lr_multiplier`
    and scaled back (with 1/√fan_in) at run time."""

    def __init__(self,
                 in_features: int,              # input width
                 out_features: int,             # output width
                 lrelu: bool = False,           # leaky ReLU (×√2) after the bias; False = linear
                 lr_multiplier: float = 1.0,    # learning-rate multiplier the weights were trained with
                 bias_init: float = 0.0,        # initial bias (1 for style affines: styles start at 1)
                 ) -> None:
        super().__init__()
        self.lrelu = lrelu
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init) / lr_multiplier))
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_shape("FullyConnectedLayer input", x, [None, self.weight.shape[1]])
        w = self.weight * self.weight_gain
        b = self.bias * self.bias_gain if self.bias_gain != 1 else self.bias
        if not self.lrelu:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return bias_act(x.matmul(w.t()), b, slope=LRELU_SLOPE, gain=LRELU_GAIN)


class MappingNetwork(nn.Module):
    """z → w: pixel norm, then `num_layers` dense leaky-ReLU layers; keeps the average w."""

    def __init__(self,
                 z_dim: int,                        # input latent width
                 w_dim: int,                        # output latent width
                 num_ws: int,                       # rows of W+ to broadcast w to
                 num_layers: int = 8,               # dense layers (StyleGAN2: 8, StyleGAN3: 2)
                 layer_features: int | None = None, # hidden width, None = w_dim
                 lr_multiplier: float = 0.01,       # learning-rate multiplier of the dense layers
                 ) -> None:
        super().__init__()
        self.z_dim, self.w_dim, self.num_ws, self.num_layers = z_dim, w_dim, num_ws, num_layers
        hidden = w_dim if layer_features is None else layer_features
        widths = [z_dim] + [hidden] * (num_layers - 1) + [w_dim]
        for idx in range(num_layers):
            setattr(self, f"fc{idx}", FullyConnectedLayer(widths[idx], widths[idx + 1], lrelu=True,
                                                          lr_multiplier=lr_multiplier))
        self.register_buffer("w_avg", torch.zeros([w_dim]))

    def forward(self, z: torch.Tensor, truncation_psi: float = 1.0) -> torch.Tensor:
        """W+ [N, num_ws, w_dim] for z [N, z_dim], pulled toward w_avg by ψ."""
        check_shape("z", z, [None, self.z_dim])
        x = normalize_2nd_moment(z.to(torch.float32))
        for idx in range(self.num_layers):
            x = getattr(self, f"fc{idx}")(x)
        x = x.unsqueeze(1).repeat([1, self.num_ws, 1])
        if truncation_psi != 1:
            x = self.w_avg.lerp(x, truncation_psi)
        return x


def make_noise(mode: str, const: torch.Tensor, strength: torch.Tensor, batch: int,
               generator: torch.Generator | None, batch_shard: tuple[int, int] = (0, 1)) -> torch.Tensor | None:
    """Per-pixel noise for one layer: the stored map, fresh Gaussian noise, or none.
    `batch_shard` (index, count): this batch is rows index, index + count, … of a batch count
    times larger (training in several processes); random noise is drawn for that whole batch
    and these rows kept, so each picture gets the noise one process would draw for it."""
    if mode == "none":
        return None
    if mode == "const":
        return const * strength
    if mode == "random":
        res = const.shape[-1]
        index, count = batch_shard
        # drawn where the generator lives (a training run's is on the CPU, so every device draws
        # the same numbers), then moved to the layer's device
        noise = torch.randn([batch * count, 1, res, res], generator=generator,
                            device=const.device if generator is None else generator.device).to(const.device)
        return (noise if count == 1 else noise[index::count]) * strength
    raise ValueError(f"noise mode must be one of {', '.join(NOISE_MODES)}, got {mode!r}")


class SynthesisLayer(nn.Module):
    """Modulated 3×3 conv (optionally 2× upsampling), noise, bias, leaky ReLU, clamp."""

    def __init__(self,
                 in_channels: int,                        # input feature maps
                 out_channels: int,                       # output feature maps
                 w_dim: int,                              # latent width feeding the style affine
                 resolution: int,                         # output side in pixels
                 up: int = 1,                             # 1 or 2 (upsampling conv)
                 kernel_size: int = 3,                    # conv kernel side
                 resample_filter: Sequence[float] = (1, 3, 3, 1),  # FIR taps for upsampling
                 conv_clamp: float | None = None,         # clamp activations to ±this, None = no clamp
                 ) -> None:
        super().__init__()
        self.in_channels, self.resolution, self.up, self.conv_clamp = in_channels, resolution, up, conv_clamp
        self.padding = kernel_size // 2
        self.register_buffer("resample_filter", fir_filter(resample_filter))
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.register_buffer("noise_const", torch.randn([resolution, resolution]))
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "const",
                generator: torch.Generator | None = None, batch_shard: tuple[int, int] = (0, 1)) -> torch.Tensor:
        check_shape("SynthesisLayer input", x, [None, self.in_channels, self.resolution // self.up, self.resolution // self.up])
        styles = self.affine(w)
        # modulated and demodulated in float32 (unit-norm rows), then cast: nothing overflows in fp16
        weights = modulate(self.weight, styles, demodulate=True).to(x.dtype)
        if self.up == 2:
            x = grouped_conv_up2(x, weights, self.resample_filter)
        else:
            x = grouped_conv(x, weights, padding=self.padding)
        noise = make_noise(noise_mode, self.noise_const, self.noise_strength, x.shape[0], generator,
                           batch_shard)
        if noise is not None:
            x = x + noise.to(x.dtype)
        return bias_act(x, self.bias.to(x.dtype), slope=LRELU_SLOPE, gain=LRELU_GAIN, clamp=self.conv_clamp)


class ToRGBLayer(nn.Module):
    """Modulated 1×1 conv to colour, not demodulated, plus bias."""

    def __init__(self,
                 in_channels: int,                 # input feature maps
                 out_channels: int,                # colour channels
                 w_dim: int,                       # latent width feeding the style affine
                 conv_clamp: float | None = None,  # clamp the output to ±this, None = no clamp
                 ) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, 1, 1]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        x = grouped_conv(x, modulate(self.weight, styles, demodulate=False).to(x.dtype))
        return bias_act(x, self.bias.to(x.dtype), clamp=self.conv_clamp)


class SynthesisBlock(nn.Module):
    """One resolution: (learned 4×4 constant | upsampling conv) → conv → toRGB added to the
    upsampled image so far."""

    def __init__(self,
                 in_channels: int,                 # feature maps coming in, 0 = first block (4×4 constant)
                 out_channels: int,                # feature maps of this resolution
                 w_dim: int,                       # latent width
                 resolution: int,                  # side of this block's maps
                 img_channels: int,                # colour channels
                 resample_filter: Sequence[float] = (1, 3, 3, 1),  # FIR taps for upsampling
                 conv_clamp: float | None = None,  # activation clamp, None = no clamp
                 ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.resolution = in_channels, out_channels, resolution
        self.img_channels, self.w_dim = img_channels, w_dim
        self.register_buffer("resample_filter", fir_filter(resample_filter))
        layer = dict(w_dim=w_dim, resolution=resolution, resample_filter=resample_filter, conv_clamp=conv_clamp)
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn([out_channels, resolution, resolution]))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, up=2, **layer)
        self.conv1 = SynthesisLayer(out_channels, out_channels, **layer)
        self.torgb = ToRGBLayer(out_channels, img_channels, w_dim=w_dim, conv_clamp=conv_clamp)
        self.num_conv = 1 if in_channels == 0 else 2
        self.use_fp16 = False   # half-precision feature maps: set by training's --fp16 (enable_fp16), never saved

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor,
                noise_mode: str = "const", generator: torch.Generator | None = None,
                batch_shard: tuple[int, int] = (0, 1)) -> tuple[torch.Tensor, torch.Tensor]:
        check_shape("SynthesisBlock ws", ws, [None, self.num_conv + 1, self.w_dim])
        w = ws.unbind(dim=1)
        dtype = torch.float16 if self.use_fp16 else torch.float32
        if self.in_channels == 0:
            x = self.const.to(dtype).unsqueeze(0).repeat([ws.shape[0], 1, 1, 1])
            x = self.conv1(x, w[0], noise_mode, generator, batch_shard)
        else:
            x = self.conv0(x.to(dtype), w[0], noise_mode, generator, batch_shard)
            x = self.conv1(x, w[1], noise_mode, generator, batch_shard)
        y = self.torgb(x, w[-1]).to(torch.float32)   # the picture itself stays float32
        img = y if img is None else upsample2x(img, self.resample_filter) + y
        return x, img


def channels_at(resolution: int, channel_base: int, channel_max: int) -> int:
    """Feature maps at a resolution: fewer as the maps grow."""
    return min(channel_base // resolution, channel_max)


class SynthesisNetwork(nn.Module):
    """W+ → image: one block per resolution from 4×4 up to img_resolution."""

    def __init__(self,
                 w_dim: int,                       # latent width
                 img_resolution: int,              # output side, a power of two ≥ 4
                 img_channels: int,                # colour channels
                 channel_base: int = 32768,        # channels at resolution r: min(channel_base // r, channel_max)
                 channel_max: int = 512,           # most channels in any block
                 conv_clamp: float | None = None,  # activation clamp, None = no clamp (FFHQ models: 256)
                 resample_filter: Sequence[float] = (1, 3, 3, 1),  # FIR taps for upsampling
                 ) -> None:
        super().__init__()
        if img_resolution < 4 or img_resolution & (img_resolution - 1):
            raise ValueError(f"img_resolution must be a power of two ≥ 4, got {img_resolution}")
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.block_resolutions = [2 ** i for i in range(2, int(np.log2(img_resolution)) + 1)]
        for res in self.block_resolutions:
            in_channels = channels_at(res // 2, channel_base, channel_max) if res > 4 else 0
            setattr(self, f"b{res}", SynthesisBlock(
                in_channels, channels_at(res, channel_base, channel_max), w_dim=w_dim, resolution=res,
                img_channels=img_channels, resample_filter=resample_filter, conv_clamp=conv_clamp))
        self.num_ws = 2 * len(self.block_resolutions)   # convs (2 per block, 1 in the first) + last toRGB

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", generator: torch.Generator | None = None,
                batch_shard: tuple[int, int] = (0, 1)) -> torch.Tensor:
        """`batch_shard`: see make_noise."""
        check_shape("ws", ws, [None, self.num_ws, self.w_dim])
        ws = ws.to(torch.float32)
        x = img = None
        first = 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            # Consecutive blocks share a row: toRGB of one block uses the row of the next conv.
            x, img = block(x, img, ws.narrow(1, first, block.num_conv + 1), noise_mode, generator, batch_shard)
            first += block.num_conv
        return img

    def ws_resolutions(self) -> list[int]:
        """The resolution each row of W+ mainly drives (the conv it feeds)."""
        out = []
        for res in self.block_resolutions:
            out += [res] * getattr(self, f"b{res}").num_conv
        return out + [self.img_resolution]


class Generator(nn.Module):
    """StyleGAN2: mapping (z → W+) composed with synthesis (W+ → image in [-1, 1])."""

    arch = "stylegan2"

    def __init__(self,
                 z_dim: int,                        # input latent width
                 w_dim: int,                        # intermediate latent width
                 img_resolution: int,               # output side
                 img_channels: int = 3,             # colour channels
                 mapping_kwargs: dict | None = None,    # MappingNetwork options (num_layers, lr_multiplier, …)
                 synthesis_kwargs: dict | None = None,  # SynthesisNetwork options (channel_base, conv_clamp, …)
                 ) -> None:
        super().__init__()
        self.z_dim, self.w_dim, self.img_resolution, self.img_channels = z_dim, w_dim, img_resolution, img_channels
        self.init_kwargs = dict(z_dim=z_dim, w_dim=w_dim, img_resolution=img_resolution, img_channels=img_channels,
                                mapping_kwargs=dict(mapping_kwargs or {}), synthesis_kwargs=dict(synthesis_kwargs or {}))
        self.synthesis = SynthesisNetwork(w_dim, img_resolution, img_channels, **(synthesis_kwargs or {}))
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim, w_dim, self.num_ws, **(mapping_kwargs or {}))

    def forward(self, z: torch.Tensor, truncation_psi: float = 1.0, noise_mode: str = "const",
                generator: torch.Generator | None = None) -> torch.Tensor:
        return self.synthesis(self.mapping(z, truncation_psi), noise_mode, generator)
