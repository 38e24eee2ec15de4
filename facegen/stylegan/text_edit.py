"""Free-text edits (issue #17): a face's W+ latent optimised so its picture matches a sentence in
a CLIP model's eyes, StyleCLIP's latent optimisation. Loss = 1 − cos(CLIP(picture), CLIP(text))
plus a leash: `leash` × the squared distance from the starting latent (summed over w's numbers,
averaged over W+ rows), which keeps the face the user had. Each step CLIP scores `views` copies of
the picture, each shifted by up to 1/16 of its side and mirrored at random, and the loss takes
their mean: a picture optimised against one view finds pixel patterns that CLIP reads as the
words and nothing else does (bench/text_directions.py measured it: "a face with dark skin"
raised CLIP's similarity 0.29 → 0.58 while the measured skin tone fell, 0.44 → 0.42; with 4
views 0.29 → 0.50 and 0.44 → 0.62). Adam, a fixed step budget, constant noise, the views drawn
from a fixed seed: deterministic on the CPU; `progress(step, steps)` is called after every step
so a job can report.

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
DEFAULT_VIEWS = 4


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
              views: int = DEFAULT_VIEWS, progress: Callable[[int, int], None] | None = None) -> TextEdit:
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

    rng = torch.Generator().manual_seed(0)

    def similarity(ws: torch.Tensor, views: int = 0) -> torch.Tensor:
        """cos(CLIP(picture), text): of the picture itself, or the mean over `views` moved copies."""
        picture = generator.synthesis(ws, noise_mode="const")
        if views:
            picture = torch.cat([_moved(picture, rng) for _ in range(views)])
        return (clip.image_features(picture) * target).sum(-1).mean()

    with torch.no_grad():
        before = float(similarity(start))
    for step in range(steps):
        optimiser.zero_grad(set_to_none=True)
        loss = 1 - similarity(w, views) + leash * (w - start).pow(2).sum(-1).mean()
        loss.backward()
        optimiser.step()
        if progress:
            progress(step + 1, steps)
    with torch.no_grad():
        after = float(similarity(w))
        moved = float((w - start).pow(2).mean().sqrt())
    return TextEdit(w.detach()[0].cpu().numpy(), before, after, moved, steps, time.monotonic() - started)


def _moved(picture: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    """The picture shifted (wrapping round) by up to 1/16 of its side each way, mirrored at even odds."""
    most = max(picture.shape[-1] // 16, 1)
    dy, dx = (int(v) for v in torch.randint(-most, most + 1, (2,), generator=rng))
    moved = torch.roll(picture, (dy, dx), (2, 3))
    return moved.flip(3) if bool(torch.rand(1, generator=rng) < 0.5) else moved

