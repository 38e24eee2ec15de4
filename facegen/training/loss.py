"""The StyleGAN2-ADA objective on our networks (facegen.stylegan: networks2.Generator, discriminator.Discriminator).

Written from "Analyzing and Improving the Image Quality of StyleGAN" (Karras et al. 2020) and
"Training Generative Adversarial Networks with Limited Data" (Karras et al. 2020):

- non-saturating logistic loss: G minimises softplus(−D(G(z))); D minimises
  softplus(D(G(z))) + softplus(−D(x));
- R1: (γ/2)·‖∇ₓD(x)‖² on real images;
- path-length regularisation: for y ~ N(0, I)/√(H·W), the length of Jᵀy = ∇_w (G(w)·y), averaged over
  the rows of W+, is pulled toward a running mean `a` with weight `pl_weight`; `a` moves toward
  each batch's mean length by `pl_decay`, on half the batch (`pl_batch_shrink`);
- style mixing: with probability `style_mixing_prob` the rows of W+ from a random cutoff on
  come from a second latent;
- the generator's average w follows the training latents (β = `w_avg_beta`), for truncation.

Randomness (mixing, per-pixel noise, the path-length direction) is drawn from `generator`, or
from torch's global generator when None, in the order the reference implementation draws it,
so both give the same numbers from the same seed.

With an augmentation pipeline (augment.py), D sees every picture augmented, generated and
real, in every phase, as in NVIDIA's code: G learns through the augmentation, and R1 is the
gradient with respect to the reals before it. Its random numbers come from `generator` too,
after those of the pictures it augments. Without one, or at p = 0, the terms are unchanged.

In several processes (distributed.py) the terms take the whole batch's latents, the same on
every process, and compute the loss of the process's shard of them; `real` is the shard's own
pictures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from facegen.stylegan.discriminator import Discriminator
from facegen.stylegan.networks2 import Generator
from facegen.training.augment import AugmentPipe
from facegen.training.distributed import Shard


@dataclass(frozen=True)
class LossSettings:
    r1_gamma: float = 10.0            # R1 weight γ (0 = no R1); NVIDIA's "auto" uses 0.0002·R²/batch
    style_mixing_prob: float = 0.9    # chance a generated batch mixes two latents (0 = never)
    pl_weight: float = 2.0            # path-length weight (0 = no path-length regularisation)
    pl_batch_shrink: int = 2          # the path-length term runs on batch // this
    pl_decay: float = 0.01            # how fast the running mean of path lengths moves
    w_avg_beta: float = 0.995         # how slowly the average w follows training (1 = frozen)


class StyleGAN2Loss(nn.Module):
    """The four terms the training phases minimise; each returns a per-picture loss [N]. Call
    them as the phases do, with the trained network taking gradients (the path length
    differentiates through G's W+, so G must)."""

    def __init__(self, G: Generator, D: Discriminator, settings: LossSettings = LossSettings(),
                 shard: Shard = Shard(), augment: AugmentPipe | None = None) -> None:
        super().__init__()
        self.G, self.D, self.settings, self.shard, self.augment = G, D, settings, shard, augment
        self.register_buffer("pl_mean", torch.zeros([]))

    def run_G(self, z: torch.Tensor, generator: torch.Generator | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """The shard's pictures of the whole batch `z` and the W+ that drew them, with style
        mixing and random per-pixel noise."""
        mapping, shard = self.G.mapping, self.shard
        ws = mapping(shard.rows(z))
        with torch.no_grad():
            mapping.w_avg.copy_(shard.mean(ws[:, 0]).lerp(mapping.w_avg, self.settings.w_avg_beta))
        if self.settings.style_mixing_prob > 0:
            num_ws = ws.shape[1]
            cutoff = int(torch.randint(1, num_ws, [], generator=generator))
            if float(torch.rand([], generator=generator)) >= self.settings.style_mixing_prob:
                cutoff = num_ws   # no mixing this time (the second latent is drawn all the same)
            other = mapping(shard.randn([ws.shape[0], z.shape[1]], generator))
            ws = torch.cat([ws[:, :cutoff], other[:, cutoff:]], dim=1)
        return self.G.synthesis(ws, noise_mode="random", generator=generator, batch_shard=shard[:2]), ws

    def run_D(self, img: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """D's output [N] on the augmented pictures."""
        if self.augment is not None:
            img = self.augment(img, generator, self.shard)
        return self.D(img).flatten()

    def g_main(self, z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Non-saturating G loss: −log σ(D(G(z)))."""
        img, _ = self.run_G(z, generator)
        return F.softplus(-self.run_D(img, generator))

    def g_path_length(self, z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """pl_weight · (|Jᵀy| − a)² on the first batch // pl_batch_shrink latents; updates `a`."""
        s = self.settings
        img, ws = self.run_G(z[: max(z.shape[0] // s.pl_batch_shrink, 1)], generator)
        y = self.shard.randn(img.shape, generator) / math.sqrt(img.shape[2] * img.shape[3])
        (grad,) = torch.autograd.grad((img * y).sum(), ws, create_graph=True)
        lengths = grad.square().sum(dim=2).mean(dim=1).sqrt()
        # The mean includes this batch and stays in the graph, as in the reference code: its
        # gradient carries a pl_decay-sized term through the batch mean.
        mean = self.pl_mean.lerp(self.shard.mean(lengths), s.pl_decay)
        self.pl_mean.copy_(mean.detach())
        return (lengths - mean).square() * s.pl_weight

    def d_main(self, z: torch.Tensor, real: torch.Tensor, generator: torch.Generator | None = None
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """D loss on generated pictures (−log(1 − σ(D(G(z))))) and on real ones (−log σ(D(x))),
        and the signs of D(x): ADA's measure of how sure D is of the reals."""
        with torch.no_grad():
            img, _ = self.run_G(z, generator)
        fake_logits = self.run_D(img, generator)
        real_logits = self.run_D(real, generator)
        return F.softplus(fake_logits), F.softplus(-real_logits), real_logits.detach().sign()

    def d_r1(self, real: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """(γ/2)·‖∇ₓD(x)‖² per real picture (x before augmentation)."""
        real = real.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(self.run_D(real, generator).sum(), real, create_graph=True)
        return grad.square().sum(dim=[1, 2, 3]) * (self.settings.r1_gamma / 2)
