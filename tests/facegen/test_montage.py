"""The montage backend: determinism, sizes, parameter decoding, region isolation, style mixing."""

from __future__ import annotations

import numpy as np
import pytest

from facegen import latent
from facegen.backend import Backend
from facegen.candidates import region_candidates
from facegen.facecode import FaceCode
from facegen.montage import CHECKPOINT_ID, PARAMS, MontageBackend, decode, encode
from facegen.montage.params import REGION_PARAMS, SPECS, with_params
from facegen.montage.regions import REGION_BOXES, REGIONS, pixel_boxes
from facegen.montage.render import HEAD_REGIONS, STEPS, draw, head, render

BACKEND = MontageBackend()


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def test_implements_the_backend_protocol():
    assert isinstance(BACKEND, Backend)
    assert BACKEND.checkpoint_id == CHECKPOINT_ID
    assert BACKEND.sample(1).shape == (BACKEND.num_ws, BACKEND.w_dim)
    assert set(BACKEND.regions) >= {"forehead", "brows", "eyes", "nose", "mouth", "jaw", "hair", "ears",
                                    "facial_hair", "glasses"}


def test_same_seed_same_bytes_and_different_seeds_differ():
    a, b = BACKEND.render([BACKEND.sample(7), BACKEND.sample(7)], 128)
    assert a.tobytes() == b.tobytes()
    assert BACKEND.sample(7) == BACKEND.sample(7)
    (c,) = BACKEND.render([BACKEND.sample(8)], 128)
    assert a.tobytes() != c.tobytes()


def test_serialized_face_renders_identically():
    code = BACKEND.sample(3).with_part("eyes", BACKEND.sample(4).base)
    again = FaceCode.from_bytes(code.to_bytes())
    assert BACKEND.render([code], 96)[0].tobytes() == BACKEND.render([again], 96)[0].tobytes()


@pytest.mark.parametrize("size", [64, 200, 512, 1024])
def test_sizes(size):
    (image,) = BACKEND.render([BACKEND.sample(1)], size)
    assert image.size == (size, size) and image.mode == "RGB"


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("colour", ["metal", "black"])
def test_glasses_show_on_a_small_picture(size, colour):
    """A training set's pictures and a grid's thumbnails: frames drawn finer than a pixel
    averaged away to nothing (no pixel of a 32-px face moved by 20 grey levels)."""
    for seed in range(8):
        face = with_params(BACKEND.sample(seed), {"glasses_colour": colour, "glasses_size": 0.0})
        on, off = (np.asarray(BACKEND.render([with_params(face, {"glasses": g})], size)[0], float)
                   for g in (True, False))
        changed = np.abs(on - off).mean(axis=2) > 20
        assert changed.sum() >= size // 4, (seed, changed.sum())


@pytest.mark.parametrize("size", [1025, 4096, 8, 0])
def test_refuses_sizes_out_of_range(size):
    with pytest.raises(ValueError, match="1024"):
        BACKEND.render([BACKEND.sample(1)], size)


def featured(seed: int) -> FaceCode:
    """A random face with every dormant parameter (issue #14's marks and features) showing."""
    changes = {spec.name: spec.choices[-1] if spec.categorical else spec.high for spec in PARAMS if spec.dormant}
    return with_params(BACKEND.sample(seed), changes)


def test_average_face_is_the_middle_of_every_range():
    params = decode(FaceCode(BACKEND.average()))
    for spec in PARAMS:
        value = getattr(params, spec.name)
        if spec.dormant:
            assert value == spec.neutral
        elif spec.categorical:
            # the choice holding the median of its prior
            edges = np.cumsum(spec.shares)
            assert value == spec.choices[int(np.searchsorted(edges, 0.5, side="right"))]
        else:
            assert value == pytest.approx((spec.low + spec.high) / 2)


def test_decode_stays_in_range_for_extreme_latents():
    for fill in (-9.0, 9.0):
        params = decode(FaceCode(np.full((BACKEND.num_ws, BACKEND.w_dim), fill, np.float32)))
        for spec in PARAMS:
            value = getattr(params, spec.name)
            assert value in spec.choices if spec.categorical else spec.low <= value <= spec.high


