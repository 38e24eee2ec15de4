"""A user's photo → a montage FaceCode ("me"): measured, then fitted for likeness.

Two steps, both deterministic (the same photo always gives the same face):
1. measured fit: the photo's landmark measurements (facegen.landmarks), colours and hair
   (facegen.photo) are turned into montage parameters through a calibration table made by
   rendering montage faces across each parameter's range and measuring them the same way
   (scripts/calibrate_photo_fit.py regenerates it);
2. identity fit (identity_fit.py): from there, CMA-ES moves the parameters so that dlib's
   face recogniser takes the render for the person in the photo, with the measured geometry,
   colours and hair as a prior it cannot leave. The photo's descriptor lives only inside
   `fit_photo`; the fit keeps only the distance (`PhotoFit.likeness`).
An optional caricature then exaggerates how the face differs from the average face.

The measured fit:

- geometry: a linear model measurements ≈ intercept + slope · knobs, fitted on random
  renders. A photo's knobs solve that model by box-bounded least squares (each measurement
  weighted by its spread, a light pull toward the average face), then a few closed-loop steps
  render the face, measure it, and correct the model's remaining error.
- colours: the cheek and hair colours measured on renders over a grid of colour parameters;
  the photo takes the nearest entries, blended.

What the montage cannot draw stays out of reach: a measurement beyond what any render shows
is matched as closely as the parameter ranges allow (see `PhotoFit.target` vs `.achieved`).
The montage's ranges were widened where photos measured outside them (narrower eye openings,
longer faces, wider noses and mouths). One bias remains: the landmark model reads drawn eyes'
outer corners as raised (about 0.02 face widths at 0°, where photos measure about 0), and a
drawn tilt moves that reading only a third as much as geometry would; the tilt range reaches
down to −14° and the fit gets within about 0.005.
Hair: its colour, its hairline's height and how far it hangs beside the face are measured
(facegen.photo.measure_hair); short hair is drawn "short", hanging hair as the bob or long
style whose rendered length measures nearest. Everything else that is not measured (ears,
brows' shape, iris colour, clothes, hairline shape, and cues of gender and age such as lashes,
lip colour and lines, for which no measure could be validated here) comes from a seed taken
from the photo's pixels (facegen.photo.content_seed), so a re-upload of the same photo is the
same face. Beards and glasses are left off: they are the user's to add.
Skin colour is corrected for exposure before matching: the cheek colour is scaled so that the
eye whites would measure SCLERA_LUMA (`exposure_corrected_skin`). A bright portrait of darker
skin and a dim portrait of fair skin then order the right way round (Obama's and Biden's
official portraits; without it, Obama's read fairer than Biden's). Only the brightness is
corrected, not the white balance: eye whites are rarely neutral in photos (reddish, tinted by
the lids' shadow), and a per-channel correction would grey every skin. The correction darkens
by MIN_EXPOSURE_GAIN at most: eye whites lit from the front (a flash, a studio's fill light)
read far brighter than the brow's shadow lets them in those two portraits, and darkening by
that reading took a fair face to the darkest skin (NASA's portrait of Eileen Collins, which
tests/data keeps: tone 0.90; with the floor 0.40), while dim eye whites still brighten in full.
Limits: SCLERA_LUMA is a typical value for frontal portraits (two portraits and a few
perturbations behind it), not a measured standard, and the floor was chosen on the eight faces
of four people here (bench/README.md, "Skin from photos"); eyes that are nearly shut, hidden by
glare on glasses or too small to give MIN_SCLERA_PIXELS leave the skin uncorrected.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from facegen.facecode import FaceCode
from facegen.identity import descriptor
from facegen.landmarks import EYE_LEFT, EYE_RIGHT, DetectedFace, FaceMeasurements, find_faces, measure
from facegen.montage import CHECKPOINT_ID, MontageBackend, MontageParams, decode, encode
from facegen.montage.identity_fit import IdentityFit, Progress, caricature, fit_identity, free_parameters, likeness
from facegen.montage.palette import to_lab
from facegen.montage.params import SPECS, from_position, position
from facegen.photo import (Colour, HairMeasure, PhotoColours, content_seed, find_single_face, level_face, measure_hair,
                           sample_colours)

TABLE_PATH = Path(__file__).with_name("photo_fit_table.json")
MEASURES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(FaceMeasurements))

# A knob sets one or more montage parameters to the same position in their ranges
# (-1 low end … +1 high end); 0 is the middle of every range.
KNOBS: dict[str, tuple[str, ...]] = {
    "face_width": ("face_width",),
    "face_length": ("face_length",),
    "jaw_width": ("jaw_width",),
    "eye_spacing": ("eye_spacing",),
    "eye_size": ("eye_size",),
    "eye_openness": ("eye_openness",),
    "eye_tilt": ("eye_tilt",),
    "brow_raise": ("brow_raise",),
    "nose_length": ("nose_length",),
    "nose_width": ("nose_width",),
    "mouth_drop": ("mouth_drop",),
    "mouth_width": ("mouth_width",),
    "lips": ("upper_lip", "lower_lip"),
    "mouth_corners": ("mouth_corners",),
    "smile": ("smile",),
}
# Geometry that moves landmarks but is not fitted: held at the middle of its range, in
# calibration and in every fitted face alike, so the table stays valid.
HELD_MIDDLE = ("forehead_width", "cheekbones", "chin_width", "jaw_angle", "eye_height")
# What a "me" face wears until the user asks otherwise.
PLAIN = {"beard": "none", "glasses": False, "fringe_length": 0.0}
# Hair styles whose fringe hides the brows (the brows are measured) are swapped for this one.
BROW_HIDING_STYLES = ("bowl", "bangs")
CLEAR_STYLE = "short"
# Hair that ends above this (measure_hair's length: eye line 0, chin 1) is drawn CLEAR_STYLE;
# longer hair takes the HANGING_STYLES entry of the calibration whose length measures nearest.
SHORT_HAIR_BELOW = 0.3
HANGING_STYLES = ("bob", "long")

SKIN_KNOBS = ("skin_tone", "skin_warmth")
HAIR_KNOBS = ("hair_darkness", "hair_grey", "hair_red")
COLOUR_NEIGHBOURS = 3        # table entries blended for one colour
# Eye whites: the 90th percentile of luma inside the eye outlines (steadier than a median of
# the brightest quarter when the landmarks shift by a pixel).
SCLERA_LUMA = 100.0          # what they measure in a frontally lit portrait (see the docstring)
MIN_SCLERA_PIXELS = 40
MIN_EXPOSURE_GAIN = 0.85     # the most the correction darkens (see the docstring)
LUMA = np.array([0.299, 0.587, 0.114])
RIDGE = 0.02                 # pull toward the average face, against the weighted misfit
REFINE_STEPS = 2
MEASURED_SHARE = 0.1         # of a fit's progress: the measured fit; the identity fit has the rest
# What each measured parameter was measured as (identity_fit.PRIOR_WIDTH: how far it may move).
MEASURED_AS = ({name: "geometry" for names in KNOBS.values() for name in names}
               | {name: "colour" for name in SKIN_KNOBS + HAIR_KNOBS}
               | {"hair_length": "hair", "hairline_height": "hair"})


@dataclass(frozen=True)
class FitTable:
    """The calibration: how montage knobs move landmark measurements, and what colours render."""
    checkpoint_id: str                 # the montage renderer the table was measured on
    knobs: tuple[str, ...]
    measures: tuple[str, ...]
    intercept: np.ndarray              # [measures]
    slope: np.ndarray                  # [measures, knobs]
    spread: np.ndarray                 # [measures] std over the calibration renders: weights
    residual: np.ndarray               # [measures] std of the linear model's error
    skin: tuple[tuple[tuple[float, ...], Colour], ...]   # ((skin_tone, skin_warmth), cheek colour)
    hair: tuple[tuple[tuple[float, ...], Colour], ...]   # ((darkness, grey, red), hair colour)
    hair_length: tuple[tuple[str, float, float], ...]     # (style, hair_length, measured length)
    hairline: tuple[tuple[float, float], ...]             # (hairline_height, measured hairline)

    def to_json(self) -> dict:
        return {
            "checkpoint_id": self.checkpoint_id, "knobs": list(self.knobs), "measures": list(self.measures),
            "intercept": self.intercept.round(6).tolist(), "slope": self.slope.round(6).tolist(),
            "spread": self.spread.round(6).tolist(), "residual": self.residual.round(6).tolist(),
            "skin": [[list(k), list(c)] for k, c in self.skin],
            "hair": [[list(k), list(c)] for k, c in self.hair],
            "hair_length": [[style, round(v, 4), round(m, 4)] for style, v, m in self.hair_length],
            "hairline": [[round(v, 4), round(m, 4)] for v, m in self.hairline],
        }

    @classmethod
    def from_json(cls, data: Mapping) -> "FitTable":
        def colours(rows):
            return tuple((tuple(float(v) for v in k), tuple(int(v) for v in c)) for k, c in rows)
        return cls(
            checkpoint_id=data["checkpoint_id"], knobs=tuple(data["knobs"]), measures=tuple(data["measures"]),
            intercept=np.array(data["intercept"], float), slope=np.array(data["slope"], float),
            spread=np.array(data["spread"], float), residual=np.array(data["residual"], float),
            skin=colours(data["skin"]), hair=colours(data["hair"]),
            hair_length=tuple((str(style), float(v), float(m)) for style, v, m in data.get("hair_length", ())),
            hairline=tuple((float(v), float(m)) for v, m in data.get("hairline", ())))


@lru_cache(maxsize=1)
def load_table(path: Path = TABLE_PATH) -> FitTable:
    table = FitTable.from_json(json.loads(path.read_text()))
    if (table.checkpoint_id != CHECKPOINT_ID or table.knobs != tuple(KNOBS) or table.measures != MEASURES
            or not table.hair_length or not table.hairline):
        raise RuntimeError(f"{path.name} was calibrated for {table.checkpoint_id} with other knobs or "
                           f"measures; run scripts/calibrate_photo_fit.py")
    return table


def calibration_face(backend: MontageBackend, seed: int) -> MontageParams:
    """The seed's face with the unfitted geometry held and the "me" defaults applied; the
    starting point of calibration renders and of every fitted face."""
    params = decode(backend.sample(seed))
    held = {name: from_position(SPECS[name], 0.0) for name in HELD_MIDDLE}
    style = CLEAR_STYLE if params.hair_style in BROW_HIDING_STYLES else params.hair_style
    return dataclasses.replace(params, **held, **PLAIN, hair_style=style)


def with_knobs(params: MontageParams, knobs: Mapping[str, float]) -> MontageParams:
    changes = {}
    for knob, degree in knobs.items():
        for name in KNOBS[knob]:
            changes[name] = from_position(SPECS[name], float(np.clip(degree, -1.0, 1.0)))
    return dataclasses.replace(params, **changes)


def knobs_of(params: MontageParams) -> dict[str, float]:
    """Each knob's position (the first parameter it sets stands for the knob)."""
    return {knob: position(SPECS[names[0]], getattr(params, names[0])) for knob, names in KNOBS.items()}


