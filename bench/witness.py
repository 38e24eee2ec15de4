"""How fast does a witness get to the face in their head? (issue #21; a script that prints figures.)

    .venv/bin/python bench/witness.py [--witnesses 16] [--photos 4] [--rounds 10] [--seed 1]
    .venv/bin/python bench/witness.py --smoke     # 1 prior + 1 photo target, 2 rounds, sheets of 4
    .venv/bin/python bench/witness.py --strategies breeding --strengths 1,0.7,0.1   # another schedule

Simulated witnesses each hold a hidden target face and build a face for R rounds by each
strategy, through the same recipes the chat queues (facegen.recipes: clean_set, candidate_set,
make_face with the "pick" operation, on the montage backend), with the chat's sizes:
    grids        feature grids only, E-FIT style: each round one region's grid of GRID_SIZE
                 candidates (the chat's "show eyes"), regions in GRID_ORDER; the witness picks
                 the best, or keeps the face when no candidate looks better
    variations   single-pick variations (the chat's "variations": GRID_SIZE faces at
                 VARIATION_STRENGTH); pick the best, or keep the face
    breeding     multi-select breeding (facegen.breeding, a Telegram-sized array): select the
                 SELECT best-looking of the array, best first, and breed the next one
    described    a short description first (the target's own most telling attributes read back
                 in words by facegen.describe.back and parsed by the chat's grammar, as if typed),
                 then breeding from the described face
Round 0 is the face each starts from: the same random face ("new") for the first three, the
described face for the last. After round r the witness's face is the one picked (breeding: the
best-liked of the round, what "done" would keep).

Targets: faces drawn from the montage prior (--witnesses), and photo faces (--photos): the
montage faces the chat makes from the photos in tests/data (facegen.montage.photo_fit, the
photo job's fit, as bench/likeness.py runs it).

How a witness judges: a perceptual distance between the rendered pictures, never the latent
distance (the breeder works in latent space and could exploit it). No face-perception weights
can be downloaded here, so it is built from what is installed, on a PERCEPTION_SIZE render
cropped to the head (the clothes are no part of a face anyone remembers):
- pixels: the grey levels, blurred (Gaussian, BLUR px: about 12 cycles across the face, the
  band human face recognition relies on most, Näsänen 1999) and subsampled; grey because faces
  are recognised about as well without colour while their shape is clear (Kemp et al. 1996;
  Yip & Sinha 2002), and skin tone and hair darkness still show as lightness;
- geometry: the 68-point landmarks' proportions (facegen.landmarks.measure: eye spacing,
  nose length, face aspect, … in face widths, free of scale and roll), each in units of its
  spread over prior faces: the configural cues blurred pixels miss.
Each term is divided by its median over pairs of prior faces and the two are averaged, so two
random faces are about 1.0 apart and a face is 0 from itself. A judgement is that distance
plus Gaussian error of --noise (in the same units), drawn afresh for every face every time it
is looked at: a witness is not sure, and not sure the same way twice.

What is reported, per strategy and round, medians over witnesses: the perceptual distance of
the witness's face to the target (without the error), the dlib descriptor distance
(facegen.identity: under 0.6 reads as one person), and a naming proxy: the rank of the target
among DISTRACTORS prior faces by descriptor distance to the face built (1: the built face is
nearer the target than to any distractor, as if the composite were named).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.conversation.core import GRID_SIZE, VARIATION_STRENGTH  # noqa: E402
from bot import commands as chat_commands  # noqa: E402
from bot.grammar.parse import parse  # noqa: E402
from facegen import breeding  # noqa: E402
from facegen.attributes import Attributes  # noqa: E402
from facegen.backend import BackendInfo  # noqa: E402
from facegen.describe.back import describe_back  # noqa: E402
from facegen.facecode import FaceCode  # noqa: E402
from facegen.identity import descriptors, distance  # noqa: E402
from facegen.landmarks import find_faces, measure  # noqa: E402
from facegen.montage import MontageBackend, decode  # noqa: E402
from facegen.montage.attributes import DEGREE_PARAMS, HAIR_COLOURS, REVERSED, SKIN_TONES  # noqa: E402
from facegen.montage.params import SPECS, MontageParams, position, positive  # noqa: E402
from facegen.photo import load_photo  # noqa: E402
from facegen.recipes import candidate_set, clean_face_params, clean_set, make_face  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
PHOTOS = ("obama_official_portrait.jpg", "biden_official_portrait.jpg", "obama_podium.jpg", "biden_smiling.jpg")
STRATEGIES = ("grids", "variations", "breeding", "described")
# E-FIT's order: the outer face first (shape, hair), then the features, then the rest
GRID_ORDER = ("face", "hair", "jaw", "eyes", "brows", "nose", "mouth", "skin", "forehead", "ears",
              "facial_hair", "glasses", "lines")
SELECT = 3                 # faces a witness selects from a breeding array (issue #21: "three of nine")
PERCEPTION_SIZE = 256      # the side of the pictures the witness looks at
HEAD = (0.05, 0.05, 0.95, 0.85)   # the crop a witness compares: the clothes left out
BLUR = 3.0                 # Gaussian radius in px at PERCEPTION_SIZE (the face is about 120 px wide)
SUBSAMPLE = 4              # then every 4th pixel each way (the blur removed what lies between)
DESCRIPTOR_SIZE = 256      # renders the descriptor is taken on
DISTRACTORS = 100
SCALED_ON = 40             # the eye's scales are taken on the first 40 distractors
NOISE = 0.1
SAID_DEGREES = 3           # the strongest degrees a short description says …
SAID_FROM = 0.5            # … and only those at least this far from the middle of their range


# --- how a witness sees ----------------------------------------------------------------------

@dataclass(frozen=True)
class Looks:
    pixels: np.ndarray            # blurred grey levels of the head, 0 … 255
    geometry: np.ndarray | None   # the landmark proportions, None where no face was found


def head_picture(image: Image.Image) -> np.ndarray:
    side = image.width
    crop = image.convert("L").crop(tuple(round(v * side) for v in HEAD))
    blurred = np.asarray(crop.filter(ImageFilter.GaussianBlur(BLUR * side / PERCEPTION_SIZE)), np.float32)
    return blurred[::SUBSAMPLE, ::SUBSAMPLE]


def found_face(image: Image.Image):
    """The largest face the detector finds, trying harder (upsampled) before giving up."""
    faces = find_faces(image, upsample=0) or find_faces(image, upsample=1)
    return faces[0] if faces else None


def proportions(image: Image.Image) -> np.ndarray | None:
    face = found_face(image)
    return None if face is None else np.array(list(measure(face).as_dict().values()))


class Eye:
    """A witness's way of comparing faces: the perceptual distance (the module docstring),
    scaled on prior faces. Looks are cached by face, so a face met again costs nothing."""

    def __init__(self, backend: MontageBackend, prior: Sequence[FaceCode]) -> None:
        self.backend = backend
        self._looks: dict[bytes, Looks] = {}
        self._descriptors: dict[bytes, np.ndarray | None] = {}
        looks = [self.looks(code) for code in prior]
        shapes = np.array([l.geometry for l in looks if l.geometry is not None])
        self.spread = shapes.std(axis=0)
        pairs = [(a, b) for i, a in enumerate(looks) for b in looks[i + 1:]]
        self.pixel_scale = statistics.median(self._pixels(a, b) for a, b in pairs)
        self.shape_scale = statistics.median(self._shape(a, b) for a, b in pairs
                                             if a.geometry is not None and b.geometry is not None)
        # a face the detector misses counts as unlike in shape as random faces mostly are
        self.no_face = float(np.percentile([self._shape(a, b) for a, b in pairs
                                            if a.geometry is not None and b.geometry is not None], 90))

    def looks(self, code: FaceCode) -> Looks:
        key = code.to_bytes()
        if key not in self._looks:
            image = self.backend.render([code], PERCEPTION_SIZE)[0]
            self._looks[key] = Looks(head_picture(image), proportions(image))
        return self._looks[key]

    def descriptor(self, code: FaceCode) -> np.ndarray | None:
        """dlib's descriptor of the face's picture (None where no face is found): the measure
        of the result, never of the judgement."""
        key = code.to_bytes()
        if key not in self._descriptors:
            image = self.backend.render([code], DESCRIPTOR_SIZE)[0]
            face = found_face(image)
            self._descriptors[key] = None if face is None else descriptors([image], [face.box])[0]
        return self._descriptors[key]

    def _pixels(self, a: Looks, b: Looks) -> float:
        return float(np.sqrt(np.mean((a.pixels - b.pixels) ** 2)))

    def _shape(self, a: Looks, b: Looks) -> float:
        return float(np.sqrt(np.mean(((a.geometry - b.geometry) / self.spread) ** 2)))

    def distance(self, a: FaceCode, b: FaceCode) -> float:
        """About 1.0 between two random faces, 0 from itself."""
        la, lb = self.looks(a), self.looks(b)
        shape = self.no_face if la.geometry is None or lb.geometry is None else self._shape(la, lb)
        return 0.5 * (self._pixels(la, lb) / self.pixel_scale + shape / self.shape_scale)


@dataclass
class Witness:
    """Someone holding a face in mind: judges faces by the eye's distance to it, with error."""
    name: str
    kind: str                 # "prior" or "photo"
    target: FaceCode
    eye: Eye
    noise: float
    locale: str = "en"        # the language they describe in
    rng: np.random.Generator = field(default_factory=np.random.default_rng)

    def judge(self, faces: Sequence[FaceCode]) -> np.ndarray:
        true = np.array([self.eye.distance(face, self.target) for face in faces])
        return true + self.noise * self.rng.standard_normal(len(faces))

    def best(self, faces: Sequence[FaceCode], count: int = 1) -> list[int]:
        """The numbers (1-based) of the `count` faces that look most like the target, best first."""
        return [int(i) + 1 for i in np.argsort(self.judge(faces), kind="stable")[:count]]

    def better_than(self, current: FaceCode, faces: Sequence[FaceCode]) -> int | None:
        """The number of the best-looking face, if it looks better than the current one (shown
        beside the sheet), else None: nothing picked."""
        judged = self.judge([current, *faces])
        best = int(np.argmin(judged[1:]))
        return best + 1 if judged[1 + best] < judged[0] else None