def test_faces_drawn_before_the_dormant_parameters_read_them_as_neutral():
    """Stored faces hold random N(0, 1) values in the slots issue #14's parameters took: they
    must decode (and so draw) as they did, with no mark or feature they never had."""
    dormant = [spec for spec in PARAMS if spec.dormant]
    assert {"freckles", "mole_cheek", "scar_brow", "dimples", "eye_colour", "beard_colour"} <= {s.name for s in dormant}
    for seed in range(300):
        params = decode(BACKEND.sample(seed))
        assert all(getattr(params, spec.name) == spec.neutral for spec in dormant), seed
    for fill in (-4.9, 4.9):   # further out than 1 in 1.9 million random values
        params = decode(FaceCode(np.full((BACKEND.num_ws, BACKEND.w_dim), fill, np.float32)))
        assert all(getattr(params, spec.name) == spec.neutral for spec in dormant)
    # and a dormant parameter set to anything encodes back to it
    for spec in dormant:
        values = spec.choices if spec.categorical else (spec.low, (spec.low + spec.high) / 2, spec.high, 0.3)
        for value in values:
            again = spec.decode(spec.encode(value))
            assert again == value if spec.categorical else again == pytest.approx(value, abs=1e-6)


def test_the_frozen_choice_lists_speak_the_attribute_vocabulary():
    from facegen.attributes import ENUMS, MARK_PLACES as PLACES
    from facegen.montage.params import BEARD_COLOURS, EYE_COLOURS, MARK_PLACES
    assert MARK_PLACES == PLACES
    assert EYE_COLOURS == (None, *ENUMS["eye_colour"]) and BEARD_COLOURS == (None, *ENUMS["beard_colour"])


def test_encode_inverts_decode():
    for seed in range(5):
        params = decode(BACKEND.sample(seed))
        again = decode(encode(params))
        for spec in PARAMS:
            if spec.categorical:
                assert getattr(again, spec.name) == getattr(params, spec.name)
            else:
                assert getattr(again, spec.name) == pytest.approx(getattr(params, spec.name), abs=1e-4 * (spec.high - spec.low))


def test_each_region_reads_its_parameters_from_its_donor():
    face, donor = BACKEND.sample(1), BACKEND.sample(2)
    mixed = decode(face.with_part("nose", donor.base))
    for name in SPECS:
        source = donor if name in REGION_PARAMS["nose"] else face
        assert getattr(mixed, name) == getattr(decode(source), name), name


def test_with_params_changes_only_the_named_slots():
    code = BACKEND.sample(5).with_part("mouth", BACKEND.sample(6).base)
    changed = with_params(code, {"mouth_width": 0.45, "eye_size": 0.2})
    assert decode(changed).mouth_width == pytest.approx(0.45, abs=1e-5)
    assert decode(changed).eye_size == pytest.approx(0.2, abs=1e-5)
    # the mouth reads its donor, so that is where the new width went
    assert not np.array_equal(changed.parts["mouth"], code.parts["mouth"])
    assert np.count_nonzero(changed.base != code.base) == 1
    with pytest.raises(ValueError, match="unknown montage parameter"):
        with_params(code, {"horns": 1.0})


GRID_REGIONS = [r for r in REGIONS if REGION_BOXES[r] != ((0.0, 0.0, 1.0, 1.0),)]


@pytest.mark.parametrize("region", GRID_REGIONS)
def test_region_candidates_change_pixels_only_inside_the_region(region):
    size = 192
    changed_somewhere = False
    for code in (BACKEND.sample(11), BACKEND.sample(12), featured(13)):
        candidates = region_candidates(BACKEND, code, region, n=5, seed=7)
        base, *others = BACKEND.render([code, *candidates], size)
        outside = np.ones((size, size), bool)
        for left, top, right, bottom in pixel_boxes(region, size):
            outside[top:bottom, left:right] = False
        for image in others:
            diff = np.any(pixels(image) != pixels(base), axis=2)
            assert not diff[outside].any(), f"{region} changed pixels outside its box"
            changed_somewhere |= bool(diff.any())
    assert changed_somewhere, f"{region} candidates all look the same"


