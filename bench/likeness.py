"""Do faces made from photos look like the person? (issue #15; a script that prints figures.)

    .venv/bin/python bench/likeness.py [--evaluations 48]
    .venv/bin/python bench/likeness.py --smoke     # 4 people, 8 evaluations, 2 repeats

Likeness is measured with dlib's 128-d face descriptor (facegen.identity; 99.38% on LFW, under
0.6 apart reads as one person). Each person has two photos: the face is made from photo 1 and
compared with everyone's photo 2, which the fit never saw.

People: only two real photo pairs exist here (tests/data, public domain: Obama and Biden, an
official portrait and a photo from another day). Three more people are montage faces with
known parameters: their photo 1 is a render at one size and crop, their photo 2 a render of
the same face with another expression, lighting depth, hair volume and clothes, at another
size and crop. Those three are easier than real people (the fit draws in their own style), and
every made face lies nearer to any montage render than to any real photo, so a made face is
ranked among the photos 2 of its own kind: the real people's among the 2 real ones (chance
1 in 2), the montage people's among the 3 rendered ones (chance 1 in 3). Two more real people
have one photo each (Eileen Collins and Grace Hopper, public domain): they are not ranked, but
their made faces join the real people's spread.

Both fits run in the same sitting on the same photos: "measured" is the landmark, colour and
hair fit (today's fit, its hair now measured), "identity" adds the identity-guided step
(facegen/montage/identity_fit.py). A made face is scored at a size and crop the fit never
optimised against (rendered at 384 px, off-centre on a larger canvas of another grey, found
again by the detector at its own settings), so the figure is not the optimiser talking to
itself.

The spread: how far apart the made faces of different people lie, as the nearest pair, among
the pairs whose photos 1 the recogniser tells apart (SAME_PERSON or more) and among the pairs
it takes for one person even on their photos (the montage people can be: random montage faces
lie closer together than photos of different people). For reference, the same figure for
random montage faces drawn plain, as made faces are, and scored the same way.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facegen.identity import SAME_PERSON, STRANGERS, descriptor, distance  # noqa: E402
from facegen.landmarks import find_faces  # noqa: E402
from facegen.montage import MontageBackend, decode  # noqa: E402
from facegen.montage import identity_fit  # noqa: E402
from facegen.montage.params import SPECS, MontageParams, position  # noqa: E402
from facegen.montage.photo_fit import BROW_HIDING_STYLES, CLEAR_STYLE, KNOBS, PLAIN, fit_photo  # noqa: E402
from facegen.montage.render import render  # noqa: E402
from facegen.photo import load_photo  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
REAL = {"obama": ("obama_official_portrait.jpg", "obama_podium.jpg"),
        "biden": ("biden_official_portrait.jpg", "biden_smiling.jpg")}
# Real people with one photo each (tests/data, public domain): not ranked (no second photo), only
# counted in the spread of the real people's made faces.
SINGLE_PHOTOS = {"collins": "collins_astronaut.jpg", "hopper": "hopper_portrait.jpg"}
RENDERED_SEEDS = {"montage-a": 101, "montage-b": 202, "montage-c": 303}
REFERENCE_SEEDS = range(1000, 1016)   # random montage faces: how far apart the montage draws anyone
CARICATURES = (0.5, 1.0)
GEOMETRY = tuple(dict.fromkeys(name for names in KNOBS.values() for name in names))


@dataclass
class Person:
    name: str
    photo_1: Image.Image
    photo_2: Image.Image
    truth: MontageParams | None = None   # the montage people's parameters

    @property
    def kind(self) -> str:
        return "real" if self.truth is None else "montage"


def photo(name: str) -> Image.Image:
    return load_photo((DATA / name).read_bytes(), max_bytes=50_000_000, max_pixels=50_000_000)


def on_canvas(face: Image.Image, canvas: tuple[int, int], at: tuple[int, int], grey: int) -> Image.Image:
    out = Image.new("RGB", canvas, (grey, grey, grey + 6))
    out.paste(face, at)
    return out


def plain_face(seed: int, backend: MontageBackend) -> MontageParams:
    """The seed's montage face as a made face wears it: no beard or glasses, brows in view."""
    params = dataclasses.replace(decode(backend.sample(seed)), **PLAIN)
    if params.hair_style in BROW_HIDING_STYLES:
        params = dataclasses.replace(params, hair_style=CLEAR_STYLE)
    return params


