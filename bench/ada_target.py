"""Does ADA hold D's sign on the reals at its target? (issue #16, augmentation; a script that
prints figures, not a test.)

    .venv/bin/python bench/ada_target.py                 # about 8 minutes on the shared 2-core machine
    .venv/bin/python bench/ada_target.py --smoke         # 16 px, a few steps: the same lines, figures that mean nothing

Makes a montage training set (`dreamface dataset montage`, a few hundred faces at 32 px), then
trains the same narrow networks from the same seed twice with `dreamface train`: once with
`--aug ada` (a small `--ada-kimg`, so p can move within a CPU-sized run) and once with
`--aug noaug`. Each prints its progress lines (p and rt per tick); then one table per tick of
both runs from their stats.jsonl, and the mean rt over the second half of each run: ADA's should
sit near the target (0.6) once p has adapted, the run without augmentation's should climb
toward 1 (D telling every real picture from G's). Both runs' final snapshots are kept under
--out for scoring with a face-descriptor distance, and their paths are printed.

One torch thread per process: on a shared machine more threads only wait for each other.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from dreamface.cli import main as dreamface  # noqa: E402

RUNS = ("ada", "noaug")


def ticks(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]


def late_mean(values: list[float]) -> float:
    """The mean over the second half of a run's ticks (p has had time to adapt)."""
    late = values[len(values) // 2:]
    return sum(late) / len(late)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ADA against no augmentation on montage faces")
    parser.add_argument("--out", type=Path, default=Path("ada-target"), help="a new folder for the set and both runs")
    parser.add_argument("--count", type=int, default=300, help="montage faces in the set (default 300)")
    parser.add_argument("--res", type=int, default=32)
    parser.add_argument("--kimg", type=float, default=10.0, help="each run's length (default 10)")
    parser.add_argument("--ada-kimg", type=float, default=2.0, help="ADA's speed (default 2: p ±0.064 every 4 steps)")
    parser.add_argument("--target", type=float, default=0.6)
    parser.add_argument("--tick", type=float, default=0.512, help="kimg between progress lines (default 0.512)")
    parser.add_argument("--smoke", action="store_true", help="16 px, 16 faces, 8 steps of 8")
    args = parser.parse_args(argv)
    network = ["--cbase", "256", "--cmax", "32"]
    if args.smoke:
        args.count, args.res, args.kimg, args.ada_kimg, args.tick = 16, 16, 0.064, 0.1, 0.016
        network = ["--cbase", "64", "--cmax", "16", "--batch", "8"]
    if args.out.exists() and any(args.out.iterdir()):
        print(f"ada_target: {args.out} is not empty; name a new folder with --out", file=sys.stderr)
        return 2
    torch.set_num_threads(1)

    faces = args.out / "faces"
    if dreamface(["dataset", "montage", str(faces), "--count", str(args.count), "--res", str(args.res)]):
        return 2
    seconds, models = {}, {}
    for aug in RUNS:
        run = args.out / aug
        flags = ["--aug", aug]
        if aug == "ada":
            flags += ["--ada-kimg", str(args.ada_kimg), "--target", str(args.target)]
        print(f"--- --aug {aug}")
        start = time.monotonic()
        if dreamface(["train", "--data", str(faces), "--out", str(run), "--res", str(args.res),
                      "--kimg", str(args.kimg), "--tick", str(args.tick), *network, *flags]):
            return 2
        seconds[aug] = time.monotonic() - start
        models[aug] = sorted(run.glob("snapshot-*.safetensors"))[-1]

    ada, plain = ticks(args.out / "ada"), ticks(args.out / "noaug")
    print(f"--- per tick ({args.count} faces at {args.res} px, target {args.target:g}, --ada-kimg {args.ada_kimg:g})")
    print(f"{'kimg':>7}  {'ada p':>6}  {'ada rt':>6}  {'noaug rt':>8}")
    for a, b in zip(ada, plain):
        print(f"{a['kimg']:7.3f}  {a['augment_p']:6.3f}  {a['rt']:6.2f}  {b['rt']:8.2f}")
    print("--- over the second half of each run")
    for name, run in (("ada", ada), ("noaug", plain)):
        rt = late_mean([t["rt"] for t in run])
        p = f"p {run[-1]['augment_p']:.3f} at the end" if "augment_p" in run[-1] else "no augmentation"
        print(f"{name:<6} rt mean {rt:5.2f} (target {args.target:g}, off by {abs(rt - args.target):.2f}), "
              f"{p}, {seconds[name]:.0f} s")
    for name, model in models.items():
        print(f"{name:<6} final snapshot: {model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
