"""Regenerate the montage pictures under docs/ (run from the repository root):

    .venv/bin/python scripts/make_docs_pictures.py [--out docs]

grid_eyes.png        10 eye candidates for one face, as close-ups numbered as the chat shows them
morph_linear.png     A → B at λ = 0, .25, .5, .75, 1 (λ is A's share), in each morph mode
morph_style.png
morph_attribute.png
remix.png            one face with its coarse / middle / fine layers redrawn from fresh seeds
random_faces.png     20 random faces (seeds 0–19)
seed_sentence.png    the face from the seed paper's sentence (facegen.describe)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facegen.attributes import Attributes  # noqa: E402
from facegen.candidates import region_candidates, render_candidates  # noqa: E402
from facegen.latent import MORPH_MODES, morph, remix  # noqa: E402
from facegen.montage import MontageBackend  # noqa: E402
from facegen.sheet import candidate_sheet, contact_sheet, drawn_side  # noqa: E402

SEED_SENTENCE = ("바가지 모양의 헤어 스타일이 촌스럽게 보이지만 내려간 눈꼬리와 살짝 올라간 입꼬리는 선한 이미지로 보여진다.\n"
                 " 중간 톤의 피부에 주름 없고 깔끔하게 정리된 수염은 건강하고 성실해 보이며 믿음이 가는 인상이다.")
TILE = 256
RATIOS = (0.0, 0.25, 0.5, 0.75, 1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    backend = MontageBackend()

    def save(image, name: str) -> None:
        image.save(out / name, optimize=True)
        print(out / name, f"{image.width}×{image.height}")

    # a plain face so the eyes read clearly: no glasses, no fringe over the brows
    face = backend.from_attributes(Attributes(glasses=False, hair_style="short", beard="none", age_band="thirties",
                                              smile=0.0), seed=12)
    candidates = region_candidates(backend, face, "eyes", n=10, seed=3)
    box = backend.region_box("eyes")
    save(candidate_sheet(render_candidates(backend, face, candidates, "eyes", drawn_side(512, box)), box),
         "grid_eyes.png")

    a = backend.from_attributes(Attributes(gender="female", hair_style="long", skin_tone="fair",
                                           hair_colour="black", glasses=False), seed=21)
    b = backend.from_attributes(Attributes(gender="male", hair_style="short", skin_tone="tan", hair_colour="brown",
                                           beard="full", glasses=True, age_band="middle"), seed=22)
    labels = [f"{r:g}" for r in RATIOS]   # λ, the share of A (the default font has no Greek)
    for mode in MORPH_MODES:
        faces = backend.render([morph(a, b, r, mode) for r in RATIOS], TILE)
        save(contact_sheet(faces, labels=labels), f"morph_{mode}.png")

    original = backend.sample(7)
    remixed, names = [original], ["original"]
    for layers, rows in backend.layer_ranges.items():
        for k in range(3):
            remixed.append(remix(original, backend.sample(100 + 10 * k + len(names)).base, rows))
            names.append(f"{layers} {k + 1}")
    save(contact_sheet(backend.render(remixed, TILE), labels=names), "remix.png")

    save(contact_sheet(backend.render([backend.sample(seed) for seed in range(20)], TILE)), "random_faces.png")

    from facegen.describe import parse_description
    description = parse_description(SEED_SENTENCE)
    if description.unknown:
        print("seed sentence: not understood:", description.unknown)
    (seed_face,) = backend.render([backend.from_attributes(description.attributes, seed=3)], 512)
    save(seed_face, "seed_sentence.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
