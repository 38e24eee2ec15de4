"""The training metrics (facegen/training/metrics.py) on 8-face montage sets and tiny generators:
the Fréchet formula, what each metric ranks higher, the files a run writes at its snapshots, and
`dreamface metrics` with its refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from dreamface.cli import main
from facegen.landmarks import find_faces, model_path
from facegen.stylegan.align import align_face
from facegen.stylegan.loaders import save_safetensors
from facegen.training.dataset import ImageDataset
from facegen.training.loop import train
from facegen.training.metrics import (CHIP_BOX, DEFAULT_METRICS, MetricError, compute, evaluate, face_counts,
                                      frechet_distance, parse_metrics, path_length_mean)
from facegen.training.montage_dataset import montage_face, write_montage_dataset
from conftest import TESTDATA
from stylegan_fixtures import Replay, one_thread, tiny_sg2  # noqa: F401 (one_thread: autouse)

TINY = dict(z_dim=16, w_dim=16, channel_base=128, channel_max=16, batch=4)
TINY_CLI = ["--res", "16", "--batch", "4", "--cbase", "64", "--cmax", "16"]


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "faces"
    write_montage_dataset(path, 8, 16)
    return path


@pytest.fixture(scope="module")
def other_faces(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "other"
    write_montage_dataset(path, 8, 16, seed=100)
    return path


class Slope(nn.Module):
    """A toy generator: one face whose colours move along a fixed pattern in proportion to w's
    first number, `sharpness` times as fast as sharpness 1."""

    def __init__(self, face: torch.Tensor, sharpness: float) -> None:
        super().__init__()
        self.face = face.float() / 127.5 - 1
        self.pattern = torch.randn(self.face.shape, generator=torch.Generator().manual_seed(0)).clamp(-1, 1)
        self.sharpness = sharpness
        self.z_dim, self.img_resolution, self.img_channels = 4, self.face.shape[-1], self.face.shape[0]

    def mapping(self, z):
        return z[:, None, :]

    def synthesis(self, ws, noise_mode="const", generator=None):
        return (self.face + 0.5 * self.sharpness * ws[:, 0, 0, None, None, None] * self.pattern).clamp(-1, 1)

    def forward(self, z, noise_mode="const", generator=None):
        return self.synthesis(self.mapping(z))


def _all_pictures(path: Path) -> torch.Tensor:
    with ImageDataset(path) as dataset:
        return dataset.batch(range(len(dataset)))


# --- the numbers ---------------------------------------------------------------------------------

def test_frechet_distance_of_hand_checkable_gaussians():
    a = np.array([[-1, 0], [1, 0], [0, -2], [0, 2]], dtype=np.float64)   # mean 0, covariance diag(2/3, 8/3)
    b = 3 * a + 1                                                          # mean (1, 1), diag(6, 24)
    # |Δμ|² + Σ (σa − σb)² per axis: 2 + (2·√(2/3))² + (2·√(8/3))²
    assert frechet_distance(a, b) == pytest.approx(2 + 8 / 3 + 32 / 3)
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-12)
    turn = np.array([[0.6, -0.8], [0.8, 0.6]])   # rotating both sets changes no distance
    assert frechet_distance(a @ turn, b @ turn) == pytest.approx(frechet_distance(a, b))
    # 1-d: (μa − μb)² + (σa − σb)²
    assert frechet_distance(np.array([[0.0], [2.0]]), np.array([[5.0], [9.0]])) == pytest.approx(
        36 + (np.sqrt(2) - np.sqrt(8)) ** 2)
    with pytest.raises(MetricError, match="at least 2 pictures"):
        frechet_distance(a[:1], b)


def test_path_length_drops_the_extreme_percent():
    distances = np.array([1000.0] * 5 + [2.0] * 990 + [0.001] * 5)
    assert path_length_mean(distances) == pytest.approx(2.0)
    assert path_length_mean(np.array([1000.0] * 20 + [2.0] * 980)) > 2   # more than 1 % of them: kept


def test_the_registry_names_its_metrics():
    assert parse_metrics("fd_dlib, ppl") == ("fd_dlib", "ppl")
    assert parse_metrics("none") == ()
    assert parse_metrics(None) == DEFAULT_METRICS
    for text in ("fid50k", "fd_dlib,none", ","):
        with pytest.raises(MetricError, match="name some of fd_dlib, face_rate, ppl"):
            parse_metrics(text)


# --- what the metrics rank ------------------------------------------------------------------------

def test_fd_is_zero_for_the_set_itself_and_grows_for_other_faces(faces, other_faces):
    reals: dict = {}   # the set's descriptors, computed once for the three
    with ImageDataset(faces) as dataset:
        itself, others, network = (compute(G, dataset, ["fd_dlib"], real_cache=reals)["fd_dlib"]["fd_dlib"]
                                   for G in (Replay(_all_pictures(faces)), Replay(_all_pictures(other_faces)),
                                             tiny_sg2()))
    assert abs(itself) < 1e-6 * others   # rounding only
    assert 0 < others < network   # other montage faces are nearer than a random network's noise


def test_face_rate_finds_the_faces_of_the_set_and_none_in_noise(faces):
    pictures = _all_pictures(faces)
    with ImageDataset(faces) as dataset:
        replayed = compute(Replay(pictures), dataset, ["face_rate"])["face_rate"]
        noise = compute(tiny_sg2(), dataset, ["face_rate"])["face_rate"]
    assert replayed["face_rate"] == replayed["face_rate_reals"] == noise["face_rate_reals"]
    assert noise["face_rate"] == 0
    # a 16-px face is hard to find even enlarged; at 64 px every montage face is found once
    larger = torch.stack([torch.from_numpy(np.array(montage_face(seed, 64)[0])).permute(2, 0, 1)
                          for seed in range(4)])
    assert list(face_counts(larger)) == [1, 1, 1, 1]


def test_ppl_is_higher_for_a_generator_that_changes_faster(faces):
    face = _all_pictures(faces)[0]
    with ImageDataset(faces) as dataset:
        scores = [compute(Slope(face, sharpness), dataset, ["ppl"], samples=4)["ppl"]["ppl"]
                  for sharpness in (0, 1, 3)]
    assert scores[0] == 0 and 0 < scores[1] < scores[2]


def test_metrics_are_deterministic_and_leave_the_global_generator_alone(faces):
    generator = tiny_sg2()   # built first: building it seeds torch's global generator
    state = torch.get_rng_state()
    with ImageDataset(faces) as dataset:
        first, again, other = (compute(generator, dataset, ["fd_dlib"], samples=3, seed=seed)["fd_dlib"]["fd_dlib"]
                               for seed in (1, 1, 2))
    assert torch.equal(torch.get_rng_state(), state)
    assert first == again != other


def _box_iou(a, b) -> float:
    (ax, ay, aside), (bx, by, bside) = a, b
    overlap = [max(0.0, min(p + s1 / 2, q + s2 / 2) - max(p - s1 / 2, q - s2 / 2))
               for p, q, s1, s2 in ((ax, bx, aside, bside), (ay, by, aside, bside))]
    inter = overlap[0] * overlap[1]
    return inter / (aside ** 2 + bside ** 2 - inter)


def test_the_fixed_chip_is_where_dlib_aligns_faces_in_training_pictures():
    import dlib
    shape_predictor = dlib.shape_predictor(str(model_path("shape_predictor_5_face_landmarks.dat")))

    def dlib_chip(picture: Image.Image) -> tuple[float, float, float]:
        """Where dlib's own aligned 150-px chip lies: centre and side, in picture sides."""
        [face] = find_faces(picture)
        shape = shape_predictor(np.asarray(picture), dlib.rectangle(*face.box))
        rect, side = dlib.get_face_chip_details(shape, 150, 0.25).rect, picture.width
        return (rect.left() + rect.right()) / 2 / side, (rect.top() + rect.bottom()) / 2 / side, rect.width() / side

    montage = [dlib_chip(montage_face(seed, 256)[0]) for seed in range(3)]
    photo = Image.open(TESTDATA / "obama_official_portrait.jpg").convert("RGB")
    ffhq = [dlib_chip(align_face(photo, find_faces(photo)[0].points, 256))]
    for chip in montage + ffhq:
        assert _box_iou(chip, CHIP_BOX) > 0.65, chip


