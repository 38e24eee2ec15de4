"""Training throughput: kimg/s and peak memory of `dreamface train`'s step, and of NVIDIA's beside
it (issue #16; a script that prints figures, not a timed test).

    .venv/bin/python bench/train_bench.py [--res 128,256] [--steps 32] [--device cuda] [--official PATH]
    .venv/bin/python bench/train_bench.py --smoke     # CPU, 16 px, narrow networks: checks the script

For each resolution: NVIDIA's `--cfg=auto` networks and batch for one GPU (facegen/training/
options.py: 512 feature maps at most, batch 32 at 128 px and 16 at 256 px, 2 mapping layers),
random weights and a random batch of real pictures (speed does not depend on what they show).
Timed: `--steps` whole training steps after one warm-up step, each step the four phases
(G's loss, the path-length term every 4th step, D's loss, R1 every 16th) and G's moving average,
so 32 steps hold the regularisers in their proportions. kimg/s = pictures shown to D per second
/ 1000; peak memory is torch's on the GPU. Picture loading is not timed (the same for both).

--official PATH: a checkout of NVIDIA's stylegan2-ada-pytorch (fetched by the operator, never
committed), its networks built with the same kwargs and given our weights, its
`StyleGAN2Loss.accumulate_gradients` driven phase by phase as its training loop drives it:
"official fp32" (num_fp16_res 0, the same arithmetic as ours) and, on CUDA, "official fp16"
(num_fp16_res 4, its `auto` setting) against ours with `--fp16` (the same 4 resolutions). Prints ours/official ratios and which of its custom ops ran
(its CUDA plugins need nvcc and ninja at run time; without them it runs reference PyTorch code).
On the CPU the figures are CPU seconds (all threads), steadier than wall time on a shared machine.
"""

from __future__ import annotations

import argparse
import copy
from dataclasses import replace
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "scripts"))

from stylegan_bench import official_ops, sync  # noqa: E402 (bench/ is this script's folder)

from facegen.stylegan.discriminator import Discriminator  # noqa: E402
from facegen.stylegan.networks2 import Generator  # noqa: E402
from facegen.training.distributed import Shard  # noqa: E402
from facegen.training.loop import set_precision  # noqa: E402
from facegen.training.loss import LossSettings, StyleGAN2Loss  # noqa: E402
from facegen.training.options import TrainingOptions, auto_options  # noqa: E402
from facegen.training.step import D_REG, G_REG, lazy_adam, train_step, update_ema  # noqa: E402

EMA_BETA = 0.999   # a fixed β: the moving average costs the same whatever its half-life


def networks(options: TrainingOptions, seed: int = 0) -> tuple[Generator, Discriminator]:
    torch.manual_seed(seed)
    return (Generator(**options.generator_kwargs(3)).requires_grad_(False),
            Discriminator(**options.discriminator_kwargs(3)).requires_grad_(False))


def our_steps(options: TrainingOptions, real: torch.Tensor, device: torch.device):
    """A function running one of our training steps (its index in)."""
    G, D = (net.to(device) for net in networks(options))
    set_precision(G, D, options.fp16_from())
    G_ema = copy.deepcopy(G).eval()
    loss = StyleGAN2Loss(G, D, LossSettings(r1_gamma=options.gamma), Shard(device=device)).to(device)
    opt_G, opt_D = lazy_adam(G, G_REG), lazy_adam(D, D_REG)
    generator = torch.Generator().manual_seed(0)

    def step(index: int) -> None:
        train_step(loss, opt_G, opt_D, real, index, generator)
        update_ema(G_ema, G, EMA_BETA)
    return step


