"""Training-set commands: `dreamface dataset montage OUT --count N --res R [--seed S]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    dataset = subparsers.add_parser("dataset", help="make training sets in stylegan2-ada-pytorch's layout")
    kinds = dataset.add_subparsers(dest="dataset_command", metavar="KIND", required=True)
    p = kinds.add_parser("montage", help="random montage faces, with their parameters in captions.jsonl")
    p.add_argument("out", metavar="OUT", type=Path, help="a folder, or a zip when the name ends in .zip")
    p.add_argument("--count", type=int, required=True, help="how many faces")
    p.add_argument("--res", type=int, required=True, help="side in pixels, a power of two from 8 to 1024")
    p.add_argument("--seed", type=int, default=0, help="face i is the montage face of seed S + i (default 0)")
    p.set_defaults(func=montage)


def montage(args: argparse.Namespace) -> int:
    from facegen.training.montage_dataset import write_montage_dataset
    try:
        write_montage_dataset(args.out, args.count, args.res, args.seed)
    except (ValueError, OSError) as exc:
        print(f"dreamface dataset montage: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: {args.count} montage faces at {args.res} px (seeds {args.seed}–{args.seed + args.count - 1})")
    return 0
