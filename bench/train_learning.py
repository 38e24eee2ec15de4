"""Does `dreamface train` learn? A CPU run on montage faces, scored at every snapshot (issue #16;
a script run outside CI that prints figures, not a test).

    .venv/bin/python bench/train_learning.py --out /tmp/learning --minutes 90     # train
    .venv/bin/python bench/train_learning.py --out /tmp/learning --score          # score the snapshots
    .venv/bin/python bench/train_learning.py --out /tmp/learning --minutes 0.5 --count 64   # a smoke run

Training: `dreamface dataset montage` draws COUNT faces at RES px into OUT/data, then the run
trains in OUT/run in chunks of --chunk kimg, each chunk an exact resume of the last snapshot
(so the figures also exercise resume), until --minutes of wall time have passed or --kimg is
reached; run it again with a larger budget and it goes on where it stopped. The networks are
narrow so a CPU can train them: feature maps min(64·RES / side, 64) and z and w of 256, batch 16
(NVIDIA's `auto` would take 512 maps and batch 32 at 32 px, about 40 times the work). Its model
files are 3.7 MB at 32 px: small enough to commit as the test checkpoint.

Scoring (--score): every snapshot's G_ema against the training pictures with
facegen.training.metrics (the Fréchet distance on dlib's face descriptors, and the share of
samples in which dlib's detector finds one face), as a Markdown table; --docs also copies the
first, a middle and the last sample grid into docs/ for the README.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SNAPSHOT_GLOB = "snapshot-*.safetensors"


def arguments() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="folder for the data and the run")
    p.add_argument("--res", type=int, default=32)
    p.add_argument("--count", type=int, default=2000, help="montage faces in the training set")
    p.add_argument("--minutes", type=float, default=0, help="train for about this long (0: do not train)")
    p.add_argument("--kimg", type=float, default=200, help="stop there at the latest")
    p.add_argument("--chunk", type=float, default=2, help="kimg between snapshots")
    p.add_argument("--cmax", type=int, default=64)
    p.add_argument("--wdim", type=int, default=256)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--score", action="store_true", help="score every snapshot")
    p.add_argument("--samples", type=int, default=500, help="pictures per metric when scoring")
    p.add_argument("--docs", action="store_true", help="copy three sample grids into docs/")
    return p.parse_args()


def snapshots(run: Path) -> list[Path]:
    return sorted(run.glob(SNAPSHOT_GLOB))


def train_for(args: argparse.Namespace) -> None:
    from facegen.training.loop import train
    from facegen.training.montage_dataset import write_montage_dataset
    data, run = args.out / "data", args.out / "run"
    if not data.exists():
        write_montage_dataset(data, args.count, args.res)
    choices = dict(channel_base=args.cmax * args.res, channel_max=args.cmax, z_dim=args.wdim, w_dim=args.wdim,
                   batch=args.batch)
    deadline = time.monotonic() + args.minutes * 60
    while time.monotonic() < deadline:
        states = sorted(run.glob("snapshot-*.state"))
        seen = int(states[-1].stem.split("-")[1]) / 1000 if states else 0.0
        if seen >= args.kimg:
            break
        goal = min(args.kimg, round(seen + args.chunk, 3))
        train(data, run, resolution=args.res, kimg=goal, resume=states[-1] if states else None,
              choices=None if states else choices, tick_kimg=args.chunk / 2, snap=2)
        for old in states[:-1]:   # the model files and grids stay; one state is enough to go on
            old.unlink()


def score(args: argparse.Namespace) -> None:
    from facegen.training.metrics import evaluate
    data, run = args.out / "data", args.out / "run"
    stats = {round(json.loads(line)["kimg"], 3): json.loads(line)
             for line in (run / "stats.jsonl").read_text().splitlines()}
    print("| kimg | training time | Fréchet distance (dlib) | one face found |")
    print("|---:|---:|---:|---:|")
    for model in snapshots(run):
        kimg = int(model.stem.split("-")[1]) / 1000
        results = evaluate(model, data, ["fd_dlib", "face_rate"], samples=args.samples, seed=0)
        seconds = stats.get(round(kimg, 3), {}).get("seconds", float("nan"))
        print(f"| {kimg:g} | {seconds / 60:.0f} min | {results['fd_dlib']:.3f} | "
              f"{results['face_rate']:.0%} |", flush=True)


def copy_grids(args: argparse.Namespace) -> None:
    grids = sorted((args.out / "run").glob("snapshot-*.png"))
    picked = {"first": grids[0], "middle": grids[len(grids) // 2], "last": grids[-1]}
    for label, grid in picked.items():
        target = ROOT / "docs" / f"train_learning_{label}.png"
        shutil.copyfile(grid, target)
        print(f"{target.relative_to(ROOT)}: {grid.name}")
    shutil.copyfile(args.out / "run" / "reals.png", ROOT / "docs" / "train_learning_reals.png")


def main() -> int:
    args = arguments()
    if args.minutes > 0:
        train_for(args)
    if args.score:
        score(args)
    if args.docs:
        copy_grids(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
