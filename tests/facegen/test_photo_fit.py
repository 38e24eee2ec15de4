"""Photo → montage FaceCode: the round trip photo → code → render → measure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facegen.landmarks import find_faces, measure
from facegen.montage import MontageBackend, encode
from facegen.photo import PhotoError, load_photo, sample_colours
from facegen.photo_fit import (KNOBS, MEASURES, PhotoFit, calibration_face, fit_photo, load_table,
                               measures_vector, photo_to_facecode, to_lab)

TESTDATA = Path(__file__).resolve().parents[1] / "data"
SEED = 1

# Largest |render − photo| allowed per measurement (units of face width; face_aspect a ratio).
# Worst seen over seeds 1–5 on both portraits with montage-1 was 0.044, 0.020, 0.025, 0.019,
# 0.043, 0.043, 0.056, 0.079, 0.023, 0.010, 0.065, 0.089 in this order; where it is large the
# photo lies outside what the montage draws (mouth_width: Obama's broad grin; face_aspect: the
# montage's faces are shorter; nose_width: dlib places drawn nostrils narrower).
TOLERANCE = {
    "eye_spacing": 0.055, "eye_width": 0.025, "eye_height": 0.035, "eye_tilt": 0.025,
    "brow_height": 0.05, "nose_length": 0.055, "nose_width": 0.065, "mouth_width": 0.095,
    "lip_thickness": 0.03, "mouth_corner_lift": 0.02, "face_aspect": 0.08, "jaw_width": 0.11,
}
# Overall misfit in units of each measurement's spread over random montage faces.
MAX_RMS = 1.5
MAX_RMS_VS_AVERAGE_FACE = 0.6


def photo(name: str):
    return load_photo((TESTDATA / name).read_bytes(), max_bytes=10_000_000, max_pixels=10_000_000)


@pytest.fixture(scope="module")
def backend() -> MontageBackend:
    return MontageBackend()


@pytest.fixture(scope="module")
def fits(backend) -> dict[str, PhotoFit]:
    return {who: fit_photo(photo(f"{who}_official_portrait.jpg"), backend, SEED) for who in ("obama", "biden")}


def rms(measured: np.ndarray, target: np.ndarray) -> float:
    return float(np.sqrt(np.mean(((measured - target) / load_table().spread) ** 2)))


def test_tolerances_cover_every_measurement():
    assert set(TOLERANCE) == set(MEASURES)


@pytest.mark.parametrize("who", ["obama", "biden"])
def test_round_trip_lands_close_to_the_photo(backend, fits, who):
    fit = fits[who]
    # measure the returned code's own render, not the fit's bookkeeping
    (face,) = find_faces(backend.render([fit.code])[0])
    achieved, target = measure(face).as_dict(), fit.target.as_dict()
    errors = {name: abs(achieved[name] - target[name]) for name in MEASURES}
    over = {name: round(err, 3) for name, err in errors.items() if err > TOLERANCE[name]}
    assert not over, f"{who}: beyond tolerance {over}"

    average = calibration_face(backend, SEED)
    (plain,) = find_faces(backend.render([encode(average)])[0])
    target_v = measures_vector(fit.target)
    fitted_rms = rms(measures_vector(measure(face)), target_v)
    assert fitted_rms <= MAX_RMS
    assert fitted_rms <= MAX_RMS_VS_AVERAGE_FACE * rms(measures_vector(measure(plain)), target_v)


def test_the_two_portraits_give_different_faces_each_closer_to_its_own(backend, fits):
    obama, biden = fits["obama"], fits["biden"]
    assert obama.code != biden.code
    renders = backend.render([obama.code, biden.code])
    (obama_face,), (biden_face,) = (find_faces(r) for r in renders)
    on_obama, on_biden = measures_vector(measure(obama_face)), measures_vector(measure(biden_face))
    to_obama, to_biden = measures_vector(obama.target), measures_vector(biden.target)
    assert rms(on_obama, to_obama) < rms(on_obama, to_biden)
    assert rms(on_biden, to_biden) < rms(on_biden, to_obama)
    # what a viewer sees first: Obama's broad smile and wider mouth
    assert obama.params.mouth_width > biden.params.mouth_width
    assert obama.params.mouth_corners + obama.params.smile > biden.params.mouth_corners + biden.params.smile


def test_colours_follow_the_photo(backend, fits):
    # dark hair stays darker than white hair; the render's cheeks show the photo's cheek colour
    assert fits["obama"].params.hair_darkness > fits["biden"].params.hair_darkness + 0.3
    for fit in fits.values():
        image = backend.render([fit.code])[0]
        rendered_skin = sample_colours(image, find_faces(image)[0]).skin
        assert np.linalg.norm(to_lab(rendered_skin) - to_lab(fit.colours.skin)) < 15.0  # ΔE*ab


def test_unmeasured_traits_come_from_the_seed_and_extras_stay_off(backend):
    image = photo("obama_official_portrait.jpg")
    one, other = (fit_photo(image, backend, seed, refine_steps=0) for seed in (1, 2))
    assert one.params.beard == "none" and not one.params.glasses
    assert (one.params.clothes_hue, one.params.iris_colour) != (other.params.clothes_hue, other.params.iris_colour)
    assert photo_to_facecode(image, backend, 1) == photo_to_facecode(image, backend, 1), "deterministic"


def test_the_calibration_matches_the_renderer_and_moves_the_right_way():
    table = load_table()
    slope = dict(zip(table.knobs, table.slope.T))
    index = {name: i for i, name in enumerate(MEASURES)}
    for knob, measurement in [("eye_spacing", "eye_spacing"), ("eye_size", "eye_width"),
                              ("eye_openness", "eye_height"), ("eye_tilt", "eye_tilt"),
                              ("brow_raise", "brow_height"), ("nose_length", "nose_length"),
                              ("nose_width", "nose_width"), ("mouth_width", "mouth_width"),
                              ("lips", "lip_thickness"), ("mouth_corners", "mouth_corner_lift"),
                              ("face_length", "face_aspect")]:
        assert slope[knob][index[measurement]] > 0, f"{knob} should raise {measurement}"
    assert set(table.knobs) == set(KNOBS)


def test_photo_errors_reach_the_caller(backend):
    with pytest.raises(PhotoError) as info:
        photo_to_facecode(photo("two_faces.jpg"), backend, SEED)
    assert info.value.code == "several_faces"


def test_only_the_montage_backend_can_fit_a_photo():
    class OtherBackend:
        name = "stylegan"
    with pytest.raises(TypeError):
        photo_to_facecode(photo("obama_official_portrait.jpg"), OtherBackend(), SEED)
