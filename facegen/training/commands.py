"""Training commands: `dreamface dataset montage OUT --count N --res R [--seed S]`,
`dreamface dataset make SRC OUT --res R [--min-face PX] [--labels FILE]` (facegen/training/photo_dataset.py),
`dreamface train --data D --out RUN --res R --kimg K [...]` (facegen/training/loop.py), in one
process or, under `torchrun … -m dreamface.cli train …`, in several (facegen/training/distributed.py),
and `dreamface metrics --data D --ckpt PATH [...]` (facegen/training/metrics.py).

torch is imported inside the commands, so registering them costs nothing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


INCEPTION_HELP = ("NVIDIA's Inception file (inception-2015-12-05.pt; TorchScript: loading it runs it) for the "
                  "official FID, metric fid (default: DREAMFACE_INCEPTION)")


def inception_file(args: argparse.Namespace) -> Path | None:
    """--inception, else DREAMFACE_INCEPTION (ConfigError for a bad setting), else None."""
    if args.inception is not None:
        return args.inception
    from ground.config import Settings
    configured = Settings.from_env().inception
    return Path(configured) if configured else None


def register(subparsers: argparse._SubParsersAction) -> None:
    dataset = subparsers.add_parser("dataset", help="make training sets in stylegan2-ada-pytorch's layout")
    kinds = dataset.add_subparsers(dest="dataset_command", metavar="KIND", required=True)
    p = kinds.add_parser("montage", help="random montage faces, with their parameters in captions.jsonl")
    p.add_argument("out", metavar="OUT", type=Path, help="a folder, or a zip when the name ends in .zip")
    p.add_argument("--count", type=int, required=True, help="how many faces")
    p.add_argument("--res", type=int, required=True, help="side in pixels, a power of two from 8 to 1024")
    p.add_argument("--seed", type=int, default=0, help="face i is the montage face of seed S + i (default 0)")
    p.set_defaults(func=montage)
    m = kinds.add_parser("make", help="FFHQ-aligned faces from a folder or zip of photos, with a report of "
                                      "what was skipped and why")
    m.add_argument("src", metavar="SRC", type=Path, help="a folder (read recursively) or a zip of photos")
    m.add_argument("out", metavar="OUT", type=Path, help="a folder, or a zip when the name ends in .zip")
    m.add_argument("--res", type=int, required=True, help="side in pixels, a power of two from 8 to 1024")
    m.add_argument("--min-face", type=int, metavar="PX",
                   help="skip faces whose FFHQ crop spans fewer photo pixels (default: --res, no upscaling)")
    m.add_argument("--labels", type=Path, metavar="FILE", help="labels by source name, in NVIDIA's dataset.json "
                                                               "format (default: SRC/dataset.json if there)")
    m.set_defaults(func=make)

    t = subparsers.add_parser("train", help="train (or fine-tune) a StyleGAN2 on a dataset; the run's "
                                            "snapshots serve as DREAMFACE_STYLEGAN_CKPT")
    t.add_argument("--data", type=Path, required=True, help="training set: a folder or zip in NVIDIA's layout")
    t.add_argument("--out", type=Path, required=True, help="run folder, new or empty (or the folder of --resume)")
    t.add_argument("--res", type=int, required=True, help="the set's side in pixels, a power of two")
    t.add_argument("--kimg", type=float, required=True,
                   help="train until this many thousand pictures in all (fractions too: 0.064 is 64)")
    t.add_argument("--resume", type=Path, help="a snapshot's .state: go on exactly; a .safetensors or NVIDIA "
                                               ".pkl: fine-tune it (its licence carries over)")
    # None = the resolution's automatic value (or, resuming, the snapshot's)
    t.add_argument("--batch", type=int, help="pictures per step, over all processes under torchrun (default: "
                                             "NVIDIA's auto for one GPU, min(4096 / res, 32))")
    t.add_argument("--gamma", type=float, help="R1 weight (default: 0.0002 · res² / auto batch)")
    t.add_argument("--mirror", action="store_true", default=None, help="also train on left-right flips")
    t.add_argument("--seed", type=int, help="initial weights, latents and data order (default 0)")
    t.add_argument("--cbase", type=int, help="feature maps: min(cbase / side, cmax) per layer (default: auto, "
                                             "16384 below 512 px)")
    t.add_argument("--cmax", type=int, help="most feature maps in a layer (default 512)")
    t.add_argument("--fp16", action="store_true", default=None,
                   help="mixed precision, as NVIDIA trains: the 4 highest resolutions' feature maps in float16 "
                        "(for GPUs; on a CPU it is slower)")
    t.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                   help="where to train: auto (a GPU when torch sees one, else the CPU), cpu or cuda; under "
                        "torchrun each process takes the GPU of its LOCAL_RANK")
    t.add_argument("--aug", metavar="{ada,noaug,fixed}",
                   help="augment what D sees: ada (default: p steered so D's mean sign on reals holds --target), "
                        "fixed (p stays --p) or noaug")
    t.add_argument("--p", type=float, help="each augmentation's probability at the start (ada) or throughout "
                                           "(fixed); default 0")
    t.add_argument("--target", type=float, help="ada: the mean sign of D's output on reals to hold, between 0 "
                                                "and 1 (default 0.6)")
    t.add_argument("--ada-kimg", type=float, help="ada: p moves by at most 1 per this many kimg (default 500; "
                                                  "small CPU runs need far fewer to move p at all)")
    t.add_argument("--tick", type=float, default=4.0, help="kimg between progress lines (default 4)")
    t.add_argument("--snap", type=int, default=50, help="ticks between snapshots (default 50; the last always)")
    t.add_argument("--keep", type=int, default=0, help="keep the newest N snapshots' state and model "
                                                      "files (default 0: all; sample grids always stay)")
    t.add_argument("--metrics", help="metrics at every snapshot: a comma list of fd_dlib, face_rate, ppl, fid, or "
                                     "none (default fd_dlib,face_rate, and fid with an Inception file)")
    t.add_argument("--metric-samples", type=int, help="pictures per metric (default: sized to the run, a tenth of its pictures, "
                                                              "at least 64, at most 1000 and the set's size)")
    t.add_argument("--inception", type=Path, help=INCEPTION_HELP)
    t.set_defaults(func=train)

    m = subparsers.add_parser("metrics", help="score a model file against a training set (dlib Fréchet "
                                              "distance, face rate, PPL, and the official FID with an Inception file)")
    m.add_argument("--data", type=Path, required=True, help="the set to compare with: a folder or zip")
    m.add_argument("--ckpt", type=Path, required=True, help="a model file: .safetensors, NVIDIA .pkl, .pt")
    m.add_argument("--metrics", help="a comma list of fd_dlib, face_rate, ppl, fid (default all; fid with an "
                                     "Inception file)")
    m.add_argument("--samples", type=int, help="pictures per metric (default: the set's size, at most 1000; fid's "
                                               "generated pictures are not capped at the set's size)")
    m.add_argument("--inception", type=Path, help=INCEPTION_HELP)
    m.add_argument("--seed", type=int, default=0, help="which pictures, latents and noise (default 0)")
    m.set_defaults(func=metrics)


def montage(args: argparse.Namespace) -> int:
    from facegen.training.montage_dataset import write_montage_dataset
    try:
        write_montage_dataset(args.out, args.count, args.res, args.seed)
    except (ValueError, OSError) as exc:
        print(f"dreamface dataset montage: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: {args.count} montage faces at {args.res} px (seeds {args.seed}–{args.seed + args.count - 1})")
    return 0


PROGRESS_EVERY = 100   # photos between progress lines


def make(args: argparse.Namespace) -> int:
    from facegen.training.photo_dataset import SKIPPED_FILE, EmptySet, PhotoSetError, make_photo_dataset

    def progress(done: int, total: int, written: int) -> None:
        if done % PROGRESS_EVERY == 0 and done < total:
            print(f"dreamface dataset make: {done} of {total} files read, {written} written", file=sys.stderr)

    try:
        report = make_photo_dataset(args.src, args.out, args.res, args.min_face, args.labels, progress)
    except EmptySet as exc:
        for line in exc.report.lines():
            print(line)
        print(f"dreamface dataset make: {exc}", file=sys.stderr)
        return 2
    except (PhotoSetError, OSError) as exc:
        print(f"dreamface dataset make: {exc}", file=sys.stderr)
        return 2
    skipped = f"; {len(report.skipped)} skipped (all in {SKIPPED_FILE}):" if report.skipped else ""
    print(f"{args.out}: {report.written} faces at {args.res} px from {report.files} files in {args.src}{skipped}")
    for line in report.lines():
        print(line)
    return 0


def train(args: argparse.Namespace) -> int:
    from facegen.training.dataset import DatasetError
    from facegen.training.loop import train as run
    from facegen.training.metrics import DEFAULT_METRICS, MetricError, parse_metrics
    from facegen.training.options import TrainingError
    from ground.config import ConfigError
    choices = dict(batch=args.batch, gamma=args.gamma, mirror=args.mirror, seed=args.seed,
                   channel_base=args.cbase, channel_max=args.cmax, fp16=args.fp16, aug=args.aug,
                   augment_p=args.p, ada_target=args.target, ada_kimg=args.ada_kimg)
    try:
        inception = inception_file(args)
        run(args.data, args.out, resolution=args.res, kimg=args.kimg, resume=args.resume, choices=choices,
            tick_kimg=args.tick, snap=args.snap, keep=args.keep, device=args.device,
            metrics=parse_metrics(args.metrics, DEFAULT_METRICS, inception), metric_samples=args.metric_samples,
            inception=inception)
    except (TrainingError, DatasetError, MetricError, ConfigError, OSError) as exc:
        print(f"dreamface train: {exc}", file=sys.stderr)
        return 2
    return 0


def metrics(args: argparse.Namespace) -> int:
    from facegen.stylegan.errors import CheckpointError
    from facegen.training.dataset import DatasetError
    from facegen.training.metrics import METRICS, MetricError, evaluate, parse_metrics, summary
    from ground.config import ConfigError
    try:
        inception = inception_file(args)
        results = evaluate(args.ckpt, args.data, parse_metrics(args.metrics, tuple(METRICS), inception),
                           args.samples, args.seed, inception)
    except (MetricError, CheckpointError, DatasetError, ConfigError, OSError) as exc:
        print(f"dreamface metrics: {exc}", file=sys.stderr)
        return 2
    for name, values in results.items():
        print(f"{summary({name: values})}  ({values['seconds']:.1f} s)")
    return 0
