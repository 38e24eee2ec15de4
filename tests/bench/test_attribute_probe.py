"""The attribute probe (bench/attribute_probe.py, issue #17) learns what it measures: trained
briefly on 200 montage faces at 16 px, it reads skin tone and hair colour off 100 held-out faces
far better than a trivial guess (glasses and smile need the real run's longer training and
32 px), and the saved file measures pictures of any side the same way after loading."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
import torch

from conftest import REPO

pytestmark = pytest.mark.slow

SCRIPT = REPO / "bench" / "attribute_probe.py"


def load_script():
    spec = importlib.util.spec_from_file_location("attribute_probe_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module     # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


probe_script = load_script()


@pytest.fixture(scope="module")
def trained():
    from facegen.training.montage_dataset import montage_face
    torch.set_num_threads(1)
    faces = [montage_face(seed, 16) for seed in range(300)]
    pictures = torch.stack([torch.from_numpy(np.array(picture)).permute(2, 0, 1) for picture, _ in faces])
    pictures = pictures.float() / 127.5 - 1
    params = [p for _, p in faces]
    probe = probe_script.train_probe(pictures[:200], params[:200], steps=150, width=16, batch=32)
    return probe, pictures[200:], params[200:], params[:200]


def test_a_briefly_trained_probe_beats_a_trivial_guess_on_held_out_faces(trained):
    probe, pictures, params, train_params = trained
    scores = {s.quantity: s for s in probe_script.score(probe, pictures, params, train_params)}
    skin = scores["skin_tone"]
    assert skin.clean[0] > 0.8 and skin.blurred[0] > 0.8                 # r: about 0.95 here
    assert skin.clean[1] < 0.5 * skin.baseline[1]                        # rmse: about a third of the mean's
    hair = scores["hair_colour"]
    assert hair.clean[0] > hair.baseline[0] + 0.25                       # about 0.7 against 0.26


def test_the_saved_probe_measures_the_same_and_takes_any_side(trained, tmp_path):
    probe, pictures, _, _ = trained
    probe_script.save_probe(probe, tmp_path / "probe.pt")
    loaded = probe_script.load_probe(tmp_path / "probe.pt")
    before, after = probe_script.measure(probe, pictures), probe_script.measure(loaded, pictures)
    assert before.keys() == after.keys() == {q.name for q in probe_script.QUANTITIES}
    for name in before:
        torch.testing.assert_close(before[name], after[name])
    assert after["hair_colour"].shape == (len(pictures), 6)
    torch.testing.assert_close(after["hair_colour"].sum(dim=1), torch.ones(len(pictures)))
    assert after["glasses"].shape == (len(pictures),) and 0 <= after["glasses"].min() <= after["glasses"].max() <= 1
    # a 32-px picture (a generator's side) is measured at the probe's 16 px: the same face, the same skin tone
    larger = torch.nn.functional.interpolate(pictures, scale_factor=2, mode="nearest")
    bigger = probe_script.measure(loaded, larger)
    assert (bigger["skin_tone"] - after["skin_tone"]).abs().max() < 0.02
    with pytest.raises(ValueError, match=r"\[N, 3, H, W\]"):
        probe_script.measure(loaded, pictures[:, :1])
