"""Operator commands for StyleGAN checkpoints: `dreamface convert IN OUT` and `dreamface
directions build` (attribute directions from words, through a CLIP model: text_directions.py). (`dreamface generate
--backend stylegan` is the generic generate of facegen/commands.py; the options it takes for
this backend, --ckpt and --noise-mode, are declared in facegen/backends.py.)

torch is imported inside the command, so registering it costs nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("convert", help="convert a StyleGAN checkpoint (NVIDIA .pkl, rosinality .pt) "
                                              "to a safetensors file that loads fast and safely")
    p.add_argument("source", metavar="IN", type=Path)
    p.add_argument("target", metavar="OUT", type=Path)
    p.set_defaults(func=_one_line_errors(convert))

    directions = subparsers.add_parser("directions", help="attribute directions for a stylegan checkpoint")
    kinds = directions.add_subparsers(dest="directions_command", metavar="ACTION", required=True)
    b = kinds.add_parser("build", help="build a direction for every attribute of the vocabulary from words, "
                                       "scored by a CLIP model (files DREAMFACE_STYLEGAN_DIRECTIONS can name)")
    b.add_argument("--ckpt", help="the StyleGAN checkpoint (default: DREAMFACE_STYLEGAN_CKPT)")
    b.add_argument("--clip", help="the CLIPModel directory (default: DREAMFACE_CLIP_MODEL)")
    b.add_argument("--clip-text", help="an M-CLIP text model directory (default: DREAMFACE_CLIP_TEXT_MODEL)")
    b.add_argument("--out", type=Path, help="the directory to write (default: DREAMFACE_STYLEGAN_DIRECTIONS, "
                                            "when it names one directory)")
    b.add_argument("--samples", type=int, default=1000, help="faces rendered and scored (default 1000)")
    b.add_argument("--seed", type=int, help="which faces (default: a fixed seed)")
    b.add_argument("--only", help="comma-separated attributes (e.g. glasses,smile,hair_colour); default: all")
    b.add_argument("--languages", default="en,ko", help="prompt languages, comma-separated (default en,ko)")
    b.add_argument("--min-r", type=float, help="keep a direction only when its fit predicts held-out faces' "
                                               "CLIP scores with at least this correlation (default 0.3)")
    b.add_argument("--device", default="cpu", help="torch device (default cpu)")
    b.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    b.set_defaults(func=_one_line_errors(build_directions))


def _one_line_errors(func):
    def run(args: argparse.Namespace) -> int:
        from facegen.backend import Unsupported
        from facegen.stylegan.clip import ClipError
        from facegen.stylegan.errors import CheckpointError
        try:
            return func(args)
        except (CheckpointError, Unsupported, ClipError, OSError, ValueError) as exc:
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



def build_directions(args: argparse.Namespace) -> int:
    import torch

    from facegen.stylegan import text_directions as td
    from facegen.stylegan.clip import load_clip
    from facegen.stylegan.loaders import load_generator
    from ground.config import MIN_DIRECTION_SAMPLES, Settings
    settings = Settings.from_env()
    ckpt = args.ckpt or settings.stylegan_ckpt
    clip_dir = args.clip or settings.clip_model
    text_dir = args.clip_text or settings.clip_text_model or None
    out = args.out or (Path(settings.stylegan_directions) if settings.stylegan_directions
                       and "," not in settings.stylegan_directions else None)
    for value, what in ((ckpt, "--ckpt or DREAMFACE_STYLEGAN_CKPT"), (clip_dir, "--clip or DREAMFACE_CLIP_MODEL"),
                        (out, "--out or DREAMFACE_STYLEGAN_DIRECTIONS (one directory)")):
        if not value:
            raise ValueError(f"{what} is needed")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: not a directory")
    if args.samples < MIN_DIRECTION_SAMPLES:
        raise ValueError(f"--samples must be at least {MIN_DIRECTION_SAMPLES} (a fifth of them judge each fit)")
    languages = [part.strip() for part in args.languages.split(",") if part.strip()]
    if not languages or set(languages) - set(td.LANGUAGES):
        raise ValueError(f"--languages takes {' and/or '.join(td.LANGUAGES)}, comma-separated")
    chosen = td.pick_targets([part.strip() for part in args.only.split(",") if part.strip()] if args.only else None)
    if args.threads:
        torch.set_num_threads(args.threads)

    generator = load_generator(ckpt).eval().to(args.device)
    clip = load_clip(clip_dir, text_dir, settings.clip_language_list).to(args.device)
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        print(f"\rrendering and scoring faces: {done}/{total}", end="" if done < total else "\n",
              file=sys.stderr, flush=True)

    min_r = td.DEFAULT_MIN_R if args.min_r is None else args.min_r
    built = td.build_into(out, generator, clip, [clip_dir, text_dir], chosen, samples=args.samples,
                          seed=td.DEFAULT_SEED if args.seed is None else args.seed, languages=languages, min_r=min_r,
                          checkpoint_file=str(ckpt), warn=lambda line: print(line, file=sys.stderr), progress=progress)
    for line in td.report_lines(built):
        print(line)
    print(f"{td.summary(out, built, min_r, args.samples, time.monotonic() - started)}; "
          f"DREAMFACE_STYLEGAN_DIRECTIONS={out} serves them")
    return 0
