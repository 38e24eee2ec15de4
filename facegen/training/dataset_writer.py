"""Writing a training set in stylegan2-ada-pytorch's layout, the one writer of `dreamface dataset
montage` and `dataset make`.

Image i is `{i // 1000:05d}/img{i:08d}.png`, beside `dataset.json` (`{"labels": null}`, or
`{"labels": [[name, label], ...]}`): the layout NVIDIA's dataset tool writes and its training
code reads. Sidecars (one JSON object a line) go beside them; readers of images ignore them.

OUT is a folder, or a zip when its name ends in `.zip`, and must be new or empty. Everything
is written under a temporary name beside OUT and renamed into place only when the set is
complete, so a refusal, an error or a kill never leaves a half-written set at OUT. Zip entries
carry a fixed timestamp and are stored (PNGs are compressed already, and NVIDIA's tool stores
them too): the same pictures give the same bytes.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

MIN_RESOLUTION, MAX_RESOLUTION = 8, 1024
LABELS_FILE = "dataset.json"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def image_name(index: int) -> str:
    return f"{index // 1000:05d}/img{index:08d}.png"


def check_resolution(resolution: int) -> None:
    """ValueError unless `resolution` is a power of two the networks can have."""
    if resolution < MIN_RESOLUTION or resolution > MAX_RESOLUTION or resolution & (resolution - 1):
        raise ValueError(f"--res must be a power of two from {MIN_RESOLUTION} to {MAX_RESOLUTION}, not {resolution}")


def check_out(out: Path) -> None:
    """ValueError unless `out` can take a new set: absent, or an empty folder (an empty file for
    a zip), so that nothing already there is lost."""
    zipped = is_zip(out)
    if out.is_dir() and (zipped or any(out.iterdir())):
        raise ValueError(f"{out} exists and is not " + ("a zip file" if zipped else "empty"))
    if out.exists() and not out.is_dir() and (not zipped or out.stat().st_size > 0):
        raise ValueError(f"{out} exists and is not " + ("empty" if zipped else "a folder"))


def is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


def png_bytes(picture: Image.Image) -> bytes:
    data = io.BytesIO()
    picture.save(data, format="PNG")
    return data.getvalue()


class DatasetWriter:
    """A set being written to `out`: `add_image` each picture in order, then `finish` with the
    labels and sidecars. Leaving a `with` block without `finish` (an error) removes what was
    written; OUT is untouched until `finish` renames the set into place."""

    def __init__(self, out: Path) -> None:
        check_out(out)
        self.out = out
        self.count = 0
        out.parent.mkdir(parents=True, exist_ok=True)
        # hidden and named by process, so two runs never share one; removed unless finished
        self._partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
        self._zip: zipfile.ZipFile | None = None
        if is_zip(out):
            self._zip = zipfile.ZipFile(self._partial, "w")
        else:
            self._partial.mkdir()

    def add_image(self, picture: Image.Image) -> str:
        """Write the next picture as a PNG; returns its name in the set."""
        name = image_name(self.count)
        self._add(name, png_bytes(picture))
        self.count += 1
        return name

    def finish(self, labels: Sequence[tuple[str, Any]] | None = None,
               sidecars: dict[str, Iterable[dict]] | None = None) -> None:
        """Write `dataset.json` and each sidecar (name → JSON objects, one a line), then put the
        set at OUT."""
        self._add(LABELS_FILE, json.dumps({"labels": None if labels is None else [list(x) for x in labels]}).encode())
        for name, rows in (sidecars or {}).items():
            lines = [json.dumps(row, ensure_ascii=False) for row in rows]
            self._add(name, ("\n".join(lines) + "\n").encode())
        if self._zip is not None:
            self._zip.close()
            self._zip = None
        os.replace(self._partial, self.out)   # over an empty folder or file too

    def abandon(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None
        if self._partial.is_dir():
            shutil.rmtree(self._partial)
        else:
            self._partial.unlink(missing_ok=True)

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.abandon()   # after finish, nothing is left to remove

    def _add(self, name: str, data: bytes) -> None:
        if self._zip is not None:
            self._zip.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), data, compress_type=zipfile.ZIP_STORED)
        else:
            path = self._partial / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
