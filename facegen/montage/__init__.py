"""The montage backend: a parametric composite-face renderer drawn with Pillow (CPU only)."""

from facegen.montage.backend import CHECKPOINT_ID, MontageBackend
from facegen.montage.params import PARAMS, MontageParams, decode, encode

__all__ = ["CHECKPOINT_ID", "MontageBackend", "MontageParams", "PARAMS", "decode", "encode"]
