"""Operator commands for StyleGAN checkpoints: `dreamface convert IN OUT`. (`dreamface generate
--backend stylegan` is the generic generate of facegen/commands.py; the options it takes for
this backend, --ckpt and --noise-mode, are declared in facegen/backends.py.)

torch is imported inside the command, so registering it costs nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("convert", help="convert a StyleGAN checkpoint (NVIDIA .pkl, rosinality .pt) "
                                              "to a safetensors file that loads fast and safely")
    p.add_argument("source", metavar="IN", type=Path)
    p.add_argument("target", metavar="OUT", type=Path)
    p.set_defaults(func=_one_line_errors(convert))


def _one_line_errors(func):
    def run(args: argparse.Namespace) -> int:
        from facegen.backend import Unsupported
        from facegen.stylegan.errors import CheckpointError
        try:
            return func(args)
        except (CheckpointError, Unsupported, OSError) as exc:
            print(f"dreamface {args.command}: {exc}", file=sys.stderr)
            return 2
    return run


def convert(args: argparse.Namespace) -> int:
    from facegen.stylegan.loaders import load_networks, save_safetensors, weights_digest
    generator, discriminator = load_networks(args.source)   # D kept for photo inversion's loss
    args.target.parent.mkdir(parents=True, exist_ok=True)
    save_safetensors(generator, args.target, discriminator)
    print(f"{args.target}: {generator.arch} {generator.img_resolution}px, weights {weights_digest(generator)}"
          + (", with its discriminator" if discriminator is not None else ""))
    return 0