# --- what a witness says: a short description of the target -------------------------------

def remembered(params: MontageParams) -> Attributes:
    """What a witness says of a montage face in a few words: hair (style and colour), skin
    tone, glasses and a beard when there are some, and the SAID_DEGREES strongest features at
    least SAID_FROM from the middle of their range. Gender and age band are left out: a montage
    face has no gender or age parameter to read them from."""
    degrees = {}
    for attribute, names in DEGREE_PARAMS.items():
        value = float(np.mean([position(SPECS[n], getattr(params, n)) * (-1 if n in REVERSED else 1) for n in names]))
        if abs(value) >= SAID_FROM:
            degrees[attribute] = value
    strongest = sorted(degrees, key=lambda a: -abs(degrees[a]))[:SAID_DEGREES]
    grey = positive(params.hair_grey)
    if grey >= 0.8:
        colour = "white"
    elif grey >= 0.35:
        colour = "grey"
    elif params.hair_red > 0.4:
        colour = "red"
    else:
        colour = min(("black", "brown", "blond"),
                     key=lambda c: abs(HAIR_COLOURS[c]["hair_darkness"] - params.hair_darkness))
    said = {name: degrees[name] for name in strongest}
    return Attributes(hair_style=params.hair_style, hair_colour=colour,
                      skin_tone=min(SKIN_TONES, key=lambda t: abs(SKIN_TONES[t] - params.skin_tone)),
                      glasses=True if params.glasses else None,
                      beard=params.beard if params.beard != "none" else None, **said)


