"""ADA's augmentation (facegen/training/augment.py) and its controller, on tiny pictures on the
CPU: what each transform does, determinism, gradients to second order, what the loss sees, and
the options that steer it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dreamface.cli import main
from facegen.training.augment import COLOR, TRANSFORMS, AugmentPipe, ada_adjust
from facegen.training.distributed import Shard
from facegen.training.loss import StyleGAN2Loss
from facegen.training.montage_dataset import write_montage_dataset
from facegen.training.step import D_REG, G_REG, lazy_adam, train_step
from stylegan_fixtures import one_thread, tiny_d, tiny_sg2  # noqa: F401 (one_thread: autouse)


def _pictures(count: int = 8, channels: int = 3, side: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.rand([count, channels, side, side], generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _augment(pictures: torch.Tensor, p: float = 1.0, transforms=TRANSFORMS, seed: int = 1,
             shard: Shard = Shard()) -> torch.Tensor:
    return AugmentPipe(p, transforms)(pictures, torch.Generator().manual_seed(seed), shard)


# --- the pipeline -------------------------------------------------------------------------------

def test_at_p_0_the_pictures_pass_unchanged_and_nothing_is_drawn():
    x = _pictures()
    generator = torch.Generator().manual_seed(1)
    before = generator.get_state()
    assert AugmentPipe(0.0)(x, generator) is x
    assert torch.equal(generator.get_state(), before)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_at_p_1_every_transform_changes_the_pictures(transform):
    x = _pictures()
    out = _augment(x, transforms=[transform])
    assert out.shape == x.shape and torch.isfinite(out).all()
    changed = [not torch.allclose(a, b, atol=1e-3) for a, b in zip(out, x)]
    assert sum(changed) >= 3, transform   # flips and quarter turns leave some pictures as they were


def test_blit_transforms_move_whole_pixels():
    # (up to float rounding in grid_sample's coordinates)
    x = _pictures(count=16)
    flipped = _augment(x, transforms=["xflip"])
    assert all(torch.allclose(o, a, atol=1e-5) or torch.allclose(o, a.flip(-1), atol=1e-5) for o, a in zip(flipped, x))
    turned = _augment(x, transforms=["rotate90"])
    turns = [[k for k in range(4) if torch.allclose(o, a.rot90(k, dims=(1, 2)), atol=1e-5)] for o, a in zip(turned, x)]
    assert all(len(k) == 1 for k in turns) and len({k[0] for k in turns}) > 1
    shifted = _augment(x, transforms=["xint"])
    inner = (slice(None), slice(4, 12), slice(4, 12))   # a shift of at most 2 px keeps the middle inside
    for o, a in zip(shifted, x):
        assert any(torch.allclose(o[inner], a.roll((dy, dx), dims=(1, 2))[inner], atol=1e-5)
                   for dy in range(-2, 3) for dx in range(-2, 3))


def test_colour_transforms_follow_their_definitions():
    x = _pictures()
    brighter = _augment(x, transforms=["brightness"]) - x
    assert all(torch.allclose(d, d.mean().expand_as(d), atol=1e-5) for d in brighter)   # one offset a picture
    grey = x.mean(dim=1, keepdim=True)
    assert torch.allclose(_augment(x, transforms=["hue"]).mean(dim=1, keepdim=True), grey, atol=1e-5)   # luma kept
    assert torch.allclose(_augment(x, transforms=["saturation"]).mean(dim=1, keepdim=True), grey, atol=1e-5)
    flipped = _augment(x, transforms=["lumaflip"]).mean(dim=1, keepdim=True)
    assert all(torch.allclose(f, g, atol=1e-5) or torch.allclose(f, -g, atol=1e-5) for f, g in zip(flipped, grey))
    one_channel = _augment(_pictures(channels=1), transforms=COLOR)
    assert one_channel.shape == (8, 1, 16, 16) and torch.isfinite(one_channel).all()


def test_the_generator_decides_every_number():
    x = _pictures()
    assert torch.equal(_augment(x, 0.5, seed=3), _augment(x, 0.5, seed=3))
    assert not torch.equal(_augment(x, 0.5, seed=3), _augment(x, 0.5, seed=4))
    # in two processes each keeps its rows of the whole batch's numbers: the same pictures
    whole = _augment(x, 0.5, seed=3)
    for index in range(2):
        shard = Shard(index, 2)
        assert torch.allclose(_augment(shard.rows(x), 0.5, seed=3, shard=shard), shard.rows(whole), atol=1e-6)


def test_gradients_through_the_augmentation_to_second_order():
    # R1 differentiates D(augment(x)) by x, then that by D's weights: the resampling's backward
    # must itself be differentiable
    x = _pictures(count=2, side=4).double().requires_grad_(True)
    augment = lambda pictures: _augment(pictures, 1.0, seed=5)   # noqa: E731 - the same numbers every call
    assert torch.autograd.gradcheck(augment, (x,))
    assert torch.autograd.gradgradcheck(augment, (x,))


# --- in the loss --------------------------------------------------------------------------------

def _trained_weights(augment: AugmentPipe | None) -> dict[str, torch.Tensor]:
    loss = StyleGAN2Loss(tiny_sg2(), tiny_d(), augment=augment)
    opt_G, opt_D = lazy_adam(loss.G, G_REG), lazy_adam(loss.D, D_REG)
    real = torch.randint(0, 256, [4, 3, 16, 16], dtype=torch.uint8, generator=torch.Generator().manual_seed(3))
    generator = torch.Generator().manual_seed(0)
    for step in range(2):   # step 0 runs all four phases, R1 through the augmentation too
        train_step(loss, opt_G, opt_D, real, step, generator)
    return {f"G.{k}": v for k, v in loss.G.state_dict().items()} | {f"D.{k}": v for k, v in loss.D.state_dict().items()}


def test_d_sees_augmented_pictures_and_p_0_trains_as_without_augmentation():
    plain, at_zero = _trained_weights(None), _trained_weights(AugmentPipe(0.0))
    augmented = _trained_weights(AugmentPipe(0.5))
    assert all(torch.equal(plain[k], at_zero[k]) for k in plain)
    assert all(torch.isfinite(v).all() for v in augmented.values())
    assert any(not torch.equal(plain[k], augmented[k]) for k in plain if k.startswith("D."))
    assert any(not torch.equal(plain[k], augmented[k]) for k in plain if k.startswith("G.synthesis"))


# --- the controller -----------------------------------------------------------------------------

def test_the_controller_raises_p_when_d_is_too_sure_of_the_reals_and_lowers_it_otherwise():
    step = 32 * 4 / (500 * 1000)   # a batch of 32, every 4 steps, ±1 in 500 kimg
    assert ada_adjust(0.2, rt=0.9, target=0.6, pictures=128, ada_kimg=500) == pytest.approx(0.2 + step)
    assert ada_adjust(0.2, rt=0.1, target=0.6, pictures=128, ada_kimg=500) == pytest.approx(0.2 - step)
    assert ada_adjust(0.2, rt=0.6, target=0.6, pictures=128, ada_kimg=500) == 0.2
    assert ada_adjust(step / 2, rt=-1.0, target=0.6, pictures=128, ada_kimg=500) == 0.0   # never below 0
    assert ada_adjust(0.0, rt=1.0, target=0.6, pictures=128, ada_kimg=0.128) == 1.0       # 0 → 1 in ada_kimg


# --- the options --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "faces"
    write_montage_dataset(path, 4, 16)
    return path


@pytest.mark.parametrize("flags, message", [
    (["--aug", "sometimes"], "--aug must be one of ada, noaug, fixed, not sometimes"),
    (["--target", "1"], "--target must be between 0 and 1 (not included), not 1.0"),
    (["--target", "0"], "--target must be between 0 and 1"),
    (["--p", "-0.1"], "--p must be a probability from 0 to 1, not -0.1"),
    (["--p", "0.3", "--aug", "noaug"], "--p 0.3 needs --aug ada or fixed"),
    (["--ada-kimg", "0"], "--ada-kimg must be more than 0, not 0.0"),
])
def test_bad_augmentation_options_are_refused(faces, tmp_path, capsys, flags, message):
    run = tmp_path / "run"
    assert main(["train", "--data", str(faces), "--out", str(run), "--res", "16", "--kimg", "1", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dreamface train: ") and err.count("\n") == 1 and message in err, err
    assert not run.exists()