def rendered_person(name: str, seed: int, backend: MontageBackend) -> Person:
    """A montage face with known parameters, as two "photos" that differ in expression,
    lighting depth, hair volume, clothes, size and crop."""
    params = plain_face(seed, backend)
    other = dataclasses.replace(params, smile=0.6 if params.smile < 0.2 else -0.3,
                                mouth_corners=float(np.clip(params.mouth_corners + 0.4, -1, 1)),
                                shading=1.2 if params.shading < 1.0 else 0.85, hair_volume=1.0 - params.hair_volume,
                                clothes_hue=(params.clothes_hue + 0.5) % 1.0)
    return Person(name, on_canvas(render(params, 448), (560, 600), (50, 100), 215),
                  on_canvas(render(other, 360), (600, 520), (150, 60), 180), truth=params)


def scored(params: MontageParams) -> np.ndarray:
    """The descriptor of a made face at a size and crop the fit never scored."""
    return descriptor(on_canvas(render(params, 384), (520, 560), (90, 120), 190))


@dataclass
class Made:
    person: str
    params: MontageParams
    code: np.ndarray   # the made face's descriptor (a drawing's: no one's biometric data)
    seconds: float     # wall
    cpu: float = 0.0   # this process's CPU seconds: what a machine without other work would wait


def made_faces(people: list[Person], backend: MontageBackend, evaluations: int
               ) -> tuple[list[Made], list[Made], dict[float, list[Made]]]:
    """Each person's face from photo 1: measured fit, identity fit (and its caricatures)."""
    measured, identity, caricatures = [], [], {s: [] for s in CARICATURES}
    for person in people:
        started, cpu = time.perf_counter(), time.process_time()
        plain = fit_photo(person.photo_1, backend, evaluations=0)
        measured.append(Made(person.name, plain.params, scored(plain.params), time.perf_counter() - started,
                             time.process_time() - cpu))
        started, cpu = time.perf_counter(), time.process_time()
        fit = fit_photo(person.photo_1, backend, evaluations=evaluations)
        identity.append(Made(person.name, fit.params, scored(fit.params), time.perf_counter() - started,
                             time.process_time() - cpu))
        for strength in caricatures:
            params = identity_fit.caricature(fit.params, strength)
            caricatures[strength].append(Made(person.name, params, scored(params), 0.0))
    return measured, identity, caricatures


def rank_1(made: list[Made], photos_2: dict[str, np.ndarray], kind: dict[str, str]
           ) -> tuple[int, list[float], list[float]]:
    """How many made faces are nearest their own person's photo 2 among the photos 2 of their
    kind; their distances to it and to the nearest other one."""
    hits, own, other = 0, [], []
    for m in made:
        distances = {name: distance(m.code, code) for name, code in photos_2.items() if kind[name] == kind[m.person]}
        nearest_other = min((d for name, d in distances.items() if name != m.person), default=float("nan"))
        hits += distances[m.person] < nearest_other
        own.append(distances[m.person])
        other.append(nearest_other)
    return hits, own, other


def summary(label: str, made: list[Made], photos_2: dict[str, np.ndarray], kind: dict[str, str]) -> None:
    hits, own, other = rank_1(made, photos_2, kind)
    apart = [distance(a.code, b.code) for i, a in enumerate(made) for b in made[i + 1:]]
    print(f"{label:<16} rank-1 {hits}/{len(made)}  own photo 2 mean {statistics.mean(own):.3f}  "
          f"nearest other mean {statistics.mean(other):.3f}  made faces apart median {statistics.median(apart):.3f} "
          f"min {min(apart):.3f}")


def spread(label: str, made: list[Made], photos_1: dict[str, np.ndarray]) -> None:
    """The nearest pair of made faces, among the pairs of people whose photos 1 the recogniser
    tells apart (SAME_PERSON or more) and among those it takes for one person."""
    pairs = [(distance(a.code, b.code), a.person, b.person) for i, a in enumerate(made) for b in made[i + 1:]]
    told_apart = [p for p in pairs if distance(photos_1[p[1]], photos_1[p[2]]) >= SAME_PERSON]
    alike = [p for p in pairs if p not in told_apart]
    parts = []
    for group, what in ((told_apart, "told apart on their photos 1"), (alike, "alike on their photos 1")):
        if group:
            nearest, a, b = min(group)
            wide = sum(d >= SAME_PERSON for d, _, _ in group)
            parts.append(f"{len(group)} pairs {what}: min {nearest:.3f} ({a}–{b}), "
                         f"{wide} of them {SAME_PERSON} or more apart")
    print(f"{label:<16} made faces apart: " + "; ".join(parts))


