"""Candidate faces to pick from, for any backend.

`region_candidates`: N faces that differ from the current one only in one region (police
composite style: "which of these noses?"); picking candidate k adopts its donor for that region.
`variations`: N whole faces bred around the current one (EvoFIT style), `strength` saying how far.
`render_candidates` draws either kind, repainting only the region when the backend can.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from facegen.backend import DEFAULT_SIZE, Backend
from facegen.facecode import FaceCode

DEFAULT_COUNT = 10


def _seeds(seed: int, n: int) -> list[int]:
    if n < 1:
        raise ValueError(f"need at least one candidate, got n={n}")
    return [int(s) for s in np.random.default_rng([seed, n]).integers(0, 2**31 - 1, size=n)]


def region_candidates(backend: Backend, code: FaceCode, region: str, n: int = DEFAULT_COUNT,
                      seed: int = 0) -> list[FaceCode]:
    """The face with its `region` donor replaced by n fresh random ones (deterministic per seed)."""
    if region not in backend.regions:
        raise ValueError(f"unknown region {region!r}; {backend.name} regions: {', '.join(backend.regions)}")
    return [code.with_part(region, backend.sample(s).base) for s in _seeds(seed, n)]


def variations(backend: Backend, code: FaceCode, n: int = DEFAULT_COUNT, strength: float = 0.3,
               seed: int = 0) -> list[FaceCode]:
    """n children of the face: every latent (base and donors) mutated as w' = √(1−s²)·w + s·ε.

    ε ~ N(0, 1) is shared by the base and the donors of one child, so each trait moves once;
    the mixing keeps w ~ N(0, 1), so strength 1 is a fresh random face and 0 the face itself.
    """
    s = float(strength)
    if not 0.0 <= s <= 1.0:
        raise ValueError(f"strength must be between 0 and 1, got {strength}")
    if hasattr(backend, "variations"):   # a backend with its own directions (stylegan: principal axes)
        return backend.variations(code, n, s, seed)
    keep = np.float32(np.sqrt(1.0 - s * s))
    children = []
    for child_seed in _seeds(seed, n):
        noise = backend.sample(child_seed).base * np.float32(s)
        children.append(FaceCode(keep * code.base + noise, {r: keep * w + noise for r, w in code.parts.items()}))
    return children


def render_candidates(backend: Backend, code: FaceCode, candidates: Sequence[FaceCode], region: str | None = None,
                      size: int = DEFAULT_SIZE) -> list[Image.Image]:
    """Pictures of the candidates; region candidates may repaint only their region if the backend
    offers `render_region(code, candidates, region, size)`."""
    return render_candidate_sets(backend, [(code, candidates, region)], size)[0]


def render_candidate_sets(backend: Backend, sets: Sequence[tuple[FaceCode, Sequence[FaceCode], str | None]],
                          size: int = DEFAULT_SIZE) -> list[list[Image.Image]]:
    """Pictures of several candidate sets (face, candidates, region), as render_candidates draws
    each; the sets not repainted by region go through one `backend.render` call together, so a
    batching backend draws them all in one forward pass."""
    render_region = getattr(backend, "render_region", None)
    pictures: list[list[Image.Image]] = [[] for _ in sets]
    together: list[int] = []
    for i, (code, candidates, region) in enumerate(sets):
        if region is None or render_region is None:
            together.append(i)
        else:
            pictures[i] = render_region(code, list(candidates), region, size)
    images = iter(backend.render([c for i in together for c in sets[i][1]], size) if together else [])
    for i in together:
        pictures[i] = [next(images) for _ in sets[i][1]]
    return pictures
