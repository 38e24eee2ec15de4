"""The backend contract (facegen/backend.py), proved the same way for every backend: the built-in
montage renderer and StyleGAN2 / StyleGAN3 over tiny random checkpoints (with a smile direction
file, so edits have something to move along). A new backend joins BACKENDS below and must pass
every test here unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, TESTDATA
from facegen.attributes import Attributes, Edit
from facegen.backend import (Backend, BackendInfo, FittedFace, NoDirection, PhotoFitOptions, Unsupported)
from facegen.candidates import region_candidates
from facegen.montage import MontageBackend
from facegen.photo import PhotoError, load_photo
from facegen.backends import OVERRIDES
from ground.config import BACKENDS
from stylegan_fixtures import tiny_d, tiny_sg2, tiny_sg3

W_DIM = 16   # the tiny checkpoints' w_dim


def _stylegan(generator, directions: Path, **kwargs) -> Backend:
    import torch

    from facegen.stylegan.backend import StyleGANBackend
    torch.set_num_threads(1)   # tiny tensors: threads only contend
    return StyleGANBackend(generator, directions=str(directions), **kwargs)


@pytest.fixture(scope="module", params=["montage", "stylegan2", "stylegan3"])
def backend(request, tmp_path_factory) -> Backend:
    if request.param == "montage":
        return MontageBackend()
    folder = tmp_path_factory.mktemp("directions")
    np.save(folder / "smile.npy", np.random.default_rng(1).standard_normal(W_DIM).astype(np.float32))
    if request.param == "stylegan2":
        return _stylegan(tiny_sg2(), folder, discriminator=tiny_d())
    return _stylegan(tiny_sg3(), folder)


def test_every_backend_the_settings_accept_is_one_this_build_can_run():
    assert tuple(OVERRIDES) == BACKENDS


def pixels(images: list[Image.Image]) -> list[np.ndarray]:
    return [np.asarray(image) for image in images]


# --- what every backend has ---------------------------------------------------------------------

def test_describes_itself_in_plain_data_that_survives_json(backend):
    info = backend.describe()
    assert isinstance(info, BackendInfo) and info.name == backend.name and info.model_id == backend.checkpoint_id
    assert info.resolution == backend.resolution > 0 and info.regions == tuple(backend.regions)
    assert set(info.layer_groups) == {"coarse", "middle", "fine"}
    assert set(info.abilities) <= set(BackendInfo.ABILITIES) and info.can("photo")
    assert BackendInfo.from_json(json.loads(json.dumps(info.to_json()))) == info


def test_layer_groups_split_the_latent_rows_in_order(backend):
    rows = [i for group in ("coarse", "middle", "fine") for i in range(backend.num_ws)[backend.layer_ranges[group]]]
    assert rows == list(range(backend.num_ws))


def test_a_seed_is_one_face_and_another_seed_another(backend):
    a, again, other = backend.sample(5), backend.sample(5), backend.sample(6)
    assert a.shape == (backend.num_ws, backend.w_dim) and backend.average().shape == a.shape
    assert a == again and a != other


def test_truncation_pulls_a_seed_toward_the_average_face(backend):
    face = backend.sample(5)
    assert backend.sample_truncated(5, 1.0) == face
    assert np.allclose(backend.sample_truncated(5, 0.0).base, backend.average(), atol=1e-6)
    assert np.allclose(backend.sample_truncated(5, 0.5).base, (face.base + backend.average()) / 2, atol=1e-5)


def test_render_draws_a_batch_at_the_asked_size_the_same_every_time(backend):
    codes = [backend.sample(1), backend.sample(2)]
    first, second = backend.render(codes, 64), backend.render(codes, 64)
    assert [(im.mode, im.size) for im in first] == [("RGB", (64, 64))] * 2
    assert [a.tobytes() for a in first] == [b.tobytes() for b in second]
    assert first[0].tobytes() != first[1].tobytes()


def test_descriptions_show_what_the_model_can_change_and_name_the_rest(backend):
    attributes = Attributes(smile=1.0, glasses=True)
    described = backend.from_attributes(attributes, seed=3)
    assert described.shape == (backend.num_ws, backend.w_dim)
    assert "smile" not in backend.unapplied(attributes)
    assert described != backend.sample(3)                       # the smile moved it
    assert set(backend.unapplied(attributes)) <= {"glasses"}
    assert ("glasses" in backend.unapplied(attributes)) == ("glasses" not in backend.edit_names())


def test_edits_move_the_face_and_an_edit_it_cannot_make_is_refused_by_name(backend):
    face = backend.sample(4)
    assert "smile" in backend.edit_names()
    assert backend.edit(face, Edit("smile", 1.0)) != face
    assert backend.missing_edits([Edit("smile", 1.0)]) == []
    for field in ("glasses", "wrinkles"):
        if field not in backend.edit_names():
            assert backend.missing_edits([Edit(field, 1.0)]) == [field]
            with pytest.raises(NoDirection) as refused:
                backend.edit(face, Edit(field, 1.0))
            assert refused.value.values["attribute"] == field and "smile" in refused.value.values["available"]


def test_a_remix_draws_its_layer_group_afresh_and_leaves_the_other_rows(backend):
    face = backend.sample(7)
    for group, rows in backend.layer_ranges.items():
        remixed = backend.remix(face, 3, rows, keep=("smile", "skin_tone"))
        outside = np.ones(backend.num_ws, bool)
        outside[rows] = False
        assert np.array_equal(remixed.base[outside], face.base[outside]), group
        assert (remixed != face) == bool(range(backend.num_ws)[rows]), group   # (a tiny model's group may be empty)
        assert remixed == backend.remix(face, 3, rows, keep=("smile", "skin_tone"))


def test_variations_stay_at_strength_zero_and_spread_with_strength(backend):
    face = backend.sample(7)
    assert all(child == face for child in backend.variations(face, 3, 0.0, seed=1))
    near, far = backend.variations(face, 4, 0.2, seed=1), backend.variations(face, 4, 0.9, seed=1)
    assert near == backend.variations(face, 4, 0.2, seed=1)       # deterministic per seed
    distance = lambda children: np.mean([np.linalg.norm(c.base - face.base) for c in children])  # noqa: E731
    assert 0 < distance(near) < distance(far)


def test_region_candidates_render_as_faces_of_the_right_size(backend):
    face = backend.sample(8)
    candidates = region_candidates(backend, face, backend.regions[0], n=3, seed=2)
    images = backend.render_region(face, candidates, backend.regions[0], 64)
    assert [im.size for im in images] == [(64, 64)] * 3
    assert len({im.tobytes() for im in images}) == 3


def test_a_photo_becomes_a_face_and_a_photo_it_cannot_use_says_why(backend):
    portrait = load_photo((TESTDATA / "obama_official_portrait.jpg").read_bytes())
    heard: list[float] = []
    fitted = backend.from_photo(portrait, 1, options=PhotoFitOptions(steps=4), progress=heard.append)
    assert isinstance(fitted, FittedFace) and fitted.code.shape == (backend.num_ws, backend.w_dim)
    json.dumps(dict(fitted.made))                                 # stored with the face as JSON
    # how near the face came to the photo, kept where the recogniser found a face to measure: in
    # every montage face, never in the pictures of these untrained StyleGANs
    assert ("likeness" in fitted.made) == (backend.name == "montage")
    assert backend.render([fitted.code], 64)[0].size == (64, 64)
    assert all(0.0 <= fraction <= 1.0 for fraction in heard)
    with pytest.raises(PhotoError) as refused:
        backend.from_photo(load_photo((TESTDATA / "two_faces.jpg").read_bytes()), 1,
                           options=PhotoFitOptions(steps=4))
    assert refused.value.code == "several_faces"


# --- the defaults a backend gets for what it lacks ------------------------------------------------

class Minimal(Backend):
    """Only the required parts, borrowed from the montage."""
    name, checkpoint_id, resolution = "minimal", "minimal-1", 64

    def __init__(self) -> None:
        inner = self.inner = MontageBackend()
        self.num_ws, self.w_dim, self.layer_ranges, self.regions = inner.num_ws, inner.w_dim, inner.layer_ranges, ()
        self.sample, self.average, self.render = inner.sample, inner.average, inner.render
        self.from_attributes, self.edit = inner.from_attributes, inner.edit


def test_a_backend_without_the_optional_parts_gets_the_defaults():
    minimal = Minimal()
    assert minimal.describe().abilities == ()
    with pytest.raises(Unsupported, match="minimal backend cannot make a face from a photo"):
        minimal.from_photo(Image.new("RGB", (64, 64)), 1)
    assert minimal.describe().text_edit_languages == ()   # no free-text edits (a StyleGAN's need a CLIP)
    with pytest.raises(Unsupported, match="minimal backend cannot edit a face from free words"):
        minimal.text_edit(minimal.sample(1), "a vampire", steps=2)
    face = minimal.sample(1)
    assert len(minimal.variations(face, 2, 0.5, seed=1)) == 2
    assert [im.size for im in minimal.render_region(face, [face], "eyes", 32)] == [(32, 32)]
    assert minimal.unapplied(Attributes(smile=1.0)) == []
    assert np.array_equal(minimal.sample_truncated(1, 0.5).base, face.base / 2)   # the montage's average is 0


def test_the_description_needs_no_model_library():
    """The chat side reads BackendInfo; importing the contract must not pull torch in."""
    check = "import sys, facegen.backend; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
