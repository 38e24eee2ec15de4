"""How far apart are duplicates and distinct faces, by the rule `dreamface dataset make` skips
duplicates with? (issue #16; a script that prints figures.)

    .venv/bin/python bench/duplicate_margin.py                # 300 montage faces
    .venv/bin/python bench/duplicate_margin.py --smoke        # 6 montage faces

Two faces are duplicates when both their thumbnail difference is under THUMB_LEVELS and their
landmark shift under SHAPE_SHIFT (facegen/training/photo_dataset.py); the score printed is the
larger of the two as a share of its limit, so a pair under 1 is a duplicate. Rows:

- copies of a test portrait (tests/data, public domain) that must count as duplicates: saved
  again at JPEG quality 50, halved, quartered, cropped differently;
- other photos that must not: the same man another day, another man, the portrait mirrored;
- montage faces (`dreamface dataset montage`'s, drawn at 256 px): one background, one drawing
  style, one pose, so the hardest case for telling faces apart; the smallest score over every
  pair is printed.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facegen.training.montage_dataset import montage_face  # noqa: E402
from facegen.training.photo_dataset import (DUPLICATE_SIDE, SHAPE_SHIFT, THUMB_LEVELS, AlignedFace,  # noqa: E402
                                            Unusable, aligned_face, duplicate_scores)

TESTDATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def encoded(image: Image.Image, **options) -> bytes:
    data = io.BytesIO()
    image.save(data, format="JPEG", **options)
    return data.getvalue()


def score(a: AlignedFace, b: AlignedFace) -> float:
    return float(duplicate_scores(a.thumb[None], a.shape[None], b)[0])


def face_of(data: bytes) -> AlignedFace:
    return aligned_face(data, DUPLICATE_SIDE, min_face=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--montage", type=int, default=300, help="montage faces compared pairwise")
    parser.add_argument("--smoke", action="store_true", help="6 montage faces")
    args = parser.parse_args()
    count = 6 if args.smoke else args.montage

    portrait = Image.open(TESTDATA / "obama_official_portrait.jpg").convert("RGB")
    original = face_of((TESTDATA / "obama_official_portrait.jpg").read_bytes())
    w, h = portrait.size
    copies = {
        "JPEG quality 50": encoded(portrait, quality=50),
        "halved": encoded(portrait.resize((w // 2, h // 2), Image.LANCZOS), quality=90),
        "quartered": encoded(portrait.resize((w // 4, h // 4), Image.LANCZOS), quality=90),
        "cropped otherwise": encoded(portrait.crop((50, 30, w - 40, h - 60)), quality=90),
    }
    others = {
        "the same man another day": (TESTDATA / "obama_podium.jpg").read_bytes(),
        "another man": (TESTDATA / "biden_smiling.jpg").read_bytes(),
        "the portrait mirrored": encoded(portrait.transpose(Image.FLIP_LEFT_RIGHT), quality=90),
    }
    print(f"rule: thumbnails under {THUMB_LEVELS} levels apart and landmarks under {SHAPE_SHIFT} of the crop; "
          f"score = the larger share of its limit (under 1: a duplicate)")
    print("copies of obama_official_portrait.jpg (must be under 1):")
    for name, data in copies.items():
        print(f"  {name:<28} {score(original, face_of(data)):.3f}")
    print("other photos (must be over 1):")
    for name, data in others.items():
        print(f"  {name:<28} {score(original, face_of(data)):.3f}")

    start = time.perf_counter()
    faces = []
    for seed in range(count):
        picture, _ = montage_face(seed, 256)
        data = io.BytesIO()
        picture.save(data, format="PNG")
        try:
            faces.append(face_of(data.getvalue()))
        except Unusable:
            pass   # the detector misses a few drawings
    scores = [score(a, b) for i, a in enumerate(faces) for b in faces[i + 1:]]
    print(f"montage faces: {len(faces)} of {count} found, {len(scores)} pairs, smallest score {min(scores):.3f}, "
          f"pairs under 1: {sum(s < 1 for s in scores)} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
