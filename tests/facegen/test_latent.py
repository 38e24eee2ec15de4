import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facegen import latent
from facegen.facecode import FaceCode

NUM_WS, W_DIM = 8, 16


def _code(seed: int, parts=()) -> FaceCode:
    rng = np.random.default_rng(seed)
    return FaceCode(rng.standard_normal((NUM_WS, W_DIM)), {r: rng.standard_normal((NUM_WS, W_DIM)) for r in parts})


A, B = _code(1, parts=("eyes",)), _code(2, parts=("nose",))


def _close(x: FaceCode, y: FaceCode) -> bool:
    return x.parts.keys() == y.parts.keys() and np.allclose(x.base, y.base, atol=1e-6) and all(
        np.allclose(x.parts[r], y.parts[r], atol=1e-6) for r in x.parts)


def test_linear_ends_give_the_inputs():
    assert np.array_equal(latent.linear(A, B, 1.0).base, A.base)
    assert np.array_equal(latent.linear(A, B, 0.0).base, B.base)
    # Regions only one side picked: the other side contributes its base.
    assert np.array_equal(latent.linear(A, B, 1.0).part("nose"), A.base)
    assert np.array_equal(latent.linear(A, B, 0.0).part("eyes"), B.base)


def test_linear_ratio_is_share_of_first_face():
    mixed = latent.linear(A, B, 0.7)
    assert np.allclose(mixed.base, 0.7 * A.base + 0.3 * B.base)


@pytest.mark.parametrize("op, axis, size", [(latent.layer_crossover, 0, NUM_WS), (latent.channel_crossover, 1, W_DIM)])
def test_crossover_at_one_half_is_the_exact_swap(op, axis, size):
    out = op(A, B, 0.5).base
    xp = size // 2
    head = (slice(None),) * axis + (slice(None, xp),)
    tail = (slice(None),) * axis + (slice(xp, None),)
    assert np.array_equal(out[head], A.base[head])
    assert np.array_equal(out[tail], B.base[tail])


@pytest.mark.parametrize("op", [latent.layer_crossover, latent.channel_crossover])
def test_crossover_ratio_is_the_share_of_me_and_only_grows(op):
    assert np.array_equal(op(A, B, 1.0).base, A.base) and np.array_equal(op(A, B, 0.0).base, B.base)
    ones, zeros = FaceCode(np.ones(A.shape, np.float32)), FaceCode(np.zeros(A.shape, np.float32))
    shares = [op(ones, zeros, r / 10).base for r in range(11)]
    for r, share in enumerate(shares):
        assert share.mean() == pytest.approx(r / 10)   # "me 70%" is 70% of the face's slots
    assert all(np.all(later >= earlier) for earlier, later in zip(shares, shares[1:]))


def test_crossover_point_can_be_chosen():
    out = latent.layer_crossover(A, B, 0.5, layer=2).base
    assert np.array_equal(out[:2], A.base[:2]) and np.array_equal(out[2:], B.base[2:])


@pytest.mark.parametrize("mode", latent.MORPH_MODES)
@pytest.mark.parametrize("ratio", [-0.1, 1.5, float("nan")])
def test_out_of_range_ratios_are_refused(mode, ratio):
    with pytest.raises(latent.LatentError, match="between 0 and 1"):
        latent.morph(A, B, ratio, mode)


def test_unknown_mode_is_refused():
    with pytest.raises(latent.LatentError, match="linear, style, attribute"):
        latent.morph(A, B, 0.5, "sideways")


def test_remix_replaces_only_its_layers():
    fresh = _code(9).base
    out = latent.remix(A, fresh, slice(4, 8))
    assert np.array_equal(out.base[:4], A.base[:4])
    assert np.array_equal(out.base[4:], fresh[4:])
    assert np.array_equal(out.parts["eyes"][4:], fresh[4:])


def test_truncation_pulls_toward_average():
    avg = np.zeros(W_DIM)
    assert np.allclose(latent.truncate(A, avg, 0.0).base, 0.0)
    assert np.array_equal(latent.truncate(A, avg, 1.0).base, A.base)
    half = latent.truncate(A, avg, 0.5)
    assert np.allclose(half.base, A.base * 0.5) and np.allclose(half.parts["eyes"], A.parts["eyes"] * 0.5)


def test_default_layer_ranges_follow_stylegan_proportions():
    assert latent.default_layer_ranges(18) == {"coarse": slice(0, 4), "middle": slice(4, 8), "fine": slice(8, 18)}
    ranges = latent.default_layer_ranges(8)
    covered = [i for r in ranges.values() for i in range(8)[r]]
    assert covered == list(range(8))


@settings(max_examples=50, deadline=None)
@given(st.floats(0, 1), st.sampled_from(latent.MORPH_MODES))
def test_every_morph_stays_between_its_inputs(ratio, mode):
    out = latent.morph(A, B, ratio, mode).base
    lo, hi = np.minimum(A.base, B.base), np.maximum(A.base, B.base)
    assert np.all(out >= lo - 1e-5) and np.all(out <= hi + 1e-5)
