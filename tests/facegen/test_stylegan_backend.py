"""The stylegan backend over tiny random checkpoints: seeds, truncation, morphs, noise, CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from dreamface.cli import main
from facegen.backend import Backend
from facegen.facecode import FaceCode
from facegen.latent import morph, truncate
from facegen.stylegan.backend import StyleGANBackend, layer_ranges_for
from facegen.backend import Unsupported
from facegen.stylegan.loaders import save_safetensors
from facegen.stylegan.networks2 import Generator
from stylegan_fixtures import SG2_KWARGS, randomized, tiny_sg2, tiny_sg3, write_nvidia_pickle


@pytest.fixture(scope="module", params=["sg2", "sg3"])
def backend(request) -> StyleGANBackend:
    return StyleGANBackend(tiny_sg2() if request.param == "sg2" else tiny_sg3())


def pixels(backend: StyleGANBackend, *codes: FaceCode) -> list[np.ndarray]:
    return [np.asarray(im) for im in backend.render(list(codes), backend.resolution)]


def test_is_a_backend_with_w_plus_of_the_checkpoint(backend):
    assert isinstance(backend, Backend)
    code = backend.sample(0)
    assert code.shape == (backend.num_ws, backend.w_dim)
    assert backend.checkpoint_id.startswith(backend.generator.arch)


def test_same_seed_same_face_and_image_different_seed_different(backend):
    a, again, other = backend.sample(11), backend.sample(11), backend.sample(12)
    assert a == again and a != other
    pa, pagain, pother = pixels(backend, a, again, other)
    assert np.array_equal(pa, pagain) and not np.array_equal(pa, pother)


def test_seed_matches_the_official_z_and_mapping(backend):
    z = torch.from_numpy(np.random.RandomState(4).randn(1, backend.z_dim))
    with torch.no_grad():
        expected = backend.generator(z, truncation_psi=0.7, noise_mode="const")
    image = np.asarray(backend.render([backend.sample(4, truncation_psi=0.7)], backend.resolution)[0])
    official = (expected.permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8)[0].numpy()
    assert np.array_equal(image, official)


def test_truncation_to_zero_gives_the_average_face(backend):
    average_face = FaceCode(backend.average())
    by_mapping = backend.sample(3, truncation_psi=0.0)
    by_latent_op = truncate(backend.sample(3), backend.average(), 0.0)
    [avg, mapped, op] = pixels(backend, average_face, by_mapping, by_latent_op)
    assert np.array_equal(avg, mapped) and np.array_equal(avg, op)
    assert not np.array_equal(avg, pixels(backend, backend.sample(3))[0])


def test_batch_renders_each_face_as_it_renders_alone(backend):
    codes = [backend.sample(s) for s in (1, 2, 3)]
    together = pixels(backend, *codes)
    for code, image in zip(codes, together):
        assert np.array_equal(pixels(backend, code)[0], image)


def test_linear_morph_ends_are_the_two_faces(backend):
    me, celebrity = backend.sample(1), backend.sample(2)
    [pme, pceleb, at1, at0, half] = pixels(backend, me, celebrity, morph(me, celebrity, 1.0),
                                           morph(me, celebrity, 0.0), morph(me, celebrity, 0.5))
    assert np.array_equal(at1, pme) and np.array_equal(at0, pceleb)
    assert not np.array_equal(half, pme) and not np.array_equal(half, pceleb)


def test_noise_modes(tmp_path):
    generator = tiny_sg2()
    const, none, random = (StyleGANBackend(generator, noise_mode=m) for m in ("const", "none", "random"))
    code = const.sample(5)
    [pc], [pn], [pr], [pr_again] = (pixels(b, code) for b in (const, none, random, random))
    assert not np.array_equal(pc, pn) and not np.array_equal(pc, pr)
    assert np.array_equal(pr, pr_again), "random noise is seeded by the face, so it re-renders the same"
    with pytest.raises(ValueError, match="noise mode"):
        StyleGANBackend(generator, noise_mode="loud")


def test_render_resizes_to_the_asked_size(backend):
    (image,) = backend.render([backend.sample(0)], 48)
    assert image.size == (48, 48) and image.mode == "RGB"


def test_a_face_from_another_model_is_refused(backend):
    with pytest.raises(Unsupported, match="different model"):
        backend.render([FaceCode(np.zeros((3, 5), np.float32))])


def test_layer_ranges_follow_resolutions_for_stylegan2():
    torch.manual_seed(0)
    generator = Generator(**{**SG2_KWARGS, "img_resolution": 128})
    ranges = layer_ranges_for(generator)
    resolutions = generator.synthesis.ws_resolutions()
    assert generator.num_ws == 12
    assert {resolutions[i] for i in range(12)[ranges["coarse"]]} == {4, 8}
    assert {resolutions[i] for i in range(12)[ranges["middle"]]} == {16, 32}
    assert {resolutions[i] for i in range(12)[ranges["fine"]]} == {64, 128}


def test_wrong_w_plus_shape_fails_where_it_enters():
    generator = tiny_sg2()
    with pytest.raises(ValueError, match="dimension 1 is 3, expected 6"):
        generator.synthesis(torch.zeros(1, 3, 16))


# --- command line ---------------------------------------------------------------------------

def test_generate_cli_writes_the_backend_image_from_any_checkpoint_format(tmp_path):
    generator = randomized(tiny_sg3(), 1)
    write_nvidia_pickle(generator, tmp_path / "g.pkl")
    save_safetensors(generator, tmp_path / "g.safetensors")
    expected = np.asarray(StyleGANBackend(generator).render(
        [StyleGANBackend(generator).sample(9, truncation_psi=0.7)], 16)[0])
    for ckpt in ("g.pkl", "g.safetensors"):
        out = tmp_path / f"{ckpt}.png"
        assert main(["generate", "--backend", "stylegan", "--ckpt", str(tmp_path / ckpt), "--seed", "9",
                     "--trunc", "0.7", "--noise-mode", "const", "--out", str(out)]) == 0
        assert np.array_equal(np.asarray(Image.open(out)), expected)


@pytest.mark.parametrize("content", [None, b"garbage bytes"], ids=["missing", "corrupt"])
def test_generate_cli_bad_checkpoint_is_one_line(tmp_path, capsys, content):
    ckpt = tmp_path / "model.pkl"
    if content is not None:
        ckpt.write_bytes(content)
    code = main(["generate", "--backend", "stylegan", "--ckpt", str(ckpt), "--seed", "1", "--out", str(tmp_path / "a.png")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "model.pkl" in err
    assert not (tmp_path / "a.png").exists()


def test_generate_cli_takes_the_noise_mode_and_a_checkpoint_from_the_environment(tmp_path, monkeypatch):
    generator = randomized(tiny_sg2(), 2)
    save_safetensors(generator, tmp_path / "g.safetensors")
    monkeypatch.setenv("DREAMFACE_STYLEGAN_CKPT", str(tmp_path / "g.safetensors"))
    out = tmp_path / "none.png"
    assert main(["generate", "--backend", "stylegan", "--seed", "3", "--noise-mode", "none", "--out", str(out)]) == 0
    backend = StyleGANBackend(generator, noise_mode="none")
    expected = backend.render([backend.sample(3)], backend.resolution)[0]
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(expected))


def test_generate_cli_without_any_checkpoint_says_how_to_give_one(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DREAMFACE_STYLEGAN_CKPT", raising=False)
    code = main(["generate", "--backend", "stylegan", "--seed", "1", "--out", str(tmp_path / "a.png")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "DREAMFACE_STYLEGAN_CKPT" in err and "--ckpt" in err
    assert not (tmp_path / "a.png").exists()


def test_stylegan_backend_loads_lazily_from_the_configured_checkpoint(tmp_path, monkeypatch):
    from facegen.backends import load_backend
    save_safetensors(tiny_sg2(), tmp_path / "g.safetensors")
    monkeypatch.setenv("DREAMFACE_STYLEGAN_CKPT", str(tmp_path / "g.safetensors"))
    load_backend.cache_clear()
    try:
        backend = load_backend("stylegan")
        assert backend.name == "stylegan" and backend.resolution == 16
    finally:
        load_backend.cache_clear()
