"""Do morph shares mean what they say? (issue #15 item 5; a script that prints figures.)

    .venv/bin/python bench/morph_share.py
    .venv/bin/python bench/morph_share.py --smoke     # one "me", two partners, one mode, two sizes, 8 evaluations

"Me" is the montage face made from a portrait (tests/data, public domain), as the chat makes it
from a photo; each partner is the face made from the other portrait or one of the embedded
gallery's fictional faces. At each ratio r (me's share, 0 to 1 in steps of 0.1) the morph is
drawn and its distance to me is measured with dlib's face descriptor (facegen.identity), as
the mean over renders at SIZES px, which evens out the recogniser's response to how a drawing
falls on the pixels (the same face drawn at two sizes measures apart: printed first). The
distance should fall at every step as r rises: "monotone" says it did, else the largest rise
between two steps is printed.

The style and attribute modes are crossovers (facegen.latent): at r their coarse layers (or
first channels) are r me and the rest 1 − r me, so at r = 1 they are me's structure with the
partner's fine layers, not me; their curves are printed for what they are.

The StyleGAN backend is not measured: the only models here are the tests' untrained tiny ones,
whose pictures hold no face the recogniser finds.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facegen.backend import PhotoFitOptions  # noqa: E402
from facegen.facecode import FaceCode  # noqa: E402
from facegen.gallery import FICTIONAL_FACES, code_from_source  # noqa: E402
from facegen.identity import DRAWN_SIZES, distance, drawn_distances, found_descriptors  # noqa: E402
from facegen.latent import MORPH_MODES  # noqa: E402
from facegen.montage import MontageBackend  # noqa: E402
from facegen.montage.identity_fit import EVALUATIONS  # noqa: E402
from facegen.photo import load_photo  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
PORTRAITS = {"obama": "obama_official_portrait.jpg", "biden": "biden_official_portrait.jpg"}
RATIOS = tuple(round(0.1 * i, 1) for i in range(11))
SIZES = DRAWN_SIZES


def share_curve(backend: MontageBackend, me: FaceCode, other: FaceCode, mode: str,
                sizes: tuple[int, ...] = SIZES, ratios: tuple[float, ...] = RATIOS) -> list[float]:
    """The morph's distance to me at each ratio: the mean over renders at `sizes`."""
    return drawn_distances(backend, me, [backend.morph(me, other, r, mode) for r in ratios], sizes)


def largest_rise(curve: list[float]) -> float:
    """The largest increase between neighbouring ratios (≤ 0 when the curve falls throughout)."""
    return max(b - a for a, b in zip(curve, curve[1:]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the morph's distance to 'me' at each share")
    parser.add_argument("--evaluations", type=int, default=EVALUATIONS, help="of the photo fits that make 'me'")
    parser.add_argument("--smoke", action="store_true",
                        help="one 'me', two partners, linear only, two sizes, 8 evaluations")
    args = parser.parse_args(argv)
    backend = MontageBackend()
    people, modes, gallery, sizes = dict(PORTRAITS), MORPH_MODES, FICTIONAL_FACES, SIZES
    if args.smoke:
        people, modes, gallery, sizes = {"obama": PORTRAITS["obama"]}, ("linear",), FICTIONAL_FACES[:1], SIZES[:2]
        args.evaluations = 8
    options = PhotoFitOptions(evaluations=args.evaluations)
    made = {name: backend.from_photo(load_photo((DATA / file).read_bytes(), max_bytes=50_000_000,
                                                max_pixels=50_000_000), 0, options=options).code
            for name, file in PORTRAITS.items()}
    partners = {entry.name: code_from_source(backend, entry.source) for entry in gallery}
    print(f"morph shares on montage: distance to 'me' (mean over renders at {', '.join(map(str, sizes))} px) "
          f"at me's share r = {RATIOS[0]:g} … {RATIOS[-1]:g}; 'me' fitted with {args.evaluations} evaluations")
    views = [found_descriptors([backend.render([code], size)[0] for size in sizes])
             for code in (*made.values(), *partners.values())]
    apart = [distance(a, b) for codes in views for a, b in itertools.combinations(codes, 2)]
    print(f"the same drawing at two of those sizes: {min(apart):.3f}–{max(apart):.3f} apart")
    print(f"{'me':<6} {'partner':<11} {'mode':<9} " + " ".join(f"{r:>5.1f}" for r in RATIOS) + "  verdict")
    counts = {mode: [0, 0] for mode in modes}
    for me_name in people:
        others = {name: code for name, code in made.items() if name != me_name} | partners
        for other_name, other in others.items():
            for mode in modes:
                curve = share_curve(backend, made[me_name], other, mode, sizes)
                rise = largest_rise(curve)
                counts[mode][0] += rise < 0
                counts[mode][1] += 1
                verdict = "monotone" if rise < 0 else f"rises by up to {rise:.3f}"
                print(f"{me_name:<6} {other_name:<11} {mode:<9} " + " ".join(f"{d:5.3f}" for d in curve) + f"  {verdict}")
    for mode, (steady, total) in counts.items():
        print(f"{mode}: distance falls at every step in {steady} of {total} curves")
    return 0


if __name__ == "__main__":
    sys.exit(main())
