"""StyleGAN3 generator (alias-free; configs T and R) in the NVIDIA stylegan3 layout.

Layers are named `L{idx}_{size}_{channels}` as in NVIDIA's state dicts. Each layer's cutoff,
stopband, sampling rate and size follow the geometric progression of the paper (section 3.2);
the FIR filters themselves are buffers, so a checkpoint brings its own.

W+ has num_layers + 2 rows: w[0] drives the Fourier-feature input (its rotation and
translation), w[i] the i-th synthesis layer; the last row drives toRGB. Cutoffs grow with i,
so low rows set coarse structure and high rows fine detail, as in StyleGAN2.

One deliberate difference from the reference: styles are pre-normalized per sample (the
reference normalizes over the whole batch), so a face renders the same alone or in a batch.
With a batch of one both are the same computation.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from facegen.stylegan.networks2 import FullyConnectedLayer, MappingNetwork
from facegen.stylegan.ops import (LRELU_GAIN, LRELU_SLOPE, check_shape, filtered_lrelu, grouped_conv,
                                  jinc_lowpass, kaiser_lowpass, modulate)


def modulated_conv_sg3(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, demodulate: bool,
                       padding: int, input_gain: torch.Tensor) -> torch.Tensor:
    """StyleGAN3's modulated conv: weights and styles pre-normalized to unit RMS (for fp16
    headroom; it changes nothing after demodulation but the epsilon), input scaled by the
    tracked input magnitude."""
    if demodulate:
        weight = weight * weight.square().mean(dim=[1, 2, 3], keepdim=True).rsqrt()
        styles = styles * styles.square().mean(dim=1, keepdim=True).rsqrt()
    w = modulate(weight, styles, demodulate) * input_gain
    return grouped_conv(x, w, padding=padding)


class SynthesisInput(nn.Module):
    """Fourier features on a continuous grid, rotated and translated by an affine of w[0]."""

    def __init__(self,
                 w_dim: int,             # latent width
                 channels: int,          # number of Fourier features (= output channels)
                 size: int,              # output side in samples (image plus margins)
                 sampling_rate: float,   # samples per unit length
                 bandwidth: float,       # frequencies are drawn from a disc of this radius
                 ) -> None:
        super().__init__()
        self.w_dim, self.channels, self.size = w_dim, channels, int(size)
        self.sampling_rate, self.bandwidth = float(sampling_rate), float(bandwidth)
        freqs = torch.randn([channels, 2])
        radii = freqs.square().sum(dim=1, keepdim=True).sqrt()
        freqs = freqs / (radii * radii.square().exp().pow(0.25)) * bandwidth
        self.weight = nn.Parameter(torch.randn([channels, channels]))
        self.affine = FullyConnectedLayer(w_dim, 4)
        with torch.no_grad():   # start as the identity transform: (cos, sin, tx, ty) = (1, 0, 0, 0)
            self.affine.weight.zero_()
            self.affine.bias.copy_(torch.tensor([1.0, 0.0, 0.0, 0.0]))
        self.register_buffer("transform", torch.eye(3))   # operator-set inverse transform of the image
        self.register_buffer("freqs", freqs)
        self.register_buffer("phases", torch.rand([channels]) - 0.5)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        check_shape("SynthesisInput w", w, [None, self.w_dim])
        n = w.shape[0]
        t = self.affine(w)
        t = t / t[:, :2].norm(dim=1, keepdim=True)
        rotate = torch.eye(3, device=w.device).repeat([n, 1, 1])
        rotate[:, 0, 0], rotate[:, 0, 1], rotate[:, 1, 0], rotate[:, 1, 1] = t[:, 0], -t[:, 1], t[:, 1], t[:, 0]
        translate = torch.eye(3, device=w.device).repeat([n, 1, 1])
        translate[:, 0, 2], translate[:, 1, 2] = -t[:, 2], -t[:, 3]
        transforms = rotate @ translate @ self.transform.unsqueeze(0)

        freqs = self.freqs.unsqueeze(0)
        phases = self.phases.unsqueeze(0) + (freqs @ transforms[:, :2, 2:]).squeeze(2)
        freqs = freqs @ transforms[:, :2, :2]
        # Fade out frequencies a user transform pushed beyond the band.
        amplitudes = (1 - (freqs.norm(dim=2) - self.bandwidth)
                      / (self.sampling_rate / 2 - self.bandwidth)).clamp(0, 1)

        theta = torch.eye(2, 3, device=w.device)
        theta[0, 0] = theta[1, 1] = 0.5 * self.size / self.sampling_rate
        grid = F.affine_grid(theta.unsqueeze(0), [1, 1, self.size, self.size], align_corners=False)
        x = (grid.unsqueeze(3) @ freqs.permute(0, 2, 1).unsqueeze(1).unsqueeze(2)).squeeze(3)
        x = torch.sin((x + phases.unsqueeze(1).unsqueeze(2)) * (2 * np.pi))
        x = x * amplitudes.unsqueeze(1).unsqueeze(2)
        x = x @ (self.weight / math.sqrt(self.channels)).t()
        return x.permute(0, 3, 1, 2)


class SynthesisLayer3(nn.Module):
    """Modulated conv followed by the filtered leaky ReLU; the last one is toRGB (1×1, linear)."""

    def __init__(self,
                 w_dim: int,                     # latent width
                 is_torgb: bool,                 # final colour layer: 1×1 conv, no demodulation, linear
                 is_critically_sampled: bool,    # cutoff at Nyquist (last layers): no radial filter
                 in_channels: int,               # input feature maps
                 out_channels: int,              # output feature maps
                 in_size: int,                   # input side in samples
                 out_size: int,                  # output side in samples
                 in_sampling_rate: int,          # input samples per unit
                 out_sampling_rate: int,         # output samples per unit
                 in_cutoff: float,               # input cutoff frequency f_c
                 out_cutoff: float,              # output cutoff frequency f_c
                 in_half_width: float,           # input transition half-width f_h
                 out_half_width: float,          # output transition half-width f_h
                 conv_kernel: int = 3,           # conv side (R config: 1); toRGB always 1
                 filter_size: int = 6,           # FIR taps per lower-rate sample when resampling
                 lrelu_upsampling: int = 2,      # the nonlinearity runs at this multiple of the rate
                 use_radial_filters: bool = False,  # jinc downsampling filter (R config)
                 conv_clamp: float | None = 256,    # clamp activations to ±this, None = no clamp
                 ) -> None:
        super().__init__()
        self.w_dim, self.is_torgb = w_dim, is_torgb
        self.in_channels, self.out_channels = in_channels, out_channels
        self.in_size, self.out_size = int(in_size), int(out_size)
        self.conv_kernel = 1 if is_torgb else conv_kernel
        self.conv_clamp = conv_clamp
        tmp_rate = max(in_sampling_rate, out_sampling_rate) * (1 if is_torgb else lrelu_upsampling)

        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, self.conv_kernel, self.conv_kernel]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.register_buffer("magnitude_ema", torch.ones([]))

        self.up_factor = int(round(tmp_rate / in_sampling_rate))
        self.down_factor = int(round(tmp_rate / out_sampling_rate))
        up_taps = filter_size * self.up_factor if self.up_factor > 1 and not is_torgb else 1
        down_taps = filter_size * self.down_factor if self.down_factor > 1 and not is_torgb else 1
        radial = use_radial_filters and not is_critically_sampled
        self.register_buffer("up_filter", kaiser_lowpass(up_taps, in_cutoff, in_half_width * 2, tmp_rate))
        design = jinc_lowpass if radial else kaiser_lowpass
        self.register_buffer("down_filter", design(down_taps, out_cutoff, out_half_width * 2, tmp_rate))

        # Pad so that, after up → filter → down, sample centres line up (paper, appendix C.3).
        total = (self.out_size - 1) * self.down_factor + 1
        total -= (self.in_size + self.conv_kernel - 1) * self.up_factor
        total += up_taps + down_taps - 2
        lo = (total + self.up_factor) // 2
        self.padding = (lo, total - lo, lo, total - lo)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        check_shape("SynthesisLayer3 input", x, [None, self.in_channels, self.in_size, self.in_size])
        check_shape("SynthesisLayer3 w", w, [x.shape[0], self.w_dim])
        styles = self.affine(w)
        if self.is_torgb:
            styles = styles / math.sqrt(self.in_channels * self.conv_kernel ** 2)
        x = modulated_conv_sg3(x, self.weight, styles, demodulate=not self.is_torgb,
                               padding=self.conv_kernel - 1, input_gain=self.magnitude_ema.rsqrt())
        return filtered_lrelu(x, self.up_filter, self.down_filter, self.bias, self.up_factor, self.down_factor,
                              self.padding, gain=1 if self.is_torgb else LRELU_GAIN,
                              slope=1 if self.is_torgb else LRELU_SLOPE, clamp=self.conv_clamp)


class SynthesisNetwork3(nn.Module):
    """W+ → image: Fourier input, num_layers alias-free layers, toRGB, output scale."""

    def __init__(self,
                 w_dim: int,                       # latent width
                 img_resolution: int,              # output side
                 img_channels: int,                # colour channels
                 channel_base: int = 32768,        # channels ≈ channel_base / 2 / cutoff (T: 32768, R: 65536)
                 channel_max: int = 512,           # most channels in any layer (T: 512, R: 1024)
                 num_layers: int = 14,             # alias-free layers, not counting input and toRGB
                 num_critical: int = 2,            # last layers sampled at exactly the image Nyquist rate
                 first_cutoff: float = 2,          # cutoff of the first layer f_c,0
                 first_stopband: float = 2 ** 2.1, # stopband of the first layer f_t,0
                 last_stopband_rel: float = 2 ** 0.3,  # last stopband relative to its cutoff
                 margin_size: int = 10,            # extra samples around the image on each side
                 output_scale: float = 0.25,       # the image is the last layer's output times this
                 **layer_kwargs,                   # SynthesisLayer3 options (conv_kernel, use_radial_filters, …)
                 ) -> None:
        super().__init__()
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.num_ws, self.output_scale = num_layers + 2, output_scale
        last_cutoff = img_resolution / 2
        exponents = np.minimum(np.arange(num_layers + 1) / (num_layers - num_critical), 1)
        cutoffs = first_cutoff * (last_cutoff / first_cutoff) ** exponents
        stopbands = first_stopband * (last_cutoff * last_stopband_rel / first_stopband) ** exponents
        rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, img_resolution))))
        half_widths = np.maximum(stopbands, rates / 2) - cutoffs
        sizes = rates + margin_size * 2
        sizes[-2:] = img_resolution
        channels = np.rint(np.minimum((channel_base / 2) / cutoffs, channel_max))
        channels[-1] = img_channels

        self.input = SynthesisInput(w_dim, int(channels[0]), int(sizes[0]), rates[0], cutoffs[0])
        self.layer_names = []
        for idx in range(num_layers + 1):
            prev = max(idx - 1, 0)
            layer = SynthesisLayer3(
                w_dim=w_dim, is_torgb=idx == num_layers, is_critically_sampled=idx >= num_layers - num_critical,
                in_channels=int(channels[prev]), out_channels=int(channels[idx]),
                in_size=int(sizes[prev]), out_size=int(sizes[idx]),
                in_sampling_rate=int(rates[prev]), out_sampling_rate=int(rates[idx]),
                in_cutoff=cutoffs[prev], out_cutoff=cutoffs[idx],
                in_half_width=half_widths[prev], out_half_width=half_widths[idx], **layer_kwargs)
            name = f"L{idx}_{layer.out_size}_{layer.out_channels}"
            setattr(self, name, layer)
            self.layer_names.append(name)

    def forward(self, ws: torch.Tensor, noise_mode: str = "const",
                generator: torch.Generator | None = None) -> torch.Tensor:
        """`noise_mode` and `generator` are accepted for a common signature; StyleGAN3 has no noise."""
        check_shape("ws", ws, [None, self.num_ws, self.w_dim])
        ws = ws.to(torch.float32).unbind(dim=1)
        x = self.input(ws[0])
        for name, w in zip(self.layer_names, ws[1:]):
            x = getattr(self, name)(x, w)
        return x * self.output_scale if self.output_scale != 1 else x


class Generator3(nn.Module):
    """StyleGAN3: mapping (z → W+) composed with alias-free synthesis (W+ → image in [-1, 1])."""

    arch = "stylegan3"

    def __init__(self,
                 z_dim: int,                        # input latent width
                 w_dim: int,                        # intermediate latent width
                 img_resolution: int,               # output side
                 img_channels: int = 3,             # colour channels
                 mapping_kwargs: dict | None = None,    # MappingNetwork options (num_layers defaults to 2)
                 synthesis_kwargs: dict | None = None,  # SynthesisNetwork3 and layer options
                 ) -> None:
        super().__init__()
        mapping_kwargs = {"num_layers": 2, **(mapping_kwargs or {})}
        self.z_dim, self.w_dim, self.img_resolution, self.img_channels = z_dim, w_dim, img_resolution, img_channels
        self.init_kwargs = dict(z_dim=z_dim, w_dim=w_dim, img_resolution=img_resolution, img_channels=img_channels,
                                mapping_kwargs=dict(mapping_kwargs), synthesis_kwargs=dict(synthesis_kwargs or {}))
        self.synthesis = SynthesisNetwork3(w_dim, img_resolution, img_channels, **(synthesis_kwargs or {}))
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim, w_dim, self.num_ws, **mapping_kwargs)

    def forward(self, z: torch.Tensor, truncation_psi: float = 1.0, noise_mode: str = "const",
                generator: torch.Generator | None = None) -> torch.Tensor:
        return self.synthesis(self.mapping(z, truncation_psi))
