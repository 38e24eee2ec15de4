"""A stylegan worker that builds its directions from words at start (DREAMFACE_BUILD_DIRECTIONS,
facegen/stylegan/text_directions.py `build_at_start`): the first start builds and serves them, a
start with the same checkpoint and CLIP builds nothing, another CLIP rebuilds, and a setting that
cannot work stops the worker with one line naming the variable. Tiny CLIPs made here and the
montage-trained checkpoint in tests/data."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from facegen.backends import BackendUnavailable, load_backend
from facegen.handlers import served
from facegen.stylegan import text_directions as td
from ground.config import ConfigError, Settings
from stylegan_fixtures import one_thread  # noqa: F401 (autouse)
from test_clip_loading import _tiny_clip, no_network  # noqa: F401 (autouse)

CHECKPOINT = Path(__file__).resolve().parent.parent / "data" / "montage32.safetensors"
PROMPTS = [text for t in td.targets() for locale in td.LANGUAGES for side in t.prompts(locale) for text in side]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> tuple[Path, Path]:
    """Two tiny random CLIPs that read every prompt's words in both languages, with different weights."""
    out = []
    for seed in (0, 1):
        directory = tmp_path_factory.mktemp(f"clip{seed}")
        _tiny_clip(directory, seed=seed, captions=PROMPTS)
        out.append(directory)
    return out[0], out[1]


@pytest.fixture
def worker_env(monkeypatch, clips, tmp_path):
    """A stylegan worker's settings with the build at start on; yields the directions folder."""
    out = tmp_path / "directions"
    for name, value in {"DREAMFACE_BACKEND": "stylegan", "DREAMFACE_STYLEGAN_CKPT": str(CHECKPOINT),
                        "DREAMFACE_CLIP_MODEL": str(clips[0]), "DREAMFACE_STYLEGAN_DIRECTIONS": str(out),
                        "DREAMFACE_BUILD_DIRECTIONS": "1", "DREAMFACE_BUILD_DIRECTIONS_SAMPLES": "40"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DREAMFACE_CLIP_TEXT_MODEL", raising=False)
    load_backend.cache_clear()
    yield out
    load_backend.cache_clear()


def _start(caplog) -> list[str]:
    """What `dreamface worker` does first (facegen.handlers.served): the lines logged."""
    load_backend.cache_clear()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=td.__name__):
        served(Settings.from_env())
    return [r.getMessage() for r in caplog.records if r.name == td.__name__]


def _files(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in out.iterdir()}


def test_the_first_start_builds_and_serves_the_directions_and_the_next_builds_nothing(worker_env, caplog):
    out = worker_env
    lines = _start(caplog)
    manifest = json.loads((out / td.MANIFEST).read_text())
    kept = sorted(name for name, entry in manifest["attributes"].items() if entry["kept"])
    assert len(manifest["attributes"]) == len(td.targets()) and manifest["samples"] == 40
    assert kept and sorted(p.stem for p in out.glob("*.npy")) == kept
    assert lines[0].startswith(f"building directions from words into {out} (DREAMFACE_BUILD_DIRECTIONS is on; "
                               "no directions.json): 40 faces")
    # one line per attribute, kept or too weak, then a summary
    per_attribute = [line for line in lines if line.startswith("direction ")]
    assert len(per_attribute) == len(td.targets())
    assert any(line.endswith("kept") for line in per_attribute)
    assert f"{len(kept)} of {len(td.targets())} directions written" in lines[-1]
    served_names = set(load_backend("stylegan").directions.named)
    assert served_names == set(kept)

    files = _files(out)
    lines = _start(caplog)
    assert _files(out) == files                               # nothing rewritten
    assert lines == [f"directions in {out} are current for this checkpoint, CLIP and its languages"]
    assert set(load_backend("stylegan").directions.named) == served_names


def test_a_one_off_checkpoint_builds_nothing_into_the_workers_folder(worker_env):
    from facegen.backends import build_backend
    worker_env.mkdir()
    assert build_backend("stylegan", ckpt=str(CHECKPOINT)).resolution == 32   # as `dreamface generate --ckpt`
    assert list(worker_env.iterdir()) == []


