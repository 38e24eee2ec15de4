"""The math StyleGAN2 and StyleGAN3 are made of, as free functions in plain PyTorch.

Written from the papers ("Analyzing and Improving the Image Quality of StyleGAN", "Alias-Free
Generative Adversarial Networks") in their reference form: FIR resampling as zero insertion,
padding and a depthwise convolution; the filtered leaky ReLU as upsample → nonlinearity →
downsample. No custom CUDA kernels, so every device that runs torch runs these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)   # keeps the activations' second moment through a leaky ReLU


def check_shape(name: str, x: torch.Tensor, shape: Sequence[int | None]) -> None:
    """Fail where a tensor enters: name the dimension and both sizes (None = any size)."""
    if x.ndim != len(shape):
        raise ValueError(f"{name}: expected {len(shape)} dimensions {list(shape)}, got {list(x.shape)}")
    for dim, (got, want) in enumerate(zip(x.shape, shape)):
        if want is not None and got != want:
            raise ValueError(f"{name}: dimension {dim} is {got}, expected {want} (shape {list(x.shape)})")


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale each row to unit root mean square (pixel norm of the input latent)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def bias_act(x: torch.Tensor, bias: torch.Tensor | None = None, slope: float | None = None,
             gain: float = 1.0, clamp: float | None = None) -> torch.Tensor:
    """Add a per-channel bias (dim 1), apply leaky ReLU (slope None = linear), scale, clamp to ±clamp."""
    if bias is not None:
        x = x + bias.reshape([1, -1] + [1] * (x.ndim - 2))
    if slope is not None and slope != 1:
        x = F.leaky_relu(x, slope)
    if gain != 1:
        x = x * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return x


def fir_filter(taps: Sequence[float] | torch.Tensor) -> torch.Tensor:
    """A normalized 2-D FIR filter from 1-D taps (outer product), DC gain 1."""
    f = torch.as_tensor(taps, dtype=torch.float32)
    f = torch.outer(f, f)
    return f / f.sum()


def upfirdn2d(x: torch.Tensor, f: torch.Tensor | None, up: int = 1, down: int = 1,
              padding: Sequence[int] = (0, 0, 0, 0), gain: float = 1.0) -> torch.Tensor:
    """Upsample by zero insertion, pad (negative = crop) as [x0, x1, y0, y1], convolve with
    `f` (2-D, or 1-D applied separably; None = identity), keep every `down`-th sample."""
    n, c, h, w = x.shape
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1]).reshape(n, c, h * up, w * up)
    x0, x1, y0, y1 = padding
    x = F.pad(x, [max(x0, 0), max(x1, 0), max(y0, 0), max(y1, 0)])
    x = x[:, :, max(-y0, 0): x.shape[2] - max(-y1, 0), max(-x0, 0): x.shape[3] - max(-x1, 0)]
    if f is not None:
        f = (f * gain ** (f.ndim / 2)).to(x.dtype).flip(list(range(f.ndim)))  # true convolution
        if f.ndim == 2:
            x = F.conv2d(x, f[None, None].expand(c, 1, *f.shape), groups=c)
        else:
            x = F.conv2d(x, f[None, None, None, :].expand(c, 1, 1, -1), groups=c)
            x = F.conv2d(x, f[None, None, :, None].expand(c, 1, -1, 1), groups=c)
    elif gain != 1:
        x = x * gain
    if down > 1:
        x = x[:, :, ::down, ::down]
    return x


def upsample2x(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Double the resolution with FIR filter `f` (the skip path of StyleGAN2's RGB images)."""
    taps = f.shape[-1]
    return upfirdn2d(x, f, up=2, padding=((taps + 1) // 2, (taps - 2) // 2) * 2, gain=4.0)


def modulate(weight: torch.Tensor, styles: torch.Tensor, demodulate: bool) -> torch.Tensor:
    """Per-sample weights [N, O, I, k, k]: scale input channels by the styles, then (optionally)
    rescale each output channel to unit norm — the demodulation of StyleGAN2."""
    w = weight.unsqueeze(0) * styles.reshape(styles.shape[0], 1, -1, 1, 1)
    if demodulate:
        w = w * (w.square().sum(dim=[2, 3, 4], keepdim=True) + 1e-8).rsqrt()
    return w


def grouped_conv(x: torch.Tensor, w: torch.Tensor, padding: int = 0) -> torch.Tensor:
    """Convolve sample i of x with its own weights w[i], as one grouped convolution."""
    n, o, i, kh, kw = w.shape
    y = F.conv2d(x.reshape(1, n * i, *x.shape[2:]), w.reshape(n * o, i, kh, kw), padding=padding, groups=n)
    return y.reshape(n, o, *y.shape[2:])


def grouped_conv_up2(x: torch.Tensor, w: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """StyleGAN2's upsampling modulated conv: stride-2 transposed conv, then FIR filter `f`."""
    n, o, i, kh, kw = w.shape
    wt = w.transpose(1, 2).reshape(n * i, o, kh, kw)
    y = F.conv_transpose2d(x.reshape(1, n * i, *x.shape[2:]), wt, stride=2, groups=n)
    y = y.reshape(n, o, *y.shape[2:])
    # The transposed conv grows each side by k-1; the filter trims back to exactly 2x.
    taps = f.shape[-1]
    pad_lo = (taps + 1) // 2 + kw // 2 - (kw - 1)
    pad_hi = (taps - 2) // 2 + kw // 2 - (kw - 2)
    return upfirdn2d(y, f, padding=(pad_lo, pad_hi, pad_lo, pad_hi), gain=4.0)


def filtered_lrelu(x: torch.Tensor, fu: torch.Tensor | None, fd: torch.Tensor | None, bias: torch.Tensor,
                   up: int, down: int, padding: Sequence[int], gain: float, slope: float,
                   clamp: float | None) -> torch.Tensor:
    """StyleGAN3's alias-free nonlinearity: bias, upsample with `fu`, leaky ReLU at the higher
    sampling rate (then gain and clamp), downsample with `fd`."""
    x = bias_act(x, bias)
    x = upfirdn2d(x, fu, up=up, padding=padding, gain=up ** 2)
    x = bias_act(x, slope=slope, gain=gain, clamp=clamp)
    return upfirdn2d(x, fd, down=down)


def _kaiser_beta(numtaps: int, width: float, fs: float) -> float:
    """Kaiser window β for a transition band `width` (Hz) at sampling rate `fs` (Kaiser's formulas)."""
    atten = 2.285 * (numtaps - 1) * math.pi * (width / (fs / 2)) + 7.95
    if atten > 50:
        return 0.1102 * (atten - 8.7)
    if atten > 21:
        return 0.5842 * (atten - 21) ** 0.4 + 0.07886 * (atten - 21)
    return 0.0


def kaiser_lowpass(numtaps: int, cutoff: float, width: float, fs: float) -> torch.Tensor | None:
    """Separable Kaiser-windowed sinc low-pass, DC gain 1; None for a single tap (identity).
    Used only when building a generator from scratch: checkpoints carry their filters."""
    if numtaps <= 1:
        return None
    c = cutoff / (fs / 2)
    m = np.arange(numtaps) - (numtaps - 1) / 2
    h = c * np.sinc(c * m) * np.kaiser(numtaps, _kaiser_beta(numtaps, width, fs))
    return torch.as_tensor(h / h.sum(), dtype=torch.float32)


def jinc_lowpass(numtaps: int, cutoff: float, width: float, fs: float) -> torch.Tensor | None:
    """Radially symmetric (jinc) Kaiser-windowed low-pass for StyleGAN3-R, 2-D, DC gain 1."""
    if numtaps <= 1:
        return None
    x = (np.arange(numtaps) - (numtaps - 1) / 2) / fs
    r = torch.as_tensor(np.hypot(*np.meshgrid(x, x)), dtype=torch.float64)
    f = torch.special.bessel_j1(2 * cutoff * math.pi * r) / (math.pi * r)
    k = torch.as_tensor(np.kaiser(numtaps, _kaiser_beta(numtaps, width, fs)), dtype=torch.float64)
    f = f * torch.outer(k, k)
    return (f / f.sum()).to(torch.float32)
