"""The montage-trained 32-px StyleGAN served with a tiny random CLIP (tests/facegen/test_clip_loading.py's
`_tiny_clip`), for chat tests of text guidance: `make_clips` trains the tokenizers, `served` points
the settings at a CLIP (or none) and reloads the backend."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from facegen.backends import load_backend
from facegen.stylegan import text_directions as td

sys.path.insert(0, str(Path(__file__).parents[1] / "facegen"))
from test_clip_loading import _tiny_clip  # noqa: E402

CHECKPOINT = Path(__file__).resolve().parents[1] / "data" / "montage32.safetensors"


def make_clips(tmp_path_factory, words: Sequence[str]) -> dict[str, Path]:
    """Two tiny CLIPs: "both", whose tokenizer knows the direction prompts and `words` in both
    languages, and "en", which knows the English ones only."""
    out = {}
    for name, languages in (("both", td.LANGUAGES), ("en", ("en",))):
        out[name] = tmp_path_factory.mktemp(f"clip_{name}")
        prompts = [text for t in td.targets()[:12] for locale in languages for side in t.prompts(locale)
                   for text in side]
        _tiny_clip(out[name], captions=prompts + [w for w in words if name == "both" or w.isascii()])
    return out


@pytest.fixture
def served(monkeypatch):
    """Serve the 32-px StyleGAN with the CLIP named (None: without one); a worker takes its
    free-text steps from DREAMFACE_TEXT_EDIT_STEPS (2)."""
    monkeypatch.setenv("DREAMFACE_STYLEGAN_CKPT", str(CHECKPOINT))
    monkeypatch.setenv("DREAMFACE_TEXT_EDIT_STEPS", "2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")   # (the database is on the network here: only the hub is off)

    def serve(clip: Path | None) -> None:
        if clip is None:
            monkeypatch.delenv("DREAMFACE_CLIP_MODEL", raising=False)
        else:
            monkeypatch.setenv("DREAMFACE_CLIP_MODEL", str(clip))
        load_backend.cache_clear()

    yield serve
    load_backend.cache_clear()