def test_another_clip_rebuilds_them(worker_env, clips, caplog, monkeypatch):
    out = worker_env
    _start(caplog)
    before = json.loads((out / td.MANIFEST).read_text())
    monkeypatch.setenv("DREAMFACE_CLIP_MODEL", str(clips[1]))
    lines = _start(caplog)
    after = json.loads((out / td.MANIFEST).read_text())
    assert after["clip"] != before["clip"] and after["checkpoint"] == before["checkpoint"]
    assert after["clip_dirs"] == [str(clips[1])]
    assert "its directions.json is for another checkpoint, CLIP or languages" in lines[0]
    assert sum(line.startswith("direction ") for line in lines) == len(td.targets())
    assert sorted(p.stem for p in out.glob("*.npy")) == sorted(
        name for name, entry in after["attributes"].items() if entry["kept"])


def test_languages_the_operator_leaves_out_rebuild_them_without_those_prompts(worker_env, caplog, monkeypatch):
    out = worker_env
    _start(caplog)
    assert json.loads((out / td.MANIFEST).read_text())["languages"] == ["en", "ko"]
    monkeypatch.setenv("DREAMFACE_CLIP_LANGUAGES", "en")   # its tokenizer reads Korean; its model, say, does not
    lines = _start(caplog)
    after = json.loads((out / td.MANIFEST).read_text())
    assert "its directions.json is for another checkpoint, CLIP or languages" in lines[0]
    assert "DREAMFACE_CLIP_LANGUAGES=en: ko left out" in lines
    assert after["languages"] == ["en"] and all(set(entry["prompts"]) == {"en"} for entry in after["attributes"].values())
    assert load_backend("stylegan").text_edit_languages() == ("en",)
    lines = _start(caplog)
    assert lines == [f"directions in {out} are current for this checkpoint, CLIP and its languages"]


@pytest.mark.parametrize("folder", ["", "{tmp}/a,{tmp}/b"])
def test_without_one_directory_to_build_into_the_backend_says_which_setting(worker_env, monkeypatch, tmp_path,
                                                                             folder):
    monkeypatch.setenv("DREAMFACE_STYLEGAN_DIRECTIONS", folder.format(tmp=tmp_path))
    with pytest.raises(BackendUnavailable, match="DREAMFACE_BUILD_DIRECTIONS needs DREAMFACE_STYLEGAN_DIRECTIONS "
                                                 "to name one directory"):
        load_backend("stylegan")


def test_too_few_faces_is_a_configuration_error():
    with pytest.raises(ConfigError, match="DREAMFACE_BUILD_DIRECTIONS_SAMPLES must be at least 20"):
        Settings.from_env({"DREAMFACE_BUILD_DIRECTIONS_SAMPLES": "5"})


@pytest.mark.parametrize("case", ["no clip", "unwritable"])
def test_a_build_that_cannot_work_stops_the_worker_with_one_line(tmp_path, clips, case):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    env = {"DREAMFACE_BACKEND": "stylegan", "DREAMFACE_STYLEGAN_CKPT": str(CHECKPOINT), "PATH": "",
           "DREAMFACE_BUILD_DIRECTIONS": "1", "DREAMFACE_DATABASE_URL": f"sqlite:///{tmp_path / 'df.db'}",
           **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}}   # (a worktree's code)
    if case == "no clip":
        env["DREAMFACE_STYLEGAN_DIRECTIONS"] = str(tmp_path / "directions")
        expected = "DREAMFACE_BUILD_DIRECTIONS needs DREAMFACE_CLIP_MODEL (the CLIP model that scores the faces)"
    else:   # (root writes anywhere a directory can be made, so: a path through a file)
        env |= {"DREAMFACE_CLIP_MODEL": str(clips[0]), "DREAMFACE_STYLEGAN_DIRECTIONS": str(blocker / "directions")}
        expected = (f"DREAMFACE_STYLEGAN_DIRECTIONS={blocker / 'directions'}: the directions cannot be written there "
                    "(Not a directory; DREAMFACE_BUILD_DIRECTIONS is on)")
    done = subprocess.run([sys.executable, "-m", "dreamface.cli", "worker"], capture_output=True, text=True,
                          env=env, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == f"dreamface: the stylegan backend cannot start: {expected}"
    assert "Traceback" not in done.stderr
