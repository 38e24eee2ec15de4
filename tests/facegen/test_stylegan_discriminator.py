"""The checkpoint's discriminator: our D computes what the plain formulas say, loads from NVIDIA
pickles without running their code (and survives `dreamface convert`), and photo inversion
uses its features when no LPIPS file is set, naming that loss in the stored face.

The equality with NVIDIA's own code is checked outside the suite (that code is not part of
the project): see README, "Inversion"."""

from __future__ import annotations

import logging
import math
import os
import pickle
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from dreamface.cli import main
from ground.config import Settings
from facegen.backends import load_backend
from facegen.handlers import PHOTO, job_kinds, load
from facegen.stylegan.backend import StyleGANBackend
from facegen.stylegan.discriminator import Discriminator
from facegen.stylegan.errors import CheckpointError
from facegen.stylegan.inversion import DiscriminatorFeatures, PixelSsim, make_loss
from facegen.stylegan.loaders import (load_discriminator, load_generator, nvidia_discriminator_kwargs,
                                      optional_discriminator, save_safetensors)
from facegen.stylegan.safe_pickle import RecordedModule
from storage.worker import Worker
from storage.blobs import add_blob
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.queue import Queue
from stylegan_fixtures import one_thread, tiny_d, tiny_sg2, write_nvidia_pickle  # noqa: F401 (one_thread: autouse)
from test_stylegan_loaders import _Payload

TESTDATA = Path(__file__).resolve().parent.parent / "data"



