"""A training set from photos: `dreamface dataset make SRC OUT --res R`.

SRC is a folder (read recursively) or a zip of photos. Each file, in sorted order of its name
inside SRC, is decoded as a chat photo is (facegen.photo.load_photo: JPEG, PNG or WebP, the
project's size limits, EXIF orientation applied), its faces are found (dlib, as everywhere),
and the one face is FFHQ-aligned (facegen.stylegan.align, the alignment the StyleGAN backend
fits photos with) into an R×R RGB picture, written by the shared writer
(facegen/training/dataset_writer.py) in stylegan2-ada-pytorch's layout. A file is skipped, with
its reason, when it is:

- unreadable: not an image, damaged, a format the chat refuses (HEIC, GIF, …), over the limits;
- no face: no face found;
- several faces: more than one face found (which one is meant cannot be told);
- cut off: the face runs off the photo's edge (landmarks outside it are guesses);
- too small: the face's FFHQ crop (a square of four eye-to-eye distances, or 3.6 eye-to-mouth
  distances, whichever is larger) spans fewer photo pixels than `min_face`, by default R: the
  picture would be upscaled, and a generator trained on upscaled faces learns their blur. A
  photo with no face found whose shorter side is under `min_face` is "too small" too;
- duplicate: the same face in the same picture as a file written before it (see `_Written`).

Beside the pictures, `sources.jsonl` maps each picture to its source file, the face's box and
the crop's corners in the (upright) photo, and `skipped.jsonl` lists every file skipped, with
its reason. Labels come from `labels` (NVIDIA's `dataset.json` format, keyed by source names),
or from a `dataset.json` at SRC's root, as NVIDIA's dataset tool takes them; every photo then
needs one. Nothing usable → PhotoSetError, and nothing is written.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from PIL import Image

from facegen.landmarks import DetectedFace, find_faces
from facegen.photo import PhotoError, face_cut_off, load_photo
from facegen.stylegan.align import align_face, ffhq_quad
from facegen.training.dataset_writer import LABELS_FILE, DatasetWriter, check_out, check_resolution
from ground.limits import PHOTO_FORMATS, PHOTO_MAX_BYTES

SOURCES_FILE = "sources.jsonl"
SKIPPED_FILE = "skipped.jsonl"
# reason code → how the report says it, in the order it lists them
REASONS = {"unreadable": "unreadable", "no_face": "no face", "several_faces": "several faces",
           "cut_off": "face cut off", "too_small": "too small", "duplicate": "duplicate"}
SHOWN_PER_REASON = 5

# Duplicates are told on the face aligned at DUPLICATE_SIDE px: two faces are the same picture
# when their 16×16 colour thumbnails differ by under THUMB_LEVELS on average (0–255 levels) and
# their landmarks, in the crop, by under SHAPE_SHIFT of its side on average. Measured
# (bench/duplicate_margin.py): copies of a test photo saved again, halved, quartered or cropped
# otherwise come within 0.46–0.85 of these limits; another photo of the same man lies 8.9 times
# past them, the photo mirrored 4.8 times, and 296 montage faces (one background, one drawing
# style: the hardest case) at least 1.15 times (43,660 pairs).
DUPLICATE_SIDE, THUMB_SIDE = 64, 16
THUMB_LEVELS, SHAPE_SHIFT = 6.0, 0.0065


class PhotoSetError(ValueError):
    """The set cannot be made; the message says why in one line."""


@dataclass(frozen=True)
class Skip:
    source: str
    reason: str      # a key of REASONS
    detail: str


@dataclass
class MakeReport:
    """What `make_photo_dataset` did: files looked at, pictures written, files skipped."""
    files: int
    written: int = 0
    skipped: list[Skip] = field(default_factory=list)

    def lines(self, shown: int = SHOWN_PER_REASON) -> list[str]:
        """The skipped files by reason, the first `shown` of each named."""
        out = []
        for reason, said in REASONS.items():
            skips = [s for s in self.skipped if s.reason == reason]
            if skips:
                named = ", ".join(f"{s.source} ({s.detail})" for s in skips[:shown])
                more = f", and {len(skips) - shown} more" if len(skips) > shown else ""
                out.append(f"  {said} ({len(skips)}): {named}{more}")
        return out


class EmptySet(PhotoSetError):
    """No photo gave a usable face; `report` says why each was skipped."""

    def __init__(self, report: MakeReport, message: str) -> None:
        super().__init__(message)
        self.report = report


class PhotoSource:
    """The files of a folder (recursively) or a zip, by sorted name; hidden files, macOS
    resource forks and the labels file at the root are left out."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        if path.is_dir():
            names = [p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()]
        elif path.is_file() and zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
            names = [info.filename for info in self._zip.infolist() if not info.is_dir()]
        elif path.exists():
            raise PhotoSetError(f"{path}: neither a folder nor a zip file")
        else:
            raise PhotoSetError(f"{path}: no such folder or zip file")
        self.has_labels = LABELS_FILE in names
        self.names = sorted(n for n in names if n != LABELS_FILE and not _hidden(n))

    def size(self, name: str) -> int:
        return self._zip.getinfo(name).file_size if self._zip is not None else (self.path / name).stat().st_size

    def read(self, name: str) -> bytes:
        return self._zip.read(name) if self._zip is not None else (self.path / name).read_bytes()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _hidden(name: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in PurePosixPath(name).parts)


