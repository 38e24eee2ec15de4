"""The witness bench (bench/witness.py, issue #21): its smoke run prints every figure and draws
the curve, and the simulated witness behaves like one: it sees a face as identical to itself and
nearer the more alike two faces are, its short description of a face gets the chat to a nearer
face than a random one, and choosing by what it sees brings a breeding session nearer its target.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO

SCRIPT = REPO / "bench" / "witness.py"


def load_witness():
    spec = importlib.util.spec_from_file_location("witness_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module     # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


witness = load_witness()


@pytest.fixture(scope="module")
def setting():
    """A montage backend, its description and an eye scaled on a few prior faces."""
    from facegen.montage import MontageBackend
    backend = MontageBackend()
    eye = witness.Eye(backend, [backend.sample(seed) for seed in range(900, 908)])
    return backend, backend.describe(), eye


@pytest.mark.slow
def test_smoke_run_prints_every_figure_and_draws_the_curve(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMFACE_")} | {"PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--out", "curve.png"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    expected = [r"^witness bench: 1 prior \+ 1 photo targets, 2 rounds",
                *(rf"^{s} +{k} +\d\.\d{{3}} +\d\.\d{{3}} +\d+\.\d +\d/2$"
                  for s in witness.STRATEGIES for k in range(3)),
                r"^--- rounds to a median perceptual distance of \d\.\d{3}",
                r"^breeding nearer than variations after round 2: \d/2 witnesses$",
                r"^photo +\( 1\) grids \d\.\d{3} / \d\.\d{3} / \d+ +variations .* described ",
                r"^curve: curve\.png$"]
    missing = [pattern for pattern in expected if not re.search(pattern, output, re.MULTILINE)]
    assert not missing, f"no line matches {missing} in:\n{output}"
    with Image.open(tmp_path / "curve.png") as curve:
        assert curve.size == (1260, 430)


def test_a_witness_sees_a_face_as_itself_and_nearer_the_more_alike(setting) -> None:
    backend, _, eye = setting
    face = backend.sample(11)
    assert eye.distance(face, face) == 0.0
    near, far = (backend.variations(face, 6, strength, seed=3) for strength in (0.15, 0.6))
    near_d = [eye.distance(face, c) for c in near]
    far_d = [eye.distance(face, c) for c in far]
    randoms = [eye.distance(face, backend.sample(s)) for s in range(20, 26)]
    assert np.median(near_d) < np.median(far_d) < np.median(randoms) * 1.05
    assert 0.5 < np.median(randoms) < 2.0      # scaled so that random faces are about 1 apart


def test_a_short_description_brings_the_chat_nearer_the_face(setting) -> None:
    """The words a witness says are read by the chat's grammar, and the face described is
    nearer the target than random faces, for most targets."""
    backend, info, eye = setting
    from facegen.describe.back import describe_back
    from facegen.montage import decode
    nearer = 0
    for seed in range(40, 46):
        target = backend.sample(seed)
        words = describe_back(witness.remembered(decode(target)), "en")
        described = witness.described_face(backend, info, words, "en", seed=7)
        randoms = [eye.distance(backend.sample(1000 + seed * 10 + k), target) for k in range(3)]
        nearer += eye.distance(described, target) < min(randoms)
    assert nearer >= 5


def test_choosing_by_eye_brings_breeding_nearer_its_target(setting) -> None:
    """A witness without error, three rounds of breeding arrays of 9 from a random face: every
    round's pick is the best-liked face carried over or a nearer one, and the last is nearer
    than the start."""
    backend, info, eye = setting
    target, start = backend.sample(77), backend.sample(78)
    person = witness.Witness("t", "prior", target, eye, noise=0.0, rng=np.random.default_rng(0))
    session = witness.Session(backend, info, rounds=3)
    faces = witness.by_breeding(session, person, start, np.random.default_rng(1))
    distances = [eye.distance(f, target) for f in faces]
    assert all(b <= a for a, b in zip(distances, distances[1:])), distances
    assert distances[-1] < distances[0]
