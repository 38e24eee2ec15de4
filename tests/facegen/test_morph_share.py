"""A morph's ratio is "me"'s share, and means it: on the montage backend the morph of one
portrait's face with the other's comes steadily nearer to "me", as the face recogniser sees it,
at every step of 0.1 (bench/morph_share.py prints the curves, with the gallery's faces too)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from facegen.identity import drawn_distances
from facegen.latent import morph
from facegen.montage import MontageBackend, decode, encode
from facegen.montage.params import PARAMS
from facegen.photo import load_photo

TESTDATA = Path(__file__).resolve().parents[1] / "data"
RATIOS = [round(0.1 * i, 1) for i in range(11)]


@pytest.fixture(scope="module")
def backend() -> MontageBackend:
    return MontageBackend()


@pytest.fixture(scope="module")
def portraits(backend):
    """The faces made from the two portraits, as the chat makes "me" from a photo."""
    photos = {who: load_photo((TESTDATA / f"{who}_official_portrait.jpg").read_bytes(), max_bytes=10_000_000,
                              max_pixels=10_000_000) for who in ("obama", "biden")}
    return {who: backend.from_photo(photo, 0).code for who, photo in photos.items()}


@pytest.mark.parametrize("me, other", [("obama", "biden"), ("biden", "obama")])
def test_a_morph_comes_nearer_to_me_at_every_step_of_my_share(backend, portraits, me, other):
    morphs = [backend.morph(portraits[me], portraits[other], r) for r in RATIOS]
    curve = drawn_distances(backend, portraits[me], morphs)
    assert all(later < earlier for earlier, later in zip(curve, curve[1:])), np.round(curve, 3)
    assert curve[-1] == 0.0


def test_a_choice_is_one_faces_never_one_in_between(backend):
    """A ponytail morphed with a short cut is one of the two at every share (a blend of their
    w would pass through wavy, curly, bald and buzz), and it is mine once my share is larger."""
    a = dataclasses.replace(decode(backend.sample(1)), hair_style="short", beard="none")
    b = dataclasses.replace(a, hair_style="ponytail", beard="full")
    me, other = encode(a), encode(b)
    for r in RATIOS:
        for mode in ("linear", "style", "attribute"):
            got = decode(backend.morph(me, other, r, mode))   # (the crossovers share rows unevenly)
            assert got.hair_style in ("short", "ponytail") and got.beard in ("none", "full")
        got = decode(backend.morph(me, other, r))
        assert got.hair_style == ("short" if r >= 0.5 else "ponytail")
    assert decode(morph(me, other, 0.4)).hair_style not in ("short", "ponytail")   # what a w blend gives


def test_a_measure_moves_evenly_with_the_share(backend):
    """Each continuous trait sits at r of the way from the other face's value to mine."""
    me, other = backend.sample(3), backend.sample(4)
    a, b, half = decode(me), decode(other), decode(backend.morph(me, other, 0.3))
    for spec in PARAMS:
        if not spec.categorical and not spec.dormant:
            expected = 0.3 * getattr(a, spec.name) + 0.7 * getattr(b, spec.name)
            assert getattr(half, spec.name) == pytest.approx(expected, abs=1e-3 * (spec.high - spec.low)), spec.name
