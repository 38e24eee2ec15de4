"""A synthetic training set drawn by the montage renderer, in stylegan2-ada-pytorch's layout.

Image i is the montage face of seed `seed + i` (the face `dreamface generate --seed` draws),
written as `{i // 1000:05d}/img{i:08d}.png` beside `dataset.json` (`{"labels": null}`), the
layout NVIDIA's dataset tool writes and its training code reads. A sidecar `captions.jsonl`
holds one JSON line per image: its file, seed and montage parameters, and its description in
English and Korean (null until faces can be described in words).

OUT is a folder, or a zip when its name ends in `.zip`. The same arguments give the same bytes.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import asdict
from pathlib import Path

from PIL import Image

from facegen.montage.backend import MontageBackend
from facegen.montage.params import decode
from facegen.montage.render import MIN_SIZE, render

MIN_RESOLUTION, MAX_RESOLUTION = 8, 1024
CAPTIONS_FILE = "captions.jsonl"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)   # fixed timestamps: the same set gives the same zip


def image_name(index: int) -> str:
    return f"{index // 1000:05d}/img{index:08d}.png"


def check_request(out: Path, count: int, resolution: int) -> None:
    """ValueError with a one-line reason when the set cannot be written."""
    if resolution < MIN_RESOLUTION or resolution > MAX_RESOLUTION or resolution & (resolution - 1):
        raise ValueError(f"--res must be a power of two from {MIN_RESOLUTION} to {MAX_RESOLUTION}, not {resolution}")
    if count < 1:
        raise ValueError(f"--count must be at least 1, not {count}")
    zipped = out.suffix.lower() == ".zip"
    if out.is_dir() and (zipped or any(out.iterdir())):
        raise ValueError(f"{out} exists and is not " + ("a zip file" if zipped else "empty"))
    if out.exists() and not out.is_dir() and (not zipped or out.stat().st_size > 0):
        raise ValueError(f"{out} exists and is not " + ("empty" if zipped else "a folder"))


def montage_face(seed: int, resolution: int) -> tuple[Image.Image, dict]:
    """The face of a seed at `resolution` px and its parameters (rounded for reading)."""
    params = decode(MontageBackend().sample(seed))
    picture = render(params, max(resolution, MIN_SIZE)).convert("RGB")
    if resolution < MIN_SIZE:   # the renderer's smallest size, averaged down
        picture = picture.reduce(MIN_SIZE // resolution)
    values = {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(params).items()}
    return picture, values


def caption(name: str, seed: int, params: dict) -> dict:
    return {"file": name, "seed": seed, "params": params, "text_en": None, "text_ko": None}


def write_montage_dataset(out: Path, count: int, resolution: int, seed: int = 0) -> None:
    """Draw `count` faces into `out` (folder or .zip); see the module docstring."""
    check_request(out, count, resolution)
    files: list[tuple[str, bytes]] = []
    captions = []
    for index in range(count):
        picture, params = montage_face(seed + index, resolution)
        data = io.BytesIO()
        picture.save(data, format="PNG")
        files.append((image_name(index), data.getvalue()))
        captions.append(json.dumps(caption(image_name(index), seed + index, params), ensure_ascii=False))
    files.append(("dataset.json", json.dumps({"labels": None}).encode()))
    files.append((CAPTIONS_FILE, ("\n".join(captions) + "\n").encode()))
    if out.suffix.lower() == ".zip":
        _write_zip(out, files)
    else:
        for name, data in files:
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(data)


def _write_zip(out: Path, files: list[tuple[str, bytes]]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name, data in files:
            # PNGs are compressed already: stored, as NVIDIA's dataset tool stores them
            archive.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), data, compress_type=zipfile.ZIP_STORED)
    partial.replace(out)
