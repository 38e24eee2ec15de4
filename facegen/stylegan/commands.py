"""Operator commands for StyleGAN checkpoints: `dreamface convert IN OUT`, and the stylegan
branch of `dreamface generate` (seed → PNG the way NVIDIA's generate.py does it).

torch is imported inside the commands, so registering them costs nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NOISE_MODES = ("const", "random", "none")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("convert", help="convert a StyleGAN checkpoint (NVIDIA .pkl, rosinality .pt) "
                                              "to a safetensors file that loads fast and safely")
    p.add_argument("source", metavar="IN", type=Path)
    p.add_argument("target", metavar="OUT", type=Path)
    p.set_defaults(func=_one_line_errors(convert))


def add_generate_arguments(parser: argparse.ArgumentParser) -> None:
    """The options `dreamface generate` takes for the stylegan backend."""
    parser.add_argument("--ckpt", type=Path, default=None,
                        help="StyleGAN checkpoint (default: DREAMFACE_STYLEGAN_CKPT)")
    parser.add_argument("--trunc", type=float, default=1.0, help="truncation ψ (stylegan; 1 = none)")
    parser.add_argument("--noise-mode", choices=NOISE_MODES, default="const", help="per-pixel noise (stylegan)")


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


def generate_stylegan(args: argparse.Namespace) -> int:
    """Seed → PNG at the checkpoint's resolution unless --size asks otherwise."""
    from dreamface.config import Settings
    from facegen.stylegan.backend import StyleGANBackend
    from facegen.stylegan.errors import CheckpointError
    settings = Settings.from_env()
    ckpt = args.ckpt or (Path(settings.stylegan_ckpt) if settings.stylegan_ckpt else None)
    if ckpt is None:
        raise CheckpointError("no checkpoint: pass --ckpt or set DREAMFACE_STYLEGAN_CKPT")
    backend = StyleGANBackend.from_file(ckpt, noise_mode=args.noise_mode, device=settings.stylegan_device,
                                        directions=settings.stylegan_directions)
    if args.describe is not None:
        from facegen.describe import parse_description
        attributes = parse_description(args.describe).attributes
        code = backend.from_attributes(attributes, seed=args.seed or 0)
        if left := backend.unapplied(attributes):
            print(f"no direction on this model for: {', '.join(left)} (left as drawn)", file=sys.stderr)
    else:
        code = backend.sample(args.seed or 0, truncation_psi=args.trunc)
    (image,) = backend.render([code], args.size or backend.resolution)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.out)
    print(args.out)
    return 0
