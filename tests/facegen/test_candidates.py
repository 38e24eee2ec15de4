"""Region candidates and whole-face variations, for any backend (checked on montage)."""

from __future__ import annotations

import numpy as np
import pytest

from facegen.backend import Backend
from facegen.candidates import region_candidates, render_candidates, variations
from facegen.montage import MontageBackend

BACKEND = MontageBackend()
FACE = BACKEND.sample(42).with_part("nose", BACKEND.sample(43).base)


def test_region_candidates_replace_only_that_regions_donor():
    candidates = region_candidates(BACKEND, FACE, "eyes", n=10, seed=1)
    assert len(candidates) == 10
    for candidate in candidates:
        assert np.array_equal(candidate.base, FACE.base)
        assert np.array_equal(candidate.parts["nose"], FACE.parts["nose"])
        assert not np.array_equal(candidate.part("eyes"), FACE.part("eyes"))
    donors = {candidate.parts["eyes"].tobytes() for candidate in candidates}
    assert len(donors) == 10


def test_candidates_are_deterministic_per_seed():
    first = region_candidates(BACKEND, FACE, "mouth", n=4, seed=7)
    assert first == region_candidates(BACKEND, FACE, "mouth", n=4, seed=7)
    assert first != region_candidates(BACKEND, FACE, "mouth", n=4, seed=8)
    assert variations(BACKEND, FACE, 3, 0.5, seed=7) == variations(BACKEND, FACE, 3, 0.5, seed=7)


def test_picking_a_candidate_is_adopting_its_donor():
    candidate = region_candidates(BACKEND, FACE, "nose", n=3, seed=2)[2]
    picked = FACE.with_part("nose", candidate.parts["nose"])
    assert picked == candidate
    assert BACKEND.render([picked], 96)[0].tobytes() == BACKEND.render([candidate], 96)[0].tobytes()


@pytest.mark.parametrize("region,n", [("horns", 10), ("eyes", 0)])
def test_bad_requests_are_refused(region, n):
    with pytest.raises(ValueError):
        region_candidates(BACKEND, FACE, region, n=n)


def test_variation_strength_zero_is_the_face_and_one_forgets_it():
    assert all(child == FACE for child in variations(BACKEND, FACE, 3, 0.0, seed=1))
    other = BACKEND.sample(99).with_part("nose", BACKEND.sample(98).base)
    fresh = variations(BACKEND, FACE, 3, 1.0, seed=5)
    assert [c.base.tobytes() for c in fresh] == [c.base.tobytes() for c in variations(BACKEND, other, 3, 1.0, seed=5)]


def test_stronger_variations_move_further_and_keep_the_prior():
    distance = []
    for strength in (0.1, 0.3, 0.6):
        children = variations(BACKEND, FACE, 10, strength, seed=3)
        distance.append(np.mean([np.abs(c.base - FACE.base).mean() for c in children]))
        assert all(set(c.parts) == {"nose"} and not np.array_equal(c.parts["nose"], FACE.parts["nose"]) for c in children)
    assert distance[0] < distance[1] < distance[2]
    # w' = √(1−s²)·w + s·ε keeps w ~ N(0, 1): children of typical faces stay typical
    children = np.stack([c.base for c in variations(BACKEND, BACKEND.sample(1), 400, 0.7, seed=4)])
    assert children.std() == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("strength", [-0.1, 1.5])
def test_strength_out_of_range_is_refused(strength):
    with pytest.raises(ValueError, match="strength"):
        variations(BACKEND, FACE, 3, strength)


def test_render_candidates_repaints_only_the_region_and_matches_full_renders():
    candidates = region_candidates(BACKEND, FACE, "brows", n=3, seed=3)
    quick = render_candidates(BACKEND, FACE, candidates, "brows", size=200)
    assert [im.tobytes() for im in quick] == [im.tobytes() for im in BACKEND.render(candidates, 200)]


class PlainBackend(Backend):
    """A backend without render_region: candidates fall back to whole renders."""

    def __init__(self) -> None:
        self.inner = MontageBackend()
        self.name, self.regions, self.sample = "plain", self.inner.regions, self.inner.sample
        self.calls: list[int] = []

    def render(self, codes, size=512):
        self.calls.append(len(codes))
        return self.inner.render(codes, size)


def test_render_candidates_works_for_backends_without_region_redraw():
    plain = PlainBackend()
    candidates = region_candidates(plain, FACE, "eyes", n=2, seed=1)
    images = render_candidates(plain, FACE, candidates, "eyes", size=96)
    assert plain.calls == [2] and len(images) == 2