# --- at snapshots, and offline ----------------------------------------------------------------------

def test_a_run_writes_its_metrics_at_every_snapshot(faces, tmp_path):
    lines: list[str] = []
    model = train(faces, tmp_path / "run", resolution=16, kimg=0.008, choices=TINY, tick_kimg=0.004, snap=1,
                  metrics=("fd_dlib", "face_rate"), metric_samples=2, log=lines.append)
    shown = [line for line in lines if line.startswith("metrics at")]
    assert len(shown) == 2 and "2 pictures: fd_dlib " in shown[-1] and "face_rate " in shown[-1], lines
    for name, results in (("fd_dlib", {"fd_dlib"}), ("face_rate", {"face_rate", "face_rate_reals"})):
        records = [json.loads(line) for line in (tmp_path / "run" / f"metric-{name}.jsonl").read_text().splitlines()]
        assert [r["kimg"] for r in records] == [0.004, 0.008]
        assert records[-1]["snapshot_pkl"] == model.name and records[-1]["metric"] == name
        assert {"results", "total_time", "num_gpus", "timestamp", "samples"} <= records[-1].keys()
        assert records[-1]["results"].keys() == results


def test_metrics_none_writes_none_and_unknown_metrics_are_refused(faces, tmp_path, capsys):
    assert main(["train", "--data", str(faces), "--out", str(tmp_path / "run"), *TINY_CLI, "--kimg", "0.004",
                 "--metrics", "none"]) == 0
    assert not list((tmp_path / "run").glob("metric-*")) and "metrics at" not in capsys.readouterr().out
    assert main(["train", "--data", str(faces), "--out", str(tmp_path / "new"), *TINY_CLI, "--kimg", "0.004",
                 "--metrics", "fid50k"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dreamface train: --metrics fid50k: unknown metric fid50k") and err.count("\n") == 1
    assert not (tmp_path / "new").exists()


def test_metrics_command_scores_a_model_file_and_refuses_with_one_line(faces, tmp_path, capsys):
    save_safetensors(tiny_sg2(), tmp_path / "g16.safetensors")
    ckpt = str(tmp_path / "g16.safetensors")
    assert main(["metrics", "--data", str(faces), "--ckpt", ckpt, "--samples", "2", "--seed", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == ["fd_dlib", "face_rate", "ppl"], out
    expected = evaluate(ckpt, faces, ("fd_dlib",), samples=2, seed=3)["fd_dlib"]["fd_dlib"]
    assert out[0].startswith(f"fd_dlib {expected:.4f}")

    torch.manual_seed(0)
    save_safetensors(type(tiny_sg2())(**{**tiny_sg2().init_kwargs, "img_resolution": 32}), tmp_path / "g32.safetensors")
    for argv, message in (
            (["--ckpt", ckpt, "--metrics", "fd_dlib,lpips"], "unknown metric lpips"),
            (["--ckpt", str(tmp_path / "g32.safetensors")], "a 32-px, 3-channel generator; "),
            (["--ckpt", str(tmp_path / "missing.safetensors")], "missing.safetensors: no such checkpoint file"),
            (["--ckpt", ckpt, "--samples", "1"], "--samples must be at least 2")):
        assert main(["metrics", "--data", str(faces), *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("dreamface metrics: ") and message in err and err.count("\n") == 1, err
    assert main(["metrics", "--data", str(tmp_path / "nothing"), "--ckpt", ckpt]) == 2
    assert "nothing: no such folder or zip file" in capsys.readouterr().err
