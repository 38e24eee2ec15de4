"""The identity-guided step of the photo fit: from the measured face, move the montage
parameters so that a face recogniser (facegen.identity) takes the render for the person in
the photo, without leaving what was measured.

Each candidate is rendered at FIT_SIZE px and scored (smaller is better):

    distance(render, photo) − AVERAGE_FACE_WEIGHT · distance(render, average face)
        + GEOMETRY_WEIGHT · landmark misfit + PRIOR_WEIGHT · mean(z²)
        + HAIR_COLOUR_WEIGHT · max(0, hair colour shift − HAIR_COLOUR_DELTA_E)

- distance: between the render's and the photo's 128-d descriptors;
- the average face: the montage's (every w zero). To the recogniser every drawing looks a
  little like it, so the faces of two people fitted for likeness alone stay near each other
  (about 0.36 apart for the two real people of bench/likeness.py, whose photos are 0.82
  apart); leaning away from it spreads them. How far apart two people's made faces come out
  turns on the optimiser's draws as much as on this weight (the two real people's: 0.37–0.50
  over three optimiser seeds). None of the alternatives tried spread them further over those
  seeds without taking them from their person (bench/README.md keeps the log): a weight of
  0.7, leaning from random montage faces (their centroid, or the mean distance to 32 of
  them) instead of the average face, a target pushed past the photo away from the average
  face, a caricature scored inside the fit or applied after it, a caricatured start;
- landmark misfit: the RMS of the photo's landmark measurements against the render's, in
  units of their spread over montage faces (what the measured fit minimises);
- z: each parameter's move from the measured face in units of its prior width (PRIOR_WIDTH:
  narrow for measured colours and hair, wider for measured geometry, widest for what nothing
  measured). Moves are also bounded to MAX_MOVE widths, so however the recogniser answers,
  the skin and the geometry stay near the photo's (for the hair's colour that bound was too
  loose: hair_grey's range is wide, hence the next term).
- hair colour shift: ΔE*ab between the candidate's drawn hair colour and the measured face's.
  The recogniser alone greys hair (Obama's dark grey went light grey, ΔE 19; Eileen Collins's
  brown went grey-beige, ΔE 24): a face that fools the recogniser rather than looks like the
  photo. Held within about HAIR_COLOUR_DELTA_E, the made faces came out further from the
  person's other photo (bench/README.md: own photo 2 0.425 → 0.466), the price of hair that
  keeps the photo's colour.
A candidate in which the detector finds no face scores NO_FACE.

The optimiser is CMA-ES (the `cma` package) with a fixed population, evaluation count and
random generator seed, so the same photo always gives the same face. Its parameters are
every continuous montage parameter outside OFF_REGIONS, NOT_FITTED and `fixed`: a parameter
added to the montage joins with the unmeasured width, with no change here. With a budget of
about one evaluation per parameter, every parameter left out is a better search of the rest.

The caricature (`caricature`) pushes the shape parameters away from the average face (the
middle of each range) by a strength: 0 leaves the face, 1 doubles every difference.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import numpy as np

from ground.config import Settings
from facegen.facecode import FaceCode
from facegen.identity import descriptors, distance, found_descriptors
from facegen.landmarks import FaceMeasurements, find_faces, measure
from facegen.montage.palette import Palette, to_lab
from facegen.montage.params import NUM_WS, PARAMS, SPECS, W_DIM, MontageParams, decode, from_position, position
from facegen.montage.render import render

FIT_SIZE = 256            # side of the renders scored; the face is ~120 px, near the 150-px chip
SCORE_SIZE = 384          # side of the render whose likeness a fit reports: a size it never optimised at
EVALUATIONS = Settings.photo_fit_evaluations   # candidates scored per fit besides the start (the setting's default)
POPULATION = 8            # candidates per CMA-ES generation
OPTIMISER_SEED = 2024
STEP = 0.8                # CMA-ES's first step, in prior widths
MAX_MOVE = 2.0            # the farthest a parameter may move, in prior widths
GEOMETRY_WEIGHT = 0.05    # per unit of landmark RMS misfit (the measured fit leaves ~0.5–0.9)
PRIOR_WEIGHT = 0.02       # per unit of mean squared move
NO_FACE = 2.0             # the score of a render in which no face is found
HAIR_COLOUR_DELTA_E = 8.0  # the farthest the hair's drawn colour may move from the measured one (ΔE*ab) …
HAIR_COLOUR_WEIGHT = 0.05  # … beyond it, the score's penalty per unit of ΔE
AVERAGE_FACE_WEIGHT = 0.5   # per unit of descriptor distance from the average face (the score's second term)
OFF_REGIONS = ("clothes", "glasses", "facial_hair")   # not the person's face: left as they are
# Left as measured or seeded: cues of gender and age and skin marks, which are the user's to
# add, not the recogniser's to choose; and what its descriptor barely reads (ears, neck, the
# iris, the hair's part and volume, the shading's depth).
NOT_FITTED = ("lashes", "lip_colour", "freckles", "wrinkles", "eye_bags", "ear_size", "ear_protrusion",
              "neck_width", "iris_colour", "iris_size", "hair_part", "hair_volume", "shading")
# Prior widths in position units (a range's whole span is 2): what was measured moves least.
PRIOR_WIDTH = {"colour": 0.1, "hair": 0.15, "geometry": 0.3, "unmeasured": 0.5}
# The shape parameters a caricature exaggerates: rows below the colours (params.PARAMS rows:
# 0 face, 1 forehead and hair, 2 eyes and nose, 3 mouth, 4 brows and ears), hair excepted.
COLOUR_ROW = 5

Progress = Callable[[float], None]


@dataclass(frozen=True)
class IdentityFit:
    params: MontageParams
    likeness: float           # descriptor distance of the result's FIT_SIZE render to the photo's
    start_likeness: float     # …of the start's (the measured face)
    evaluations: int


def free_parameters(measured: Mapping[str, str], fixed: Collection[str] = ()) -> dict[str, float]:
    """Each parameter the fit may move, with its prior width. `measured` names what each
    measured parameter was measured as (a PRIOR_WIDTH key); the rest are "unmeasured"."""
    return {spec.name: PRIOR_WIDTH[measured.get(spec.name, "unmeasured")] for spec in PARAMS
            if not spec.categorical and spec.region not in OFF_REGIONS and spec.name not in (*NOT_FITTED, *fixed)}


def with_positions(params: MontageParams, positions: Mapping[str, float]) -> MontageParams:
    return dataclasses.replace(params, **{name: from_position(SPECS[name], v) for name, v in positions.items()})


def fit_identity(start: MontageParams, target: np.ndarray, widths: Mapping[str, float],
                 misfit: Callable[[FaceMeasurements], float], *, evaluations: int | None = None,
                 progress: Progress | None = None) -> IdentityFit:
    """The parameters in `widths` moved from `start` so the render's descriptor nears `target`
    (the photo's); `misfit` scores a render's landmark measurements against the photo's.
    `evaluations` (None: EVALUATIONS) candidates are scored, in whole generations, after the
    start itself; `progress` hears the fraction done after each generation."""
    generations = (EVALUATIONS if evaluations is None else evaluations) // POPULATION
    names = list(widths)
    width = np.array([widths[n] for n in names])
    origin = np.array([position(SPECS[n], getattr(start, n)) for n in names])

    def candidate(z: np.ndarray) -> MontageParams:
        return with_positions(start, dict(zip(names, np.clip(origin + width * z, -1.0, 1.0))))

    start_hair = to_lab(Palette(start).hair)

    def hair_shift(params: MontageParams) -> float:
        """ΔE*ab between the candidate's drawn hair colour and the start's (the measured one)."""
        return float(np.linalg.norm(to_lab(Palette(params).hair) - start_hair))

    def score(zs: list[np.ndarray]) -> list[tuple[float, float]]:
        """(score, descriptor distance) of each candidate: one descriptor call per generation."""
        params = [candidate(z) for z in zs]
        images = [render(p, FIT_SIZE) for p in params]
        found = [find_faces(image, upsample=0) for image in images]
        scored = [i for i, faces in enumerate(found) if faces]
        codes = descriptors([images[i] for i in scored], [found[i][0].box for i in scored])
        out = [(NO_FACE, NO_FACE)] * len(zs)
        for i, code in zip(scored, codes):
            d = distance(code, target)
            prior = (GEOMETRY_WEIGHT * misfit(measure(found[i][0])) + PRIOR_WEIGHT * float(np.mean(zs[i] ** 2))
                     + HAIR_COLOUR_WEIGHT * max(0.0, hair_shift(params[i]) - HAIR_COLOUR_DELTA_E))
            out[i] = (d - AVERAGE_FACE_WEIGHT * distance(code, _average_face()) + prior, d)
        return out

    zero = np.zeros(len(names))
    ((best_score, start_likeness),) = score([zero])
    best = (best_score, start_likeness, zero)
    optimiser = _optimiser(origin, width)
    for generation in range(generations):
        zs = optimiser.ask()
        results = score(zs)
        optimiser.tell(zs, [s for s, _ in results])
        for z, (s, d) in zip(zs, results):
            if s < best[0]:
                best = (s, d, np.asarray(z))
        if progress is not None:
            progress((generation + 1) / generations)
    return IdentityFit(candidate(best[2]), likeness=best[1], start_likeness=start_likeness,
                       evaluations=1 + generations * POPULATION)


@functools.cache
def _average_face() -> np.ndarray:
    """The descriptor of the average montage face (every w zero): whom every drawing looks like
    a little, to the recogniser."""
    (code,) = found_descriptors([render(decode(FaceCode(np.zeros((NUM_WS, W_DIM), np.float32))), FIT_SIZE)])
    return code


def likeness(params: MontageParams, target: np.ndarray) -> float | None:
    """The descriptor distance of the face, drawn at SCORE_SIZE, to `target`: what a fit reports
    for the face it returns, measured apart from the renders it optimised (None: no face found)."""
    (code,) = found_descriptors([render(params, SCORE_SIZE)])
    return None if code is None else distance(code, target)


def _optimiser(origin: np.ndarray, width: np.ndarray):
    """CMA-ES over moves in prior widths, bounded by MAX_MOVE and by each parameter's range,
    drawing from its own generator (not numpy's global one), quiet, writing no files."""
    with warnings.catch_warnings():   # cma warns at import that matplotlib (for its plots) is absent
        warnings.simplefilter("ignore")
        import cma
    rng = np.random.default_rng(OPTIMISER_SEED)
    lower = np.maximum(-MAX_MOVE, (-1.0 - origin) / width)
    upper = np.minimum(MAX_MOVE, (1.0 - origin) / width)
    return cma.CMAEvolutionStrategy(np.zeros(len(origin)), STEP, {
        "popsize": POPULATION, "bounds": [list(lower), list(upper)],
        "randn": lambda *shape: rng.standard_normal(shape), "seed": np.nan,
        "verbose": -9, "verb_log": 0, "verb_disp": 0})


def caricature(params: MontageParams, strength: float) -> MontageParams:
    """Each shape parameter's distance from the middle of its range (the average face) scaled
    by 1 + strength, within the range."""
    if strength < 0:
        raise ValueError(f"caricature strength must be 0 or more, got {strength}")
    shape = [s.name for s in PARAMS if not s.categorical and s.row < COLOUR_ROW
             and s.region not in (*OFF_REGIONS, "hair")]
    return with_positions(params, {n: (1.0 + strength) * position(SPECS[n], getattr(params, n)) for n in shape})
