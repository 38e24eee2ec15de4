"""What every face backend provides. `montage` (CPU, built in) and `stylegan` (operator
checkpoints) both implement this; the worker and the chat only talk to this interface."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

from facegen.attributes import Attributes, Edit
from facegen.facecode import FaceCode

MAX_SIZE = 1024
DEFAULT_SIZE = 512


@runtime_checkable
class Backend(Protocol):
    name: str                              # "montage" | "stylegan"
    checkpoint_id: str                     # renderer version or checkpoint hash, stored with every face
    num_ws: int                            # rows of W+
    w_dim: int                             # columns of W+
    layer_ranges: Mapping[str, slice]      # "coarse" / "middle" / "fine" → rows of W+
    regions: Sequence[str]                 # regions that can take a part donor (eyes, nose, …)

    def sample(self, seed: int) -> FaceCode:
        """A random face, deterministic per seed."""

    def average(self) -> np.ndarray:
        """The average latent [num_ws, w_dim], for truncation."""

    def render(self, codes: Sequence[FaceCode], size: int = DEFAULT_SIZE) -> list[Image.Image]:
        """Pixels for a batch of faces (RGB, size × size)."""

    def from_attributes(self, attributes: Attributes, seed: int) -> FaceCode:
        """A face showing the described attributes; everything unspecified sampled from seed."""

    def edit(self, code: FaceCode, edit: Edit) -> FaceCode:
        """An attribute edit on an existing face ("more smile", "add glasses", …)."""
