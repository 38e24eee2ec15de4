"""Face detection and 68-point landmarks (dlib), and scale-free measurements taken from them.

The same landmarks serve three jobs: measuring a user's photo ("me" → a montage face),
checking that montage drawings read as faces, and (later) FFHQ alignment for StyleGAN.

Models: dlib's HOG frontal face detector (built into dlib) and the 68-point shape predictor
file shipped inside the `face-recognition-models` PyPI package. That predictor was trained on
iBUG 300-W, whose images are licensed for non-commercial research use only.

Both models load lazily on the first call and are reused for the life of the process.
Thread safety: loading happens once under a lock; every detection also runs under that lock,
because dlib's object detector keeps scratch state per call and is not safe to call
concurrently. A worker thread pool may call `find_faces` from any thread; calls serialize,
which costs little since the dlib call holds the GIL anyway.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

# Detection runs on a copy whose longest side is at most this; landmarks are then fitted on
# the full-resolution image. With upsample=1 the detector finds faces down to about 40 px,
# i.e. about 5% of this side: plenty for a portrait, not for a crowd.
DETECT_MAX_SIDE = 800
PREDICTOR_FILE = "shape_predictor_68_face_landmarks.dat"

# dlib 68-point indices ("right"/"left" below are in image coordinates, not the person's).
JAW = slice(0, 17)
CHIN = 8
BROWS = slice(17, 27)
NOSE_TOP, NOSE_TIP = 27, 33
NOSTRIL_LEFT, NOSTRIL_RIGHT = 31, 35
EYE_LEFT, EYE_RIGHT = slice(36, 42), slice(42, 48)       # image-left eye, image-right eye
EYE_LEFT_OUTER, EYE_LEFT_INNER = 36, 39
EYE_RIGHT_INNER, EYE_RIGHT_OUTER = 42, 45
MOUTH_LEFT, MOUTH_RIGHT = 48, 54
UPPER_LIP_TOP, LOWER_LIP_BOTTOM = 51, 57
INNER_LIP_TOP, INNER_LIP_BOTTOM = 62, 66


@dataclass(frozen=True)
class DetectedFace:
    box: tuple[int, int, int, int]   # (left, top, right, bottom) in pixels; may extend past the image
    points: np.ndarray               # (68, 2) float (x, y) in pixels, dlib 68-point order


class _Models:
    """dlib's detector and predictor, loaded on first use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._detector = None
        self._predictor = None

    def get(self):
        """(detector, predictor); call with `self.lock` held."""
        if self._detector is None:
            import dlib  # imported here so importing facegen stays cheap
            self._predictor = dlib.shape_predictor(str(predictor_path()))
            self._detector = dlib.get_frontal_face_detector()
        return self._detector, self._predictor


_MODELS = _Models()