def described_face(backend: MontageBackend, info: BackendInfo, words: str, locale: str, seed: int) -> FaceCode:
    """The face the chat makes when someone with no face yet types `words`: the chat's grammar
    reads them (bot.grammar.parse), then the "describe" recipe with the attributes it read."""
    parsed = parse(words, locale)
    if not isinstance(parsed, chat_commands.Describe):
        raise SystemExit(f"the chat did not read {words!r} as a description: {parsed!r}")
    request = parsed.request
    params = {"text": request.text, "attributes": request.description.attributes.specified(), "seed": seed}
    return make_face(backend, "describe", clean_face_params("describe", params, info))


# --- the strategies, each through the chat's recipes ----------------------------------------

@dataclass(frozen=True)
class Session:
    """What every strategy needs: the backend, its description (what the chat validates
    against), the rounds, the array sizes."""
    backend: MontageBackend
    info: BackendInfo
    rounds: int
    grid_size: int = GRID_SIZE
    array: int = breeding.TELEGRAM_ARRAY
    select: int = SELECT
    schedule: Callable[[int], float] | None = None   # a trial mutation schedule (None: breeding's own)

    def pick(self, parent: FaceCode, shown_set: dict, number: int) -> FaceCode:
        """"pick number k": the recipe the chat stores, replayed."""
        params = clean_face_params("pick", {"set": shown_set, "number": number}, self.info)
        return make_face(self.backend, "pick", params, parent=parent)

    def sheet(self, parent: FaceCode, params: dict) -> tuple[dict, list[FaceCode]]:
        """A candidate set as the chat queues it (checked) and the worker draws it."""
        cleaned = clean_set(params, self.info)
        return cleaned, candidate_set(self.backend, parent, cleaned)


