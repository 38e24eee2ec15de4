"""`dreamface clip train --data D --out DIR [...]`: a small CLIPModel trained on a montage set's
pictures and English/Korean captions (facegen/training/clip_train.py), saved where
DREAMFACE_CLIP_MODEL can point.

torch and transformers are imported inside the command, so registering it costs nothing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


# the flags that set ClipOptions' fields; one not given keeps the field's default (its help says it)
OPTIONS = ("steps", "batch", "seed", "lr", "width", "layers", "vocab", "patch", "partial", "negatives", "twins")


def register(subparsers: argparse._SubParsersAction) -> None:
    clip = subparsers.add_parser("clip", help="text-image models for text guidance")
    actions = clip.add_subparsers(dest="clip_command", metavar="ACTION", required=True)
    t = actions.add_parser("train", help="train a small CLIP on a montage set's pictures and their English and "
                                         "Korean captions (captions.jsonl)")
    t.add_argument("--data", type=Path, required=True, help="a set from `dreamface dataset montage`: folder or zip")
    t.add_argument("--out", type=Path, required=True, help="a new or empty folder for the model "
                                                           "(DREAMFACE_CLIP_MODEL reads it)")
    t.add_argument("--steps", type=int, help="training steps (default 2000)")
    t.add_argument("--batch", type=int, help="(picture, caption) pairs per step (default 128)")
    t.add_argument("--seed", type=int, help="weights, held-out split, order and languages (default 0)")
    t.add_argument("--lr", type=float, help="peak learning rate, after a warm-up over the first "
                                                          "10%% of the steps, then cosine decay (default 0.001)")
    t.add_argument("--width", type=int, help="width of both sides and of the joint space (default 128)")
    t.add_argument("--layers", type=int, help="transformer layers on each side (default 4)")
    t.add_argument("--vocab", type=int, help="most tokens the tokenizer learns (default 1000)")
    t.add_argument("--patch", type=int, help="vision patch side in px, dividing the resolution (default: "
                                             "resolution / 8)")
    t.add_argument("--partial", type=float, help="share of pairs whose text says a random part of "
                                                                 "the caption (default 0.5; 0: whole captions only)")
    t.add_argument("--negatives", type=float, help="share of pairs that also meet their text with one fact "
                                                   "flipped, as a hard negative (default 0)")
    t.add_argument("--twins", type=float, help="twins added per pair of a batch: its face drawn again with one "
                                               "shape flipped (glasses, beard, smile, eye size), each with the "
                                               "same part of its caption (default 0)")
    t.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    t.add_argument("--tick", type=int, default=50, help="steps between progress lines (default 50)")
    t.set_defaults(func=train)


def train(args: argparse.Namespace) -> int:
    import torch
    from transformers.utils import logging

    from facegen.training.clip_train import ClipOptions, ClipTrainingError, train_clip
    from facegen.training.dataset import DatasetError
    logging.set_verbosity_error()   # the progress lines say what happens; no save/load bars or backend notes
    logging.disable_progress_bar()
    if args.threads is not None:
        if args.threads < 1:
            print(f"dreamface clip train: --threads must be at least 1, not {args.threads}", file=sys.stderr)
            return 2
        torch.set_num_threads(args.threads)
    if args.tick < 1:
        print(f"dreamface clip train: --tick must be at least 1, not {args.tick}", file=sys.stderr)
        return 2
    options = ClipOptions(**{name: getattr(args, name) for name in OPTIONS if getattr(args, name) is not None})
    try:
        train_clip(args.data, args.out, options, progress_every=args.tick)
    except (ClipTrainingError, DatasetError, OSError) as exc:
        print(f"dreamface clip train: {exc}", file=sys.stderr)
        return 2
    return 0
