"""One StyleGAN2-ADA training step: the four phases in the reference order.

    Gmain  every step          G minimises the non-saturating loss
    Greg   every G_REG steps   G minimises the path-length penalty × G_REG
    Dmain  every step          D minimises its logistic loss on generated and real pictures
    Dreg   every D_REG steps   D minimises R1 × D_REG

Each phase has its own batch of latents (all four are drawn every step, skipped phases too,
so a step's randomness does not depend on which phases ran). Only the phase's network takes
gradients, every parameter of it (zero where the phase's loss does not reach, so Adam's second
moments decay alike for all); non-finite ones are replaced (NaN → 0, ±inf → ±1e5) before the
Adam step. In several processes (distributed.py) each takes its shard of the batch and the
gradients are the processes' mean, taken before that clean-up, as in NVIDIA's loop.

Lazy regularisation (running a regulariser every I steps with its loss × I) changes how often
the optimiser steps, so each network's Adam is set as if I main steps and one regulariser step
were one step: learning rate × I/(I+1) and betas ** (I/(I+1)).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from facegen.training.loss import StyleGAN2Loss

G_REG = 4     # path-length regularisation every this many steps
D_REG = 16    # R1 every this many steps


@dataclass(frozen=True)
class AdamSettings:
    lr: float = 0.0025
    betas: tuple[float, float] = (0.0, 0.99)
    eps: float = 1e-8


def lazy_adam(module: nn.Module, reg_interval: int | None, settings: AdamSettings = AdamSettings()
              ) -> torch.optim.Adam:
    """Adam for a network whose regulariser runs every `reg_interval` steps (None = never lazily)."""
    ratio = reg_interval / (reg_interval + 1) if reg_interval else 1.0
    return torch.optim.Adam(module.parameters(), lr=settings.lr * ratio,
                            betas=tuple(b ** ratio for b in settings.betas), eps=settings.eps)


def to_model_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] → float32 [-1, 1], the range G draws in."""
    return images.to(torch.float32) / 127.5 - 1


def train_step(loss: StyleGAN2Loss, opt_G: torch.optim.Optimizer, opt_D: torch.optim.Optimizer,
               real: torch.Tensor, step: int, generator: torch.Generator | None = None,
               g_reg: int = G_REG, d_reg: int = D_REG) -> dict[str, float]:
    """One step on a batch of real uint8 pictures [N, C, H, W] (the shard's, in several
    processes); `step` counts from 0 and picks the regularisation steps. Returns the step's
    losses and `rt`, the mean sign of D's outputs on the reals in the D phase (means over the
    whole batch)."""
    G, D, shard = loss.G, loss.D, loss.shard
    real = to_model_range(real.to(shard.device))
    # the whole batch's latents, drawn on the CPU (the same numbers on any device)
    z = torch.randn([4 * real.shape[0] * shard.count, G.z_dim], generator=generator).to(shard.device).chunk(4)
    stats: dict[str, float] = {}

    def phase(module: nn.Module, opt: torch.optim.Optimizer, compute) -> None:
        module.requires_grad_(True)
        opt.zero_grad(set_to_none=True)
        compute().backward()
        module.requires_grad_(False)
        for p in module.parameters():
            if p.grad is None:   # untouched by this loss (the last toRGB bias in Greg): Adam still steps it
                p.grad = torch.zeros_like(p)
        shard.average_gradients(module.parameters())
        for p in module.parameters():
            p.grad.nan_to_num_(nan=0, posinf=1e5, neginf=-1e5)
        opt.step()

    def g_main() -> torch.Tensor:
        out = loss.g_main(z[0], generator).mean()
        stats["G_loss"] = out.item()
        return out

    def g_reg_() -> torch.Tensor:
        out = loss.g_path_length(z[1], generator).mean()
        stats["pl_penalty"] = out.item() / loss.settings.pl_weight
        return out * g_reg

    def d_main() -> torch.Tensor:
        fake, genuine, real_signs = loss.d_main(z[2], real, generator)
        out = fake.mean() + genuine.mean()
        stats["D_loss"] = out.item()
        stats["rt"] = real_signs.mean().item()
        return out

    def d_reg_() -> torch.Tensor:
        out = loss.d_r1(real, generator).mean()
        stats["r1_penalty"] = out.item() / (loss.settings.r1_gamma / 2)
        return out * d_reg

    phase(G, opt_G, g_main)
    if loss.settings.pl_weight and step % g_reg == 0:
        phase(G, opt_G, g_reg_)
    phase(D, opt_D, d_main)
    if loss.settings.r1_gamma and step % d_reg == 0:
        phase(D, opt_D, d_reg_)
    if shard.count > 1:   # each process's means are of its shard: average them
        values = torch.tensor(list(stats.values()), dtype=torch.float64, device=shard.device)
        stats = dict(zip(stats, shard.average(values).tolist()))
    return stats


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, beta: float) -> None:
    """ema ← beta·ema + (1 − beta)·model for parameters; buffers are copied."""
    for p_ema, p in zip(ema.parameters(), model.parameters()):
        p_ema.copy_(p.lerp(p_ema, beta))
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)