Strategy = Callable[[Session, Witness, FaceCode, np.random.Generator], list[FaceCode]]


def seeds(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def by_grids(session: Session, witness: Witness, start: FaceCode, rng: np.random.Generator) -> list[FaceCode]:
    faces = [start]
    for r in range(session.rounds):
        region = GRID_ORDER[r % len(GRID_ORDER)]
        params, shown = session.sheet(faces[-1], {"kind": "region", "region": region, "n": session.grid_size,
                                                  "seed": seeds(rng)})
        number = witness.better_than(faces[-1], shown)
        faces.append(faces[-1] if number is None else session.pick(faces[-1], params, number))
    return faces


def by_variations(session: Session, witness: Witness, start: FaceCode, rng: np.random.Generator) -> list[FaceCode]:
    faces = [start]
    for _ in range(session.rounds):
        params, shown = session.sheet(faces[-1], {"kind": "variations", "n": session.grid_size,
                                                  "strength": VARIATION_STRENGTH, "seed": seeds(rng)})
        number = witness.better_than(faces[-1], shown)
        faces.append(faces[-1] if number is None else session.pick(faces[-1], params, number))
    return faces


def by_breeding(session: Session, witness: Witness, anchor: FaceCode, rng: np.random.Generator) -> list[FaceCode]:
    """Rounds of one breeding session around `anchor` (the face it started from, the sheet's
    face throughout): select the best few, breed the next array from them."""
    faces = [anchor]
    params = breeding.first_round(session.array, seeds(rng))
    for r in range(session.rounds):
        if session.schedule is not None:
            params = {**params, "strength": session.schedule(params["round"])}
        params, shown = session.sheet(anchor, params)
        chosen = witness.best(shown, session.select)
        faces.append(session.pick(anchor, params, chosen[0]))
        if r + 1 < session.rounds:
            params = breeding.next_round(params, chosen, seeds(rng))
    return faces


def trial_schedule(first: float, decay: float, least: float) -> Callable[[int], float]:
    """A mutation strength schedule to try, in breeding.strength_for's form."""
    return lambda round_number: round(max(least, first * decay ** (round_number - 1)), 4)


# --- one run ---------------------------------------------------------------------------------

@dataclass
class Result:
    """One witness's faces by one strategy, round 0 … R, and how near each came."""
    witness: Witness
    strategy: str
    faces: list[FaceCode]
    perceptual: list[float] = field(default_factory=list)
    dlib: list[float] = field(default_factory=list)
    rank: list[int] = field(default_factory=list)


def score(result: Result, eye: Eye, distractors: np.ndarray) -> None:
    """Perceptual and descriptor distance to the target, and the target's rank among the
    distractors by descriptor distance to each face (a face the detector misses ranks last)."""
    target = eye.descriptor(result.witness.target)
    for face in result.faces:
        result.perceptual.append(eye.distance(face, result.witness.target))
        code = eye.descriptor(face)
        if code is None or target is None:
            result.dlib.append(float("nan"))
            result.rank.append(len(distractors) + 1)
            continue
        own = distance(code, target)
        result.dlib.append(own)
        result.rank.append(1 + int(np.sum(np.linalg.norm(distractors - code, axis=1) < own)))


def agreement(eye: Eye, faces: Sequence[FaceCode]) -> float:
    """Spearman's rank correlation between the eye's distances and dlib's over pairs of faces."""
    pairs = [(a, b) for i, a in enumerate(faces) for b in faces[i + 1:]
             if eye.descriptor(a) is not None and eye.descriptor(b) is not None]
    ours = np.array([eye.distance(a, b) for a, b in pairs])
    theirs = np.array([distance(eye.descriptor(a), eye.descriptor(b)) for a, b in pairs])
    ranks = [np.argsort(np.argsort(x)) for x in (ours, theirs)]
    return float(np.corrcoef(*ranks)[0, 1])


def photo_targets(backend: MontageBackend, count: int, evaluations: int | None) -> list[tuple[str, FaceCode]]:
    """The faces the chat's photo job makes from the first `count` test photos."""
    from facegen.montage.photo_fit import fit_photo   # loads dlib's models: only when asked
    out = []
    for name in PHOTOS[:count]:
        photo = load_photo((DATA / name).read_bytes(), max_bytes=50_000_000, max_pixels=50_000_000)
        out.append((name.removesuffix(".jpg"), fit_photo(photo, backend, evaluations=evaluations).code))
    return out


def run(args: argparse.Namespace) -> list[Result]:
    backend = MontageBackend()
    info = backend.describe()
    # separate streams, so that more distractors do not change the targets
    picked, drawn = np.random.default_rng([args.seed, 2**30]), np.random.default_rng([args.seed, 2**30 + 1])
    distractor_codes = [backend.sample(seeds(picked)) for _ in range(args.distractors)]
    eye = Eye(backend, distractor_codes[:SCALED_ON])
    distractors = np.array([d for d in map(eye.descriptor, distractor_codes) if d is not None])

    print(f"the eye against dlib: Spearman's rho {agreement(eye, distractor_codes[:SCALED_ON]):.2f} between the "
          f"perceptual and the descriptor distances of pairs of {min(SCALED_ON, args.distractors)} prior faces")

    targets = [(f"prior-{i + 1}", "prior", backend.sample(seeds(drawn))) for i in range(args.witnesses)]
    targets += [(name, "photo", code) for name, code in photo_targets(backend, args.photos, args.evaluations)]
    locales = args.locales.split(",")
    schedule = None if args.strengths is None else trial_schedule(*args.strengths)
    session = Session(backend, info, args.rounds, grid_size=args.grid_size, array=args.array, select=args.select,
                      schedule=schedule)
    strategies: dict[str, Strategy] = {"grids": by_grids, "variations": by_variations, "breeding": by_breeding}

    results = []
    for i, (name, kind, target) in enumerate(targets):
        locale = locales[i % len(locales)]
        start = backend.sample(seeds(np.random.default_rng([args.seed, i])))   # "new": one first face for three
        for s, strategy in enumerate(STRATEGIES):
            if strategy not in args.strategies:
                continue
            # each strategy its own random streams, so its figures do not depend on which others run
            rng = np.random.default_rng([args.seed, i, s])
            witness = Witness(name, kind, target, eye, args.noise, locale, np.random.default_rng([args.seed, i, s, 1]))
            if strategy == "described":
                words = describe_back(remembered(decode(target)), locale)
                anchor = described_face(backend, info, words, locale, seeds(rng))
                faces = by_breeding(session, witness, anchor, rng)
            else:
                faces = strategies[strategy](session, witness, start, rng)
            result = Result(witness, strategy, faces)
            score(result, eye, distractors)
            results.append(result)
        if args.verbose:
            print(f"  {name}: " + "  ".join(f"{r.strategy} {r.perceptual[0]:.2f}→{r.perceptual[-1]:.2f}"
                                             for r in results if r.witness.name == name), flush=True)
    return results


# --- what is printed and drawn ---------------------------------------------------------------

def present(results: Sequence[Result]) -> list[str]:
    return [s for s in STRATEGIES if any(r.strategy == s for r in results)]


def medians(results: Sequence[Result], strategy: str, measure: str) -> list[float]:
    rows = [getattr(r, measure) for r in results if r.strategy == strategy]
    return [float(np.nanmedian([row[k] for row in rows])) for k in range(len(rows[0]))]


def named(results: Sequence[Result], strategy: str, k: int) -> int:
    return sum(r.rank[k] == 1 for r in results if r.strategy == strategy)


def print_table(results: Sequence[Result], rounds: int) -> None:
    people = len({r.witness.name for r in results})
    print(f"{'strategy':<11} {'round':>5} {'perceptual':>10} {'dlib':>6} {'rank':>6} {'named':>7}")
    for strategy in present(results):
        perceptual, dlib, rank = (medians(results, strategy, m) for m in ("perceptual", "dlib", "rank"))
        for k in range(rounds + 1):
            print(f"{strategy:<11} {k:>5} {perceptual[k]:>10.3f} {dlib[k]:>6.3f} {rank[k]:>6.1f} "
                  f"{named(results, strategy, k):>3}/{people}")


def rounds_to_reach(curve: Sequence[float], level: float) -> int | None:
    return next((k for k, v in enumerate(curve) if v <= level), None)


def print_summary(results: Sequence[Result], rounds: int) -> None:
    """Rounds each strategy needs to get as near as the best of grids and variations gets in
    all the rounds; per witness, who ends nearer; the last round by kind of target."""
    strategies = present(results)
    curves = {s: medians(results, s, "perceptual") for s in strategies}
    baselines = [s for s in ("grids", "variations") if s in strategies]
    if baselines:
        level = min(curves[s][-1] for s in baselines)
        print(f"--- rounds to a median perceptual distance of {level:.3f} (the nearer of {' and '.join(baselines)} "
              f"after {rounds} rounds)")
        for strategy in strategies:
            reached = rounds_to_reach(curves[strategy], level)
            print(f"{strategy:<11} {'not reached' if reached is None else reached}")
    final = {s: {r.witness.name: r.perceptual[-1] for r in results if r.strategy == s} for s in strategies}
    for mine in [s for s in ("breeding", "described") if s in strategies]:
        for other in baselines:
            wins = sum(final[mine][p] < final[other][p] for p in final[mine])
            print(f"{mine} nearer than {other} after round {rounds}: {wins}/{len(final[mine])} witnesses")
    print(f"--- after round {rounds}, by kind of target: median perceptual / dlib / rank")
    for kind in dict.fromkeys(r.witness.kind for r in results):
        mine = [r for r in results if r.witness.kind == kind]
        count = len({r.witness.name for r in mine})
        cells = "  ".join(f"{s} {medians(mine, s, 'perceptual')[-1]:.3f} / {medians(mine, s, 'dlib')[-1]:.3f} / "
                          f"{medians(mine, s, 'rank')[-1]:.0f}" for s in strategies)
        print(f"{kind:<6} ({count:>2}) {cells}")


COLOURS = {"grids": (214, 96, 77), "variations": (230, 171, 2), "breeding": (31, 120, 180),
           "described": (51, 160, 44)}


def draw_curves(results: Sequence[Result], rounds: int, path: Path, title: str) -> None:
    """Three panels (perceptual distance, dlib distance, the target's median rank) over rounds,
    a line per strategy; drawn with Pillow (matplotlib is not installed)."""
    panels = (("perceptual distance (median)", "perceptual"), ("dlib distance (median)", "dlib"),
              ("rank of the target among the distractors (median)", "rank"))
    width, height, margin = 1260, 430, 56
    panel_w = (width - margin) // len(panels)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=15)
    small = ImageFont.load_default(size=12)
    draw.text((margin, 8), title, fill="black", font=font)
    for p, (label, measure) in enumerate(panels):
        curves = {s: medians(results, s, measure) for s in present(results)}
        values = [v for c in curves.values() for v in c if np.isfinite(v)]
        low, high = 0.0, max(values) * 1.08
        left, top = margin + p * panel_w, 60
        right, bottom = left + panel_w - 40, height - 90
        draw.rectangle((left, top, right, bottom), outline=(120, 120, 120))
        draw.text((left, top - 20), label, fill="black", font=small)

        def xy(k: int, v: float) -> tuple[float, float]:
            return (left + (right - left) * k / max(rounds, 1), bottom - (bottom - top) * (v - low) / (high - low))

        for tick in np.linspace(low, high, 5):
            y = xy(0, tick)[1]
            draw.line((left - 4, y, left, y), fill=(120, 120, 120))
            draw.text((left - 6, y), f"{tick:.2f}" if high < 10 else f"{tick:.0f}", fill="black", font=small,
                      anchor="rm")
        for k in range(rounds + 1):
            x = xy(k, 0)[0]
            draw.line((x, bottom, x, bottom + 4), fill=(120, 120, 120))
            draw.text((x, bottom + 6), str(k), fill="black", font=small, anchor="mt")
        draw.text(((left + right) / 2, bottom + 22), "round", fill="black", font=small, anchor="mt")
        for strategy, curve in curves.items():
            points = [xy(k, v) for k, v in enumerate(curve)]
            draw.line(points, fill=COLOURS[strategy], width=3)
            for x, y in points:
                draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=COLOURS[strategy])
    x = margin
    for strategy in present(results):
        draw.line((x, height - 30, x + 26, height - 30), fill=COLOURS[strategy], width=4)
        draw.text((x + 32, height - 30), strategy, fill="black", font=font, anchor="lm")
        x += 180
    image.save(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="simulated witnesses building a face by each strategy")
    parser.add_argument("--witnesses", type=int, default=16, help="targets drawn from the montage prior")
    parser.add_argument("--photos", type=int, default=len(PHOTOS), choices=range(len(PHOTOS) + 1),
                        help="targets made from test photos")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--noise", type=float, default=NOISE, help="a judgement's error (random faces are ~1 apart)")
    parser.add_argument("--distractors", type=int, default=DISTRACTORS)
    parser.add_argument("--array", type=int, default=breeding.TELEGRAM_ARRAY, help="faces in a breeding array")
    parser.add_argument("--select", type=int, default=SELECT, help="faces selected from each breeding array")
    parser.add_argument("--strengths", type=lambda v: tuple(map(float, v.split(","))), default=None,
                        metavar="FIRST,DECAY,LEAST",
                        help="try another mutation schedule: round r mutates at max(LEAST, FIRST·DECAY^(r−1)) "
                             f"(breeding's: {breeding.FIRST_STRENGTH},{breeding.STRENGTH_DECAY},"
                             f"{breeding.MIN_STRENGTH})")
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="which strategies to run")
    parser.add_argument("--grid-size", type=int, default=GRID_SIZE, help="faces in a grid or variations sheet")
    parser.add_argument("--evaluations", type=int, default=None, help="the photo fit's identity evaluations")
    parser.add_argument("--locales", default="en,ko", help="the languages witnesses describe in, in turn")
    parser.add_argument("--out", type=Path, default=Path("witness_curve.png"), help="where the curve is drawn")
    parser.add_argument("--verbose", action="store_true", help="a line per witness as it finishes")
    parser.add_argument("--smoke", action="store_true",
                        help="1 prior + 1 photo witness (measured fit), 2 rounds, small sheets: a check that it runs")
    args = parser.parse_args(argv)
    args.strategies = args.strategies.split(",")
    if unknown := set(args.strategies) - set(STRATEGIES):
        parser.error(f"--strategies: unknown {', '.join(sorted(unknown))}; choose from {', '.join(STRATEGIES)}")
    if args.smoke:
        args.witnesses, args.photos, args.rounds, args.distractors = 1, 1, 2, 8
        args.evaluations, args.grid_size, args.array, args.locales = 0, 4, 4, "en"
    if args.rounds > breeding.MAX_ROUNDS:
        parser.error(f"--rounds: breeding stops at {breeding.MAX_ROUNDS} rounds")
    started = time.perf_counter()
    print(f"witness bench: {args.witnesses} prior + {args.photos} photo targets, {args.rounds} rounds, "
          f"noise {args.noise:g}, {args.distractors} distractors, seed {args.seed}; sheets of {args.grid_size} "
          f"(variations at strength {VARIATION_STRENGTH:g}), breeding arrays of {args.array}, {args.select} selected")
    results = run(args)
    print_table(results, args.rounds)
    print_summary(results, args.rounds)
    title = (f"{args.witnesses + args.photos} simulated witnesses, noise {args.noise:g}, "
             f"breeding arrays of {args.array} ({args.select} selected), sheets of {args.grid_size}")
    draw_curves(results, args.rounds, args.out, title)
    print(f"curve: {args.out}")
    print(f"wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
