"""Reading a training set in stylegan2-ada-pytorch's layout: a folder or a zip of images (any
depth, any names, taken in sorted order) with an optional `dataset.json` beside them holding
`{"labels": null}` or `{"labels": [["00000/img00000000.png", label], ...]}`. Files that are not
images (captions.jsonl, dataset.json) are ignored.

Every image is checked when the set is opened (readable, and all the same square
power-of-two size and channel count) so a bad file fails before training starts, named.
Images come out as uint8 tensors [C, H, W] (grey images keep one channel; everything else is
converted to RGB). `digest` identifies the set's content (names and bytes of its images), so a
resumed run can tell that it sees the pictures it was trained on.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

LABELS_FILE = "dataset.json"


class DatasetError(ValueError):
    """The set cannot be used for training; the message names the file at fault."""


def image_suffixes() -> set[str]:
    Image.init()
    return {suffix.lower() for suffix in Image.registered_extensions()}


class ImageDataset:
    """The images of a folder or zip, checked, with their labels (None when unlabelled)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        if self.path.is_dir():
            names = [p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()]
        elif self.path.is_file() and zipfile.is_zipfile(self.path):
            self._zip = zipfile.ZipFile(self.path)
            names = [n for n in self._zip.namelist() if not n.endswith("/")]
        elif self.path.exists():
            raise DatasetError(f"{self.path}: neither a folder nor a zip file")
        else:
            raise DatasetError(f"{self.path}: no such folder or zip file")
        suffixes = image_suffixes()
        self.names = sorted(n for n in names if Path(n).suffix.lower() in suffixes)
        if not self.names:
            raise DatasetError(f"{self.path}: no images in it")
        self.shape, self.digest = self._check_images()
        self.labels = self._read_labels(set(names))

    # --- what training asks -------------------------------------------------------------------

    @property
    def resolution(self) -> int:
        return self.shape[1]

    @property
    def channels(self) -> int:
        return self.shape[0]

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> torch.Tensor:
        """Image `index` as uint8 [C, H, W]."""
        name = self.names[index]
        array = np.asarray(self._open(name, decode=True))
        if array.ndim == 2:
            array = array[:, :, None]
        if array.shape[2] != self.channels or array.shape[:2] != self.shape[1:]:
            raise DatasetError(f"{self._where(name)}: changed since the set was opened")
        return torch.from_numpy(array.transpose(2, 0, 1).copy())

    def batch(self, indices, mirror: bool = False) -> torch.Tensor:
        """The images at `indices` as uint8 [N, C, H, W]. With `mirror` the set is twice as long:
        index len + i is image i flipped left to right (NVIDIA's --mirror)."""
        out = []
        for i in map(int, indices):
            if mirror and i >= len(self):
                out.append(self[i - len(self)].flip(2))
            else:
                out.append(self[i])
        return torch.stack(out)

    def sidecar(self, name: str) -> bytes | None:
        """A file at the set's top level beside the images (captions.jsonl), None when absent."""
        if self._zip is not None:
            return self._zip.read(name) if name in self._zip.namelist() else None
        path = self.path / name
        return path.read_bytes() if path.is_file() else None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    def __enter__(self) -> ImageDataset:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- reading and checking -----------------------------------------------------------------

    def _where(self, name: str) -> str:
        return f"{self.path}/{name}" if self._zip is None else f"{self.path}:{name}"

    def _read_bytes(self, name: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(name)
        return (self.path / name).read_bytes()

    def _open(self, name: str, decode: bool, data: bytes | None = None) -> Image.Image:
        """The image as L or RGB; `decode=False` only reads the header and verifies the file."""
        try:
            data = self._read_bytes(name) if data is None else data
            img = Image.open(io.BytesIO(data))
            if not decode:
                img.verify()   # checksums and truncation, without decoding the pixels
                return img
            img.load()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise DatasetError(f"{self._where(name)}: not a readable image ({exc})") from None
        return img if img.mode in ("L", "RGB") else img.convert("RGB")

    def _check_images(self) -> tuple[tuple[int, int, int], str]:
        """The set's shape [C, H, W] and content digest; DatasetError at the first bad image."""
        shape = None
        first = None
        digest = hashlib.sha256()
        for name in self.names:
            try:
                data = self._read_bytes(name)
            except (OSError, zipfile.BadZipFile) as exc:
                raise DatasetError(f"{self._where(name)}: not a readable image ({exc})") from None
            digest.update(f"{name}\0{len(data)}\0".encode())
            digest.update(data)
            img = self._open(name, decode=False, data=data)
            width, height = img.size
            channels = 1 if img.mode == "L" else 3
            if width != height or width < 4 or width & (width - 1):
                raise DatasetError(f"{self._where(name)}: {width}×{height} pixels; training needs square images "
                                   f"with a power-of-two side")
            if shape is None:
                shape, first = (channels, height, width), name
            elif (channels, height, width) != shape:
                raise DatasetError(f"{self._where(name)}: {width}×{height}×{channels}, but {first} is "
                                   f"{shape[2]}×{shape[1]}×{shape[0]}; all images must have one size")
        return shape, digest.hexdigest()[:16]

    def _read_labels(self, names: set[str]) -> np.ndarray | None:
        if LABELS_FILE not in names:
            return None
        try:
            labels = json.loads(self._read_bytes(LABELS_FILE)).get("labels")
        except (ValueError, AttributeError) as exc:
            raise DatasetError(f"{self._where(LABELS_FILE)}: not a JSON object with \"labels\" ({exc})") from None
        if labels is None:
            return None
        by_name = dict(labels)
        missing = [n for n in self.names if n not in by_name]
        if missing:
            raise DatasetError(f"{self._where(LABELS_FILE)}: no label for {missing[0]}")
        values = np.array([by_name[n] for n in self.names])
        return values.astype(np.int64 if values.dtype.kind in "iu" else np.float32)
