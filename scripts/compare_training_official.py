"""Our StyleGAN2-ADA loss and training step against NVIDIA's stylegan2-ada-pytorch, on the CPU.

    python scripts/compare_training_official.py --official PATH [--res 16] [--batch 4] [--steps 3]

PATH is a checkout of NVIDIA's stylegan2-ada-pytorch, fetched by the operator and never part of
this project (its licence is not ours); without --official the script says so and exits 0.
Both sides get the same tiny networks (our randomised weights copied into theirs), the same
real batch and the same seeds, and draw their randomness from torch's global generator in the
same order. Compared: each loss term (G, D, R1, path length) and the gradients it gives, then
the networks' weights and the path-length mean after `--steps` full training steps (their
`StyleGAN2Loss.accumulate_gradients` driven phase by phase as their training loop drives it,
with the same Adam settings; their loop itself only runs on CUDA).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from facegen.stylegan.discriminator import Discriminator   # noqa: E402
from facegen.stylegan.networks2 import Generator            # noqa: E402
from facegen.training.loss import LossSettings, StyleGAN2Loss   # noqa: E402
from facegen.training.step import D_REG, G_REG, lazy_adam, to_model_range, train_step   # noqa: E402


def ours(res: int, seed: int) -> tuple[Generator, Discriminator]:
    torch.manual_seed(seed)
    G = Generator(z_dim=32, w_dim=32, img_resolution=res, mapping_kwargs=dict(num_layers=2),
                  synthesis_kwargs=dict(channel_base=16 * res, channel_max=32, conv_clamp=256))
    D = Discriminator(img_resolution=res, channel_base=16 * res, channel_max=32, conv_clamp=256)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():   # non-zero biases, noise strengths and w_avg, so every tensor matters
        for name, t in list(G.named_parameters()) + list(D.named_parameters()) + [("w_avg", G.mapping.w_avg)]:
            if name.endswith(("bias", "noise_strength", "w_avg")):
                t.copy_(torch.randn(t.shape, generator=g) * 0.3)
    return G.requires_grad_(False), D.requires_grad_(False)


def theirs(res: int, G: Generator, D: Discriminator):
    from training.networks import Discriminator as TheirD, Generator as TheirG
    tg = TheirG(z_dim=32, c_dim=0, w_dim=32, img_resolution=res, img_channels=3, mapping_kwargs=dict(num_layers=2),
                synthesis_kwargs=dict(channel_base=16 * res, channel_max=32, conv_clamp=256, num_fp16_res=0))
    td = TheirD(c_dim=0, img_resolution=res, img_channels=3, channel_base=16 * res, channel_max=32,
                conv_clamp=256, num_fp16_res=0)
    for mine, other in ((G, tg), (D, td)):
        missing, unexpected = other.load_state_dict(mine.state_dict(), strict=False)
        params = {n for n, _ in other.named_parameters()}
        if params & set(missing) or unexpected:
            raise SystemExit(f"weights do not fit: missing {sorted(params & set(missing))[:3]}, unexpected {unexpected[:3]}")
    return tg.train().requires_grad_(False), td.train().requires_grad_(False)


def their_loss(tg, td):
    import training.loss as official_loss
    recorded: dict[str, torch.Tensor] = {}
    official_loss.training_stats.report = lambda name, value: recorded.__setitem__(name, value.detach().clone())
    return official_loss.StyleGAN2Loss(torch.device("cpu"), tg.mapping, tg.synthesis, td), recorded


def max_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> tuple[float, float, str]:
    """Largest absolute difference, the largest magnitude it is relative to, and where."""
    worst, scale, where = 0.0, 0.0, "-"
    for name, x in a.items():
        y = b[name]
        d = (x - y).abs().max().item()
        if d >= worst:
            worst, scale, where = d, max(x.abs().max().item(), 1e-30), name
    return worst, scale, where


def grads(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.grad.clone() for n, p in module.named_parameters() if p.grad is not None}


def state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: t.detach().clone() for n, t in module.state_dict().items() if t.is_floating_point()}


def report(label: str, a, b) -> float:
    if isinstance(a, dict):
        for x, y in ((a, b), (b, a)):   # no gradient and a zero gradient are the same step
            for name in set(y) - set(x):
                if not y[name].any():
                    x[name] = torch.zeros_like(y[name])
        if set(a) != set(b):
            raise SystemExit(f"{label}: different tensors: {sorted(set(a) ^ set(b))[:4]}")
        d, scale, where = max_diff(a, b)
        print(f"  {label:34s} max |diff| {d:.3g}  (largest value {scale:.3g}, at {where})")
    else:
        d = (a - b).abs().max().item()
        print(f"  {label:34s} max |diff| {d:.3g}  (values {a.flatten()[:3].tolist()} …)")
    return d


def compare_terms(args, G, D, tg, td, real) -> None:
    loss = StyleGAN2Loss(G, D, LossSettings())
    tloss, recorded = their_loss(tg, td)
    z = torch.randn([args.batch, 32], generator=torch.Generator().manual_seed(args.seed + 1))
    c = torch.zeros([args.batch, 0])
    x = to_model_range(real)
    print(f"loss terms ({args.res} px, batch {args.batch}):")

    def ours_term(module, fn):
        module.requires_grad_(True)
        torch.manual_seed(args.seed + 2)
        out = fn()
        out.mean().backward()
        module.requires_grad_(False)
        g = grads(module)
        module.zero_grad(set_to_none=True)
        return out.detach(), g

    def their_term(module, phase, gain=1):
        module.requires_grad_(True)
        torch.manual_seed(args.seed + 2)
        tloss.accumulate_gradients(phase, x, c, z, c, sync=True, gain=gain)
        module.requires_grad_(False)
        g = grads(module)
        module.zero_grad(set_to_none=True)
        return g

    o, og = ours_term(G, lambda: loss.g_main(z))
    tg_ = their_term(tg, "Gmain")
    report("G loss (softplus(-D(G(z))))", o, recorded["Loss/G/loss"].flatten())
    report("G loss gradients", og, tg_)

    o, og = ours_term(G, lambda: loss.g_path_length(z))
    tg_ = their_term(tg, "Greg")
    report("path-length penalty", o / loss.settings.pl_weight, recorded["Loss/pl_penalty"].flatten())
    report("path-length gradients", og, tg_)
    report("path-length mean", loss.pl_mean, tloss.pl_mean)

    o, og = ours_term(D, lambda: sum(loss.d_main(z, x)[:2]))
    tg_ = their_term(td, "Dmain")
    report("D loss (fake + real)", o, recorded["Loss/D/loss"].flatten())
    report("D loss gradients", og, tg_)

    o, og = ours_term(D, lambda: loss.d_r1(x))
    tg_ = their_term(td, "Dreg")
    report("R1 penalty", o / (loss.settings.r1_gamma / 2), recorded["Loss/r1_penalty"].flatten())
    report("R1 gradients", og, tg_)
    report("G w_avg after the terms", G.mapping.w_avg, tg.mapping.w_avg)


def their_step(tloss, tg, td, opt_G, opt_D, real, step: int) -> None:
    """One step the way their training loop runs its phases (one round, no augmentation), on
    the device `real` is on (bench/train_bench.py times it on a GPU)."""
    batch = real.shape[0]
    x = to_model_range(real)
    c = torch.zeros([batch, 0], device=real.device)
    all_z = torch.randn([4 * batch, tg.z_dim], device=real.device).split(batch)
    for (module, opt, name, interval), z in zip(((tg, opt_G, "Gmain", 1), (tg, opt_G, "Greg", G_REG),
                                                 (td, opt_D, "Dmain", 1), (td, opt_D, "Dreg", D_REG)), all_z):
        if step % interval:
            continue
        module.requires_grad_(True)
        opt.zero_grad(set_to_none=True)
        tloss.accumulate_gradients(name, x, c, z, c, sync=True, gain=interval)
        module.requires_grad_(False)
        for p in module.parameters():
            if p.grad is not None:
                p.grad.nan_to_num_(nan=0, posinf=1e5, neginf=-1e5)
        opt.step()


def compare_steps(args, G, D, tg, td, real) -> None:
    loss = StyleGAN2Loss(G, D, LossSettings())
    tloss, _ = their_loss(tg, td)
    opts = lazy_adam(G, G_REG), lazy_adam(D, D_REG)
    topts = lazy_adam(tg, G_REG), lazy_adam(td, D_REG)
    before = state(G)
    for step in range(args.steps):
        torch.manual_seed(args.seed + 10 + step)
        stats = train_step(loss, *opts, real, step)
        torch.manual_seed(args.seed + 10 + step)
        their_step(tloss, tg, td, *topts, real, step)
        print(f"  step {step}: ours {', '.join(f'{k} {v:.4f}' for k, v in stats.items())}")
    moved = max((state(G)[k] - before[k]).abs().max().item() for k in before)
    print(f"after {args.steps} training steps (G moved up to {moved:.3g}):")
    report("G weights and buffers", state(G), state(tg))
    report("D weights and buffers", state(D), state(td))
    report("path-length mean", loss.pl_mean, tloss.pl_mean)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--official", type=Path, help="a stylegan2-ada-pytorch checkout")
    parser.add_argument("--res", type=int, default=16)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.official:
        print("NVIDIA's official code skipped: no --official PATH given")
        return 0
    sys.path.insert(0, str(args.official.resolve()))
    torch.set_num_threads(1)
    real = torch.randint(0, 256, [args.batch, 3, args.res, args.res], dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(args.seed + 3))
    G, D = ours(args.res, args.seed)
    compare_terms(args, G, D, *theirs(args.res, G, D), real)
    G, D = ours(args.res, args.seed)
    compare_steps(args, G, D, *theirs(args.res, G, D), real)
    return 0


if __name__ == "__main__":
    sys.exit(main())
