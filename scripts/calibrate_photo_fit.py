"""Regenerate facegen/montage/photo_fit_table.json: how montage parameters show up in landmark
measurements, sampled colours and hair measures, measured on montage renders with the same models
used on photos. Run after any change to the montage renderer (its CHECKPOINT_ID) or to the
measurements:

    .venv/bin/python scripts/calibrate_photo_fit.py [--renders 300] [--out PATH]

Deterministic for a given renderer (fixed seeds). Takes about a minute and a half on 2 cores.
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
from facegen.photo import measure_hair, sample_colours  # noqa: E402
from facegen.montage.params import SPECS  # noqa: E402
from facegen.montage.photo_fit import (CLEAR_STYLE, HAIR_KNOBS, HANGING_STYLES, KNOBS, MEASURES,  # noqa: E402
                                       SKIN_KNOBS, TABLE_PATH, FitTable, calibration_face, measures_vector,
                                       with_knobs)

SIZE = 512
SKIN_GRID = {"skin_tone": np.linspace(0.0, 1.0, 11), "skin_warmth": (-1.0, 0.0, 1.0)}
HAIR_GRID = {"hair_darkness": np.linspace(0.08, 1.0, 8), "hair_grey": (0.0, 0.35, 0.7, 1.0),
             "hair_red": (0.0, 0.5, 1.0)}
HAIR_LENGTHS = np.linspace(0.0, 1.0, 5)
HAIRLINE_HEIGHTS = np.linspace(SPECS["hairline_height"].low, SPECS["hairline_height"].high, 6)
HAIR_SEEDS = range(4)   # faces each hair entry is averaged over


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


def calibrate_hair(backend: MontageBackend) -> dict:
    """How long hanging hair and how high a hairline measure (facegen.photo.measure_hair),
    the median over a few faces."""
    def median_measure(changes: dict, which: str) -> float:
        values = []
        for seed in HAIR_SEEDS:
            image, face = render_and_measure(backend, dataclasses.replace(calibration_face(backend, seed), **changes))
            if face is not None:
                value = getattr(measure_hair(image, face, sample_colours(image, face)), which)
                if value is not None:
                    values.append(value)
        return float(np.median(values))
    lengths = tuple((style, round(float(v), 4),
                     round(median_measure({"hair_style": style, "hair_length": float(v)}, "length"), 4))
                    for style in HANGING_STYLES for v in HAIR_LENGTHS)
    hairlines = tuple((round(float(v), 4), round(median_measure({"hair_style": CLEAR_STYLE, "hairline_height": float(v)},
                                                               "hairline"), 4)) for v in HAIRLINE_HEIGHTS)
    for style, v, m in lengths:
        print(f"hair {style:>5} length {v:.2f} measures {m:6.3f} (eye line 0, chin 1)")
    for v, m in hairlines:
        print(f"hairline height {v:.3f} measures {m:6.3f} face thirds above the brows")
    return {"hair_length": lengths, "hairline": hairlines}


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
                     hair=calibrate_colours(backend, HAIR_GRID, "hair"), **calibrate_hair(backend))
    assert tuple(SKIN_GRID) == SKIN_KNOBS and tuple(HAIR_GRID) == HAIR_KNOBS
    args.out.write_text(json.dumps(table.to_json(), indent=1) + "\n")
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
