"""StyleGAN2 synthesis throughput (a script that prints figures; not a timed test).

    .venv/bin/python bench/stylegan_bench.py [--resolution 1024] [--batches 1,8,32]
        [--device cuda] [--variants fp32,fp16,bf16,channels_last,compile] [--official PATH]
    .venv/bin/python bench/stylegan_bench.py --smoke     # 16 px, batch 1, two timed runs: checks the script

A config-F-sized generator (512-dim z and w, 8 mapping layers, channel_base 32768, channel_max
512, conv clamp 256) with random weights, synthesis only (W+ in, float image on the CPU out,
the device-to-host copy included), through `StyleGANBackend.synthesize`: the path a worker
runs. For each variant and batch: images/s (wall clock, at least --seconds of repeats after a
warm-up) and, on CUDA, peak GPU memory; once per variant the pixel drift from fp32 in uint8
levels (max, mean) on the first batch. On the CPU the ratios to the official code come from CPU
seconds per image (wall time on a shared machine says more about the neighbours).

Variants: fp32 (exact; the default everywhere), fp16 and bf16 (autocast), channels_last (the
weights converted; CUDA only), compile (torch.compile; the warm-up pays the compilation).
Defaults: fp32 on CPU; fp32, fp16, bf16 and channels_last on CUDA.

--official PATH: a checkout of NVIDIA's stylegan2-ada-pytorch (fetched by the operator, never
committed) whose `training.networks.Generator` is built with the same kwargs and given the same
weights, then timed alike: "official fp32" (num_fp16_res 0) everywhere, "official fp16"
(num_fp16_res 4, FFHQ's setting) on CUDA. Prints ours/official ratios, the largest difference
between the two fp32 outputs, and which of its custom ops ran (CUDA plugins or the reference
PyTorch code it falls back to, always on the CPU).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facegen.facecode import FaceCode  # noqa: E402
from facegen.stylegan.backend import StyleGANBackend, to_uint8  # noqa: E402
from facegen.stylegan.networks2 import Generator  # noqa: E402

MAPPING = dict(num_layers=8)
SYNTHESIS = dict(channel_base=32768, channel_max=512, conv_clamp=256)


def ours(resolution: int, seed: int = 0) -> Generator:
    torch.manual_seed(seed)
    return Generator(z_dim=512, w_dim=512, img_resolution=resolution, img_channels=3,
                     mapping_kwargs=MAPPING, synthesis_kwargs=SYNTHESIS).eval().requires_grad_(False)


def official(path: Path, resolution: int, num_fp16_res: int, weights: dict[str, torch.Tensor]) -> torch.nn.Module:
    """NVIDIA's generator from a checkout, with our weights (the parameter names are the same)."""
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
    from training.networks import Generator as OfficialGenerator
    g = OfficialGenerator(z_dim=512, c_dim=0, w_dim=512, img_resolution=resolution, img_channels=3,
                          mapping_kwargs=MAPPING, synthesis_kwargs=dict(SYNTHESIS, architecture="skip",
                                                                        num_fp16_res=num_fp16_res))
    missing, unexpected = g.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise SystemExit(f"official generator: weights do not fit (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return g.eval().requires_grad_(False)


def official_ops() -> str:
    """Which implementation NVIDIA's custom ops used: its CUDA plugins or the reference code."""
    from torch_utils.ops import bias_act, upfirdn2d
    return ", ".join(f"{name} {'CUDA plugin' if module._plugin is not None else 'reference PyTorch'}"
                     for name, module in (("bias_act", bias_act), ("upfirdn2d", upfirdn2d)))


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def throughput(fn: Callable[[], torch.Tensor], batch: int, device: torch.device, seconds: float,
               ) -> tuple[str, float, torch.Tensor]:
    """(the figures as text, seconds per image, the first output). On the CPU the seconds are CPU
    seconds (all threads), steadier than wall time on a shared machine; on CUDA wall seconds."""
    first = fn()                           # warm-up: kernel choice, compilation, caches
    sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    runs, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while True:
        fn()
        runs += 1
        sync(device)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and runs >= 2:
            break
    rate = runs * batch / elapsed
    if device.type == "cuda":
        extra = f"  peak {torch.cuda.max_memory_allocated(device) / 2**30:5.2f} GiB"
        cost = 1 / rate
    else:
        cost = (time.process_time() - cpu_start) / (runs * batch)
        extra = f"  ({cost:6.2f} CPU s/image)"
    return f"{rate:8.2f} images/s{extra}", cost, first


def drift(image: torch.Tensor, reference: torch.Tensor) -> str:
    diff = (torch.from_numpy(to_uint8(image)).int() - torch.from_numpy(to_uint8(reference)).int()).abs()
    return f"max {diff.max().item():3d}  mean {diff.float().mean().item():.3f} levels"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="StyleGAN2 synthesis throughput")
    parser.add_argument("--resolution", type=int, default=1024)
    parser.add_argument("--batches", default="1,8,32", help="comma-separated batch sizes")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--variants", help="comma-separated: fp32, fp16, bf16, channels_last, compile")
    parser.add_argument("--seconds", type=float, default=3.0, help="least timed seconds per figure")
    parser.add_argument("--official", type=Path, help="a stylegan2-ada-pytorch checkout to compare with")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--smoke", action="store_true", help="16 px, batch 1, two timed runs: a quick check")
    args = parser.parse_args(argv)
    if args.smoke:
        args.resolution, args.batches, args.seconds = 16, "1", 0.0
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    batches = [int(b) for b in args.batches.split(",")]
    variants = (args.variants or ("fp32,fp16,bf16,channels_last" if cuda else "fp32")).split(",")
    variants = ["fp32"] + [v for v in variants if v != "fp32"]   # fp32 first: the drift reference
    if "channels_last" in variants and not cuda:
        raise SystemExit("channels_last is a CUDA variant")

    generator = ours(args.resolution)
    weights = {k: v.clone() for k, v in generator.state_dict().items()}
    with torch.no_grad():
        ws_all = generator.mapping(torch.randn(max(batches), 512, generator=torch.Generator().manual_seed(1)))
    codes = [FaceCode(w.numpy()) for w in ws_all]
    name = torch.cuda.get_device_name(device) if cuda else f"CPU, {torch.get_num_threads()} threads"
    print(f"StyleGAN2 config-F sizes at {args.resolution} px, random weights, synthesis only, on {device} ({name}), "
          f"torch {torch.__version__}")
    if not torch.cuda.is_available():
        print("  (CUDA absent: the GPU variants and figures skipped)")

    reference: dict[int, torch.Tensor] = {}     # ours fp32, per batch, for the drift figures
    costs: dict[tuple[str, int], float] = {}    # seconds per image (CPU seconds on the CPU)
    for variant in variants:
        g = ours(args.resolution)
        if variant == "channels_last":
            g = g.to(memory_format=torch.channels_last)
        backend = StyleGANBackend(g, device=args.device, precision=variant if variant in ("fp16", "bf16") else "fp32",
                                  compile=variant == "compile", max_batch=max(batches))
        for batch in batches:
            figures, cost, first = throughput(lambda: backend.synthesize(codes[:batch]), batch, device, args.seconds)
            costs[(variant, batch)] = cost
            reference.setdefault(batch, first)
            print(f"  ours {variant:<13} batch {batch:3d}: {figures}"
                  f"   drift vs fp32: {drift(first, reference[batch])}")
        del backend, g
        if cuda:
            torch.cuda.empty_cache()

    if args.official:
        runs = [("official fp32", 0)] + ([("official fp16", 4)] if cuda else [])
        for label, num_fp16_res in runs:
            g = official(args.official, args.resolution, num_fp16_res, weights).to(device)
            for batch in batches:
                ws = ws_all[:batch].to(device)

                def forward() -> torch.Tensor:
                    with torch.no_grad():
                        return g.synthesis(ws, noise_mode="const").float().cpu()
                figures, cost, first = throughput(forward, batch, device, args.seconds)
                mine = costs.get(("fp32" if num_fp16_res == 0 else "fp16", batch))
                ratio = f"   our speed / official {cost / mine:5.2f}x" if mine else ""
                print(f"  {label:<18} batch {batch:3d}: {figures}{ratio}"
                      f"   drift vs our fp32: {drift(first, reference[batch])}"
                      + (f", max |Δ| {(first - reference[batch]).abs().max().item():.2e}" if num_fp16_res == 0 else ""))
            del g
            with contextlib.suppress(Exception):
                torch.cuda.empty_cache()
        print(f"  official custom ops: {official_ops()}")
    else:
        print("  (NVIDIA's official code skipped: no --official PATH given)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
