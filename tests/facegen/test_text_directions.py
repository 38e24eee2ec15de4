"""Directions from words (facegen/stylegan/text_directions.py, `dreamface directions build`): the
fit finds a direction planted in scores and calls noise weak; the command writes direction files
that the StyleGAN backend serves, keeps its manifest honest across rebuilds, and answers bad
input with one line. (Whether the directions built with the montage-trained CLIP move faces the
asked way is measured by bench/text_directions.py: a learned signal, not a unit test.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dreamface.cli import main
from facegen.attributes import Edit
from facegen.stylegan import text_directions as td
from facegen.stylegan.backend import StyleGANBackend
from stylegan_fixtures import one_thread  # noqa: F401 (autouse)
from test_clip_loading import _tiny_clip, no_network  # noqa: F401 (autouse)

CHECKPOINT = Path(__file__).resolve().parent.parent / "data" / "montage32.safetensors"


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory) -> Path:
    """A tiny random CLIP whose tokenizer learned every prompt's words in both languages."""
    out = tmp_path_factory.mktemp("clip")
    _tiny_clip(out, captions=[text for t in td.targets() for locale in td.LANGUAGES
                              for side in t.prompts(locale) for text in side])
    return out


@pytest.fixture(scope="module")
def english_clip_dir(tmp_path_factory) -> Path:
    """One whose tokenizer saw six captions: most Korean prompt words are unknown to it."""
    out = tmp_path_factory.mktemp("clip_en")
    _tiny_clip(out)
    return out


def test_the_fit_recovers_a_direction_planted_in_the_scores_and_calls_noise_weak():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((600, 64)) * rng.uniform(0.2, 2.0, 64)   # unequal spreads, as W has
    planted = rng.standard_normal(64)
    planted /= np.linalg.norm(planted)
    scores = w @ planted + 0.3 * rng.standard_normal(600)
    direction, r = td.fit_direction(w, scores)
    assert abs(np.linalg.norm(direction) - 1) < 1e-5
    assert float(direction @ planted) > 0.9 and r > 0.9
    _, r_noise = td.fit_direction(w, rng.standard_normal(600))
    assert abs(r_noise) < td.DEFAULT_MIN_R


def test_every_attribute_has_words_for_more_and_less_in_both_languages():
    names = [t.name for t in td.targets()]
    assert len(names) == len(set(names))
    for wanted in ("glasses", "beard", "smile", "eye_size", "age", "gender", "hair_colour_blond", "skin_tone_dark",
                   "eye_colour_blue", "moles"):
        assert wanted in names
    glasses = next(t for t in td.targets() if t.name == "glasses")
    assert glasses.prompts("en") == (["a face with glasses"], ["a face"])   # not "no glasses": CLIP reads negation badly
    assert glasses.prompts("ko") == (["안경"], ["얼굴"])
    blond = next(t for t in td.targets() if t.name == "hair_colour_blond")
    assert len(blond.less) == 5   # against every other colour
    assert [t.name for t in td.pick_targets(["hair_colour", "smile"])] == \
        [f"hair_colour_{c}" for c in ("black", "brown", "blond", "red", "grey", "white")] + ["smile"]
    with pytest.raises(ValueError, match="no attribute called 'sparkle'"):
        td.pick_targets(["sparkle"])


def _build(out: Path, clip_dir: Path, *extra: str, ckpt: Path = CHECKPOINT) -> int:
    return main(["directions", "build", "--ckpt", str(ckpt), "--clip", str(clip_dir), "--out", str(out),
                 "--samples", "40", "--only", "glasses,smile,hair_colour", *extra])