def random_montage_spread(backend: MontageBackend, seeds: range) -> None:
    """How far apart random montage faces (plain, as made faces are drawn) measure, scored
    like the made faces: the spread the montage gives people who are not fitted at all."""
    codes = []
    for seed in seeds:
        try:
            codes.append(scored(plain_face(seed, backend)))
        except ValueError:   # the detector finds no face in this drawing
            pass
    apart = np.array([distance(a, b) for i, a in enumerate(codes) for b in codes[i + 1:]])
    low, median, high = np.percentile(apart, [5, 50, 95])
    print(f"--- random montage faces (seeds {seeds.start}–{seeds.stop - 1}, {len(codes)} found), {len(apart)} pairs "
          f"apart: min {apart.min():.3f}, 5th percentile {low:.3f}, median {median:.3f}, 95th {high:.3f}, "
          f"max {apart.max():.3f}; {np.mean(apart >= SAME_PERSON):.0%} of pairs {SAME_PERSON} or more apart")


def real_spread(identity: list[Made], photos_1: dict[str, np.ndarray], real: dict[str, tuple[str, str]],
                backend: MontageBackend, evaluations: int) -> None:
    """How far apart the made faces of every real person lie (the ranked ones and those with a
    single photo), beside how far apart their photos 1 lie: the spread on real faces alone."""
    made = {m.person: m.code for m in identity if m.person in real}
    photos = {name: photos_1[name] for name in real}
    for name, file in SINGLE_PHOTOS.items():
        image = photo(file)
        fit = fit_photo(image, backend, evaluations=evaluations)
        made[name], photos[name] = scored(fit.params), descriptor(image)
        print(f"{name:<10} identity fit: skin tone {fit.params.skin_tone:.2f}, hair {fit.params.hair_style}, "
              f"made face to its photo {distance(made[name], photos[name]):.3f}")
    names = list(made)
    pairs = [(distance(made[a], made[b]), distance(photos[a], photos[b]), a, b)
             for i, a in enumerate(names) for b in names[i + 1:]]
    print(f"--- real people's made faces (identity fit; {len(names)} people, {len(pairs)} pairs): "
          f"{sum(d >= SAME_PERSON for d, *_ in pairs)} of {len(pairs)} pairs {SAME_PERSON} or more apart")
    for made_apart, photos_apart, a, b in sorted(pairs):
        print(f"  {a}–{b}: made faces {made_apart:.3f} apart, photos {photos_apart:.3f}")


