"""Attribute directions for the stylegan backend: operator files (InterFaceGAN .npy, GANSpace
.npz), closed-form (SeFa) directions, edits, descriptions and the clear refusal without one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from facegen.attributes import Attributes, Edit
from facegen.backends import BackendUnavailable, load_backend
from facegen.candidates import variations
from facegen.stylegan.backend import StyleGANBackend
from facegen.stylegan.directions import (DEGREE_SIGMAS, DirectionError, closed_form, load_direction_file,
                                         load_directions, parse_file_name)
from facegen.backend import NoDirection, Unsupported
from facegen.stylegan.loaders import save_safetensors
from stylegan_fixtures import tiny_sg2, tiny_sg3

W_DIM, NUM_WS = 16, 6   # tiny_sg2


def unit(seed: int, dim: int = W_DIM) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(dim)
    return (v / np.linalg.norm(v)).astype(np.float32)


def interfacegan_file(path: Path, seed: int, shape=(1, W_DIM)) -> Path:
    np.save(path, unit(seed).reshape(shape))
    return path


def ganspace_file(path: Path, n: int = 5) -> Path:
    comps = np.stack([unit(100 + k) for k in range(n)])[:, None, :]
    np.savez(path, lat_comp=comps, lat_mean=np.zeros((1, W_DIM), np.float32),
             lat_stdev=np.ones(n, np.float32), var_ratio=np.full(n, 0.1, np.float32))
    return path


@pytest.fixture()
def direction_dir(tmp_path) -> Path:
    folder = tmp_path / "directions"
    folder.mkdir()
    interfacegan_file(folder / "stylegan_ffhq_smile_w_boundary.npy", 1)
    interfacegan_file(folder / "age.npy", 2, shape=(W_DIM,))
    ganspace_file(folder / "hair_length.c3.w1-3.npz")
    (folder / "notes.txt").write_text("not a direction")
    return folder


@pytest.fixture()
def backend(direction_dir) -> StyleGANBackend:
    return StyleGANBackend(tiny_sg2(), directions=str(direction_dir))


def test_file_names_say_the_attribute_the_component_and_the_rows():
    assert parse_file_name(Path("stylegan_ffhq_smile_w_boundary.npy")) == ("smile", 0, slice(None))
    assert parse_file_name(Path("stylegan2_ffhq_eyeglasses_boundary.npy"))[0] == "glasses"
    assert parse_file_name(Path("male.npy"))[0] == "gender"
    assert parse_file_name(Path("ffhq_mouth_corners.npy"))[0] == "mouth_corners"
    assert parse_file_name(Path("smile.c46.w4-5.npz")) == ("smile", 46, slice(4, 5))
    assert parse_file_name(Path("blond.npy"))[0] == "blond"
    assert parse_file_name(Path("pose.npy"))[0] == "pose"     # kept, listed, reached by no intent
    with pytest.raises(DirectionError, match="empty"):
        parse_file_name(Path("smile.w5-5.npy"))


def test_both_formats_load_as_unit_directions(tmp_path):
    boundary = load_direction_file(interfacegan_file(tmp_path / "smile.npy", 1), W_DIM, NUM_WS)
    assert np.allclose(boundary.vector, unit(1)) and boundary.rows == slice(None)
    component = load_direction_file(ganspace_file(tmp_path / "age.c3.w1-3.npz"), W_DIM, NUM_WS)
    assert np.allclose(component.vector, unit(103)) and component.rows == slice(1, 3)


@pytest.mark.parametrize("name, write, message", [
    ("smile.npy", lambda p: np.save(p, np.ones((2, W_DIM))), r"shape \[1, 16\] or \[16\], got \[2, 16\]"),
    ("smile.npy", lambda p: np.save(p, np.zeros(W_DIM)), "zero"),
    ("smile.npz", lambda p: np.savez(p, other=np.ones(3)), "lat_comp"),
    ("smile.c9.npz", lambda p: ganspace_file(p), "component 9"),
    ("smile.w2-9.npy", lambda p: np.save(p, np.ones(W_DIM)), "past this model's 6 rows"),
    ("smile.npy", lambda p: p.write_bytes(b"garbage"), "cannot read"),
])
def test_a_bad_direction_file_is_one_clear_line_naming_it(tmp_path, name, write, message):
    path = tmp_path / name
    write(path)
    with pytest.raises(DirectionError, match=message) as err:
        load_direction_file(path, W_DIM, NUM_WS)
    assert "smile" in str(err.value) and "\n" not in str(err.value)


def test_a_directory_or_a_list_and_two_files_for_one_attribute(tmp_path, direction_dir):
    assert sorted(load_directions(str(direction_dir), W_DIM, NUM_WS)) == ["age", "hair_length", "smile"]
    listed = load_directions(f"{direction_dir / 'age.npy'}, {direction_dir / 'hair_length.c3.w1-3.npz'}", W_DIM, NUM_WS)
    assert sorted(listed) == ["age", "hair_length"]
    interfacegan_file(direction_dir / "smiling.npy", 5)
    with pytest.raises(DirectionError, match="two direction files for 'smile'"):
        load_directions(str(direction_dir), W_DIM, NUM_WS)
    with pytest.raises(DirectionError, match="no such"):
        load_directions(str(tmp_path / "missing"), W_DIM, NUM_WS)


def test_more_smile_steps_along_the_smile_direction_and_changes_the_picture(backend):
    code = backend.sample(3)
    smile = backend.directions.named["smile"]
    more, less = backend.edit(code, Edit("smile", amount=0.5)), backend.edit(code, Edit("smile", amount=-0.5))
    assert smile.position(more.base) == pytest.approx(smile.position(code.base) + 0.5, abs=1e-4)
    assert smile.position(less.base) == pytest.approx(smile.position(code.base) - 0.5, abs=1e-4)
    step = more.base - code.base
    assert np.allclose(step, 0.5 * DEGREE_SIGMAS * smile.sigma * smile.vector, atol=1e-5)
    before, after = (np.asarray(im) for im in backend.render([code, more], 16))
    assert not np.array_equal(before, after)
    older = backend.edit(code, Edit("age", amount=1.0))
    assert backend.directions.named["age"].position(older.base) > backend.directions.named["age"].position(code.base)


def test_a_direction_with_rows_moves_only_those_rows_and_moves_part_donors_too(backend):
    code = backend.sample(3).with_part("eyes", backend.sample(4).base)
    longer = backend.edit(code, Edit("hair_length", amount=1.0))
    changed = np.abs(longer.base - code.base).max(axis=1) > 0
    assert changed.tolist() == [False, True, True, False, False, False]
    assert not np.array_equal(longer.parts["eyes"], code.parts["eyes"])


def test_a_set_value_lands_on_that_degree(backend):
    code = backend.sample(5)
    for target in (-1.0, 0.0, 0.7):
        smiled = backend.edit(code, Edit("smile", value=target))
        assert backend.directions.named["smile"].position(smiled.base) == pytest.approx(target, abs=1e-4)
    senior = backend.from_attributes(Attributes(age_band="senior"), seed=5)
    assert backend.directions.named["age"].position(senior.base) == pytest.approx(1.0, abs=1e-4)


def test_without_a_direction_the_refusal_names_the_attribute_and_what_the_model_has(backend):
    with pytest.raises(NoDirection) as refused:
        backend.edit(backend.sample(1), Edit("glasses", value=True))
    assert isinstance(refused.value, Unsupported) and refused.value.code == "no_direction"
    assert refused.value.values == {"attribute": "glasses", "available": ["age_band", "hair_length", "smile"]}
    assert "'glasses'" in str(refused.value) and "age_band, hair_length, smile" in str(refused.value)
    bare = StyleGANBackend(tiny_sg2())
    with pytest.raises(NoDirection, match="DREAMFACE_STYLEGAN_DIRECTIONS"):
        bare.edit(bare.sample(1), Edit("smile", amount=0.5))
    assert bare.missing_edits([Edit("smile", amount=0.5), Edit("age", amount=1)]) == ["smile", "age"]


def test_describe_applies_the_directions_it_has_and_names_the_rest(backend):
    attributes = Attributes(smile=0.7, glasses=True, hair_colour="blond")
    face = backend.from_attributes(attributes, seed=8)
    assert backend.directions.named["smile"].position(face.base) == pytest.approx(0.7, abs=1e-4)
    assert backend.unapplied(attributes) == ["hair_colour", "glasses"]
    assert backend.from_attributes(Attributes(glasses=True), seed=8) == backend.sample(8)


def test_issue_14s_attributes_have_direction_names_and_marks_do_not_break_them(tmp_path):
    """Every new field can be named by a direction file; marks (tuples of places) and the enums
    whose values name other things (brown eyes, not brown hair) reach only their own."""
    folder = tmp_path / "directions"
    folder.mkdir()
    names = ["forehead_height", "forehead_width", "cheekbones", "cheek_fullness", "eye_depth", "nose_bridge",
             "ear_size", "freckles", "dimples", "moles", "scars", "eye_colour_blue", "brow_shape_arched",
             "hairline_receding", "beard_colour_white", "brown"]
    for k, name in enumerate(names):
        interfacegan_file(folder / f"{name}.npy", 10 + k)
    assert {parse_file_name(Path(f"stylegan_ffhq_{name}_w_boundary.npy"))[0] for name in names} == set(names)
    backend = StyleGANBackend(tiny_sg2(), directions=str(folder))
    assert set(backend.edit_names()) >= {*names[:11], "eye_colour=blue", "brow_shape=arched", "hairline=receding",
                                         "beard_colour=white", "hair_colour=brown"}
    assert "eye_colour=brown" not in backend.edit_names()          # brown.npy is the hair's
    code = backend.sample(2)
    moles = backend.directions.named["moles"]
    marked = backend.edit(code, Edit("moles", value=("under_eye", "mouth")))
    assert moles.position(marked.base) == pytest.approx(1.0, abs=1e-4)
    assert moles.position(backend.edit(code, Edit("moles", value=())).base) == pytest.approx(-1.0, abs=1e-4)
    assert backend.directions.named["freckles"].position(backend.edit(code, Edit("freckles", value=0.0)).base) \
        == pytest.approx(-1.0, abs=1e-4)
    described = Attributes(scars=("cheek",), eye_colour="blue", eye_depth=0.7, dimples=True, hairline="m_shaped")
    assert backend.unapplied(described) == ["hairline"]
    face = backend.from_attributes(described, seed=4)
    assert backend.directions.named["eye_colour_blue"].position(face.base) > 0.5   # later edits move it a little
    with pytest.raises(NoDirection):
        backend.edit(code, Edit("eye_colour", value="brown"))


@pytest.mark.parametrize("make", [tiny_sg2, tiny_sg3], ids=["sg2", "sg3"])
def test_closed_form_directions_are_the_style_weights_principal_axes(make):
    generator = make()
    directions = closed_form(generator)
    vectors = np.stack([d.vector for d in directions])
    assert len(directions) == W_DIM and directions[0].name == "principal_1"
    assert np.allclose(vectors @ vectors.T, np.eye(W_DIM), atol=1e-4)
    affine = torch.cat([m.weight.detach() for n, m in generator.synthesis.named_modules()
                        if n.endswith("affine") and m.weight.shape[0] > 4])
    affine = affine / affine.norm(dim=1, keepdim=True)
    spread = [float((affine @ torch.from_numpy(v)).norm()) for v in vectors]
    assert spread == sorted(spread, reverse=True)
    assert all(spread[0] >= float((affine @ torch.from_numpy(unit(s))).norm()) for s in range(20))


def test_variations_move_along_principal_directions_deterministically(backend):
    code = backend.sample(2).with_part("nose", backend.sample(3).base)
    children = variations(backend, code, n=4, strength=0.35, seed=1)
    assert children == variations(backend, code, n=4, strength=0.35, seed=1)
    assert len({c.to_bytes() for c in children}) == 4 and set(children[0].parts) == {"nose"}
    assert variations(backend, code, n=2, strength=0.0, seed=1) == [code, code]
    # the children stay around the face: no drift of the average away from it
    many = variations(backend, code, n=25, strength=0.35, seed=4)
    spread = np.mean([np.linalg.norm(c.base - code.base) for c in many])
    assert np.linalg.norm(np.mean([c.base for c in many], axis=0) - code.base) < 0.5 * spread


def test_load_backend_reads_the_directions_setting(tmp_path, direction_dir, monkeypatch):
    save_safetensors(tiny_sg2(), tmp_path / "g.safetensors")
    monkeypatch.setenv("DREAMFACE_STYLEGAN_CKPT", str(tmp_path / "g.safetensors"))
    monkeypatch.setenv("DREAMFACE_STYLEGAN_DIRECTIONS", str(direction_dir))
    load_backend.cache_clear()
    try:
        assert load_backend("stylegan").edit_names() == ["age_band", "hair_length", "smile"]
        load_backend.cache_clear()
        monkeypatch.setenv("DREAMFACE_STYLEGAN_DIRECTIONS", str(tmp_path / "nowhere.npy"))
        with pytest.raises(BackendUnavailable, match="stylegan backend cannot start: .*nowhere.npy") as info:
            load_backend("stylegan")
        assert isinstance(info.value.__cause__, DirectionError)
    finally:
        load_backend.cache_clear()


def test_generate_describe_on_a_checkpoint_applies_directions_and_says_what_it_could_not(
        tmp_path, direction_dir, monkeypatch, capsys):
    from dreamface.cli import main
    save_safetensors(tiny_sg2(), tmp_path / "g.safetensors")
    monkeypatch.setenv("DREAMFACE_STYLEGAN_DIRECTIONS", str(direction_dir))
    out = tmp_path / "d.png"
    assert main(["generate", "--backend", "stylegan", "--ckpt", str(tmp_path / "g.safetensors"),
                 "--describe", "a smiling man with glasses", "--out", str(out)]) == 0
    assert "no direction on this model for: gender, glasses" in capsys.readouterr().err
    backend = StyleGANBackend(tiny_sg2(), directions=str(direction_dir))
    expected = backend.render([backend.from_attributes(Attributes(smile=0.7), seed=0)], 16)[0]
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(expected))
