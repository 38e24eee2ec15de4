"""Montage render timings on this machine (a script that prints figures; not a timed test).

    .venv/bin/python bench/render.py [--faces 100] [--grids 10]
    .venv/bin/python bench/render.py --smoke     # 3 faces, 1 grid per region, each text parsed once

- per 512-px face: mean, p50, p99 over --faces random faces;
- per 10-candidate grid (renders only, the contact sheet's paste excluded): drawing every
  candidate whole vs. the region-only path (`MontageBackend.render_region`: the base face drawn
  once, each candidate recomputing only the steps that read the region and repainting its box);
- per description parse (facegen.describe), when that module is present.
Wall-clock times, and CPU time alongside (other work on a shared machine inflates wall time
far more than CPU time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facegen.candidates import region_candidates, render_candidates  # noqa: E402
from facegen.montage import MontageBackend  # noqa: E402

GRID_REGIONS = ("eyes", "nose", "mouth", "brows", "jaw", "forehead", "ears", "facial_hair", "glasses")
DESCRIPTIONS = (
    "바가지 모양의 헤어 스타일이 촌스럽게 보이지만 내려간 눈꼬리와 살짝 올라간 입꼬리는 선한 이미지로 보여진다. "
    "중간 톤의 피부에 주름 없고 깔끔하게 정리된 수염은 건강하고 성실해 보이며 믿음이 가는 인상이다.",
    "긴 머리에 쌍꺼풀이 있는 큰 눈, 살짝 웃는 20대 여자",
    "a middle-aged man with a square jaw, short grey hair, glasses and a tidy beard",
    "young woman with long wavy blond hair, slightly upturned eyes and full lips",
)


def percentiles(ms: list[float]) -> str:
    a = np.asarray(ms)
    return f"mean {a.mean():6.1f}  p50 {np.percentile(a, 50):6.1f}  p99 {np.percentile(a, 99):6.1f} ms"


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="montage render timings")
    parser.add_argument("--faces", type=int, default=100)
    parser.add_argument("--grids", type=int, default=10, help="faces per region for the grid timings")
    parser.add_argument("--smoke", action="store_true", help="tiny counts: a quick check that the script runs")
    args = parser.parse_args(argv)
    parse_repeats = 20
    if args.smoke:
        args.faces, args.grids, parse_repeats = 3, 1, 1
    backend = MontageBackend()
    backend.render([backend.sample(0)], 512)          # warm caches (noise texture, imports)

    walls, cpus = [], []
    for seed in range(args.faces):
        code = backend.sample(seed)
        wall, cpu = timed(lambda: backend.render([code], 512))
        walls.append(wall)
        cpus.append(cpu)
    print(f"face 512 px   ({args.faces} faces)  wall {percentiles(walls)}   cpu mean {statistics.mean(cpus):.1f} ms")

    full_all, quick_all, full_cpu, quick_cpu = [], [], [], []
    print(f"10-candidate grid at 512 px ({args.grids} faces per region), wall ms: full / region-only / ratio")
    for region in GRID_REGIONS:
        full, quick = [], []
        for seed in range(args.grids):
            code = backend.sample(1000 + seed)
            candidates = region_candidates(backend, code, region, n=10, seed=seed)
            wall, cpu = timed(lambda: backend.render(candidates, 512))
            full.append(wall)
            full_cpu.append(cpu)
            wall, cpu = timed(lambda: render_candidates(backend, code, candidates, region, 512))
            quick.append(wall)
            quick_cpu.append(cpu)
        full_all += full
        quick_all += quick
        print(f"  {region:12s} {statistics.mean(full):6.0f} / {statistics.mean(quick):6.0f} / "
              f"{statistics.mean(quick) / statistics.mean(full):.2f}")
    print(f"  {'all':12s} {statistics.mean(full_all):6.0f} / {statistics.mean(quick_all):6.0f} / "
          f"{statistics.mean(quick_all) / statistics.mean(full_all):.2f}")
    print(f"  whole       wall {percentiles(full_all)}   cpu {percentiles(full_cpu)}")
    print(f"  region-only wall {percentiles(quick_all)}   cpu {percentiles(quick_cpu)}")
    print(f"  region-only / whole: mean {statistics.mean(quick_all) / statistics.mean(full_all):.2f}, "
          f"p99 {np.percentile(quick_all, 99) / np.percentile(full_all, 99):.2f} (wall); "
          f"mean {statistics.mean(quick_cpu) / statistics.mean(full_cpu):.2f} (cpu)")

    try:
        from facegen.describe import parse_description, warm_up
    except ImportError:
        print("parse: facegen.describe not present")
        return 0
    warm_up()
    parse_ms = [timed(lambda: parse_description(text))[0] for _ in range(parse_repeats) for text in DESCRIPTIONS]
    print(f"parse per description ({len(parse_ms)} parses of {len(DESCRIPTIONS)} texts)  {percentiles(parse_ms)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