def calibration(real: dict[str, tuple[str, str]]) -> None:
    """The photo distances behind the likeness levels a photo's reply states
    (facegen.identity.likeness_level): every pair of the real people's photos, two_faces.jpg's
    two faces (left Obama, right Biden) counted as a third photo of each."""
    photos = {(who, f): descriptor(photo(f))
              for who, files in real.items() for f in files}
    both = photo("two_faces.jpg")
    left, right = sorted(find_faces(both)[:2], key=lambda face: face.box[0])
    for who, face in (("obama", left), ("biden", right)):
        if who in real:
            photos[(who, "two_faces.jpg")] = descriptor(both, face.box)
    keys = list(photos)
    same = sorted(distance(photos[a], photos[b]) for i, a in enumerate(keys) for b in keys[i + 1:] if a[0] == b[0])
    other = sorted(distance(photos[a], photos[b]) for i, a in enumerate(keys) for b in keys[i + 1:] if a[0] != b[0])
    print(f"--- likeness levels: photos of one person {len(same)} pairs {same[0]:.2f}–{same[-1]:.2f} apart; "
          f"of different people {len(other)} pairs {other[0]:.2f}–{other[-1]:.2f}; "
          f"levels: high under {SAME_PERSON}, low from {STRANGERS}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="likeness of faces made from photos, before and after the identity fit")
    parser.add_argument("--evaluations", type=int, default=identity_fit.EVALUATIONS)
    parser.add_argument("--repeats", type=int, default=5, help="fits of one photo, to check they agree")
    parser.add_argument("--smoke", action="store_true", help="4 people, 8 evaluations: a quick check that the script runs")
    args = parser.parse_args(argv)
    backend = MontageBackend()
    real, rendered = dict(REAL), dict(RENDERED_SEEDS)
    if args.smoke:
        rendered = {name: RENDERED_SEEDS[name] for name in ("montage-a", "montage-b")}
        args.evaluations, args.repeats = 8, 2
    people = [Person(name, *(photo(f) for f in files)) for name, files in real.items()]
    people += [rendered_person(name, seed, backend) for name, seed in rendered.items()]
    print(f"likeness: {len(real)} real photo pairs (tests/data, public domain) + {len(rendered)} montage people "
          f"with known parameters; identity fit {args.evaluations} evaluations; dlib threshold {SAME_PERSON}")

    photos_2 = {p.name: descriptor(p.photo_2) for p in people}
    photos_1 = {p.name: descriptor(p.photo_1) for p in people}
    measured, identity, caricatures = made_faces(people, backend, args.evaluations)

    kind = {p.name: p.kind for p in people}
    print(f"{'person':<10} {'fit':<9} {'photo 1':>7} {'own photo 2':>11} {'nearest other':>20} {'rank-1':>6} {'time':>7}")
    for fit, made in (("measured", measured), ("identity", identity)):
        for m in made:
            others = {n: distance(m.code, c) for n, c in photos_2.items() if n != m.person and kind[n] == kind[m.person]}
            nearest = min(others, key=others.get, default="-")
            own = distance(m.code, photos_2[m.person])
            print(f"{m.person:<10} {fit:<9} {distance(m.code, photos_1[m.person]):7.3f} {own:11.3f} "
                  f"{others.get(nearest, float('nan')):8.3f} ({nearest:<9}) "
                  f"{'yes' if own < others.get(nearest, np.inf) else 'no':>6} {m.seconds:6.1f}s")

    print(f"--- made from photo 1, nearest photo 2 of its kind; {len(people)} people")
    summary("measured", measured, photos_2, kind)
    summary("identity", identity, photos_2, kind)
    for strength, made in caricatures.items():
        summary(f"caricature {strength}", made, photos_2, kind)
    photo_apart = [distance(photos_2[a.name], photos_2[b.name]) for i, a in enumerate(people) for b in people[i + 1:]]
    print(f"photos 2 apart median {statistics.median(photo_apart):.3f}")
    for label, made in (("measured", measured), ("identity", identity),
                        *((f"caricature {strength}", m) for strength, m in caricatures.items())):
        spread(label, made, photos_1)
    random_montage_spread(backend, REFERENCE_SEEDS[:6] if args.smoke else REFERENCE_SEEDS)
    if len(real) > 1:
        print(f"--- the real pairs alone ({len(real)} people)")
        for fit, made in (("measured", measured), ("identity", identity)):
            summary(fit, [m for m in made if kind[m.person] == "real"], photos_2, kind)
        print(f"real photos apart: photo 1 to photo 1 {distance(*[photos_1[n] for n in real]):.3f}, "
              f"photo 2 to photo 2 {distance(*[photos_2[n] for n in real]):.3f}")

    truth = {p.name: p.truth for p in people if p.truth is not None}
    if truth:
        def error(made: list[Made]) -> float:
            """Mean |position − true position| over the measured geometry, montage people only."""
            return statistics.mean(abs(position(SPECS[n], getattr(m.params, n))
                                       - position(SPECS[n], getattr(truth[m.person], n)))
                                   for m in made if m.person in truth for n in GEOMETRY)
        print(f"known parameters ({len(truth)} montage people): the measured geometry is off by a mean "
              f"{error(measured):.3f} of a position (ranges span -1..1) after the measured fit, "
              f"{error(identity):.3f} after the identity fit")

    real_spread(identity, photos_1, real, backend, args.evaluations)
    calibration(real)

    first = people[0].photo_1
    codes = {fit_photo(first, backend, evaluations=args.evaluations).code.to_bytes() for _ in range(args.repeats)}
    print(f"same photo x{args.repeats}: {len(codes)} distinct face(s)")
    for fit, made in (("measured", measured), ("identity", identity)):
        seconds, cpu = [m.seconds for m in made], [m.cpu for m in made]
        print(f"time per fit, {fit:<8}: mean {statistics.mean(seconds):.1f} s, max {max(seconds):.1f} s "
              f"(wall, this machine); CPU mean {statistics.mean(cpu):.1f} s, max {max(cpu):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
