"""The StyleGAN2-ADA loss and one training step on our tiny 16-px networks, on the CPU.

Equality with NVIDIA's stylegan2-ada-pytorch (losses, gradients, weights after steps) is checked
outside the suite, since that code is not part of the project:
scripts/compare_training_official.py --official PATH."""

from __future__ import annotations

import math

import pytest
import torch

from facegen.training.loss import LossSettings, StyleGAN2Loss
from facegen.training.step import D_REG, G_REG, lazy_adam, train_step
from stylegan_fixtures import one_thread, tiny_d, tiny_sg2  # noqa: F401 (one_thread: autouse)



def _real(seed: int = 3) -> torch.Tensor:
    return torch.randint(0, 256, [4, 3, 16, 16], dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def _setup():
    loss = StyleGAN2Loss(tiny_sg2(), tiny_d())
    return loss, lazy_adam(loss.G, G_REG), lazy_adam(loss.D, D_REG)


def _weights(loss: StyleGAN2Loss) -> dict[str, torch.Tensor]:
    return {f"G.{k}": v.clone() for k, v in loss.G.state_dict().items()} | \
           {f"D.{k}": v.clone() for k, v in loss.D.state_dict().items()} | {"pl_mean": loss.pl_mean.clone()}


def _run(seed: int, steps: int = 2) -> tuple[dict[str, torch.Tensor], list[dict[str, float]]]:
    loss, opt_G, opt_D = _setup()
    generator = torch.Generator().manual_seed(seed)
    stats = [train_step(loss, opt_G, opt_D, _real(), step, generator) for step in range(steps)]
    return _weights(loss), stats


def test_a_step_changes_the_weights_the_same_way_for_the_same_seed():
    loss, _, _ = _setup()
    before = _weights(loss)
    first, stats = _run(seed=1)
    again, _ = _run(seed=1)
    other, _ = _run(seed=2)
    assert first.keys() == again.keys() and all(torch.equal(first[k], again[k]) for k in first)
    changed = [k for k in first if not torch.equal(first[k], before[k])]
    assert any(k.startswith("G.mapping.fc") for k in changed) and any(k.startswith("G.synthesis") for k in changed)
    assert any(k.startswith("D.b4") for k in changed) and "G.mapping.w_avg" in changed and "pl_mean" in changed
    assert any(not torch.equal(first[k], other[k]) for k in first)
    # all four phases on step 0, the main ones only on step 1
    assert set(stats[0]) == {"G_loss", "pl_penalty", "D_loss", "rt", "r1_penalty"}
    assert set(stats[1]) == {"G_loss", "D_loss", "rt"}


def test_losses_are_finite_with_the_expected_signs():
    loss, _, _ = _setup()
    loss.G.requires_grad_(True)   # as in its phase: the path length differentiates through G's W+
    z = torch.randn([4, loss.G.z_dim], generator=torch.Generator().manual_seed(0))
    real = _real().float() / 127.5 - 1
    g = torch.Generator().manual_seed(0)
    fake_d, real_d, real_signs = loss.d_main(z, real, g)
    terms = {"G": loss.g_main(z, g), "D fake": fake_d, "D real": real_d,
             "path length": loss.g_path_length(z, g), "R1": loss.d_r1(real)}
    for name, value in terms.items():
        assert torch.isfinite(value).all(), name
        assert (value >= 0).all(), name     # softplus and squares
    # an untrained D is unsure: each side's logistic loss is near log 2
    assert abs(fake_d.mean() - math.log(2)) < 1 and abs(real_d.mean() - math.log(2)) < 1
    assert terms["path length"].shape == (2,)   # half the batch
    # ADA's measure: D(x) > 0 exactly where its loss on x is under log 2
    assert torch.equal(real_signs, torch.where(real_d < math.log(2), 1.0, -1.0))
    assert loss.pl_mean > 0


def test_no_style_mixing_and_no_regularisers():
    loss = StyleGAN2Loss(tiny_sg2(), tiny_d(), LossSettings(style_mixing_prob=0, pl_weight=0, r1_gamma=0))
    opt_G, opt_D = lazy_adam(loss.G, G_REG), lazy_adam(loss.D, D_REG)
    stats = train_step(loss, opt_G, opt_D, _real(), 0, torch.Generator().manual_seed(0))
    assert set(stats) == {"G_loss", "D_loss", "rt"} and loss.pl_mean == 0


def test_lazy_adam_settings():
    opt = lazy_adam(tiny_d(), 16)
    group = opt.param_groups[0]
    assert group["lr"] == pytest.approx(0.0025 * 16 / 17)
    assert group["betas"] == pytest.approx((0.0, 0.99 ** (16 / 17))) and group["eps"] == 1e-8
    plain = lazy_adam(tiny_d(), None).param_groups[0]
    assert plain["lr"] == 0.0025 and plain["betas"] == pytest.approx((0.0, 0.99))
