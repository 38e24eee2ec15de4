"""`dreamface train` on tiny 16-px networks and an 8-face montage set, on the CPU: the run's
files, exact resume, fine-tunes, serving the result, and bad input (nothing written is lost)."""

from __future__ import annotations

import json
import resource
import signal
from pathlib import Path

import pytest
import torch
from PIL import Image

from dreamface.cli import main
from facegen.backends import load_backend
from facegen.stylegan.loaders import load_generator, save_safetensors, weights_digest
from facegen.stylegan.networks2 import Generator
from facegen.training.loop import train
from facegen.training.montage_dataset import write_montage_dataset
from facegen.training.options import TrainingError, auto_options
from facegen.training.snapshot import load_state
from stylegan_fixtures import SG2_KWARGS, one_thread, tiny_d, tiny_sg2, tiny_sg3, write_nvidia_pickle  # noqa: F401 (one_thread: autouse)

# tiny networks through the Python API (z and w of 16); the CLI can only narrow the channels
TINY = dict(z_dim=16, w_dim=16, channel_base=128, channel_max=16, batch=4)
TINY_CLI = ["--res", "16", "--batch", "4", "--cbase", "64", "--cmax", "16", "--metrics", "none"]



@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "faces"
    write_montage_dataset(path, 8, 16)
    return path


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _tensors(value, prefix: str = "") -> dict[str, torch.Tensor]:
    """Every tensor in a nested state, by path."""
    if isinstance(value, torch.Tensor):
        return {prefix: value}
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    out = {}
    for key, item in items:
        out.update(_tensors(item, f"{prefix}/{key}"))
    return out


# --- a run, and resuming it -----------------------------------------------------------------------

def test_resume_continues_bit_for_bit(faces, tmp_path):
    # 8 steps in one go: ticks end after 4, 12, 20, 28 and 32 pictures; a snapshot every second
    # tick and at the end (4, 20, 32), the newest 2 kept. ADA augments from p = 0.25 and moves p
    # by 0.16 after steps 4 and 8
    choices = {**TINY, "mirror": True, "augment_p": 0.25, "ada_kimg": 0.1}
    whole = train(faces, tmp_path / "whole", resolution=16, kimg=0.032, choices=choices,
                  tick_kimg=0.008, snap=2, keep=2, log=lambda line: None)
    files = _files(tmp_path / "whole")
    assert [n for n in files if n.endswith(".state")] == ["snapshot-000000020.state", "snapshot-000000032.state"]
    assert [n for n in files if n.endswith(".safetensors")] == ["snapshot-000000020.safetensors",
                                                                "snapshot-000000032.safetensors"]
    assert [n for n in files if n.startswith("snapshot") and n.endswith(".png")] == [
        f"snapshot-{n:09d}.png" for n in (4, 20, 32)]   # the grids all stay

    # 5 steps, then a resume for 3 more: the path-length mean of step 4, p as moved after step 4
    # and ADA's sign of step 5, counted in p's move after step 8, must carry over
    half = tmp_path / "half"
    train(faces, half, resolution=16, kimg=0.020, choices=choices, tick_kimg=0.008, snap=2, log=lambda line: None)
    assert len(load_state(half / "snapshot-000000020.state")["augment"]["real_signs"]) == 1
    lines: list[str] = []
    resumed = train(faces, half, resolution=16, kimg=0.032, resume=half / "snapshot-000000020.state",
                    choices={"batch": 4}, tick_kimg=0.008, snap=2, log=lines.append)
    assert "from 0.02 to 0.032 kimg" in lines[0]
    assert resumed.read_bytes() == whole.read_bytes()   # G_ema and D, byte for byte
    a, b = load_state(whole.with_suffix(".state")), load_state(resumed.with_suffix(".state"))
    ta, tb = _tensors({k: a[k] for k in a if k != "seconds"}), _tensors({k: b[k] for k in b if k != "seconds"})
    assert ta.keys() == tb.keys() and {"/opt_G/state/0/exp_avg_sq", "/pl_mean", "/rng/data/order"} <= ta.keys()
    assert all(torch.equal(ta[k], tb[k]) for k in ta), [k for k in ta if not torch.equal(ta[k], tb[k])]
    assert (a["nimg"], a["step"], a["tick"]) == (b["nimg"], b["step"], b["tick"]) == (32, 8, 5)
    assert a["augment"] == b["augment"] and a["augment"]["p"] != 0.25   # p moved, and alike
    assert (half / "snapshot-000000032.png").read_bytes() == (tmp_path / "whole" / "snapshot-000000032.png").read_bytes()
    ticks = [json.loads(line) for line in (half / "stats.jsonl").read_text().splitlines()]
    assert [t["kimg"] for t in ticks] == [0.004, 0.012, 0.020, 0.028, 0.032]
    assert [t["augment_p"] for t in ticks] == [
        t["augment_p"] for t in map(json.loads, (tmp_path / "whole" / "stats.jsonl").read_text().splitlines())]


