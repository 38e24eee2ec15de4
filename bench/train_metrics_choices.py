"""The figures behind two choices of facegen/training/metrics.py:

- where dlib puts its own aligned 150-px chip on training pictures (montage faces, and photos
  in tests/data FFHQ-aligned as the StyleGAN backend aligns them), beside the fixed CHIP_BOX;
- PPL's step ε: how far a step moves the pixels, the descriptor distance / ε² it gives, and the
  rounding floor (the distance between a picture and itself moved by under half a grey level),
  on a random 32-px network.

    .venv/bin/python bench/train_metrics_choices.py
    .venv/bin/python bench/train_metrics_choices.py --smoke   # 2 faces, 1 photo, 4 paths
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from facegen.landmarks import find_faces, model_path
from facegen.stylegan.align import align_face
from facegen.stylegan.networks2 import Generator
from facegen.training.metrics import CHIP_BOX, descriptors, to_uint8
from facegen.training.montage_dataset import montage_face
from facegen.training.options import auto_options

TESTDATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def dlib_chip(picture: Image.Image) -> tuple[float, float, float] | None:
    """Centre x, centre y and side of dlib's own aligned chip, in picture sides."""
    import dlib
    faces = find_faces(picture)
    if len(faces) != 1:
        return None
    predictor = dlib.shape_predictor(str(model_path("shape_predictor_5_face_landmarks.dat")))
    shape = predictor(np.asarray(picture), dlib.rectangle(*faces[0].box))
    rect, side = dlib.get_face_chip_details(shape, 150, 0.25).rect, picture.width
    return (rect.left() + rect.right()) / 2 / side, (rect.top() + rect.bottom()) / 2 / side, rect.width() / side


def chip_positions(faces: int, photos_at_most: int) -> None:
    montage = [dlib_chip(montage_face(seed, 256)[0]) for seed in range(faces)]
    photos = []
    for path in sorted(TESTDATA.glob("*.jpg"))[:photos_at_most]:
        photo = Image.open(path).convert("RGB")
        for face in find_faces(photo)[:1]:
            photos.append(dlib_chip(align_face(photo, face.points, 256)))
    print(f"fixed chip: centre ({CHIP_BOX[0]}, {CHIP_BOX[1]}), side {CHIP_BOX[2]}")
    for name, chips in (("montage faces", montage), ("FFHQ-aligned photos", photos)):
        found = np.array([c for c in chips if c is not None])
        mean, spread = found.mean(0), found.std(0)
        print(f"dlib's chip on {len(found)}/{len(chips)} {name}: centre ({mean[0]:.2f}, {mean[1]:.2f}), "
              f"side {mean[2]:.2f} (spread {spread[2]:.2f})")


@torch.no_grad()
def ppl_steps(paths: int) -> None:
    torch.manual_seed(0)
    G = Generator(**auto_options(32, channel_base=2048, channel_max=128).generator_kwargs(3)).eval()
    g = torch.Generator().manual_seed(1)
    w0, w1 = (G.mapping(torch.randn(paths, G.z_dim, generator=g)) for _ in range(2))
    start = G.synthesis(w0)
    base = descriptors(to_uint8(start))
    floor = np.square(base - descriptors(to_uint8(start + (torch.rand(start.shape, generator=g) - 0.5) / 127.5)))
    print(f"rounding floor: squared distance {np.median(floor.sum(1)):.2e} (median)")
    for epsilon in (1e-4, 1e-3, 1e-2, 3e-2, 1e-1):
        moved = G.synthesis(w0.lerp(w1, epsilon))
        squared = np.square(base - descriptors(to_uint8(moved))).sum(1)
        print(f"ε {epsilon:g}: pixels move {((moved - start) * 127.5).abs().mean():.3f} grey levels; "
              f"squared distance {np.median(squared):.2e}, / ε² {np.median(squared) / epsilon ** 2:.1f} (medians)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="2 montage faces, 1 photo, 4 paths")
    smoke = parser.parse_args().smoke
    chip_positions(2 if smoke else 40, 1 if smoke else 100)
    ppl_steps(4 if smoke else 64)