@dataclass(frozen=True)
class AlignedFace:
    picture: Image.Image         # R×R RGB
    face: DetectedFace
    corners: np.ndarray          # the crop in the photo: (4, 2) top-left, bottom-left, bottom-right, top-right
    thumb: np.ndarray            # THUMB_SIDE² × 3 levels, for duplicates
    shape: np.ndarray            # (68, 2) landmarks in the crop, in units of its side


def crop_coordinates(points: np.ndarray, quad_corners: np.ndarray) -> np.ndarray:
    """Photo points → where they land in the FFHQ crop, (0, 0) top-left to (1, 1) bottom-right."""
    top_left, bottom_left, _, top_right = quad_corners
    across, down = top_right - top_left, bottom_left - top_left
    relative = np.asarray(points, np.float64) - top_left
    return np.stack([relative @ across / (across @ across), relative @ down / (down @ down)], axis=1)


def duplicate_scores(thumbs: np.ndarray, shapes: np.ndarray, face: AlignedFace) -> np.ndarray:
    """How far `face` is from each earlier face (their `thumb`s and `shape`s stacked): the larger
    of the thumbnail difference and the landmark shift, each as a share of its limit; under 1
    is a duplicate."""
    levels = np.abs(thumbs - face.thumb).mean(axis=1)
    shifts = np.linalg.norm(shapes - face.shape, axis=2).mean(axis=1)
    return np.maximum(levels / THUMB_LEVELS, shifts / SHAPE_SHIFT)


class _Written:
    """The faces written so far, to tell a duplicate: the same face in the same picture (see
    THUMB_LEVELS, SHAPE_SHIFT). Every face is compared with every earlier one; for 10,000
    photos that is a few seconds next to hours of face detection."""

    def __init__(self) -> None:
        self.sources: list[str] = []
        self._thumbs = np.zeros((0, THUMB_SIDE * THUMB_SIDE * 3), np.float32)
        self._shapes = np.zeros((0, 68, 2), np.float32)
        self._count = 0

    def duplicate_of(self, face: AlignedFace) -> str | None:
        same = np.flatnonzero(duplicate_scores(self._thumbs[:self._count], self._shapes[:self._count], face) < 1)
        return self.sources[same[0]] if len(same) else None

    def add(self, source: str, face: AlignedFace) -> None:
        if self._count == len(self._thumbs):
            self._thumbs, self._shapes = _doubled(self._thumbs), _doubled(self._shapes)
        self._thumbs[self._count], self._shapes[self._count] = face.thumb, face.shape
        self.sources.append(source)
        self._count += 1


def _doubled(rows: np.ndarray) -> np.ndarray:
    return np.concatenate([rows, np.zeros((max(len(rows), 64), *rows.shape[1:]), rows.dtype)])


