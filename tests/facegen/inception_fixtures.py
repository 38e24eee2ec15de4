"""A stand-in for NVIDIA's Inception file (inception-2015-12-05.pt), for the official FID's tests:
a TorchScript program called as NVIDIA's metrics call the real one, which refuses what the real
one cannot take (float or grey pictures)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

FEATURES = 256   # NVIDIA's file gives 2048; fewer keep the covariances' algebra quick in tests


class StandInInception(nn.Module):
    """Pixels → FEATURES numbers, fixed by the pixels: uint8 RGB [N, 3, H, W] of any size in,
    float [N, F] out."""

    def __init__(self) -> None:
        super().__init__()
        # scaled so that the features stay in tanh's middle, where they follow the pixels
        self.register_buffer("mix", torch.randn(3 * 8 * 8, FEATURES, generator=torch.Generator().manual_seed(0)) / 8)

    def forward(self, img: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        if img.dtype != torch.uint8:
            raise RuntimeError("uint8 pictures only")
        if img.shape[1] != 3:
            raise RuntimeError("RGB pictures only")
        pooled = F.adaptive_avg_pool2d(img.float() / 255 - 0.5, [8, 8]).flatten(1)
        return torch.tanh(pooled @ self.mix)


def write_torchscript(module: nn.Module, path: Path) -> Path:
    with warnings.catch_warnings():   # torch calls TorchScript deprecated; NVIDIA's file is one
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(module), str(path))
    return path


def load_torchscript(path: Path) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(str(path))