def measures_vector(m: FaceMeasurements) -> np.ndarray:
    return np.array([getattr(m, name) for name in MEASURES], float)


def solve_knobs(table: FitTable, target: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
    """Knob positions in [-1, 1] whose predicted measurements come closest to `target`.

    Minimises Σ((intercept + offset + slope·x − target) / spread)² + RIDGE·|x|² over the box
    by projected gradient descent (the problem is a small convex quadratic).
    """
    weights = 1.0 / table.spread
    a = table.slope * weights[:, None]
    r = (target - table.intercept - (0.0 if offset is None else offset)) * weights
    hessian = a.T @ a + RIDGE * np.eye(len(table.knobs))
    step = 1.0 / np.linalg.eigvalsh(hessian).max()
    x = np.zeros(len(table.knobs))
    for _ in range(2000):
        x_next = np.clip(x - step * (hessian @ x - a.T @ r), -1.0, 1.0)
        if np.abs(x_next - x).max() < 1e-7:
            break
        x = x_next
    return x_next


def nearest_colour_knobs(entries: tuple[tuple[tuple[float, ...], Colour], ...], colour: Colour) -> tuple[float, ...]:
    """The colour parameters whose rendered colour is nearest `colour`, blending the closest
    few entries by inverse distance."""
    target = to_lab(colour)
    distances = np.array([np.linalg.norm(to_lab(c) - target) for _, c in entries])
    nearest = np.argsort(distances)[:COLOUR_NEIGHBOURS]
    weights = 1.0 / (distances[nearest] + 1e-3)
    values = np.array([entries[i][0] for i in nearest])
    return tuple(float(v) for v in weights @ values / weights.sum())


def sclera_luma(image: Image.Image, face: DetectedFace) -> float | None:
    """The 90th percentile of luma inside both eye outlines: the eye whites, where the lids
    leave them visible. None when the eyes give too few pixels."""
    eyes = np.concatenate([face.points[EYE_LEFT], face.points[EYE_RIGHT]])
    left, top = (int(v) for v in np.floor(eyes.min(axis=0)))
    right, bottom = (int(v) + 1 for v in np.ceil(eyes.max(axis=0)))
    crop = image.convert("RGB").crop((left, top, right, bottom))
    mask = Image.new("L", crop.size, 0)
    draw = ImageDraw.Draw(mask)
    for eye in (EYE_LEFT, EYE_RIGHT):
        draw.polygon([(float(x) - left, float(y) - top) for x, y in face.points[eye]], fill=255)
    luma = np.asarray(crop, np.float64)[np.asarray(mask) > 0] @ LUMA
    if len(luma) < MIN_SCLERA_PIXELS:
        return None
    return float(np.percentile(luma, 90))


def exposure_corrected_skin(skin: Colour, sclera: float | None, min_gain: float = MIN_EXPOSURE_GAIN) -> Colour:
    """The cheek colour as it would show if the eye whites measured SCLERA_LUMA (brightness
    only; hue kept), darkened by `min_gain` at most. Unchanged without a usable sclera
    reading."""
    if sclera is None or sclera < 1.0:
        return skin
    gain = max(SCLERA_LUMA / sclera, min_gain)
    rgb = np.asarray(skin, np.float64) * gain
    if rgb.max() > 255.0:     # keep the hue where the brightest channel would clip
        rgb *= 255.0 / rgb.max()
    return tuple(int(round(v)) for v in rgb)  # type: ignore[return-value]


def colour_params(table: FitTable, colours: PhotoColours, skin: Colour | None = None) -> dict[str, object]:
    """Colour parameters for the photo's colours; `skin` overrides the sampled skin colour
    (the exposure-corrected one)."""
    changes: dict[str, object] = dict(zip(SKIN_KNOBS, nearest_colour_knobs(table.skin, skin or colours.skin)))
    if colours.hair is not None:
        changes.update(zip(HAIR_KNOBS, nearest_colour_knobs(table.hair, colours.hair)))
    return changes


def hair_params(table: FitTable, hair: HairMeasure) -> dict[str, object]:
    """Hair style, length and hairline for what the photo shows of the hair."""
    if hair.colour is None:
        return {"hair_style": "bald"}   # or a hairline out of view: see photo.sample_colours
    changes: dict[str, object] = {"hair_style": CLEAR_STYLE}
    if hair.length is not None and hair.length >= SHORT_HAIR_BELOW:
        style, length, _ = min((e for e in table.hair_length if e[0] in HANGING_STYLES),
                               key=lambda e: abs(e[2] - hair.length))
        changes.update(hair_style=style, hair_length=length)
    if hair.hairline is not None:
        heights, measured = np.array(table.hairline).T
        order = np.argsort(measured)   # a higher hairline measures more, at a smaller height (y)
        changes["hairline_height"] = float(np.interp(hair.hairline, measured[order], heights[order]))
    return changes


@dataclass(frozen=True)
class PhotoFit:
    code: FaceCode
    params: MontageParams               # the face returned (after the identity fit and any caricature)
    measured: MontageParams             # the measured fit, before the identity fit
    target: FaceMeasurements            # the photo's
    achieved: FaceMeasurements | None   # measured on the measured fit's render (None: not rendered)
    colours: PhotoColours               # as sampled from the photo
    skin: Colour                        # the skin colour matched: colours.skin corrected for exposure
    hair: HairMeasure
    likeness: float | None              # descriptor distance of the face returned to the photo's
                                        # (identity_fit.likeness; None: not measured, or no face found)
    identity: IdentityFit | None        # the identity fit's own scores (None: not run)


def fit_photo(image: Image.Image, backend: MontageBackend, *, evaluations: int | None = None,
              caricature_strength: float = 0.0, progress: Progress | None = None,
              refine_steps: int = REFINE_STEPS, table: FitTable | None = None) -> PhotoFit:
    """The montage face of the one face in `image` (raises facegen.photo.PhotoError).

    The measured fit takes about a second: after the model's first guess, `refine_steps`
    closed-loop corrections each render and measure once, and the best-measuring render
    tried is kept. The identity fit then scores `evaluations` renders (None: its EVALUATIONS,
    about 0.15 s each on 2 cores; 0: the measured face alone), reporting the fraction done to
    `progress`. The face returned, after any caricature, is scored once more for the likeness
    reported (identity_fit.likeness).
    """
    if not isinstance(backend, MontageBackend):
        raise TypeError(f"photo fitting needs the montage backend, not {getattr(backend, 'name', backend)!r}")
    table = table or load_table()
    face = find_single_face(image)
    seed = content_seed(image)   # of the photo as sent: the same photo gives the same face
    image, face = level_face(image, face)
    measured = _measured_fit(image, face, backend, seed, refine_steps, table)
    if progress is not None:
        progress(MEASURED_SHARE)
    goal = measures_vector(measured.target)

    def misfit(m: FaceMeasurements) -> float:
        return float(np.sqrt(np.mean(((measures_vector(m) - goal) / table.spread) ** 2)))

    def identity_progress(fraction: float) -> None:
        if progress is not None:
            progress(MEASURED_SHARE + (1.0 - MEASURED_SHARE) * fraction)

    target = descriptor(image, face.box)   # the photo's: biometric data, dropped when this returns
    fitted = fit_identity(measured.params, target, free_parameters(MEASURED_AS, PLAIN),
                          misfit, evaluations=evaluations, progress=identity_progress)
    params = fitted.params
    if caricature_strength:
        params = caricature(params, caricature_strength)
    return dataclasses.replace(measured, code=encode(params, backend.sample(seed)), params=params,
                               likeness=likeness(params, target), identity=fitted)


def _measured_fit(image: Image.Image, face: DetectedFace, backend: MontageBackend, seed: int,
                  refine_steps: int, table: FitTable) -> PhotoFit:
    """The landmark, colour and hair fit, closed-loop refined."""
    target = measure(face)
    colours = sample_colours(image, face)
    hair = measure_hair(image, face, colours)
    skin = exposure_corrected_skin(colours.skin, sclera_luma(image, face))
    start = dataclasses.replace(calibration_face(backend, seed), **colour_params(table, colours, skin),
                                **hair_params(table, hair))

    goal = measures_vector(target)
    x = solve_knobs(table, goal)
    params = with_knobs(start, dict(zip(table.knobs, x)))
    best: tuple[float, MontageParams, FaceMeasurements | None] = (np.inf, params, None)
    for step in range(refine_steps + 1 if refine_steps else 0):
        rendered = find_faces(backend.render([encode(params)])[0])
        if len(rendered) != 1:
            break
        achieved = measure(rendered[0])
        error = float(np.sum(((measures_vector(achieved) - goal) / table.spread) ** 2))
        if error < best[0]:
            best = (error, params, achieved)
        if step == refine_steps:
            break
        # carry the linear model's error at x into the next solve
        offset = measures_vector(achieved) - (table.intercept + table.slope @ x)
        x = solve_knobs(table, goal, offset)
        params = with_knobs(start, dict(zip(table.knobs, x)))
    _, params, achieved = best
    return PhotoFit(code=encode(params, backend.sample(seed)), params=params, measured=params, target=target,
                    achieved=achieved, colours=colours, skin=skin, hair=hair, likeness=None, identity=None)
