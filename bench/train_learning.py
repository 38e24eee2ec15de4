"""Does `dreamface train` learn? A CPU run on montage faces, scored at every snapshot (issue #16;
a script run outside CI that prints figures, not a test).

    .venv/bin/python bench/train_learning.py --out /tmp/learning --minutes 90     # train
    .venv/bin/python bench/train_learning.py --out /tmp/learning --score          # score the snapshots
    .venv/bin/python bench/train_learning.py --smoke                                # checks the script

Training: `dreamface dataset montage` draws COUNT faces at RES px into OUT/data, then the run
trains in OUT/run in chunks of --chunk kimg, each chunk an exact resume of the last snapshot
(so the figures also exercise resume), until --minutes of wall time have passed or --kimg is
reached; run it again with a larger budget and it goes on where it stopped. The networks are
narrow so a CPU can train them: feature maps min(64·RES / side, 64) and z and w of 256, batch 16
(NVIDIA's `auto` would take 512 maps and batch 32 at 32 px, about 40 times the work). Its model
files are 3.7 MB at 32 px: small enough to commit as the test checkpoint.

Scoring (--score): every snapshot's G_ema against the training pictures with
facegen.training.metrics (the Fréchet distance on dlib's face descriptors, and the share of
samples in which dlib's detector finds one face), each snapshot once (OUT/scores.jsonl keeps
them, so scoring may run beside training and go on later), then a Markdown table; --docs also
copies the first, a middle and the last sample grid into docs/ for the README.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SNAPSHOT_GLOB = "snapshot-*.safetensors"


def arguments() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, help="folder for the data and the run (required but with --smoke)")
    p.add_argument("--res", type=int, default=32)
    p.add_argument("--count", type=int, default=2000, help="montage faces in the training set")
    p.add_argument("--minutes", type=float, default=0, help="train for about this long (0: do not train)")
    p.add_argument("--kimg", type=float, default=200, help="stop there at the latest")
    p.add_argument("--chunk", type=float, default=2, help="kimg between snapshots")
    p.add_argument("--cmax", type=int, default=64)
    p.add_argument("--wdim", type=int, default=256)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: on a machine shared with other work, more threads than "
                        "free cores made steps about 10 times slower)")
    p.add_argument("--score", action="store_true", help="score every snapshot")
    p.add_argument("--samples", type=int, default=300, help="pictures per metric when scoring")
    p.add_argument("--score-every", type=float, default=2, help="score a snapshot every this many kimg (and the "
                                                                  "first and the last)")
    p.add_argument("--docs", action="store_true", help="copy three sample grids into docs/")
    p.add_argument("--smoke", action="store_true", help="16 faces at 16 px, 2 chunks of 8 pictures, scored on 4: "
                                                        "checks the script (into ./learning-smoke)")
    args = p.parse_args()
    if args.smoke:
        args.out = args.out or Path("learning-smoke")
        args.count, args.res, args.minutes, args.kimg, args.chunk = 16, 16, 10, 0.016, 0.008
        args.cmax, args.wdim, args.batch, args.samples, args.score, args.score_every = 16, 16, 4, 4, True, 0.001
    elif args.out is None:
        p.error("--out is required")
    return args


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


def kimg_of(model: Path) -> float:
    return int(model.stem.split("-")[1]) / 1000


def spaced(models: list[Path], every: float) -> list[Path]:
    """The first and last snapshots and the first one past each multiple of `every` kimg."""
    picked = [m for i, m in enumerate(models)
              if i in (0, len(models) - 1) or kimg_of(m) // every != kimg_of(models[i - 1]) // every]
    return picked


def score(args: argparse.Namespace) -> None:
    """Score each snapshot not yet in OUT/scores.jsonl (so scoring can run beside training and go
    on later), then print the table of all of them."""
    from facegen.stylegan.loaders import load_generator
    from facegen.training.dataset import ImageDataset
    from facegen.training.metrics import compute
    data, run, scores_file = args.out / "data", args.out / "run", args.out / "scores.jsonl"
    done = {json.loads(line)["model"]: json.loads(line) for line in
            (scores_file.read_text().splitlines() if scores_file.exists() else [])}
    cache: dict = {}   # the training pictures' measures, once for every snapshot
    with ImageDataset(data) as dataset, open(scores_file, "a") as out:
        for model in spaced(snapshots(run), args.score_every):
            if model.name in done:
                continue
            results = compute(load_generator(model), dataset, ["fd_dlib", "face_rate"], samples=args.samples,
                              seed=0, real_cache=cache)
            row = {"model": model.name, "kimg": kimg_of(model),
                   "fd_dlib": results["fd_dlib"]["fd_dlib"], "face_rate": results["face_rate"]["face_rate"],
                   "face_rate_reals": results["face_rate"]["face_rate_reals"], "samples": args.samples}
            out.write(json.dumps(row) + "\n")
            out.flush()
            done[model.name] = row
            print(f"scored {model.name}: fd_dlib {row['fd_dlib']:.4f}  face_rate {row['face_rate']:.3f}", flush=True)
    stats = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    print(f"| kimg | training time (CPU run) | Fréchet distance, dlib descriptors (N={args.samples}) | "
          f"samples with one face found |")
    print("|---:|---:|---:|---:|")
    for row in sorted(done.values(), key=lambda r: r["kimg"]):
        seconds = max((s["seconds"] for s in stats if s["kimg"] <= row["kimg"] + 1e-9), default=0.0)
        print(f"| {row['kimg']:g} | {seconds / 60:.0f} min | {row['fd_dlib']:.3f} | {row['face_rate']:.1%} |")
    reals = next(iter(done.values()), {}).get("face_rate_reals")
    if reals is not None:
        print(f"(training pictures with one face found: {reals:.0%})")


def copy_grids(args: argparse.Namespace) -> None:
    """The training pictures and the first, a middle and the last sample grid, three times
    enlarged (nearest neighbour: every pixel as trained) into docs/."""
    from PIL import Image
    grids = sorted((args.out / "run").glob("snapshot-*.png"))
    picked = {"reals": args.out / "run" / "reals.png", "first": grids[0], "middle": grids[len(grids) // 2],
              "last": grids[-1]}
    for label, grid in picked.items():
        target = ROOT / "docs" / f"train_learning_{label}.png"
        with Image.open(grid) as picture:
            picture.resize((picture.width * 3, picture.height * 3), Image.NEAREST).save(target)
        print(f"{target.relative_to(ROOT)}: {grid.name}")


def main() -> int:
    args = arguments()
    import torch
    torch.set_num_threads(args.threads)
    if args.minutes > 0:
        train_for(args)
    if args.score:
        score(args)
    if args.docs:
        copy_grids(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
