"""Who a face is: dlib's face descriptor (128 numbers; 99.38% on LFW) and the distance between two.

The pipeline is dlib's own: a face box (the HOG detector, facegen.landmarks.find_faces) → the
5-point landmark model → a 150-px chip aligned on those points (25% padding) → the ResNet →
a 128-d vector. Two descriptors less than SAME_PERSON apart are one person by dlib's threshold;
the photos in tests/data measure 0.37 and 0.40 apart within each person, 0.81–0.85 across.

Privacy: a photo's descriptor is biometric data. It is computed where the photo is (the
worker), used and dropped: nothing here stores one, and callers keep only distances.

Models: `shape_predictor_5_face_landmarks.dat` and `dlib_face_recognition_resnet_model_v1.dat`,
shipped in the face-recognition-models package (found by facegen.landmarks.model_path). They
load on first use and live for the process; every call runs under one lock, since dlib's
networks keep per-call scratch state.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
from PIL import Image

from facegen.facecode import FaceCode
from facegen.landmarks import find_faces, model_path

SAME_PERSON = 0.6            # dlib's threshold: closer is the same person
# How alike a face made from a photo is to it, said to the user as one of three levels on the
# recogniser's own scale (bench/likeness.py prints the photo distances behind the two cuts):
# - "high" under SAME_PERSON: the recogniser takes the two for one person. Every pair of photos
#   of one person in the bench measures under it (0.07–0.43 apart: six pairs, two people);
# - "low" from STRANGERS (0.8): as far apart as photos of two different people (every such pair
#   in the bench measures 0.81–0.86; the nearest, rounded down);
# - "medium" between: nearer than strangers, not near enough to be taken for the person.
STRANGERS = 0.8
LIKENESS_LEVELS = ("high", "medium", "low")
# Drawn faces are compared as the mean over their pictures at these sizes: the same drawing at
# two of them measures 0.08–0.19 apart, as its edges fall differently on the pixels
# (bench/morph_share.py prints it for its faces).
DRAWN_SIZES = (256, 384, 512)
CHIP_SIZE = 150              # the network's input side
CHIP_PADDING = 0.25          # dlib's default margin around the aligned face
SHAPE_FILE = "shape_predictor_5_face_landmarks.dat"
NETWORK_FILE = "dlib_face_recognition_resnet_model_v1.dat"

Box = tuple[int, int, int, int]   # (left, top, right, bottom) in pixels


class _Models:
    """The 5-point predictor and the descriptor network, loaded on first use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._models = None

    def get(self):
        """(shape predictor, network); call with `self.lock` held."""
        if self._models is None:
            import dlib  # imported here so importing facegen stays cheap
            self._models = (dlib.shape_predictor(str(model_path(SHAPE_FILE))),
                            dlib.face_recognition_model_v1(str(model_path(NETWORK_FILE))))
        return self._models


_MODELS = _Models()


def descriptors(images: Sequence[Image.Image], boxes: Sequence[Box]) -> np.ndarray:
    """[n, 128]: the descriptor of the face in each box (one network call for all of them)."""
    import dlib
    if not images:
        return np.zeros((0, 128))
    with _MODELS.lock:
        shape_predictor, network = _MODELS.get()
        chips = []
        for image, box in zip(images, boxes, strict=True):
            pixels = np.asarray(image.convert("RGB"))
            shape = shape_predictor(pixels, dlib.rectangle(*(int(v) for v in box)))
            chips.append(dlib.get_face_chip(pixels, shape, size=CHIP_SIZE, padding=CHIP_PADDING))
        return np.array(network.compute_face_descriptor(chips), dtype=np.float64)


def descriptor(image: Image.Image, box: Box | None = None) -> np.ndarray:
    """The descriptor of the face in `box`, or of the largest face found (ValueError if none)."""
    if box is None:
        faces = find_faces(image)
        if not faces:
            raise ValueError("no face found")
        box = faces[0].box
    return descriptors([image], [box])[0]


def found_descriptors(images: Sequence[Image.Image]) -> list[np.ndarray | None]:
    """The descriptor of the largest face in each picture, None where the detector finds none
    (at its own scale: enough for drawn faces of 256 px and more), in one network call."""
    found = [find_faces(image, upsample=0) for image in images]
    with_face = [i for i, faces in enumerate(found) if faces]
    codes = descriptors([images[i] for i in with_face], [found[i][0].box for i in with_face])
    out: list[np.ndarray | None] = [None] * len(images)
    for i, code in zip(with_face, codes):
        out[i] = code
    return out


def photo_likeness(photo: Image.Image, box: Box, picture: Image.Image) -> float | None:
    """How near a picture made from a photo came to it: the distance between the photo's face
    in `box` and the largest face in `picture` (None: the detector finds none there; a picture
    under DRAWN_SIZES[0] px is enlarged to it first). Both descriptors are dropped here."""
    if max(picture.size) < DRAWN_SIZES[0]:
        picture = picture.resize((DRAWN_SIZES[0], DRAWN_SIZES[0]), Image.LANCZOS)
    (made,) = found_descriptors([picture])
    return None if made is None else distance(made, descriptor(photo, box))


def drawn_distances(backend, reference: FaceCode, codes: Sequence[FaceCode],
                    sizes: Sequence[int] = DRAWN_SIZES) -> list[float | None]:
    """Each face's distance to `reference`, faces of one backend, each the mean over their
    pictures at `sizes` (None where a picture shows no face the detector finds)."""
    pictures = [backend.render([code], size)[0] for code in (reference, *codes) for size in sizes]
    found = found_descriptors(pictures)
    views = [found[i:i + len(sizes)] for i in range(0, len(found), len(sizes))]
    mine, out = views[0], []
    for theirs in views[1:]:
        pairs = [(a, b) for a, b in zip(mine, theirs) if a is not None and b is not None]
        out.append(float(np.mean([distance(a, b) for a, b in pairs])) if len(pairs) == len(sizes) else None)
    return out


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between descriptors: under SAME_PERSON reads as one person."""
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def likeness_level(distance: float) -> str:
    """The LIKENESS_LEVELS entry for a made face's descriptor distance to its photo."""
    return "high" if distance < SAME_PERSON else "medium" if distance < STRANGERS else "low"
