"""Regenerate facegen/montage/photo_fit_table.json: how montage parameters show up in landmark
measurements and sampled colours, measured on montage renders with the same landmark model
used on photos. Run after any change to the montage renderer (its CHECKPOINT_ID) or to the
measurements:

    .venv/bin/python scripts/calibrate_photo_fit.py [--renders 300] [--out PATH]

Deterministic for a given renderer (fixed seeds). Takes about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facegen.landmarks import find_faces, measure  # noqa: E402
from facegen.montage import CHECKPOINT_ID, MontageBackend, MontageParams, encode  # noqa: E402
from facegen.photo import sample_colours  # noqa: E402
from facegen.montage.photo_fit import (HAIR_KNOBS, KNOBS, MEASURES, SKIN_KNOBS, TABLE_PATH, FitTable,  # noqa: E402
                               calibration_face, measures_vector, with_knobs)

SIZE = 512
SKIN_GRID = {"skin_tone": np.linspace(0.0, 1.0, 11), "skin_warmth": (-1.0, 0.0, 1.0)}
HAIR_GRID = {"hair_darkness": np.linspace(0.08, 1.0, 8), "hair_grey": (0.0, 0.35, 0.7, 1.0),
             "hair_red": (0.0, 0.5, 1.0)}


def render_and_measure(backend: MontageBackend, params: MontageParams):
    image = backend.render([encode(params)], SIZE)[0]
    faces = find_faces(image)
    return image, (faces[0] if len(faces) == 1 else None)


def calibrate_geometry(backend: MontageBackend, renders: int) -> dict:
    rng = np.random.default_rng(2024)
    xs, ys = [], []
    for i in range(renders):
        x = rng.uniform(-1.0, 1.0, len(KNOBS))
        params = with_knobs(calibration_face(backend, seed=10_000 + i), dict(zip(KNOBS, x)))
        _, face = render_and_measure(backend, params)
        if face is not None:
            xs.append(x)
            ys.append(measures_vector(measure(face)))
    x, y = np.array(xs), np.array(ys)
    design = np.hstack([np.ones((len(x), 1)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    spread = y.std(axis=0)
    print(f"geometry: {len(x)} of {renders} renders measured (one face found)")
    print(f"{'measure':>18} {'spread':>8} {'resid':>8} {'R²':>6}  strongest knob")
    for j, name in enumerate(MEASURES):
        r2 = 1.0 - residual[:, j].var() / y[:, j].var()
        top = np.argmax(np.abs(coef[1:, j]))
        print(f"{name:>18} {spread[j]:8.4f} {residual[:, j].std():8.4f} {r2:6.2f}  {list(KNOBS)[top]}")
    return {"intercept": coef[0], "slope": coef[1:].T, "spread": spread, "residual": residual.std(axis=0)}


def calibrate_colours(backend: MontageBackend, grid: dict, which: str) -> tuple:
    base = dataclasses.replace(calibration_face(backend, seed=0), hair_style="short")
    entries = []
    for values in itertools.product(*grid.values()):
        params = dataclasses.replace(base, **{k: float(v) for k, v in zip(grid, values)})
        image, face = render_and_measure(backend, params)
        if face is None:
            continue
        colour = getattr(sample_colours(image, face), which)
        if colour is not None:
            entries.append((tuple(round(float(v), 4) for v in values), colour))
    print(f"{which}: {len(entries)} of {int(np.prod([len(v) for v in grid.values()]))} grid renders sampled")
    return tuple(entries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=300, help="random renders for the geometry model")
    parser.add_argument("--out", type=Path, default=TABLE_PATH)
    args = parser.parse_args()
    backend = MontageBackend()
    started = time.perf_counter()
    geometry = calibrate_geometry(backend, args.renders)
    table = FitTable(checkpoint_id=CHECKPOINT_ID, knobs=tuple(KNOBS), measures=MEASURES, **geometry,
                     skin=calibrate_colours(backend, SKIN_GRID, "skin"),
                     hair=calibrate_colours(backend, HAIR_GRID, "hair"))
    assert tuple(SKIN_GRID) == SKIN_KNOBS and tuple(HAIR_GRID) == HAIR_KNOBS
    args.out.write_text(json.dumps(table.to_json(), indent=1) + "\n")
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
