"""A synthetic training set drawn by the montage renderer, in stylegan2-ada-pytorch's layout.

Image i is the montage face of seed `seed + i` (the face `dreamface generate --seed` draws),
written by the shared writer (facegen/training/dataset_writer.py: `{i // 1000:05d}/img{i:08d}.png`
beside `dataset.json`, `{"labels": null}`). A sidecar `captions.jsonl` holds one JSON line per
image: its file, seed and montage parameters, and its description in English and Korean,
said from the parameters (facegen.montage.attributes.attributes_of, then
facegen.describe.back.describe_back), so the words follow what is drawn and parse back to it:
paired text and pictures for text guidance.

OUT is a folder, or a zip when its name ends in `.zip`. The same arguments give the same bytes.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from PIL import Image

from facegen.describe.back import describe_back
from facegen.montage.attributes import attributes_of
from facegen.montage.backend import MontageBackend
from facegen.montage.params import MontageParams, decode
from facegen.montage.render import MIN_SIZE, render
from facegen.training.dataset_writer import DatasetWriter, check_out, check_resolution

CAPTIONS_FILE = "captions.jsonl"


def check_request(out: Path, count: int, resolution: int) -> None:
    """ValueError with a one-line reason when the set cannot be written."""
    check_resolution(resolution)
    if count < 1:
        raise ValueError(f"--count must be at least 1, not {count}")
    check_out(out)


def montage_face(seed: int, resolution: int) -> tuple[Image.Image, MontageParams]:
    """The face of a seed at `resolution` px and its parameters."""
    params = decode(MontageBackend().sample(seed))
    return montage_picture(params, resolution), params


def montage_picture(params: MontageParams, resolution: int) -> Image.Image:
    """A face drawn as the set draws it, at `resolution` px."""
    picture = render(params, max(resolution, MIN_SIZE)).convert("RGB")
    if resolution < MIN_SIZE:   # the renderer's smallest size, averaged down
        picture = picture.reduce(MIN_SIZE // resolution)
    return picture


def caption(name: str, seed: int, params: MontageParams) -> dict:
    """The sidecar line of one face: its parameters (rounded for reading) and its words."""
    values = {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(params).items()}
    attributes = attributes_of(params)
    return {"file": name, "seed": seed, "params": values,
            "text_en": describe_back(attributes, "en"), "text_ko": describe_back(attributes, "ko")}


def write_montage_dataset(out: Path, count: int, resolution: int, seed: int = 0) -> None:
    """Draw `count` faces into `out` (folder or .zip); see the module docstring."""
    check_request(out, count, resolution)
    captions = []
    with DatasetWriter(out) as writer:
        for index in range(count):
            picture, params = montage_face(seed + index, resolution)
            captions.append(caption(writer.add_image(picture), seed + index, params))
        writer.finish(sidecars={CAPTIONS_FILE: captions})