def test_built_directions_are_served_by_the_stylegan_backend(tmp_path, clip_dir, capsys):
    out = tmp_path / "directions"
    assert _build(out, clip_dir, "--min-r", "-1") == 0   # a random CLIP: keep every fit to test the files
    printed = capsys.readouterr().out
    assert "8 of 8 directions written" in printed and "glasses" in printed
    assert sorted(p.name for p in out.glob("*.npy")) == sorted(
        ["glasses.npy", "smile.npy"] + [f"hair_colour_{c}.npy" for c in ("black", "brown", "blond", "red", "grey",
                                                                         "white")])
    manifest = json.loads((out / td.MANIFEST).read_text())
    assert manifest["samples"] == 40 and manifest["languages"] == ["en", "ko"]
    assert manifest["attributes"]["glasses"]["prompts"]["ko"] == [["안경"], ["얼굴"]]

    backend = StyleGANBackend.from_file(CHECKPOINT, directions=str(out))   # DREAMFACE_STYLEGAN_DIRECTIONS=out
    assert {"glasses", "smile", "hair_colour=blond"} <= set(backend.edit_names())
    code = backend.sample(7)
    smiling = backend.edit(code, Edit("smile", amount=1.0))
    moved = backend.directions.find("smile").position(smiling.base) - backend.directions.find("smile").position(code.base)
    assert moved == pytest.approx(1.0, abs=1e-3)   # one degree asked, one degree moved
    before, after = backend.render([code, smiling], size=32)
    assert before.tobytes() != after.tobytes()


def test_a_rebuild_removes_what_it_no_longer_keeps_and_leaves_other_files_alone(tmp_path, clip_dir, capsys):
    out = tmp_path / "directions"
    out.mkdir()
    np.save(out / "age.npy", np.ones((1, 256), np.float32))   # the operator's own file
    assert _build(out, clip_dir, "--min-r", "-1") == 0
    assert (out / "glasses.npy").exists()
    assert _build(out, clip_dir, "--min-r", "1.5") == 0       # nothing is that good
    assert "0 of 8 directions written" in capsys.readouterr().out
    assert sorted(p.name for p in out.glob("*.npy")) == ["age.npy"]
    assert json.loads((out / td.MANIFEST).read_text())["attributes"]["glasses"]["kept"] is False


def test_languages_the_tokenizer_cannot_read_are_left_out_with_a_word(tmp_path, english_clip_dir, capsys):
    out = tmp_path / "directions"
    assert _build(out, english_clip_dir, "--min-r", "-1") == 0
    assert "cannot read ko words: left out" in capsys.readouterr().err
    assert json.loads((out / td.MANIFEST).read_text())["languages"] == ["en"]


@pytest.mark.parametrize("args, message", [
    (["--clip", "/nowhere"], "DREAMFACE_CLIP_MODEL=/nowhere: no such directory"),
    (["--only", "sparkle"], "no attribute called 'sparkle'"),
    (["--languages", "fr"], "--languages takes en and/or ko"),
    (["--samples", "5"], "--samples must be at least 20"),
])
def test_bad_input_gets_one_line(tmp_path, clip_dir, capsys, args, message):
    base = {"--ckpt": str(CHECKPOINT), "--clip": str(clip_dir), "--out": str(tmp_path / "d")}
    extra = dict(zip(args[::2], args[1::2]))
    argv = ["directions", "build"] + [item for pair in {**base, **extra}.items() for item in pair]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "d").exists()


def test_without_a_clip_setting_the_command_says_what_it_needs(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DREAMFACE_CLIP_MODEL", raising=False)
    assert main(["directions", "build", "--ckpt", str(CHECKPOINT), "--out", str(tmp_path)]) == 2
    assert "--clip or DREAMFACE_CLIP_MODEL is needed" in capsys.readouterr().err


def test_a_free_text_edit_raises_clip_similarity_stays_on_its_leash_and_repeats(clip_dir):
    from facegen.stylegan.clip import load_clip
    from facegen.stylegan.loaders import load_generator
    from facegen.stylegan.text_edit import text_edit
    G = load_generator(CHECKPOINT).eval().requires_grad_(False)
    clip = load_clip(clip_dir)
    start = StyleGANBackend(G).sample(3).base
    text = clip.text_features(["a face with glasses"])[0]
    calls = []
    edit = text_edit(G, clip, start, text, steps=8, learning_rate=0.05, progress=lambda done, total: calls.append(done))
    assert calls == list(range(1, 9))
    assert edit.similarity_after > edit.similarity_before
    assert edit.latent.shape == start.shape and edit.distance > 0
    again = text_edit(G, clip, start, text, steps=8, learning_rate=0.05)
    assert np.array_equal(again.latent, edit.latent)   # the same request, the same face
    leashed = text_edit(G, clip, start, text, steps=8, learning_rate=0.05, leash=100.0)
    assert leashed.distance < edit.distance