def test_train_command_makes_a_model_that_serves(faces, tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    assert main(["train", "--data", str(faces), "--out", str(run), *TINY_CLI, "--kimg", "0.004"]) == 0
    out = capsys.readouterr().out
    assert "training 16-px StyleGAN2 on 8 pictures: batch 4" in out
    [progress] = [line for line in out.splitlines() if line.startswith("tick")]
    for part in ("kimg 0.004/0.004", "s/kimg", "G ", "D ", "R1 ", "PL ", "p 0.000", "rt ", "ETA 0s"):
        assert part in progress, progress
    model = run / "snapshot-000000004.safetensors"
    assert f"model: {model}" in out
    ticks = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    assert {"tick", "kimg", "sec_per_kimg", "G_loss", "D_loss", "augment_p", "rt", "seconds",
            "timestamp"} <= ticks[-1].keys()
    options = json.loads((run / "options.json").read_text())
    assert (options["batch"], options["channel_base"], options["gamma"]) == (4, 64, pytest.approx(0.0002 * 256 / 32))
    assert (options["aug"], options["augment_p"], options["ada_target"], options["ada_kimg"]) == ("ada", 0, 0.6, 500)
    assert Image.open(run / "snapshot-000000004.png").size == (8 * 16, 4 * 16)
    assert Image.open(run / "reals.png").size == (8 * 16, 4 * 16)

    # the model is G_ema, and DREAMFACE_STYLEGAN_CKPT serves it as it is
    state = load_state(run / "snapshot-000000004.state")
    G_ema = Generator(**state["G_kwargs"])
    G_ema.load_state_dict(state["G_ema"])
    assert weights_digest(load_generator(model)) == weights_digest(G_ema)
    monkeypatch.setenv("DREAMFACE_STYLEGAN_CKPT", str(model))
    load_backend.cache_clear()
    assert main(["generate", "--backend", "stylegan", "--seed", "3", "--out", str(tmp_path / "a.png")]) == 0
    with Image.open(tmp_path / "a.png") as face:
        assert face.size == (16, 16) and max(face.convert("L").getextrema()) > 0


def test_fine_tune_from_our_model_and_from_an_nvidia_pickle(faces, tmp_path):
    save_safetensors(tiny_sg2(), tmp_path / "base.safetensors")   # no D in it: a new one
    write_nvidia_pickle(tiny_sg2(seed=1), tmp_path / "other.pkl", discriminator=tiny_d())
    for base in (tmp_path / "base.safetensors", tmp_path / "other.pkl"):
        lines: list[str] = []
        run = tmp_path / base.stem
        model = train(faces, run, resolution=16, kimg=0.004, resume=base, choices={"batch": 4}, log=lines.append)
        assert lines[0].startswith(f"warning: this run fine-tunes {base}") and "licence" in lines[0]
        state = load_state(model.with_suffix(".state"))
        assert state["nimg"] == 4 and state["base"] == str(base) and state["G_kwargs"]["z_dim"] == SG2_KWARGS["z_dim"]
        trained = load_generator(model)
        assert weights_digest(trained) != weights_digest(load_generator(base))


def test_auto_options_follow_nvidia():
    o = auto_options(32)
    assert (o.batch, o.mbstd_group, o.channel_base, o.channel_max, o.lr) == (32, 4, 16384, 512, 0.0025)
    assert o.gamma == pytest.approx(0.0064) and o.ema_kimg == 10 and o.map_layers == 2
    o = auto_options(1024)
    assert (o.batch, o.channel_base, o.lr, o.ema_kimg) == (4, 32768, 0.002, 1.25)
    assert o.gamma == pytest.approx(52.4288)
    assert auto_options(256, batch=8).gamma == auto_options(256).gamma   # --batch changes only the batch


# --- bad input: a clear line, exit 2, nothing already written lost -----------------------------------

def _train(capsys, *argv: str) -> str:
    assert main(["train", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dreamface train: ") and err.count("\n") == 1, err
    return err


def _png(size: int) -> bytes:
    import io
    out = io.BytesIO()
    Image.new("RGB", (size, size), 90).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("files, message", [
    ({"notes.txt": b"no faces"}, "no images in it"),
    ({"a.png": _png(16), "b.png": _png(16)[:50]}, "b.png: not a readable image"),
    ({"a.png": _png(16), "b.png": _png(32)}, "b.png: 32×32×3, but a.png is 16×16×3"),
])
def test_bad_datasets(tmp_path, capsys, files, message):
    (tmp_path / "set").mkdir()
    for name, data in files.items():
        (tmp_path / "set" / name).write_bytes(data)
    assert message in _train(capsys, "--data", str(tmp_path / "set"), "--out", str(tmp_path / "run"), *TINY_CLI,
                             "--kimg", "1")
    assert not (tmp_path / "run").exists()


def test_bad_resolutions(faces, tmp_path, capsys):
    assert "--res must be a power of two" in _train(capsys, "--data", str(faces), "--out", str(tmp_path / "r"),
                                                    "--res", "24", "--kimg", "1")
    assert "holds 16-px pictures, not 32" in _train(capsys, "--data", str(faces), "--out", str(tmp_path / "r"),
                                                    "--res", "32", "--kimg", "1")
    assert not (tmp_path / "r").exists()


def test_resume_checkpoints_that_do_not_fit(faces, tmp_path, capsys):
    torch.manual_seed(0)
    save_safetensors(Generator(**{**SG2_KWARGS, "img_resolution": 32}), tmp_path / "g32.safetensors")
    save_safetensors(tiny_sg3(), tmp_path / "g3.safetensors")
    save_safetensors(tiny_sg2(), tmp_path / "g16.safetensors")   # channel base 128
    (tmp_path / "junk.state").write_bytes(b"not a state")
    base = ["--data", str(faces), "--out", str(tmp_path / "run"), *TINY_CLI, "--kimg", "1", "--resume"]
    assert "--cbase 64: " in _train(capsys, *base, str(tmp_path / "g16.safetensors"))
    assert "a 32-px, 3-channel generator" in _train(capsys, *base, str(tmp_path / "g32.safetensors"))
    assert "dreamface trains StyleGAN2 only" in _train(capsys, *base, str(tmp_path / "g3.safetensors"))
    assert "not a readable training state" in _train(capsys, *base, str(tmp_path / "junk.state"))
    assert not (tmp_path / "run").exists()


def test_resume_refuses_other_pictures_and_other_settings(faces, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--data", str(faces), "--out", str(run), *TINY_CLI, "--kimg", "0.004"]) == 0
    before = _files(run)
    state = str(run / "snapshot-000000004.state")
    other = tmp_path / "other"
    write_montage_dataset(other, 8, 16, seed=100)
    assert "trained on another set of pictures" in _train(capsys, "--data", str(other), "--out", str(run),
                                                          *TINY_CLI, "--kimg", "1", "--resume", state)
    assert "--batch 8: " in _train(capsys, "--data", str(faces), "--out", str(run), "--res", "16", "--batch", "8",
                                   "--kimg", "1", "--resume", state)
    assert "has seen 0.004 kimg already" in _train(capsys, "--data", str(faces), "--out", str(run), "--res", "16",
                                                   "--kimg", "0.004", "--resume", state)
    assert "exists and is not empty" in _train(capsys, "--data", str(faces), "--out", str(run), *TINY_CLI,
                                               "--kimg", "1")
    assert _files(run) == before


def test_a_failing_snapshot_write_loses_nothing(faces, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--data", str(faces), "--out", str(run), *TINY_CLI, "--kimg", "0.004"]) == 0
    capsys.readouterr()
    before = _files(run)
    # a real failing write: no file may grow past half a state's size (EFBIG, as a full disk's ENOSPC)
    limit = (run / "snapshot-000000004.state").stat().st_size // 2
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        err = _train(capsys, "--data", str(faces), "--out", str(run), "--res", "16", "--kimg", "0.008",
                     "--resume", str(run / "snapshot-000000004.state"))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
    assert "snapshot-000000008: the snapshot could not be written (File too large)" in err
    after = _files(run)
    assert not [name for name in after if "partial" in name or "000000008" in name]
    assert {name: after[name] for name in before} == before | {"stats.jsonl": after["stats.jsonl"]}
    # and the run goes on from where it was once there is room
    assert main(["train", "--data", str(faces), "--out", str(run), "--res", "16", "--kimg", "0.008",
                 "--resume", str(run / "snapshot-000000004.state")]) == 0


def test_options_refuse_batches_that_do_not_split():
    with pytest.raises(TrainingError, match="groups of 4"):
        auto_options(16, batch=6)
