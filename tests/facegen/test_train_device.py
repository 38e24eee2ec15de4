"""Where and in what precision `dreamface train` runs: `--device auto|cpu|cuda` and `--fp16`. On a machine without a GPU (CI, this
project's machine) `cuda` is refused with one line; on a machine with one, a run on the GPU
must give the CPU run's weights up to rounding, since every random number is drawn on the CPU
and moved (facegen/training: step.py, distributed.py, networks2.make_noise)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dreamface.cli import main
from facegen.stylegan.discriminator import Discriminator
from facegen.stylegan.loaders import load_networks
from facegen.stylegan.networks2 import Generator
from facegen.training.distributed import pick_device
from facegen.training.loop import set_precision, train
from facegen.training.options import auto_options
from facegen.training.montage_dataset import write_montage_dataset
from stylegan_fixtures import one_thread  # noqa: F401 (autouse)

TINY = dict(z_dim=16, w_dim=16, channel_base=128, channel_max=16, batch=4)
GPU = torch.cuda.is_available()


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "faces"
    write_montage_dataset(path, 8, 16)
    return path


def test_auto_takes_a_gpu_only_when_torch_sees_one():
    assert pick_device("auto").type == ("cuda" if GPU else "cpu")
    assert pick_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="auto, cpu or cuda"):
        pick_device("tpu")


@pytest.mark.skipif(GPU, reason="this machine has a GPU: the refusal is for machines without one")
def test_cuda_without_a_gpu_is_refused_before_anything_is_written(faces, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--data", str(faces), "--out", str(out), "--res", "16", "--kimg", "0.004",
                 "--batch", "4", "--cbase", "64", "--cmax", "16", "--device", "cuda"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "dreamface train: --device cuda: torch sees no GPU here (use --device cpu)"
    assert not out.exists()


def test_the_progress_says_where_it_trains(faces, tmp_path):
    lines: list[str] = []
    train(faces, tmp_path / "run", resolution=16, kimg=0.004, choices=TINY, device="cpu", log=lines.append)
    assert "batch 4 on the CPU" in lines[0]


@pytest.mark.skipif(not GPU, reason="needs a CUDA GPU (run on the lent GPU machine)")
def test_a_gpu_run_gives_the_cpu_runs_weights_up_to_rounding(faces, tmp_path):
    # 5 steps: the path-length term (step 0 and 4) and R1 (step 0) included
    # with the snapshot metrics on: they draw latents on the CPU and measure pictures there
    runs = {device: train(faces, tmp_path / device, resolution=16, kimg=0.020, choices=TINY, device=device,
                          metrics=("fd_dlib", "ppl"), metric_samples=4, log=lambda line: None)
            for device in ("cpu", "cuda")}
    (g_cpu, d_cpu), (g_gpu, d_gpu) = (load_networks(runs[d]) for d in ("cpu", "cuda"))
    for cpu, gpu in ((g_cpu, g_gpu), (d_cpu, d_gpu)):
        for (name, a), b in zip(cpu.state_dict().items(), gpu.state_dict().values()):
            assert torch.allclose(a, b, rtol=1e-3, atol=1e-4), name
    for device in ("cpu", "cuda"):
        assert (tmp_path / device / "metric-fd_dlib.jsonl").is_file() and (tmp_path / device / "metric-ppl.jsonl").is_file()


def test_fp16_halves_the_four_highest_resolutions_as_nvidia_does():
    for res, halved in ((16, [8, 16]), (32, [8, 16, 32]), (256, [32, 64, 128, 256])):
        options = auto_options(res, fp16=True, channel_max=8, z_dim=8, w_dim=8)
        G, D = Generator(**options.generator_kwargs(3)), Discriminator(**options.discriminator_kwargs(3))
        set_precision(G, D, options.fp16_from())
        assert [r for r in G.synthesis.block_resolutions if getattr(G.synthesis, f"b{r}").use_fp16] == halved
        assert sorted(r for r in D.block_resolutions if getattr(D, f"b{r}").use_fp16) == halved
    assert auto_options(32).fp16_from() is None


def test_an_fp16_run_trains_and_its_model_serves_in_float32(faces, tmp_path):
    runs = {fp16: train(faces, tmp_path / str(fp16), resolution=16, kimg=0.012, choices={**TINY, "fp16": fp16},
                        device="cpu", log=lambda line: None) for fp16 in (False, True)}
    (g32, d32), (g16, d16) = (load_networks(runs[f]) for f in (False, True))
    assert not any(getattr(g16.synthesis, f"b{r}").use_fp16 for r in g16.synthesis.block_resolutions)
    z = torch.randn(4, 16, generator=torch.Generator().manual_seed(0))
    a, b = g32(z), g16(z)
    assert b.dtype == torch.float32 and torch.isfinite(b).all()
    # three steps apart only by rounding: the same faces, near enough (float16 keeps ~3 digits)
    assert 0 < (a - b).abs().max() < 0.05
