"""Face detection and measurements on real photographs (tests/data, public domain)."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facegen.landmarks import DetectedFace, FaceMeasurements, find_faces, measure

TESTDATA = Path(__file__).resolve().parents[1] / "data"


def photo(name: str) -> Image.Image:
    with Image.open(TESTDATA / name) as image:
        return image.convert("RGB")


@pytest.fixture(scope="module")
def obama() -> Image.Image:
    return photo("obama_official_portrait.jpg")


@pytest.fixture(scope="module")
def obama_face(obama) -> DetectedFace:
    (face,) = find_faces(obama)
    return face


@pytest.mark.parametrize("name", ["obama_official_portrait.jpg", "biden_official_portrait.jpg"])
def test_a_portrait_has_one_face_with_landmarks_inside_its_box(name):
    image = photo(name)
    (face,) = find_faces(image)
    left, top, right, bottom = face.box
    assert 0 <= left < right <= image.width and 0 <= top < bottom <= image.height
    assert face.points.shape == (68, 2)
    eyes = face.points[36:48]
    assert (eyes[:, 0] > left).all() and (eyes[:, 0] < right).all()
    assert (eyes[:, 1] > top).all() and (eyes[:, 1] < bottom).all()
    # landmarks in dlib order: chin (8) below the nose tip (33) below the eyes
    assert face.points[8, 1] > face.points[33, 1] > eyes[:, 1].mean()


def test_two_people_give_two_faces_largest_first():
    faces = find_faces(photo("two_faces.jpg"))
    assert len(faces) == 2
    areas = [(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]) for f in faces]
    assert areas[0] >= areas[1]
    (l0, _, r0, _), (l1, _, r1, _) = faces[0].box, faces[1].box
    assert r0 < l1 or r1 < l0, "the two boxes should sit side by side"


def test_a_tiny_face_is_not_found():
    assert find_faces(photo("tiny_face.jpg")) == []


def test_a_blank_image_has_no_face():
    assert find_faces(Image.new("RGB", (400, 400), (200, 180, 160))) == []


def test_measurements_do_not_depend_on_image_size_or_head_roll(obama, obama_face):
    reference = measure(obama_face).as_dict()
    small = obama.resize((obama.width // 2, obama.height // 2), Image.LANCZOS)
    rolled = obama.rotate(12, resample=Image.BICUBIC, expand=True, fillcolor=(128, 128, 128))
    for variant in (small, rolled):
        (face,) = find_faces(variant)
        for name, value in measure(face).as_dict().items():
            assert value == pytest.approx(reference[name], abs=0.03), name


def test_the_two_portraits_measure_differently(obama_face):
    (biden_face,) = find_faces(photo("biden_official_portrait.jpg"))
    obama_m, biden_m = measure(obama_face), measure(biden_face)
    # Obama smiles broadly in his portrait, Biden barely: wider mouth, corners up
    assert obama_m.mouth_width > biden_m.mouth_width + 0.05
    assert obama_m.mouth_corner_lift > biden_m.mouth_corner_lift + 0.02


def moved(face: DetectedFace, indices: list[int], dy: float) -> DetectedFace:
    points = face.points.copy()
    points[indices, 1] += dy
    return dataclasses.replace(face, points=points)


@pytest.mark.parametrize(("field", "indices"), [
    ("eye_tilt", [36, 45]),             # outer eye corners: 눈꼬리
    ("mouth_corner_lift", [48, 54]),    # mouth corners: 입꼬리
    ("brow_height", list(range(17, 27))),
])
def test_signed_measures_grow_when_points_move_up(obama_face, field, indices):
    before = getattr(measure(obama_face), field)
    raised = getattr(measure(moved(obama_face, indices, dy=-8.0)), field)   # image y grows downward
    lowered = getattr(measure(moved(obama_face, indices, dy=+8.0)), field)
    assert lowered < before < raised


def test_measurements_are_plain_floats(obama_face):
    values = measure(obama_face).as_dict()
    assert set(values) == {f.name for f in dataclasses.fields(FaceMeasurements)}
    assert all(isinstance(v, float) and np.isfinite(v) for v in values.values())


def test_concurrent_calls_from_a_thread_pool_agree(obama):
    image = obama.resize((455, 568))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(find_faces, [image] * 4))
    assert all(len(r) == 1 for r in results)
    assert all(np.array_equal(r[0].points, results[0][0].points) for r in results)