@pytest.mark.parametrize("region", REGIONS)
def test_region_redraw_equals_full_render(region):
    code = featured(21).with_part("glasses", with_params(BACKEND.sample(0), {"glasses": True}).base)
    candidates = region_candidates(BACKEND, code, region, n=3, seed=2)
    quick = BACKEND.render_region(code, candidates, region, 320)
    full = BACKEND.render(candidates, 320)
    for a, b in zip(quick, full):
        assert a.tobytes() == b.tobytes()


def test_region_redraw_of_a_face_that_differs_elsewhere_too_draws_it_whole():
    code = BACKEND.sample(3)
    stray = region_candidates(BACKEND, code, "eyes", n=1, seed=1)[0].with_part("mouth", BACKEND.sample(4).base)
    (quick,) = BACKEND.render_region(code, [stray], "eyes", 192)
    assert quick.tobytes() == BACKEND.render([stray], 192)[0].tobytes()


def same_ops(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same_ops(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("region", REGIONS)
def test_steps_that_do_not_read_a_region_draw_the_same_for_all_its_candidates(region):
    """What lets region grids reuse the base face's geometry: a step not declaring a region
    among its reads draws identical ops whatever that region's parameters are."""
    redrawn = set()
    for seed, code in ((1, BACKEND.sample(1)), (2, BACKEND.sample(2)), (3, featured(3))):
        base = draw(decode(code), 128)
        for candidate in region_candidates(BACKEND, code, region, n=6, seed=seed):
            other = draw(decode(candidate), 128)
            for step, ops, again in zip(STEPS, base.ops, other.ops):
                if region not in step.reads:
                    assert same_ops(ops, again), f"{step.draw.__name__} reads {region} without saying so"
                elif not same_ops(ops, again):
                    redrawn.add(step.draw.__name__)
    assert redrawn, f"no step draws {region} differently"


@pytest.mark.parametrize("region", sorted(set(REGIONS) - HEAD_REGIONS))
def test_only_the_head_regions_shape_the_head(region):
    code = featured(4)
    base = head(decode(code))
    for candidate in region_candidates(BACKEND, code, region, n=4, seed=1):
        again = head(decode(candidate))
        assert all(same_ops(getattr(base, f), getattr(again, f)) for f in ("fw", "hc", "ht", "chin_y", "right_upper",
                                                                           "right_lower"))


def test_window_render_matches_the_full_picture():
    params = decode(BACKEND.sample(9))
    full = pixels(render(params, 256))
    left, top, right, bottom = 37, 90, 201, 171
    window = pixels(render(params, 256, window=(left, top, right, bottom)))
    assert np.array_equal(window, full[top:bottom, left:right])


def test_style_mixing_at_one_half_takes_shape_from_a_and_colours_from_b():
    a, b = BACKEND.sample(31), BACKEND.sample(32)
    mixed = decode(latent.layer_crossover(a, b, 0.5))
    pa, pb = decode(a), decode(b)
    coarse = BACKEND.layer_ranges["coarse"]
    for spec in PARAMS:
        expected = pa if spec.row < BACKEND.num_ws // 2 else pb
        assert getattr(mixed, spec.name) == getattr(expected, spec.name), spec.name
    assert mixed.face_width == pa.face_width and mixed.skin_tone == pb.skin_tone
    assert all(SPECS[n].row in range(coarse.start, coarse.stop) for n in ("face_width", "jaw_width", "hair_style"))


def test_linear_morph_moves_parameters_monotonically():
    a = with_params(BACKEND.sample(1), {"eye_spacing": 0.41, "skin_tone": 0.1})
    b = with_params(BACKEND.sample(2), {"eye_spacing": 0.49, "skin_tone": 0.9})
    steps = [decode(latent.linear(a, b, r)) for r in (1.0, 0.75, 0.5, 0.25, 0.0)]
    spacing = [p.eye_spacing for p in steps]
    tone = [p.skin_tone for p in steps]
    assert spacing == sorted(spacing) and tone == sorted(tone)
    assert spacing[0] == pytest.approx(0.41, abs=1e-4) and spacing[-1] == pytest.approx(0.49, abs=1e-4)
