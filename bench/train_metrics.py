"""How long each training metric (facegen/training/metrics.py) takes at its default sample count
(the set's size, at most 1000): a montage set of --count faces at --res px, a generator of that
resolution (NVIDIA's automatic sizes, or narrower with --cbase / --cmax as CPU runs use; random
weights: the cost does not depend on what it learnt), every metric timed on its own, the
training pictures' measures included as at a run's first snapshot, then again as at a later
snapshot, which reuses them. It also prints what one picture costs in each stage, so other
sample counts can be reckoned. `fid` is timed only with --inception (NVIDIA's file).

    .venv/bin/python bench/train_metrics.py --count 200 --res 64 --cbase 4096 --cmax 128
    .venv/bin/python bench/train_metrics.py --smoke    # 4 faces at 16 px, tiny networks
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from facegen.stylegan.networks2 import Generator
from facegen.training.dataset import ImageDataset
from facegen.training.metrics import METRICS, compute, descriptors, face_counts, parse_metrics, sample_count
from facegen.training.montage_dataset import write_montage_dataset
from facegen.training.options import auto_options

STAGE_PICTURES = 32   # pictures timed for the per-picture costs


def seconds_per_picture(stage, count: int) -> float:
    start = time.monotonic()
    stage(count)
    return (time.monotonic() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="faces in the set (default 1000)")
    parser.add_argument("--res", type=int, default=64, help="their side in pixels (default 64)")
    parser.add_argument("--cbase", type=int, help="the generator's channel base (default: auto)")
    parser.add_argument("--cmax", type=int, help="its most feature maps per layer (default: auto)")
    parser.add_argument("--smoke", action="store_true", help="4 faces at 16 px on tiny networks")
    parser.add_argument("--inception", type=Path, help="NVIDIA's Inception file, to time fid too")
    args = parser.parse_args()
    stage_pictures = STAGE_PICTURES
    if args.smoke:
        args.count, args.res, args.cbase, args.cmax, stage_pictures = 4, 16, 64, 16, 4
    options = auto_options(args.res, channel_base=args.cbase, channel_max=args.cmax)
    torch.manual_seed(0)
    G = Generator(**options.generator_kwargs(3)).eval()
    print(f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; torch threads {torch.get_num_threads()}; "
          f"G of {args.res} px, channel base {options.channel_base}, at most {options.channel_max} maps")
    with tempfile.TemporaryDirectory() as scratch:
        write_montage_dataset(Path(scratch) / "set", args.count, args.res)
        with ImageDataset(Path(scratch) / "set") as dataset:
            pictures = dataset.batch(range(min(stage_pictures, len(dataset))))
            z = torch.randn([stage_pictures, G.z_dim])
            with torch.no_grad():
                generate = seconds_per_picture(lambda n: [G(part) for part in z[:n].split(16)], len(z))
            describe = seconds_per_picture(lambda n: descriptors(pictures[:n]), len(pictures))
            detect = seconds_per_picture(lambda n: face_counts(pictures[:n]), len(pictures))
            print(f"per picture: generating {generate:.3f} s, a descriptor {describe:.3f} s, "
                  f"detecting faces {detect:.3f} s", flush=True)
            n = sample_count(dataset, None)
            for name in parse_metrics(None, tuple(METRICS), args.inception):
                reals: dict = {}
                first = compute(G, dataset, [name], n, real_cache=reals, inception=args.inception)[name]
                values = "  ".join(f"{k} {v:.4g}" for k, v in first.items() if k != "seconds")
                line = f"{name:9s} N={n}: {first['seconds']:.0f} s"
                if reals:   # it measures training pictures too: a later snapshot reuses those
                    later = compute(G, dataset, [name], n, real_cache=reals, inception=args.inception)[name]
                    line += f" at a run's first snapshot, {later['seconds']:.0f} s at later ones"
                print(f"{line}  ({values})", flush=True)


if __name__ == "__main__":
    main()
