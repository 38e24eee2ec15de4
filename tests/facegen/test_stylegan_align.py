"""FFHQ alignment on real portraits (tests/data): the eyes land where FFHQ's eyes are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facegen.landmarks import EYE_LEFT, EYE_RIGHT, find_faces
from facegen.stylegan.align import align_face, ffhq_quad

TESTDATA = Path(__file__).resolve().parents[1] / "data"
SIZE = 256
# FFHQ's eye centres, about (384, 480) and (640, 480) in its 1024-px images
CANONICAL_EYES = np.array([[0.375, 0.469], [0.625, 0.469]]) * SIZE
TOLERANCE_PX = 3.0   # landmark noise on a re-detected 256-px face is about 1 px


def photo(name: str) -> Image.Image:
    with Image.open(TESTDATA / name) as image:
        return image.convert("RGB")


def eyes_of(image: Image.Image) -> np.ndarray:
    (face,) = find_faces(image)
    return np.stack([face.points[EYE_LEFT].mean(axis=0), face.points[EYE_RIGHT].mean(axis=0)])


@pytest.mark.parametrize("name", ["obama_official_portrait.jpg", "biden_official_portrait.jpg"])
def test_eyes_land_at_the_ffhq_positions(name):
    image = photo(name)
    (face,) = find_faces(image)
    aligned = align_face(image, face.points, SIZE)
    assert aligned.size == (SIZE, SIZE) and aligned.mode == "RGB"
    assert np.abs(eyes_of(aligned) - CANONICAL_EYES).max() < TOLERANCE_PX


def test_a_tilted_small_photo_comes_out_upright_at_the_same_place():
    image = photo("obama_official_portrait.jpg")
    tilted = image.rotate(20, resample=Image.BICUBIC, expand=True, fillcolor=(128, 128, 128))
    tilted = tilted.resize((tilted.width // 3, tilted.height // 3), Image.LANCZOS)
    (face,) = find_faces(tilted)
    aligned = align_face(tilted, face.points, SIZE)
    eyes = eyes_of(aligned)
    assert abs(eyes[1, 1] - eyes[0, 1]) < 2.0                 # the eye line is level again
    assert np.abs(eyes - CANONICAL_EYES).max() < TOLERANCE_PX


def test_a_face_near_the_edge_is_padded_not_cut():
    """The crop reaches past the photo's left edge; the margin is a blurred mirror, not black."""
    image = photo("partial_face.jpg")
    (face,) = find_faces(image)
    assert ffhq_quad(face.points).corners[:, 0].min() < 0
    aligned = np.asarray(align_face(image, face.points, SIZE), dtype=np.float64)
    margin = aligned[:, :20]
    assert margin.mean() > 40                                 # not a black border
    assert np.abs(np.diff(margin, axis=1)).mean() < np.abs(np.diff(aligned[:, 100:120], axis=1)).mean()


def test_size_follows_the_checkpoint():
    image = photo("obama_official_portrait.jpg")
    (face,) = find_faces(image)
    assert align_face(image, face.points, 16).size == (16, 16)
    assert align_face(image, face.points, 1024).size == (1024, 1024)