class Unusable(Exception):
    """A photo that gives no face for the set: `reason` is a key of REASONS."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def aligned_face(data: bytes, resolution: int, min_face: int) -> AlignedFace:
    """The one usable face of a photo file, aligned; Unusable says why there is none."""
    try:
        photo = load_photo(data)
    except PhotoError as exc:
        raise Unusable("unreadable", exc.message) from None
    faces = find_faces(photo)
    if not faces:
        if min(photo.size) < min_face:
            raise Unusable("too_small", f"the photo is {photo.width}×{photo.height} px, "
                                        f"smaller than a {min_face} px crop")
        raise Unusable("no_face", "none found")
    if len(faces) > 1:
        raise Unusable("several_faces", f"{len(faces)} found")
    (face,) = faces
    if face_cut_off(photo, face):
        raise Unusable("cut_off", "at the photo's edge")
    quad = ffhq_quad(face.points)
    if quad.side < min_face:
        raise Unusable("too_small", f"a {quad.side:.0f} px crop, under {min_face} px")
    picture = align_face(photo, face.points, resolution)
    small = picture if resolution == DUPLICATE_SIDE else align_face(photo, face.points, DUPLICATE_SIDE)
    thumb = np.asarray(small.resize((THUMB_SIDE, THUMB_SIDE), Image.BOX), np.float32).reshape(-1)
    return AlignedFace(picture, face, quad.corners, thumb,
                       crop_coordinates(face.points, quad.corners).astype(np.float32))


def read_labels(path: Path | None, source: PhotoSource) -> dict[str, Any] | None:
    """Source name → label from `path`, else from SRC's own dataset.json, else None."""
    if path is None and not source.has_labels:
        return None
    where = str(path) if path is not None else f"{source.path}/{LABELS_FILE}"
    try:
        raw = path.read_bytes() if path is not None else source.read(LABELS_FILE)
        labels = json.loads(raw)["labels"]
        return None if labels is None else {str(name): label for name, label in labels}
    except OSError as exc:
        raise PhotoSetError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise PhotoSetError(f"{where}: not a dataset.json with \"labels\": [[name, label], ...] ({exc})") from None


def photo_suffixes() -> set[str]:
    """File name endings of the formats load_photo accepts (.jpg, .png, .webp, …)."""
    Image.init()
    return {suffix for suffix, kind in Image.registered_extensions().items() if kind in PHOTO_FORMATS}


def _check_labelled(names: list[str], labels: dict[str, Any]) -> None:
    missing = [name for name in names if name not in labels]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise PhotoSetError(f"no label for {missing[0]}{more}")


Progress = Callable[[int, int, int], None]   # (files done, files in all, pictures written)


def make_photo_dataset(src: Path, out: Path, resolution: int, min_face: int | None = None,
                       labels: Path | None = None, progress: Progress | None = None) -> MakeReport:
    """Write the faces of the photos in `src` into `out` (folder or .zip); see the module
    docstring. PhotoSetError (nothing written) when the request is refused or no face is usable;
    its message is one line, and `report` holds what was skipped."""
    try:
        check_resolution(resolution)
        check_out(out)
    except ValueError as exc:
        raise PhotoSetError(str(exc)) from None
    min_face = resolution if min_face is None else min_face
    if min_face < 1:
        raise PhotoSetError(f"--min-face must be at least 1 px, not {min_face}")
    source = PhotoSource(src)
    try:
        return _make(source, out, resolution, min_face, read_labels(labels, source), progress)
    finally:
        source.close()


def _make(source: PhotoSource, out: Path, resolution: int, min_face: int, labels: dict[str, Any] | None,
          progress: Progress | None) -> MakeReport:
    if labels is not None:   # photos by their names now, so that a missing label fails at once
        suffixes = photo_suffixes()
        _check_labelled([n for n in source.names if PurePosixPath(n).suffix.lower() in suffixes], labels)
    report = MakeReport(files=len(source.names))
    written, sources, named = _Written(), [], []
    with DatasetWriter(out) as writer:
        for done, name in enumerate(source.names, 1):
            try:
                if source.size(name) > PHOTO_MAX_BYTES:   # told before a zip entry is inflated
                    raise Unusable("unreadable", f"{source.size(name)} bytes; the limit is {PHOTO_MAX_BYTES}")
                try:
                    data = source.read(name)
                except (OSError, zipfile.BadZipFile, RuntimeError) as exc:   # RuntimeError: encrypted entry
                    raise Unusable("unreadable", f"cannot be read ({exc})") from None
                face = aligned_face(data, resolution, min_face)
                same = written.duplicate_of(face)
                if same is not None:
                    raise Unusable("duplicate", f"the face of {same}")
            except Unusable as skip:
                report.skipped.append(Skip(name, skip.reason, skip.detail))
            else:
                if labels is not None:
                    _check_labelled([name], labels)   # a photo known by its content, not its name
                written.add(name, face)
                image = writer.add_image(face.picture)
                sources.append({"file": image, "source": name, "box": list(face.face.box),
                                "crop": np.round(face.corners, 1).tolist()})
                if labels is not None:
                    named.append((image, labels[name]))
            if progress is not None:
                progress(done, report.files, writer.count)
        report.written = writer.count
        if not report.written:
            looked = f"{report.files} files, all skipped" if report.files else "no files in it"
            raise EmptySet(report, f"no usable face in {source.path} ({looked}); nothing written")
        skipped = [{"source": s.source, "reason": s.reason, "detail": s.detail} for s in report.skipped]
        writer.finish(named if labels is not None else None, {SOURCES_FILE: sources, SKIPPED_FILE: skipped})
    return report

