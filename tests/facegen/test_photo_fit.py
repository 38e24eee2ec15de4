"""Photo → montage FaceCode: the round trip photo → code → render → measure, the identity-guided
fit, the caricature, and what a fit keeps."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facegen.backend import PhotoFitOptions
from facegen.identity import descriptor, distance
from facegen.landmarks import eye_line, find_faces, measure
from facegen.montage import MontageBackend, encode
from facegen.montage.identity_fit import (HAIR_COLOUR_DELTA_E, NOT_FITTED, OFF_REGIONS, POPULATION, PRIOR_WIDTH,
                                          caricature, free_parameters)
from facegen.montage.palette import Palette
from facegen.montage.params import PARAMS, SPECS, position
from facegen.photo import PhotoError, find_single_face, level_face, load_photo, sample_colours
from facegen.montage.photo_fit import (KNOBS, MEASURED_AS, MEASURES, PLAIN, PhotoFit, calibration_face,
                                       exposure_corrected_skin, fit_photo, load_table, measures_vector, sclera_luma,
                                       to_lab)

TESTDATA = Path(__file__).resolve().parents[1] / "data"
SEED = 1
EVALUATIONS = 16   # of the identity fit, in these tests (48 in use)

# Largest |render − photo| allowed per measurement (units of face width; face_aspect a ratio).
# Worst seen over seeds 1–5 on both portraits with montage-2 was 0.022, 0.019, 0.007, 0.007,
# 0.013, 0.021, 0.040, 0.059, 0.023, 0.011, 0.043, 0.046 in this order (montage-1: 0.044, 0.020,
# 0.025, 0.019, 0.043, 0.043, 0.056, 0.079, 0.023, 0.010, 0.065, 0.089). Where it is still large
# the photo lies outside what the montage draws: mouth_width (Obama's broad grin), nose_width
# (dlib places drawn nostrils narrower), face_aspect and jaw_width (drawn jaws are simpler).
TOLERANCE = {
    "eye_spacing": 0.035, "eye_width": 0.03, "eye_height": 0.012, "eye_tilt": 0.012,
    "brow_height": 0.025, "nose_length": 0.035, "nose_width": 0.06, "mouth_width": 0.085,
    "lip_thickness": 0.03, "mouth_corner_lift": 0.018, "face_aspect": 0.065, "jaw_width": 0.07,
}
# Overall misfit in units of each measurement's spread over random montage faces (worst over
# seeds 1–5 with montage-2: 0.86, and 0.41 of the average face's).
MAX_RMS = 1.2
MAX_RMS_VS_AVERAGE_FACE = 0.55


def photo(name: str):
    return load_photo((TESTDATA / name).read_bytes(), max_bytes=10_000_000, max_pixels=10_000_000)


@pytest.fixture(scope="module")
def backend() -> MontageBackend:
    return MontageBackend()


@pytest.fixture(scope="module")
def fits(backend) -> dict[str, PhotoFit]:
    """The measured fits (no identity step): what the landmark, colour and hair tables give."""
    return {who: fit_photo(photo(f"{who}_official_portrait.jpg"), backend, evaluations=0) for who in ("obama", "biden")}


@pytest.fixture(scope="module")
def identity_fits(backend) -> dict[str, PhotoFit]:
    return {who: fit_photo(photo(f"{who}_official_portrait.jpg"), backend, evaluations=EVALUATIONS)
            for who in ("obama", "biden")}


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
    # dark hair stays darker than white hair; the render's cheeks show the (exposure-corrected)
    # cheek colour of the photo
    assert fits["obama"].params.hair_darkness > fits["biden"].params.hair_darkness + 0.3
    for fit in fits.values():
        image = backend.render([fit.code])[0]
        rendered_skin = sample_colours(image, find_faces(image)[0]).skin
        # ΔE*ab; the montage's skins are less red than Biden's portrait (a red cast that an
        # exposure correction leaves), so the lightness is held closer than the whole colour
        difference = to_lab(rendered_skin) - to_lab(fit.skin)
        assert abs(difference[0]) < 8.0 and np.linalg.norm(difference) < 20.0


def test_skin_tone_follows_the_person_not_the_lighting(fits):
    # Obama's portrait is brightly lit, Biden's dim: as sampled, Obama's cheeks are the lighter
    assert to_lab(fits["obama"].colours.skin)[0] > to_lab(fits["biden"].colours.skin)[0] + 15
    assert fits["biden"].params.skin_tone < fits["obama"].params.skin_tone - 0.1


def test_a_fair_face_lit_from_the_front_stays_fair(backend, fits):
    # Eileen Collins's NASA portrait: bright eye whites; taken at their word they darkened her
    # cheeks to the montage's darkest skin (tone 0.93)
    collins = fit_photo(photo("collins_astronaut.jpg"), backend, evaluations=0)
    assert collins.params.skin_tone < 0.5
    assert collins.params.skin_tone < fits["obama"].params.skin_tone - 0.15


@pytest.mark.parametrize("gain", [0.7, 1.25])
def test_exposure_correction_ignores_how_bright_the_photo_is(gain):
    image = photo("biden_official_portrait.jpg")
    exposed = image.point(lambda v: min(255, round(v * gain)))

    def corrected(picture):
        face = find_single_face(picture)
        return exposure_corrected_skin(sample_colours(picture, face).skin, sclera_luma(picture, face))

    # the landmarks move by a pixel between exposures, and the eye-white reading with them
    assert np.linalg.norm(to_lab(corrected(exposed)) - to_lab(corrected(image))) < 6.0  # ΔE*ab


def test_unmeasured_traits_come_from_the_photo_and_extras_stay_off(backend, fits):
    obama, biden = fits["obama"], fits["biden"]
    assert obama.params.beard == "none" and not obama.params.glasses
    # what is not measured is seeded from the photo's pixels: another photo, other traits
    assert (obama.params.clothes_hue, obama.params.iris_colour) != (biden.params.clothes_hue, biden.params.iris_colour)


def test_the_same_photo_sent_five_times_gives_the_same_face(backend):
    data = (TESTDATA / "obama_official_portrait.jpg").read_bytes()
    # each upload is decoded anew and comes with another job seed, as the chat sends them
    codes = {backend.from_photo(load_photo(data), seed).code.to_bytes() for seed in (1, 2, 3, 4, 5)}
    assert len(codes) == 1


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
        backend.from_photo(photo("two_faces.jpg"), SEED)
    assert info.value.code == "several_faces"


def test_only_the_montage_backend_can_fit_a_photo():
    class OtherBackend:
        name = "stylegan"
    with pytest.raises(TypeError):
        fit_photo(photo("obama_official_portrait.jpg"), OtherBackend())


# --- hair ----------------------------------------------------------------------------------------

def test_short_hair_in_the_portraits_is_drawn_short(fits):
    for fit in fits.values():
        assert fit.hair.length is not None and fit.hair.length < 0.3
        assert fit.params.hair_style == "short"


@pytest.mark.parametrize("style, length, darkness", [
    ("short", 0.5, 0.95), ("bob", 0.2, 0.3), ("bob", 0.9, 0.9), ("long", 0.1, 0.6), ("long", 0.9, 0.2)])
def test_hair_length_and_colour_follow_a_render_with_known_hair(backend, style, length, darkness):
    truth = dataclasses.replace(calibration_face(backend, 7), hair_style=style, hair_length=length,
                                hair_darkness=darkness, hair_grey=-1.0, hair_red=-1.0)
    picture = Image.new("RGB", (640, 700), (205, 205, 210))
    picture.paste(backend.render([encode(truth)], 480)[0], (70, 120))   # another size and framing than calibration's
    fit = fit_photo(picture, backend, evaluations=0)
    assert fit.params.hair_style == style
    if style != "short":          # short styles have no length to draw
        assert abs(fit.params.hair_length - length) < 0.3
    assert abs(fit.params.hair_darkness - darkness) < 0.15


def tilted(picture: Image.Image, degrees: float) -> Image.Image:
    """The photo turned about its upper third, its edges stretched outward so no new edge or
    colour appears near the head (as a head tilted in the picture, not a picture turned)."""
    pixels = np.asarray(picture.convert("RGB"))
    pad = max(pixels.shape[:2]) // 2
    grown = Image.fromarray(np.pad(pixels, ((pad, pad), (pad, pad), (0, 0)), mode="edge"))
    turned = grown.rotate(degrees, resample=Image.BICUBIC, center=(pad + picture.width / 2, pad + picture.height * 0.3))
    return turned.crop((pad, pad, pad + picture.width, pad + picture.height))


@pytest.mark.parametrize("degrees", [-25, 25])
def test_a_tilted_head_is_measured_upright(backend, fits, degrees):
    upright = fits["obama"]
    picture = tilted(photo("obama_official_portrait.jpg"), degrees)
    face = find_single_face(picture)
    level, found = level_face(picture, face)
    assert abs(np.degrees(eye_line(face.points)[1]) + degrees) < 3.0   # PIL turns counter-clockwise: −d
    assert abs(np.degrees(eye_line(found.points)[1])) < 2.0             # the eye line is level again
    fit = fit_photo(picture, backend, evaluations=0)
    assert fit.params.hair_style == "short" and fit.hair.length < 0.3   # it read as long hair before
    assert np.linalg.norm(to_lab(fit.colours.hair) - to_lab(upright.colours.hair)) < 12
    assert np.linalg.norm(to_lab(fit.skin) - to_lab(upright.skin)) < 8


def test_long_hair_on_a_tilted_head_is_still_long(backend):
    truth = dataclasses.replace(calibration_face(backend, 7), hair_style="long", hair_length=0.8, hair_darkness=0.9,
                                hair_grey=-1.0, hair_red=-1.0)
    picture = Image.new("RGB", (640, 700), (205, 205, 210))
    picture.paste(backend.render([encode(truth)], 480)[0], (70, 120))
    fit = fit_photo(tilted(picture, 20), backend, evaluations=0)
    assert fit.params.hair_style == "long" and abs(fit.params.hair_length - 0.8) < 0.3


def test_a_forehead_lit_brighter_than_the_cheeks_is_not_taken_for_hair(backend, fits):
    # Biden's portrait: a bright forehead under thin white hair; the cheeks are darker
    hair = to_lab(fits["biden"].colours.hair)
    assert hair[0] > 72 and np.linalg.norm(hair[1:]) < 12   # light and nearly grey, as his hair is
    truth = dataclasses.replace(calibration_face(backend, 7), hair_style="short", hair_darkness=0.9,
                                hair_grey=-1.0, hair_red=-1.0)
    picture = backend.render([encode(truth)], 480)[0]
    face = find_single_face(picture)
    brows = face.points[17:27]
    pixels = np.asarray(picture, dtype=np.float64).copy()
    # the forehead between the hairline and the brows, lit 25% brighter than the rest of the face
    forehead = (slice(round(truth.hairline_height * picture.height) + 4, int(brows[:, 1].min()) - 4),
                slice(int(brows[:, 0].min()), int(brows[:, 0].max())))
    pixels[forehead] = np.clip(pixels[forehead] * 1.25, 0, 255)
    lit = Image.fromarray(pixels.astype(np.uint8))
    assert np.linalg.norm(to_lab(sample_colours(lit, face).hair) - to_lab(sample_colours(picture, face).hair)) < 10


def test_a_hairline_higher_in_the_photo_is_drawn_higher(backend):
    def fitted_hairline(height: float) -> float:
        truth = dataclasses.replace(calibration_face(backend, 7), hair_style="short", hairline_height=height)
        return fit_photo(backend.render([encode(truth)], 512)[0], backend, evaluations=0).params.hairline_height
    assert fitted_hairline(0.205) < fitted_hairline(0.265) - 0.03   # y grows downward


# --- the identity-guided fit ---------------------------------------------------------------------

def test_the_identity_fit_draws_the_face_nearer_to_the_person(identity_fits):
    for fit in identity_fits.values():
        assert fit.identity.likeness < fit.identity.start_likeness


def test_the_identity_fit_comes_nearer_to_the_persons_other_photo(backend, identity_fits):
    # photos the fit never saw, and made faces scored at another size than the fit's. (Nearer to
    # the person's other photo than to the other person's is the goal, and not met for both
    # people yet: bench/likeness.py reports it.)
    others = {"obama": descriptor(photo("obama_podium.jpg")), "biden": descriptor(photo("biden_smiling.jpg"))}
    for who, fit in identity_fits.items():
        measured, guided = (descriptor(backend.render([code], 400)[0]) for code in (encode(fit.measured), fit.code))
        assert distance(guided, others[who]) < distance(measured, others[who]), who


def test_the_identity_fit_keeps_what_was_measured(identity_fits):
    table = load_table()
    for fit in identity_fits.values():
        for name, measured_as in MEASURED_AS.items():
            moved = abs(position(SPECS[name], getattr(fit.params, name))
                        - position(SPECS[name], getattr(fit.measured, name)))
            assert moved <= 2.0 * PRIOR_WIDTH[measured_as] + 1e-6, name
        for name in ("hair_style", "beard", "glasses", "clothes_hue"):
            assert getattr(fit.params, name) == getattr(fit.measured, name)
        # the hair keeps the photo's colour: the recogniser alone would grey it (Obama's dark
        # grey had gone light grey, ΔE 19)
        hair_shift = np.linalg.norm(to_lab(Palette(fit.params).hair) - to_lab(Palette(fit.measured).hair))
        assert hair_shift <= HAIR_COLOUR_DELTA_E + 2.0
        # the landmarks still measure near the photo's
        (face,) = find_faces(MontageBackend().render([fit.code])[0])
        assert rms(measures_vector(measure(face)), measures_vector(fit.target)) <= MAX_RMS + 0.3


def test_the_optimiser_does_not_depend_on_numpys_global_generator(backend):
    image = photo("biden_official_portrait.jpg")
    np.random.seed(1)
    first = fit_photo(image, backend, evaluations=POPULATION).code
    np.random.seed(2)
    assert fit_photo(image, backend, evaluations=POPULATION).code == first


def test_a_fit_reports_its_progress_and_keeps_no_descriptor(backend):
    heard: list[float] = []
    fitted = backend.from_photo(photo("obama_official_portrait.jpg"), SEED, progress=heard.append)
    assert heard == sorted(heard) and heard[-1] == pytest.approx(1.0) and len(heard) >= 2
    # the photo's descriptor is biometric data: only the distance is kept with the face
    assert set(fitted.made) == {"likeness"} and isinstance(fitted.made["likeness"], float)


def test_every_continuous_parameter_of_the_face_is_free_to_the_fit():
    free = free_parameters(MEASURED_AS, PLAIN)
    expected = {s.name for s in PARAMS if not s.categorical and s.region not in OFF_REGIONS} - {*PLAIN, *NOT_FITTED}
    assert set(free) == expected     # a parameter added to the montage joins without a change here
    assert free["skin_tone"] < free["face_width"] < free["nose_bridge"]


# --- caricature ----------------------------------------------------------------------------------

def test_a_caricature_exaggerates_the_shape_and_keeps_the_colours(backend, fits):
    params = fits["biden"].params
    assert caricature(params, 0.0) == params
    strong = caricature(params, 1.0)
    for name in ("face_width", "eye_spacing", "nose_length", "mouth_width"):
        before, after = (position(SPECS[name], getattr(p, name)) for p in (params, strong))
        assert after == pytest.approx(float(np.clip(2 * before, -1, 1)), abs=1e-9)
    for name in ("skin_tone", "hair_darkness", "hair_length", "clothes_hue"):
        assert getattr(strong, name) == getattr(params, name)
    with pytest.raises(ValueError):
        caricature(params, -0.5)


def test_a_caricature_can_be_asked_for_with_the_photo(backend):
    image = photo("obama_official_portrait.jpg")
    plain = backend.from_photo(image, SEED)
    strong = backend.from_photo(image, SEED, options=PhotoFitOptions(caricature=0.8))
    assert plain.code != strong.code