def model_path(filename: str) -> Path:
    """A dlib model file inside the face-recognition-models package.

    Found without importing the package: its __init__ imports pkg_resources, which recent
    setuptools no longer ships.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-recognition-models is not installed (pip install face-recognition-models)")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / filename
    if not path.is_file():
        raise RuntimeError(f"dlib model missing: {path}")
    return path


def predictor_path() -> Path:
    """The 68-point model."""
    return model_path(PREDICTOR_FILE)


def find_faces(image: Image.Image, upsample: int = 1) -> list[DetectedFace]:
    """Every frontal face in the image, largest first, with its 68 landmarks."""
    import dlib
    full = np.asarray(image.convert("L"))
    scale = min(1.0, DETECT_MAX_SIDE / max(image.size))
    if scale < 1.0:
        small = image.convert("L").resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BILINEAR)
        detect_on = np.asarray(small)
    else:
        detect_on = full
    faces = []
    with _MODELS.lock:
        detector, predictor = _MODELS.get()
        for rect in detector(detect_on, upsample):
            box = tuple(round(v / scale) for v in (rect.left(), rect.top(), rect.right(), rect.bottom()))
            shape = predictor(full, dlib.rectangle(*box))
            points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
            faces.append(DetectedFace(box=box, points=points))  # type: ignore[arg-type]
    faces.sort(key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]), reverse=True)
    return faces


@dataclass(frozen=True)
class FaceMeasurements:
    """Proportions of one face, free of image scale and head roll.

    Lengths are in units of the face width (jaw points 0–16, about cheekbone width) and are
    taken in the face's own frame: x along the line through the eye centres, y down. Signed
    measures are positive for "up".
    """
    eye_spacing: float        # distance between eye centres
    eye_width: float          # corner to corner, mean of both eyes
    eye_height: float         # lid opening (openness), mean of both eyes
    eye_tilt: float           # outer corner above inner corner (눈꼬리 up) > 0
    brow_height: float        # mean brow height above the eye centres
    nose_length: float        # bridge top (27) to tip (33)
    nose_width: float         # across the nostrils (31–35)
    mouth_width: float        # corner to corner
    lip_thickness: float      # upper + lower lip, outside minus opening
    mouth_corner_lift: float  # corners above where the lips meet (입꼬리 up) > 0
    face_aspect: float        # brow line to chin, over face width
    jaw_width: float          # jaw width at mouth height over face width

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def eye_line(points: np.ndarray) -> tuple[np.ndarray, float]:
    """The point between the eyes' centres, and the eye line's angle from level in radians
    (positive: the image-right eye lower, a head rolled clockwise)."""
    left_eye = points[EYE_LEFT].mean(axis=0)
    right_eye = points[EYE_RIGHT].mean(axis=0)
    dx, dy = right_eye - left_eye
    return (left_eye + right_eye) / 2, float(np.arctan2(dy, dx))


def _face_frame(points: np.ndarray) -> np.ndarray:
    """Points rotated so the eye line is horizontal, origin between the eyes."""
    centre, angle = eye_line(points)
    cos, sin = np.cos(-angle), np.sin(-angle)
    rotation = np.array([[cos, -sin], [sin, cos]])
    return (points - centre) @ rotation.T


def _jaw_x_at(jaw_side: np.ndarray, y: float) -> float:
    """x of one side of the jaw contour (points ordered top → bottom) at height y."""
    order = np.argsort(jaw_side[:, 1])
    return float(np.interp(y, jaw_side[order, 1], jaw_side[order, 0]))


def measure(face: DetectedFace) -> FaceMeasurements:
    p = _face_frame(np.asarray(face.points, dtype=np.float64))
    width = float(np.linalg.norm(p[16] - p[0]))

    def dist(a: int, b: int) -> float:
        return float(np.linalg.norm(p[a] - p[b])) / width

    left_eye, right_eye = p[EYE_LEFT], p[EYE_RIGHT]
    eye_centres_y = (left_eye[:, 1].mean() + right_eye[:, 1].mean()) / 2
    # openness: the two upper-lid points against the two lower-lid points of each eye
    openness = np.mean([p[41, 1] - p[37, 1], p[40, 1] - p[38, 1], p[47, 1] - p[43, 1], p[46, 1] - p[44, 1]])
    tilt = ((p[EYE_LEFT_INNER, 1] - p[EYE_LEFT_OUTER, 1]) + (p[EYE_RIGHT_INNER, 1] - p[EYE_RIGHT_OUTER, 1])) / 2
    lips_meet_y = (p[INNER_LIP_TOP, 1] + p[INNER_LIP_BOTTOM, 1]) / 2
    corners_y = (p[MOUTH_LEFT, 1] + p[MOUTH_RIGHT, 1]) / 2
    lips = (p[INNER_LIP_TOP, 1] - p[UPPER_LIP_TOP, 1]) + (p[LOWER_LIP_BOTTOM, 1] - p[INNER_LIP_BOTTOM, 1])
    brow_y = p[BROWS, 1].mean()
    jaw_at_mouth = _jaw_x_at(p[8:17], corners_y) - _jaw_x_at(p[0:9], corners_y)

    return FaceMeasurements(
        eye_spacing=float(np.linalg.norm(right_eye.mean(axis=0) - left_eye.mean(axis=0))) / width,
        eye_width=(dist(EYE_LEFT_OUTER, EYE_LEFT_INNER) + dist(EYE_RIGHT_INNER, EYE_RIGHT_OUTER)) / 2,
        eye_height=float(openness) / width,
        eye_tilt=float(tilt) / width,
        brow_height=float(eye_centres_y - brow_y) / width,
        nose_length=dist(NOSE_TOP, NOSE_TIP),
        nose_width=dist(NOSTRIL_LEFT, NOSTRIL_RIGHT),
        mouth_width=dist(MOUTH_LEFT, MOUTH_RIGHT),
        lip_thickness=float(lips) / width,
        mouth_corner_lift=float(lips_meet_y - corners_y) / width,
        face_aspect=float(p[CHIN, 1] - brow_y) / width,
        jaw_width=jaw_at_mouth / width,
    )