def official_steps(path: Path, options: TrainingOptions, real: torch.Tensor, device: torch.device,
                   num_fp16_res: int):
    """The same step through NVIDIA's loss and networks (our weights), phase by phase as its
    training loop runs them."""
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
    import training.loss as official_loss
    from compare_training_official import their_step   # scripts/: their phases, driven as their loop drives them
    from training.networks import Discriminator as TheirD, Generator as TheirG
    ours_G, ours_D = networks(options)
    g_kwargs, d_kwargs = options.generator_kwargs(3), options.discriminator_kwargs(3)
    G = TheirG(c_dim=0, **{**g_kwargs, "synthesis_kwargs": {**g_kwargs["synthesis_kwargs"], "num_fp16_res": num_fp16_res}})
    group = d_kwargs.pop("mbstd_group_size")   # theirs takes it among the epilogue's settings
    D = TheirD(c_dim=0, num_fp16_res=num_fp16_res, epilogue_kwargs=dict(mbstd_group_size=group), **d_kwargs)
    for mine, theirs in ((ours_G, G), (ours_D, D)):
        missing, unexpected = theirs.load_state_dict(mine.state_dict(), strict=False)
        params = {n for n, _ in theirs.named_parameters()}
        if params & set(missing) or unexpected:
            raise SystemExit(f"official networks: weights do not fit ({sorted(params & set(missing))[:3]}, {unexpected[:3]})")
    G, D = G.to(device).train().requires_grad_(False), D.to(device).train().requires_grad_(False)
    G_ema = copy.deepcopy(G).eval()
    official_loss.training_stats.report = lambda name, value: value   # its statistics collector, unused here
    loss = official_loss.StyleGAN2Loss(device, G.mapping, G.synthesis, D, r1_gamma=options.gamma)
    opt_G, opt_D = lazy_adam(G, G_REG), lazy_adam(D, D_REG)

    def step(index: int) -> None:
        their_step(loss, G, D, opt_G, opt_D, real, index)
        with torch.no_grad():
            for p_ema, p in zip(G_ema.parameters(), G.parameters()):
                p_ema.copy_(p.lerp(p_ema, EMA_BETA))
    return step


def timed(step, batch: int, steps: int, device: torch.device) -> tuple[float, float | None]:
    """(kimg/s, peak GiB on CUDA) over `steps` steps after one warm-up step (which runs every
    phase: kernel choice, allocations, the plugins' compilation)."""
    step(0)
    sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start, cpu_start = time.perf_counter(), time.process_time()
    for index in range(1, steps + 1):
        step(index)
    sync(device)
    seconds = time.perf_counter() - start if device.type == "cuda" else time.process_time() - cpu_start
    peak = torch.cuda.max_memory_allocated(device) / 2 ** 30 if device.type == "cuda" else None
    return steps * batch / 1000 / seconds, peak


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--res", default="128,256", help="resolutions, comma-separated")
    p.add_argument("--steps", type=int, default=32, help="timed steps per configuration")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--official", type=Path, help="a stylegan2-ada-pytorch checkout to time beside ours")
    p.add_argument("--smoke", action="store_true", help="16 px, narrow networks, 2 steps, on the CPU")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    resolutions = [16] if args.smoke else [int(r) for r in args.res.split(",")]
    steps = 2 if args.smoke else args.steps
    unit = "kimg/s" if device.type == "cuda" else "kimg per CPU s"
    print(f"device: {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}; torch {torch.__version__}; "
          f"{steps} timed steps")
    for res in resolutions:
        options = auto_options(res, **(dict(z_dim=32, w_dim=32, channel_base=256, channel_max=32, batch=4)
                                       if args.smoke else {}))
        real = torch.randint(0, 256, [options.batch, 3, res, res], dtype=torch.uint8,
                             generator=torch.Generator().manual_seed(1)).to(device)
        print(f"{res} px, batch {options.batch}, at most {options.channel_max} feature maps:")
        rows = {"dreamface fp32": timed(our_steps(options, real, device), options.batch, steps, device)}
        if device.type == "cuda":   # --fp16: the top 4 resolutions in half precision, as NVIDIA's auto
            rows["dreamface fp16"] = timed(our_steps(replace(options, fp16=True), real, device), options.batch,
                                           steps, device)
        if args.official:
            for label, fp16_res in (("official fp32", 0), ("official fp16", 4)):
                if fp16_res and device.type != "cuda":
                    continue
                rows[label] = timed(official_steps(args.official, options, real, device, fp16_res),
                                    options.batch, steps, device)
        for label, (rate, peak) in rows.items():
            ours = rows["dreamface fp16" if label.endswith("fp16") else "dreamface fp32"][0]
            ratio = "" if label.startswith("dreamface") else f"  ours/this {ours / rate:.2f}×"
            memory = f"  peak {peak:5.2f} GiB" if peak is not None else ""
            print(f"  {label:15s} {rate:9.4f} {unit}{memory}{ratio}")
        if args.official:
            print(f"  official custom ops: {official_ops()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
