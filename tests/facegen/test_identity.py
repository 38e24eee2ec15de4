"""The face descriptor on real photographs (tests/data, public domain): two photos of one person
read as one person, photos of two people as two."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facegen.identity import (SAME_PERSON, STRANGERS, descriptor, descriptors, distance, likeness_level,
                              photo_likeness)
from facegen.landmarks import find_faces

TESTDATA = Path(__file__).resolve().parents[1] / "data"


def photo(name: str) -> Image.Image:
    with Image.open(TESTDATA / name) as image:
        return image.convert("RGB")


@pytest.fixture(scope="module")
def codes() -> dict[str, np.ndarray]:
    names = ("obama_official_portrait", "obama_podium", "biden_official_portrait", "biden_smiling")
    return {name: descriptor(photo(f"{name}.jpg")) for name in names}


def test_a_descriptor_is_128_numbers(codes):
    for code in codes.values():
        assert code.shape == (128,) and np.isfinite(code).all()


def test_two_photos_of_one_person_read_as_one_person_and_of_two_people_as_two(codes):
    assert distance(codes["obama_official_portrait"], codes["obama_podium"]) < SAME_PERSON
    assert distance(codes["biden_official_portrait"], codes["biden_smiling"]) < SAME_PERSON
    for obama in ("obama_official_portrait", "obama_podium"):
        for biden in ("biden_official_portrait", "biden_smiling"):
            assert distance(codes[obama], codes[biden]) > SAME_PERSON + 0.1


def test_the_likeness_scale_calls_another_photo_of_you_high_and_a_strangers_low(codes):
    """The levels a photo's reply states, on the recogniser's distances (bench/likeness.py
    prints the pairs behind the cuts)."""
    assert likeness_level(distance(codes["obama_official_portrait"], codes["obama_podium"])) == "high"
    assert likeness_level(distance(codes["biden_official_portrait"], codes["biden_smiling"])) == "high"
    for obama in ("obama_official_portrait", "obama_podium"):
        for biden in ("biden_official_portrait", "biden_smiling"):
            assert likeness_level(distance(codes[obama], codes[biden])) == "low"
    assert likeness_level((SAME_PERSON + STRANGERS) / 2) == "medium"


def test_a_picture_made_from_a_photo_is_scored_against_the_photos_face():
    """What a StyleGAN inversion reports: the photo itself scores as the person, another
    person's photo as a stranger, a picture without a face not at all (nothing is claimed)."""
    obama = photo("obama_official_portrait.jpg")
    box = find_faces(obama)[0].box
    assert likeness_level(photo_likeness(obama, box, obama.resize((455, 568)))) == "high"
    assert likeness_level(photo_likeness(obama, box, photo("biden_smiling.jpg"))) == "low"
    assert photo_likeness(obama, box, Image.new("RGB", (64, 64), "grey")) is None


def test_the_largest_face_is_taken_when_no_box_is_given(codes):
    # obama_podium has a second, smaller face in the background
    image = photo("obama_podium.jpg")
    largest = find_faces(image)[0]
    assert np.allclose(descriptor(image, largest.box), codes["obama_podium"])


def test_many_faces_in_one_call_match_one_by_one():
    image = photo("obama_official_portrait.jpg")
    box = find_faces(image)[0].box
    small = image.resize((image.width // 2, image.height // 2))
    together = descriptors([image, small], [box, tuple(v // 2 for v in box)])
    assert np.allclose(together[0], descriptor(image, box))
    assert distance(together[0], together[1]) < 0.15        # the same face at half the size


def test_a_picture_without_a_face_is_refused():
    with pytest.raises(ValueError):
        descriptor(Image.new("RGB", (200, 200), "white"))


def test_the_models_are_found_without_importing_their_package():
    # face_recognition_models' __init__ needs pkg_resources, which new setuptools lacks
    check = ("import sys; from PIL import Image; from facegen.identity import descriptor; "
             f"descriptor(Image.open({str(TESTDATA / 'obama_official_portrait.jpg')!r}).convert('RGB')); "
             "assert 'face_recognition_models' not in sys.modules")
    subprocess.run([sys.executable, "-c", check], check=True, cwd=Path(__file__).resolve().parents[2])
