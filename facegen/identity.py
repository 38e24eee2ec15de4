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

from facegen.landmarks import find_faces, model_path

SAME_PERSON = 0.6            # dlib's threshold: closer is the same person
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


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between descriptors: under SAME_PERSON reads as one person."""
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))
