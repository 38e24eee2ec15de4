"""The official FID (`fid`, facegen/training/metrics.py) with a stand-in for NVIDIA's Inception
file (inception_fixtures.py: it refuses float and grey pictures, as the real one fails on them).
The number `dreamface metrics` prints is checked against a Fréchet distance computed here, from
the stand-in's features of the whole set and of the same made pictures; a run writes
metric-fid.jsonl; unfit files are refused in one line before a run writes anything."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from dreamface.cli import main
from facegen.stylegan.loaders import load_generator, save_safetensors
from facegen.stylegan.networks2 import Generator
from facegen.training.dataset import ImageDataset
from facegen.training.metrics import Evaluation, MetricError, compute
from facegen.training.montage_dataset import write_montage_dataset
from inception_fixtures import StandInInception, load_torchscript, write_torchscript
from stylegan_fixtures import SG2_KWARGS, Replay, one_thread, randomized, tiny_sg2  # noqa: F401 (one_thread: autouse)

TINY_CLI = ["--res", "16", "--batch", "4", "--cbase", "64", "--cmax", "16", "--kimg", "0.004"]


class WrongShape(nn.Module):
    def forward(self, img: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        return img.float().mean(dim=[2, 3])[:, :, None]   # [N, 3, 1]


@pytest.fixture(scope="module")
def inception(tmp_path_factory) -> Path:
    return write_torchscript(StandInInception(), tmp_path_factory.mktemp("inception") / "inception-2015-12-05.pt")


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "faces"
    write_montage_dataset(path, 8, 16)
    return path


@pytest.fixture(scope="module")
def grey_faces(faces, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "grey"
    path.mkdir()
    for picture in sorted(faces.rglob("*.png")):
        Image.open(picture).convert("L").save(path / picture.name)
    return path


@pytest.fixture(autouse=True)
def no_configured_inception(monkeypatch):
    monkeypatch.delenv("DREAMFACE_INCEPTION", raising=False)


def nvidia_fid(reals: np.ndarray, fakes: np.ndarray) -> float:
    """FID as NVIDIA's code takes it: means and covariances from raw sums divided by the count,
    Tr (Σr Σf)^½ from the eigenvalues of the product itself (NVIDIA: scipy's sqrtm of it)."""
    def mean_cov(x):
        mean = x.sum(0) / len(x)
        return mean, x.T @ x / len(x) - np.outer(mean, mean)
    (mu_r, cov_r), (mu_f, cov_f) = mean_cov(reals), mean_cov(fakes)
    cross = np.sqrt(np.clip(np.linalg.eigvals(cov_f @ cov_r).real, 0, None)).sum()
    return float(np.square(mu_f - mu_r).sum() + np.trace(cov_f + cov_r) - 2 * cross)


def _features(path: Path, pictures: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return load_torchscript(path)(pictures, return_features=True).numpy().astype(np.float64)


def _one_line_refusal(capsys, command: str, message: str) -> None:
    err = capsys.readouterr().err
    assert err.startswith(f"dreamface {command}: ") and message in err and err.count("\n") == 1, err


def test_metrics_prints_the_fid_of_the_whole_set_against_the_made_pictures(faces, inception, tmp_path, capsys):
    save_safetensors(tiny_sg2(), tmp_path / "g16.safetensors")
    ckpt = tmp_path / "g16.safetensors"
    # 12 made pictures against the set's 8: fid's made pictures are not capped at the set's size
    assert main(["metrics", "--data", str(faces), "--ckpt", str(ckpt), "--inception", str(inception),
                 "--metrics", "fid", "--samples", "12", "--seed", "3"]) == 0
    [line] = capsys.readouterr().out.splitlines()

    with ImageDataset(faces) as dataset:
        reals = _features(inception, dataset.batch(range(len(dataset))))
        made = torch.cat(list(Evaluation(load_generator(ckpt), dataset, samples=8, seed=3).fake_batches(12)))
    assert made.dtype == torch.uint8 and len(made) == 12 and len(reals) == 8
    expected = nvidia_fid(reals, _features(inception, made))
    assert expected > 1 and line.startswith(f"fid {expected:.2f}  ("), (line, expected)
    with ImageDataset(faces) as dataset:
        results = compute(load_generator(ckpt), dataset, ["fid"], samples=12, seed=3, inception=inception)["fid"]
    assert results["fid"] == pytest.approx(expected, rel=1e-6)
    assert (results["fid_reals"], results["fid_fakes"]) == (8, 12)

    # with a file named, `dreamface metrics` measures all four by default
    assert main(["metrics", "--data", str(faces), "--ckpt", str(ckpt), "--inception", str(inception),
                 "--samples", "2"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["fd_dlib", "face_rate", "ppl", "fid"]


def test_grey_sets_are_measured_as_grey_rgb(grey_faces, inception, tmp_path, capsys):
    with ImageDataset(grey_faces) as dataset:
        assert dataset.channels == 1
        own = dataset.batch(range(len(dataset)))
        itself = compute(Replay(own), dataset, ["fid"], samples=8, inception=inception)["fid"]["fid"]   # rounding only
        expected = _features(inception, own.repeat([1, 3, 1, 1]))
        shifted = compute(Replay(own // 2), dataset, ["fid"], samples=8, inception=inception)["fid"]["fid"]
    assert abs(itself) < 1e-4 * shifted and shifted == pytest.approx(nvidia_fid(expected, _features(
        inception, (own // 2).repeat([1, 3, 1, 1]))), rel=1e-6)
    torch.manual_seed(0)
    save_safetensors(randomized(Generator(**{**SG2_KWARGS, "img_channels": 1})), tmp_path / "grey.safetensors")
    assert main(["metrics", "--data", str(grey_faces), "--ckpt", str(tmp_path / "grey.safetensors"),
                 "--inception", str(inception), "--metrics", "fid", "--samples", "4"]) == 0
    assert capsys.readouterr().out.startswith("fid ")


def test_a_run_with_an_inception_file_writes_metric_fid(faces, inception, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DREAMFACE_INCEPTION", str(inception))   # the setting: the default list gains fid
    assert main(["train", "--data", str(faces), "--out", str(tmp_path / "run"), *TINY_CLI,
                 "--metric-samples", "2"]) == 0
    shown = [line for line in capsys.readouterr().out.splitlines() if line.startswith("metrics at")]
    assert len(shown) == 1 and "fd_dlib " in shown[0] and "face_rate " in shown[0] and " fid " in shown[0], shown
    [record] = [json.loads(line) for line in (tmp_path / "run" / "metric-fid.jsonl").read_text().splitlines()]
    assert record["metric"] == "fid" and record["samples"] == 2 and record["kimg"] == 0.004
    assert record["results"].keys() == {"fid", "fid_reals", "fid_fakes"} and record["results"]["fid_reals"] == 8
    assert (tmp_path / "run" / "metric-fd_dlib.jsonl").exists()


def test_unfit_inception_files_are_refused_in_one_line_before_anything_is_written(faces, inception, tmp_path,
                                                                                  capsys, monkeypatch):
    text = tmp_path / "notes.txt"
    text.write_text("not a network\n")
    pickled = tmp_path / "weights.pt"
    torch.save({"mix": torch.zeros(3)}, pickled)
    wrong = tmp_path / "wrong.pt"
    write_torchscript(WrongShape(), wrong)
    save_safetensors(tiny_sg2(), tmp_path / "g16.safetensors")
    refusals = (
        ([], "fid needs NVIDIA's Inception file (inception-2015-12-05.pt): name it with --inception PATH or "
             "DREAMFACE_INCEPTION"),
        (["--inception", str(text)], f"Inception file {text}: not a TorchScript file"),
        (["--inception", str(pickled)], f"Inception file {pickled}: not a TorchScript file"),
        (["--inception", str(wrong)], f"Inception file {wrong}: gives [2, 3, 1] float32 for 2 pictures, not "
                                      "[2, features] floats"),
        (["--inception", str(tmp_path / "missing.pt")], "missing.pt: no such file"),
    )
    for flags, message in refusals:
        out = tmp_path / "run"
        assert main(["train", "--data", str(faces), "--out", str(out), *TINY_CLI, "--metrics", "fd_dlib,fid",
                     *flags]) == 2
        _one_line_refusal(capsys, "train", message)
        assert not out.exists()
        assert main(["metrics", "--data", str(faces), "--ckpt", str(tmp_path / "g16.safetensors"),
                     "--metrics", "fid", *flags]) == 2
        _one_line_refusal(capsys, "metrics", message)

    monkeypatch.setenv("DREAMFACE_INCEPTION", str(tmp_path / "nowhere.pt"))
    assert main(["train", "--data", str(faces), "--out", str(tmp_path / "run"), *TINY_CLI]) == 2
    _one_line_refusal(capsys, "train", f"DREAMFACE_INCEPTION: no such file '{tmp_path / 'nowhere.pt'}'")
    with ImageDataset(faces) as dataset, pytest.raises(MetricError, match="fid needs NVIDIA's Inception file"):
        compute(tiny_sg2(), dataset, ["fid"])