def _same_state(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# --- the network --------------------------------------------------------------------------------

def _reference(state: dict[str, torch.Tensor], img: torch.Tensor,
               clamp: float) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The resnet discriminator written out from the formulas with plain torch ops: equalized
    learning rate (weights × 1/√fan_in), leaky ReLU 0.2 × √2, clamp, [1,3,3,1] blur before
    every stride-2 step, resnet branches × √½, minibatch std over groups of 4."""
    blur = torch.tensor([1.0, 3, 3, 1])
    blur = torch.outer(blur, blur) / 64

    def conv(x, name, act=True, down=False, gain=1.0, c=clamp):
        w = state[f"{name}.weight"]
        w = w / math.sqrt(w[0].numel())
        k = w.shape[-1]
        if down:
            x = F.conv2d(F.pad(x, [k // 2 + 1] * 4), blur.expand(x.shape[1], 1, 4, 4), groups=x.shape[1])
            x = F.conv2d(x, w, stride=2)
        else:
            x = F.conv2d(x, w, padding=k // 2)
        if f"{name}.bias" in state:
            x = x + state[f"{name}.bias"][None, :, None, None]
        if act:
            x = torch.where(x >= 0, x, 0.2 * x) * math.sqrt(2)
        x = x * gain
        return x.clamp(-c * gain, c * gain) if act else x

    features, x = [], None
    for res in (16, 8):
        if x is None:
            x = conv(img, f"b{res}.fromrgb")
        half = math.sqrt(0.5)
        x = conv(x, f"b{res}.skip", act=False, down=True, gain=half) + \
            conv(conv(x, f"b{res}.conv0"), f"b{res}.conv1", down=True, gain=half)
        features.append(x)
    groups = x.reshape(4, -1, *x.shape[1:])                        # [group, n/4, C, H, W]
    std = groups.std(dim=0, unbiased=False).mean(dim=(1, 2, 3))    # one number per group position
    x = torch.cat([x, std.repeat(4)[:, None, None, None].expand(-1, 1, 4, 4)], dim=1)
    x = conv(x, "b4.conv").flatten(1)
    fc_w, out_w = state["b4.fc.weight"], state["b4.out.weight"]
    x = x @ (fc_w / math.sqrt(fc_w.shape[1])).t() + state["b4.fc.bias"]
    x = torch.where(x >= 0, x, 0.2 * x) * math.sqrt(2)
    return features, x @ (out_w / math.sqrt(out_w.shape[1])).t() + state["b4.out.bias"]


def test_features_and_logit_equal_the_formulas_applied_to_the_stored_weights():
    d = tiny_d(conv_clamp=0.6)   # a small clamp, so that clamping happens
    img = torch.randn(8, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    want_features, want_logit = _reference(d.state_dict(), img, clamp=0.6)
    with torch.no_grad():
        features, logit = d.features(img), d(img)
    assert [f.shape for f in features] == [(8, 16, 8, 8), (8, 16, 4, 4)]
    for got, want in zip(features, want_features):
        assert (got - want).abs().max() < 1e-5
    assert (logit - want_logit).abs().max() < 1e-5
    assert any((f.abs() >= 0.6 * math.sqrt(0.5) - 1e-6).any() for f in features)   # the clamp was reached


def test_a_picture_of_the_wrong_size_is_refused_where_it_enters():
    with pytest.raises(ValueError, match="discriminator input: dimension 2 is 32, expected 16"):
        tiny_d().features(torch.zeros(1, 3, 32, 32))


# --- loading ------------------------------------------------------------------------------------

def test_d_loads_from_a_training_pickle_without_running_its_code(tmp_path):
    marker = tmp_path / "pwned"
    original = tiny_d()
    write_nvidia_pickle(tiny_sg2(), tmp_path / "snapshot.pkl", module_src=f"open({str(marker)!r}, 'w')\n",
                        discriminator=original)
    loaded = load_discriminator(tmp_path / "snapshot.pkl")
    assert not marker.exists()
    assert isinstance(loaded, Discriminator) and _same_state(loaded, original)
    assert loaded.init_kwargs == original.init_kwargs
    img = torch.randn(4, 3, 16, 16)
    assert torch.equal(loaded(img), original(img))


def test_a_malicious_d_entry_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"D": _Payload(os.system, f"touch {marker}")}))
    with pytest.raises(CheckpointError, match="refused.*system"):
        load_discriminator(tmp_path / "evil.pkl")
    assert not marker.exists()


def test_files_without_a_discriminator_give_none(tmp_path):
    write_nvidia_pickle(tiny_sg2(), tmp_path / "g_only.pkl")
    torch.save({"g_ema": {}}, tmp_path / "rosinality.pt")
    save_safetensors(tiny_sg2(), tmp_path / "g.safetensors")
    for name in ("g_only.pkl", "rosinality.pt", "g.safetensors"):
        assert load_discriminator(tmp_path / name) is None


def test_convert_keeps_the_discriminator_beside_the_generator(tmp_path, capsys):
    generator, original = tiny_sg2(), tiny_d(architecture="skip", conv_clamp=256)
    write_nvidia_pickle(generator, tmp_path / "snapshot.pkl", discriminator=original)
    assert main(["convert", str(tmp_path / "snapshot.pkl"), str(tmp_path / "net.safetensors")]) == 0
    assert "with its discriminator" in capsys.readouterr().out
    assert _same_state(load_generator(tmp_path / "net.safetensors"), generator)
    converted = load_discriminator(tmp_path / "net.safetensors")
    assert _same_state(converted, original) and converted.init_kwargs == original.init_kwargs


def _recorded_d(**changes) -> RecordedModule:
    kwargs = dict(c_dim=0, img_resolution=16, img_channels=3, architecture="resnet", channel_base=128, channel_max=16,
                  num_fp16_res=4, conv_clamp=256, block_kwargs={}, mapping_kwargs={},
                  epilogue_kwargs={"mbstd_group_size": 4})
    return RecordedModule("Discriminator", init_kwargs={**kwargs, **changes})


@pytest.mark.parametrize("changes, message", [
    ({"c_dim": 10}, "conditional discriminators"),
    ({"block_kwargs": {"activation": "relu"}}, "leaky ReLU"),
    ({"epilogue_kwargs": {"mbstd_group_size": 4, "mbstd_mode": "x"}}, "unsupported options.*mbstd_mode"),
])
def test_discriminators_we_cannot_build_are_refused_by_name(changes, message):
    assert nvidia_discriminator_kwargs(_recorded_d())["conv_clamp"] == 256
    with pytest.raises(CheckpointError, match=message):
        nvidia_discriminator_kwargs(_recorded_d(**changes))


def test_an_unusable_discriminator_is_logged_and_left_out(tmp_path, caplog):
    write_nvidia_pickle(tiny_sg2(), tmp_path / "snapshot.pkl", discriminator=tiny_d())
    d = tiny_d()   # a D whose recorded weights do not fit its kwargs: a block missing
    del d.b8
    write_nvidia_pickle(tiny_sg2(), tmp_path / "broken.pkl", discriminator=d)
    with caplog.at_level(logging.WARNING):
        assert optional_discriminator(tmp_path / "broken.pkl") is None
    assert "do not fit" in caplog.text and "will not use the discriminator" in caplog.text
    assert StyleGANBackend.from_file(tmp_path / "broken.pkl").discriminator is None
    assert StyleGANBackend.from_file(tmp_path / "snapshot.pkl").discriminator is not None


# --- the loss -----------------------------------------------------------------------------------

def _picture(seed: int = 9) -> torch.Tensor:
    """A generated face in [-1, 1], as a photo is."""
    g = tiny_sg2()
    z = torch.randn(1, g.z_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return g(z, truncation_psi=0.7).clamp(-1, 1)


def test_identical_pictures_are_at_zero_and_the_distance_grows_with_noise():
    target = _picture()
    loss = DiscriminatorFeatures(tiny_d(), target)
    assert float(loss(target)) == pytest.approx(0.0, abs=1e-6)
    rng = torch.Generator().manual_seed(1)
    noise = torch.randn((5, *target.shape[1:]), generator=rng)
    distances = [float(loss.features(target + level * noise).mean()) for level in (0.02, 0.05, 0.1, 0.2, 0.4)]
    assert distances == sorted(distances) and distances[0] > 0
    # another face is further than a slightly noisy copy
    assert float(loss.features(_picture(seed=4))) > distances[1]


def test_the_loss_is_chosen_in_one_place_lpips_then_discriminator_then_pixels(tmp_path):
    target = _picture()
    assert isinstance(make_loss(target), PixelSsim) and make_loss(target).name == "pixel-ssim"
    assert make_loss(target, discriminator=tiny_d()).name == "discriminator-features"
    with pytest.raises(FileNotFoundError, match="DREAMFACE_LPIPS_VGG"):   # LPIPS comes first: its file is read
        make_loss(target, lpips_vgg=tmp_path / "vgg16.pt", discriminator=tiny_d())


# --- end to end ---------------------------------------------------------------------------------

async def test_a_photo_job_on_a_training_snapshot_is_fitted_with_the_discriminator(engine, tmp_path, monkeypatch):
    write_nvidia_pickle(tiny_sg2(), tmp_path / "snapshot.pkl", discriminator=tiny_d())
    monkeypatch.setenv("DREAMFACE_STYLEGAN_CKPT", str(tmp_path / "snapshot.pkl"))
    monkeypatch.setenv("DREAMFACE_INVERSION_STEPS", "9")
    load_backend.cache_clear()
    try:
        async with session_factory(engine)() as session, session.begin():
            user = await FaceRepository(session).get_or_create_user("web", "u1", "en")
            blob = await add_blob(session, (TESTDATA / "obama_official_portrait.jpg").read_bytes(), "image/jpeg")
        queue = Queue(engine, job_kinds())
        reply_to = {"platform": "web", "chat_id": "c1", "target": "u1"}
        job = await queue.enqueue(PHOTO, {"user_id": user.id, "reply_to": reply_to, "size": 64, "backend": "stylegan",
                                          "operation": "photo", "photo_blob_id": blob, "params": {"seed": 1}},
                                  user_id=user.id)
        worker = Worker(engine, load(Settings.from_env(), engine), queues=("slow",))
        assert await worker.run_once() == 1
        assert (await queue.get(job.id)).result["inversion"]["loss"] == "discriminator-features"
    finally:
        load_backend.cache_clear()
