"""Free-text edits on the StyleGAN backend (Backend.text_edit, issue #17): the montage-trained 32-px
checkpoint with a tiny random CLIP whose tokenizer learned English words only. The backend
announces the languages its CLIP reads, reports progress, replays a text step exactly from its
recipe, moves picked parts as it moves the face, and refuses words it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from facegen.backend import BackendInfo, Unsupported
from facegen.facecode import FaceCode
from facegen.recipes import make_face
from facegen.stylegan import text_directions as td
from facegen.stylegan.backend import StyleGANBackend
from facegen.stylegan.clip import load_clip
from stylegan_fixtures import one_thread  # noqa: F401 (autouse)
from test_clip_loading import _tiny_clip, no_network  # noqa: F401 (autouse)

CHECKPOINT = Path(__file__).resolve().parent.parent / "data" / "montage32.safetensors"


@pytest.fixture(scope="module")
def backend(tmp_path_factory) -> StyleGANBackend:
    out = tmp_path_factory.mktemp("clip_en")
    _tiny_clip(out, captions=[text for t in td.targets()[:12] for side in t.prompts("en") for text in side]
               + ["a vampire"])
    return StyleGANBackend.from_file(CHECKPOINT, clip=load_clip(out))


def test_the_languages_its_clip_reads_are_announced_and_none_without_one(backend):
    info = backend.describe()
    assert info.text_edit_languages == ("en",) and info.reads("a vampire") and not info.reads("뱀파이어")
    assert BackendInfo.from_json(json.loads(json.dumps(info.to_json()))) == info
    assert StyleGANBackend.from_file(CHECKPOINT).describe().text_edit_languages == ()


def test_a_text_edit_reports_progress_replays_exactly_and_moves_the_parts_with_the_face(backend):
    code = FaceCode(backend.sample(3).base, {"eyes": backend.sample(4).base})
    heard: list[float] = []
    fitted = backend.text_edit(code, "a vampire", steps=4, progress=heard.append)
    assert heard == [0.25, 0.5, 0.75, 1.0]
    assert set(fitted.made["text_edit"]) == {"similarity_before", "similarity_after", "latent_distance", "seconds"}
    moved = fitted.code.base - code.base
    assert np.abs(moved).max() > 0
    assert np.allclose(fitted.code.parts["eyes"] - code.parts["eyes"], moved, atol=1e-6)
    replayed = make_face(backend, "text", {"text": "a vampire", "steps": 4}, parent=code)
    assert replayed.to_bytes() == fitted.code.to_bytes()   # a stored text step is its recipe


def test_words_its_clip_cannot_read_are_refused(backend):
    with pytest.raises(Unsupported, match="cannot read 'ko' words"):
        backend.text_edit(backend.sample(1), "뱀파이어", steps=2)
