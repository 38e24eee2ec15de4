"""The small checkpoint trained here (tests/data/montage32.safetensors, `bench/train_learning.py`:
32-px StyleGAN2 on 2000 montage faces, see the README's Training section) serves as any
operator's model does, and it learned something: its pictures have the montage set's grey
backdrop and a face-coloured middle, which an untrained network of the same shape has not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from facegen.backends import build_backend
from facegen.stylegan.loaders import load_generator
from facegen.stylegan.networks2 import Generator
from facegen.training.montage_dataset import montage_face
from stylegan_fixtures import one_thread  # noqa: F401 (autouse)

CHECKPOINT = Path(__file__).resolve().parent.parent / "data" / "montage32.safetensors"


def _pictures(G: Generator, count: int = 16) -> np.ndarray:
    z = torch.randn([count, G.z_dim], generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        images = G(z, noise_mode="const")
    return ((images.permute(0, 2, 3, 1) + 1) * 127.5).clamp(0, 255).numpy()


def _corners(pictures: np.ndarray) -> np.ndarray:
    """The mean colour of each picture's top corners (3 × 3 px each), [N, 3]."""
    return np.concatenate([pictures[:, :3, :3], pictures[:, :3, -3:]], axis=1).mean(axis=(1, 2))


@pytest.fixture(scope="module")
def trained() -> Generator:
    return load_generator(CHECKPOINT)


def test_the_committed_checkpoint_is_small_and_serves_through_the_stylegan_backend(tmp_path):
    assert CHECKPOINT.stat().st_size < 5 * 2 ** 20
    backend = build_backend("stylegan", ckpt=str(CHECKPOINT))
    [picture] = backend.render([backend.sample(3)], size=64)
    assert picture.size == (64, 64)
    [again] = backend.render([backend.sample(3)], size=64)
    assert again.tobytes() == picture.tobytes()   # the same seed, the same face


def test_it_learned_the_montage_backdrop_and_a_face_in_the_middle(trained):
    reals = np.stack([np.asarray(montage_face(seed, 32)[0], dtype=np.float64) for seed in range(16)])
    backdrop = _corners(reals).mean(axis=0)

    def looks_like_the_set(G: Generator) -> bool:
        pictures = _pictures(G)
        corner_error = np.median(np.abs(_corners(pictures) - backdrop).max(axis=1))   # 27 trained, 147 untrained
        middle = pictures[:, 12:20, 12:20].mean(axis=(1, 2))                         # the cheeks and nose
        warm = (middle[:, 0] > middle[:, 2] + 10).mean()                             # skin: redder than blue
        return corner_error < 60 and warm >= 0.75

    torch.manual_seed(0)
    assert looks_like_the_set(trained)
    assert not looks_like_the_set(Generator(**trained.init_kwargs))   # the same shape, untrained
