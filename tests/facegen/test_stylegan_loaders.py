"""Loading StyleGAN checkpoints: the three formats agree, unsafe pickles run nothing."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

from dreamface.cli import main
from facegen.stylegan.errors import CheckpointError
from facegen.stylegan.loaders import (load_generator, load_nvidia_pickle, load_rosinality, load_safetensors,
                                      nvidia_to_rosinality, weights_digest)
from stylegan_fixtures import tiny_sg2, tiny_sg3, write_nvidia_pickle


def _image(generator, seed: int = 0, psi: float = 1.0) -> torch.Tensor:
    z = torch.from_numpy(np.random.RandomState(seed).randn(1, generator.z_dim))
    with torch.no_grad():
        return generator(z, truncation_psi=psi, noise_mode="const")


def _assert_same_weights(a, b) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def test_a_safetensors_file_whose_header_length_starts_like_a_pickle_loads(tmp_path):
    # the first byte of a safetensors file is its header length's low byte: 0x80, a pickle's
    # first byte, for one length in 256 (a training snapshot hit it)
    from facegen.stylegan.loaders import safetensors_bytes
    original = tiny_sg2()
    data = safetensors_bytes(original)
    length = int.from_bytes(data[:8], "little")
    pad = (0x80 - length) % 256   # the format allows spaces after the header's JSON
    padded = (length + pad).to_bytes(8, "little") + data[8:8 + length] + b" " * pad + data[8 + length:]
    assert padded[:1] == b"\x80"
    (tmp_path / "net.safetensors").write_bytes(padded)
    _assert_same_weights(load_generator(tmp_path / "net.safetensors"), original)


@pytest.mark.parametrize("make", [tiny_sg2, tiny_sg3, lambda: tiny_sg3(radial=True)], ids=["sg2", "sg3t", "sg3r"])
def test_pickle_and_converted_safetensors_give_the_original_weights_and_images(make, tmp_path):
    original = make()
    write_nvidia_pickle(original, tmp_path / "net.pkl")
    assert main(["convert", str(tmp_path / "net.pkl"), str(tmp_path / "net.safetensors")]) == 0

    from_pickle = load_nvidia_pickle(tmp_path / "net.pkl")
    from_safetensors = load_safetensors(tmp_path / "net.safetensors")
    for loaded in (from_pickle, from_safetensors):
        assert loaded.arch == original.arch
        _assert_same_weights(loaded, original)
        assert torch.equal(_image(loaded, seed=3), _image(original, seed=3))


def test_rosinality_file_gives_the_same_weights_and_images_as_the_pickle(tmp_path):
    original = tiny_sg2()
    write_nvidia_pickle(original, tmp_path / "net.pkl")
    torch.save({"g_ema": nvidia_to_rosinality(original), "latent_avg": original.mapping.w_avg.clone()},
               tmp_path / "net.pt")

    from_rosinality = load_generator(tmp_path / "net.pt")
    from_pickle = load_generator(tmp_path / "net.pkl")
    _assert_same_weights(from_rosinality, from_pickle)
    assert weights_digest(from_rosinality) == weights_digest(from_pickle)
    for psi in (1.0, 0.5):
        assert torch.equal(_image(from_rosinality, 5, psi), _image(from_pickle, 5, psi))


def test_rosinality_file_without_latent_avg_estimates_the_average_w(tmp_path):
    original = tiny_sg2()
    torch.save({"g_ema": nvidia_to_rosinality(original)}, tmp_path / "net.pt")
    loaded = load_rosinality(tmp_path / "net.pt")
    z = torch.from_numpy(np.random.RandomState(1).randn(4000, 16)).float()
    with torch.no_grad():
        mean = original.mapping(z)[:, 0].mean(dim=0)
    assert torch.allclose(loaded.mapping.w_avg, mean, atol=0.05)


# --- unsafe pickles -------------------------------------------------------------------------

class _Payload:
    """Pickles as a call of `func(*args)` when unpickled."""

    def __init__(self, func, *args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _refused(path, marker) -> str:
    with pytest.raises(CheckpointError) as info:
        load_generator(path)
    assert not marker.exists(), "the pickle's code ran"
    return str(info.value)


def test_pickle_calling_os_system_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"G_ema": _Payload(os.system, f"touch {marker}")}))
    message = _refused(tmp_path / "evil.pkl", marker)
    assert "refused" in message and "system" in message


def test_pickle_calling_eval_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(_Payload(eval, f"open({str(marker)!r}, 'w')")))
    assert "builtins.eval" in _refused(tmp_path / "evil.pkl", marker)


def test_pickle_naming_an_unknown_class_is_refused(tmp_path):
    data = b"\x80\x04ctraining.networks\nGenerator\n)\x81."   # GLOBAL + NEWOBJ of a network class
    (tmp_path / "evil.pkl").write_bytes(data)
    assert "training.networks.Generator" in _refused(tmp_path / "evil.pkl", tmp_path / "none")


def test_module_source_carried_by_the_pickle_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    write_nvidia_pickle(tiny_sg2(), tmp_path / "net.pkl", module_src=f"open({str(marker)!r}, 'w')\n")
    assert load_generator(tmp_path / "net.pkl").arch == "stylegan2"
    assert not marker.exists()


def test_malicious_bytes_inside_a_tensor_storage_are_refused(tmp_path):
    import torch.storage
    marker = tmp_path / "pwned"
    inner = pickle.dumps(_Payload(os.system, f"touch {marker}"))
    outer = pickle.dumps({"G_ema": _Payload(torch.storage._load_from_bytes, inner)})
    (tmp_path / "evil.pkl").write_bytes(outer)
    _refused(tmp_path / "evil.pkl", marker)


# --- files that are not checkpoints ---------------------------------------------------------

@pytest.mark.parametrize("content", [b"", b"hello, not a model", b"\x80\x04\x95 truncated", b"PK\x03\x04broken zip",
                                     (100).to_bytes(8, "little") + b'{"a": 1'], ids=["empty", "text", "pickle", "zip", "safetensors"])
def test_corrupt_files_give_a_checkpoint_error(tmp_path, content):
    (tmp_path / "bad.bin").write_bytes(content)
    with pytest.raises(CheckpointError, match="bad.bin"):
        load_generator(tmp_path / "bad.bin")


def test_truncated_real_pickle_gives_a_checkpoint_error(tmp_path):
    write_nvidia_pickle(tiny_sg2(), tmp_path / "net.pkl")
    data = (tmp_path / "net.pkl").read_bytes()
    (tmp_path / "cut.pkl").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.pkl"):
        load_generator(tmp_path / "cut.pkl")


def test_safetensors_without_our_header_is_refused(tmp_path):
    from safetensors.torch import save_file
    save_file({"x": torch.zeros(2)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(CheckpointError, match="dreamface convert"):
        load_generator(tmp_path / "plain.safetensors")


def test_convert_reports_a_bad_input_in_one_line(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "missing.pkl"), str(tmp_path / "out.safetensors")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "missing.pkl" in err and "no such checkpoint" in err
    assert not (tmp_path / "out.safetensors").exists()
