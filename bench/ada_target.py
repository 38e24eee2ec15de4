"""Does ADA hold D's sign on the reals at its target? (issue #16, augmentation; a script that
prints figures, not a test.)

    .venv/bin/python bench/ada_target.py                     # about 8 minutes on the shared 2-core machine
    .venv/bin/python bench/ada_target.py --seeds 6 --score   # six training seeds, each pair scored: about 37 minutes
    .venv/bin/python bench/ada_target.py --smoke             # 16 px, a few steps: the same lines, figures that mean nothing

Makes a montage training set (`dreamface dataset montage`, a few hundred faces at 32 px), then
trains the same narrow networks from the same seed twice with `dreamface train`: once with
`--aug ada` (a small `--ada-kimg`, so p can move within a CPU-sized run) and once with
`--aug noaug`. Each prints its progress lines (p and rt per tick); then one table per tick of
both runs from their stats.jsonl, and the mean rt over the second half of each run: ADA's should
sit near the target (0.6) once p has adapted, the run without augmentation's should climb
toward 1 (D telling every real picture from G's). Both runs' final snapshots are kept under
--out for scoring with a face-descriptor distance, and their paths are printed.

`--seeds N` repeats the pair for training seeds 0 … N-1 (`--first-seed S`: S … S+N-1, so a
long study can run in parts) on the same set (seed S's runs in --out/seed-S/ada and
--out/seed-S/noaug; the set is the same in every --out). `--score` scores each final snapshot against the set
as `dreamface metrics --metrics fd_dlib,face_rate --samples 300` would (the set's size, at most
300, samples; metric seed 0) right after its pair, and ends with a table per seed: both runs'
mean rt over the second half and fd_dlib, the means, and in how many seeds ADA's distance was
the lower.

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
from facegen.training.metrics import evaluate, summary  # noqa: E402

RUNS = ("ada", "noaug")
SCORE_METRICS = ("fd_dlib", "face_rate")
SCORE_SAMPLES = 300        # as the README's `dreamface metrics … --samples 300`; fewer on a smaller set


def ticks(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]


def late_mean(values: list[float]) -> float:
    """The mean over the second half of a run's ticks (p has had time to adapt)."""
    late = values[len(values) // 2:]
    return sum(late) / len(late)


def train_pair(args: argparse.Namespace, faces: Path, folder: Path, seed: int,
               network: list[str]) -> tuple[dict[str, Path], dict[str, float]] | None:
    """Both runs from one training seed under `folder`: their final snapshots and seconds
    (None when a run failed)."""
    seconds, models = {}, {}
    for aug in RUNS:
        run = folder / aug
        flags = ["--aug", aug]
        if aug == "ada":
            flags += ["--ada-kimg", str(args.ada_kimg), "--target", str(args.target)]
        print(f"--- seed {seed}: --aug {aug}", flush=True)
        start = time.monotonic()
        if dreamface(["train", "--data", str(faces), "--out", str(run), "--res", str(args.res),
                      "--kimg", str(args.kimg), "--tick", str(args.tick), "--seed", str(seed), *network, *flags]):
            return None
        seconds[aug] = time.monotonic() - start
        models[aug] = sorted(run.glob("snapshot-*.safetensors"))[-1]
    return models, seconds


def print_pair(args: argparse.Namespace, folder: Path, seed: int, models: dict[str, Path],
               seconds: dict[str, float]) -> dict[str, float]:
    """The per-tick table and the second-half lines of one seed's pair; returns each run's mean rt
    over the second half."""
    ada, plain = ticks(folder / "ada"), ticks(folder / "noaug")
    print(f"--- seed {seed}, per tick ({args.count} faces at {args.res} px, target {args.target:g}, "
          f"--ada-kimg {args.ada_kimg:g})")
    print(f"{'kimg':>7}  {'ada p':>6}  {'ada rt':>6}  {'noaug rt':>8}")
    for a, b in zip(ada, plain):
        print(f"{a['kimg']:7.3f}  {a['augment_p']:6.3f}  {a['rt']:6.2f}  {b['rt']:8.2f}")
    print(f"--- seed {seed}, over the second half of each run")
    late = {}
    for name, run in (("ada", ada), ("noaug", plain)):
        late[name] = rt = late_mean([t["rt"] for t in run])
        p = f"p {run[-1]['augment_p']:.3f} at the end" if "augment_p" in run[-1] else "no augmentation"
        print(f"{name:<6} rt mean {rt:5.2f} (target {args.target:g}, off by {abs(rt - args.target):.2f}), "
              f"{p}, {seconds[name]:.0f} s")
    for name, model in models.items():
        print(f"{name:<6} final snapshot: {model}")
    return late


def score(models: dict[str, Path], faces: Path, seed: int) -> dict[str, dict[str, float]]:
    """Each run's fd_dlib and face_rate against the set, printed as they come."""
    scores = {}
    for name, model in models.items():
        start = time.monotonic()
        results = evaluate(model, faces, SCORE_METRICS, samples=SCORE_SAMPLES, seed=0)
        scores[name] = {key: value for values in results.values() for key, value in values.items()
                        if key != "seconds"}
        print(f"seed {seed} {name:<6} {summary(results)}  ({time.monotonic() - start:.0f} s)", flush=True)
    return scores


def print_scores(rows: list[tuple[int, dict[str, float], dict[str, dict[str, float]]]]) -> None:
    """Per seed: both runs' mean rt over the second half, fd_dlib and face_rate; then the means
    and the seeds where ADA's distance was the lower."""
    columns = {"ada rt": (6, "{:6.2f}"), "noaug rt": (8, "{:8.2f}"),
               "ada fd_dlib": (11, "{:11.4f}"), "noaug fd_dlib": (13, "{:13.4f}"),
               "ada face_rate": (13, "{:13.3f}"), "noaug face_rate": (15, "{:15.3f}")}
    table = [{"ada rt": late["ada"], "noaug rt": late["noaug"],
              **{f"{run} {metric}": scores[run][metric] for metric in SCORE_METRICS for run in RUNS}}
             for _, late, scores in rows]

    def line(label: str, values: dict[str, float]) -> str:
        return f"{label:>4}  " + "  ".join(form.format(values[name]) for name, (_, form) in columns.items())

    print("--- scored (fd_dlib: lower is nearer the training pictures)")
    print("seed  " + "  ".join(f"{name:>{width}}" for name, (width, _) in columns.items()))
    for (seed, _, _), values in zip(rows, table):
        print(line(str(seed), values))
    print(line("mean", {name: sum(values[name] for values in table) / len(table) for name in columns}))
    better = sum(values["ada fd_dlib"] < values["noaug fd_dlib"] for values in table)
    print(f"ADA's fd_dlib lower in {better} of {len(table)} seeds")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ADA against no augmentation on montage faces")
    parser.add_argument("--out", type=Path, default=Path("ada-target"), help="a new folder for the set and the runs")
    parser.add_argument("--count", type=int, default=300, help="montage faces in the set (default 300)")
    parser.add_argument("--res", type=int, default=32)
    parser.add_argument("--kimg", type=float, default=10.0, help="each run's length (default 10)")
    parser.add_argument("--ada-kimg", type=float, default=2.0, help="ADA's speed (default 2: p ±0.064 every 4 steps)")
    parser.add_argument("--target", type=float, default=0.6)
    parser.add_argument("--tick", type=float, default=0.512, help="kimg between progress lines (default 0.512)")
    parser.add_argument("--seeds", type=int, default=1, help="training seeds S … S+N-1, a pair of runs each (default 1)")
    parser.add_argument("--first-seed", type=int, default=0, help="S, the first training seed (default 0)")
    parser.add_argument("--score", action="store_true",
                        help=f"score each final snapshot with {' and '.join(SCORE_METRICS)} ({SCORE_SAMPLES} samples)")
    parser.add_argument("--smoke", action="store_true", help="16 px, 16 faces, 8 steps of 8")
    args = parser.parse_args(argv)
    network = ["--cbase", "256", "--cmax", "32"]
    if args.smoke:
        args.count, args.res, args.kimg, args.ada_kimg, args.tick = 16, 16, 0.064, 0.1, 0.016
        network = ["--cbase", "64", "--cmax", "16", "--batch", "8"]
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    if args.out.exists() and any(args.out.iterdir()):
        print(f"ada_target: {args.out} is not empty; name a new folder with --out", file=sys.stderr)
        return 2
    torch.set_num_threads(1)

    faces = args.out / "faces"
    if dreamface(["dataset", "montage", str(faces), "--count", str(args.count), "--res", str(args.res)]):
        return 2
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        folder = args.out / f"seed-{seed}"
        pair = train_pair(args, faces, folder, seed, network)
        if pair is None:
            return 2
        late = print_pair(args, folder, seed, *pair)
        if args.score:
            rows.append((seed, late, score(pair[0], faces, seed)))
    if rows:
        print_scores(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
