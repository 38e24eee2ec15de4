"""Candidate faces to pick from, for any backend.

`region_candidates`: N faces that differ from the current one only in one region (police
composite style: "which of these noses?"); picking candidate k adopts its donor for that region.
`variations`: N whole faces bred around the current one (EvoFIT style), `strength` saying how far.
`render_candidates` draws either kind, repainting only the region when the backend can.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from facegen.backend import DEFAULT_SIZE, Backend, child_seeds
from facegen.facecode import FaceCode

DEFAULT_COUNT = 10


def region_candidates(backend: Backend, code: FaceCode, region: str, n: int = DEFAULT_COUNT,
                      seed: int = 0) -> list[FaceCode]:
    """The face with its `region` donor replaced by n fresh random ones (deterministic per seed)."""
    if region not in backend.regions:
        raise ValueError(f"unknown region {region!r}; {backend.name} regions: {', '.join(backend.regions)}")
    return [code.with_part(region, backend.sample(s).base) for s in child_seeds(seed, n)]


def variations(backend: Backend, code: FaceCode, n: int = DEFAULT_COUNT, strength: float = 0.3,
               seed: int = 0) -> list[FaceCode]:
    """n children of the face, `strength` (0 … 1) saying how far they move: 0 is the face
    itself, 1 a fresh random face (how is the backend's: Backend.variations)."""
    s = float(strength)
    if not 0.0 <= s <= 1.0:
        raise ValueError(f"strength must be between 0 and 1, got {strength}")
    child_seeds(seed, n)   # refuses n < 1 the same way for every backend
    return backend.variations(code, n, s, seed)


def render_candidates(backend: Backend, code: FaceCode, candidates: Sequence[FaceCode], region: str | None = None,
                      size: int = DEFAULT_SIZE) -> list[Image.Image]:
    """Pictures of the candidates; region candidates repaint only their region where the backend
    can (Backend.render_region)."""
    return render_candidate_sets(backend, [(code, candidates, region)], size)[0]


def render_candidate_sets(backend: Backend, sets: Sequence[tuple[FaceCode, Sequence[FaceCode], str | None]],
                          size: int = DEFAULT_SIZE) -> list[list[Image.Image]]:
    """Pictures of several candidate sets (face, candidates, region), as render_candidates draws
    each; the sets not repainted by region go through one `backend.render` call together, so a
    batching backend draws them all in one forward pass."""
    pictures: list[list[Image.Image]] = [[] for _ in sets]
    together: list[int] = []
    for i, (code, candidates, region) in enumerate(sets):
        if region is None or "region_repaint" not in backend.abilities():
            together.append(i)
        else:
            pictures[i] = backend.render_region(code, list(candidates), region, size)
    images = iter(backend.render([c for i in together for c in sets[i][1]], size) if together else [])
    for i in together:
        pictures[i] = [next(images) for _ in sets[i][1]]
    return pictures
