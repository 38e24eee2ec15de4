"""Free-text edits (issue #17): a face's W+ latent optimised so its picture matches a sentence in
a CLIP model's eyes, StyleCLIP's latent optimisation. Loss = 1 − cos(CLIP(picture), CLIP(text))
plus a leash: `leash` × the squared distance from the starting latent (summed over w's numbers,
averaged over W+ rows), which keeps the face the user had. Adam, a fixed step budget, constant
noise, deterministic on the CPU; `progress(step, steps)` is called after every step so a job
can report.

This costs a render, a CLIP forward and their backward per step: seconds to minutes. A
direction built from words (text_directions.py) costs one latent addition; it is the fast path
for anything the vocabulary names, and this one is for what it does not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from facegen.stylegan.clip import Clip

DEFAULT_STEPS = 40
DEFAULT_LEARNING_RATE = 0.03
DEFAULT_LEASH = 0.02


@dataclass(frozen=True)
class TextEdit:
    latent: np.ndarray              # the edited W+ [num_ws, w_dim]
    similarity_before: float        # cos(CLIP(picture), CLIP(text)) at the start …
    similarity_after: float         # … and at the end
    distance: float                 # RMS distance of the latent from the start, per number
    steps: int
    seconds: float


def text_edit(generator: torch.nn.Module, clip: Clip, latent: np.ndarray, text: torch.Tensor, *,
              steps: int = DEFAULT_STEPS, learning_rate: float = DEFAULT_LEARNING_RATE, leash: float = DEFAULT_LEASH,
              progress: Callable[[int, int], None] | None = None) -> TextEdit:
    """`latent` [num_ws, w_dim] moved toward `text`, a unit CLIP text feature [D]."""
    if steps < 1:
        raise ValueError("a text edit needs at least one step")
    started = time.monotonic()
    device = generator.mapping.w_avg.device
    # a copy: a stored face's latent is read-only
    start = torch.tensor(np.asarray(latent), dtype=torch.float32, device=device).unsqueeze(0)
    target = text.to(device).float().reshape(1, -1)
    w = start.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([w], lr=learning_rate)

    def similarity(ws: torch.Tensor) -> torch.Tensor:
        picture = generator.synthesis(ws, noise_mode="const")
        return (clip.image_features(picture) * target).sum()

    with torch.no_grad():
        before = float(similarity(start))
    for step in range(steps):
        optimiser.zero_grad(set_to_none=True)
        loss = 1 - similarity(w) + leash * (w - start).pow(2).sum(-1).mean()
        loss.backward()
        optimiser.step()
        if progress:
            progress(step + 1, steps)
    with torch.no_grad():
        after = float(similarity(w))
        moved = float((w - start).pow(2).mean().sqrt())
    return TextEdit(w.detach()[0].cpu().numpy(), before, after, moved, steps, time.monotonic() - started)
