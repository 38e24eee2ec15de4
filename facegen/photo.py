"""A user's photo ("me"): decode it safely, find exactly one usable face, sample its colours,
measure its hair, and seed what is not measured from its pixels.

Every refusal is a `PhotoError` with a machine-readable `code` (the chat localizes by code)
and a short English message for logs and the CLI.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ground.limits import PHOTO_FORMATS, PHOTO_MAX_BYTES, PHOTO_MAX_PIXELS
from facegen.landmarks import BROWS, CHIN, EYE_LEFT, EYE_RIGHT, NOSE_TIP, DetectedFace, eye_line, find_faces

ALLOWED_FORMATS = PHOTO_FORMATS
MIN_FACE_PX = 80          # narrower faces carry too little detail to measure
# A face at least this many times wider than every other in the photo is its subject (the others
# are people in the background); faces nearer in size are several people, and refused.
DOMINANT_FACE = 2.0
# Pillow's errors for damaged files vary by format and stage (header parse vs. decode).
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError)

Colour = tuple[int, int, int]


class PhotoError(ValueError):
    """A photo we cannot use, with `code` one of CODES."""

    CODES = ("not_an_image", "unsupported_format", "too_large",
             "no_face", "several_faces", "face_cut_off", "face_too_small")

    def __init__(self, code: str, message: str) -> None:
        if code not in self.CODES:
            raise ValueError(f"unknown PhotoError code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message


def load_photo(data: bytes, *, max_bytes: int = PHOTO_MAX_BYTES, max_pixels: int = PHOTO_MAX_PIXELS) -> Image.Image:
    """Decode an uploaded photo into an upright RGB image.

    JPEG, PNG and WebP only; the EXIF orientation is applied; the size is checked from the
    header before any pixels are decoded, and Pillow's decompression-bomb check stays on.
    """
    if len(data) > max_bytes:
        raise PhotoError("too_large", f"the file is {len(data)} bytes; the limit is {max_bytes}")
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise PhotoError("too_large", f"the image has too many pixels ({exc})") from None
    except UnidentifiedImageError:
        raise _unreadable(data) from None
    except _DECODE_ERRORS as exc:   # cut off inside its header, e.g. "Truncated File Read"
        raise PhotoError("not_an_image", f"the file is damaged ({exc})") from None
    if image.width * image.height > max_pixels:
        raise PhotoError("too_large", f"the image is {image.width}×{image.height} pixels; "
                                      f"the limit is {max_pixels} pixels")
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as exc:
        raise PhotoError("too_large", f"the image has too many pixels ({exc})") from None
    except _DECODE_ERRORS as exc:
        raise PhotoError("not_an_image", f"the {image.format} file is damaged ({exc})") from None
    return _to_rgb(upright)


# pictures Pillow cannot open here, recognised by their first bytes so the user hears "send a
# JPEG, PNG or WebP" rather than "not an image": HEIC/AVIF (phones), PDF, SVG
_OTHER_PICTURES = (re.compile(rb"^....ftyp(heic|heix|hevc|heim|heis|mif1|msf1|avif|avis)", re.DOTALL),
                   re.compile(rb"^%PDF-"), re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<svg[\s>]", re.DOTALL))


def _unreadable(data: bytes) -> PhotoError:
    """Tell an image in a format we refuse apart from something that is no image at all."""
    head = data[:4096]
    if any(p.match(head) for p in _OTHER_PICTURES):
        return PhotoError("unsupported_format", "HEIC, PDF and SVG files are not accepted; send a JPEG, PNG or WebP")
    try:
        with Image.open(io.BytesIO(data)) as other:
            kind = other.format
    except (UnidentifiedImageError, *_DECODE_ERRORS):
        return PhotoError("not_an_image", "the file is not an image")
    return PhotoError("unsupported_format", f"{kind} images are not accepted; send a JPEG, PNG or WebP")


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def find_single_face(image: Image.Image) -> DetectedFace:
    """The one face of a "me" photo, whole and large enough to measure: the only face found, or
    one DOMINANT_FACE times wider than any other."""
    faces = find_faces(image)
    if not faces and min(image.size) < 2 * MIN_FACE_PX:
        # too few pixels to find a face in: say so, rather than "no face"
        raise PhotoError("face_too_small", f"the photo is too small ({image.width}×{image.height} px); "
                                           f"a face needs to be at least {MIN_FACE_PX} px wide")
    if not faces:
        raise PhotoError("no_face", "no face was found; use a clear, front-facing photo")
    face = faces[0]   # the largest
    if len(faces) > 1 and face.box[2] - face.box[0] < DOMINANT_FACE * (faces[1].box[2] - faces[1].box[0]):
        raise PhotoError("several_faces", f"{len(faces)} faces were found; use a photo of one person")
    if face_cut_off(image, face):
        raise PhotoError("face_cut_off", "the face is cut off by the edge of the photo")
    left, _, right, _ = face.box
    if right - left < MIN_FACE_PX:
        raise PhotoError("face_too_small", f"the face is {right - left} px wide; "
                                           f"at least {MIN_FACE_PX} px is needed")
    return face


LEVEL_ABOVE_DEGREES = 3.0   # a head tilted further than this is turned upright before its hair is measured


def level_face(image: Image.Image, face: DetectedFace) -> tuple[Image.Image, DetectedFace]:
    """The photo turned about the eyes so the eye line is level, with its face found again: the
    hair and colour measures walk the photo's rows and columns, so a head tilted 25° read as
    long hair. A face within LEVEL_ABOVE_DEGREES, or one the turned photo loses (cut off by an
    edge), is returned as it is. The corners the turn uncovers take the border's median colour."""
    centre, angle = eye_line(face.points)
    degrees = float(np.degrees(angle))
    if abs(degrees) <= LEVEL_ABOVE_DEGREES:
        return image, face
    rgb = image.convert("RGB")
    pixels = np.asarray(rgb)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    fill = tuple(int(v) for v in np.median(border, axis=0))
    turned = rgb.rotate(degrees, resample=Image.BICUBIC, center=tuple(float(v) for v in centre), fillcolor=fill)
    try:
        return turned, find_single_face(turned)
    except PhotoError:
        return image, face


def face_cut_off(image: Image.Image, face: DetectedFace) -> bool:
    """Whether the face's box or any landmark touches or leaves the photo's edge."""
    left, top, right, bottom = face.box
    points_inside = ((face.points >= 0).all()
                     and (face.points[:, 0] <= image.width - 1).all()
                     and (face.points[:, 1] <= image.height - 1).all())
    return bool(left <= 0 or top <= 0 or right >= image.width - 1 or bottom >= image.height - 1 or not points_inside)


def content_seed(image: Image.Image) -> int:
    """A seed taken from the photo's pixels: the same picture always gives the same seed, for
    what a fit does not measure. A copy re-encoded with other pixels (a recompressed upload)
    gives another."""
    digest = hashlib.blake2b(image.convert("RGB").tobytes(), digest_size=4, person=b"dreamface")
    digest.update(f"{image.width}x{image.height}".encode())
    return int.from_bytes(digest.digest(), "big")


@dataclass(frozen=True)
class PhotoColours:
    skin: Colour            # median of both cheek patches
    hair: Colour | None     # None: no hair found above the forehead (bald, or hairline out of view)


# Hair search, in units of the face's lower third (brows → nose tip), measured upward from the
# top of the brows. Foreheads end about one third above the brows; searching no further than
# HAIR_SEARCH_TOP keeps the background above a bald head from being taken for hair.
HAIR_SEARCH_BOTTOM = 0.35
HAIR_SEARCH_TOP = 1.5
HAIR_BAND = 0.3           # how tall a band of hair to sample once the hairline is found
HAIRLINE_RUN = 0.05       # rows in a row that must be "not skin" to count as the hairline
SKIN_DISTANCE = 45.0      # RGB distance from the cheek colour beyond which a row is "not skin"
FOREHEAD_ROWS = 0.1       # the search's lowest rows, whose colour is the forehead's skin …
FOREHEAD_SKIN_DISTANCE = 90.0   # … where it is this near the cheeks' (farther: a fringe, not skin)


def sample_colours(image: Image.Image, face: DetectedFace) -> PhotoColours:
    """Skin from the cheeks; hair from just above the forehead, inside the brows' span.

    Limits: a hat, a headscarf or a fringe of another colour is read as the hair; hair that
    starts higher than 1.5 face-thirds above the brows (a high hairline, a bald head) gives
    None; grey hair over pale skin may be missed (too close to the skin colour); the scan
    assumes an upright head (photo fits turn a tilted one upright first: level_face). Skin is
    the cheeks' colour or the forehead's own, so a forehead lit brighter than the cheeks is not
    taken for the hairline.
    """
    pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    skin = _skin_colour(pixels, face.points)
    return PhotoColours(skin=_as_colour(skin), hair=_hair_colour(pixels, face.points, skin))


def _skin_colour(pixels: np.ndarray, p: np.ndarray) -> np.ndarray:
    width = float(np.linalg.norm(p[16] - p[0]))
    radius = 0.06 * width
    # each cheek's centre: between the jaw edge, the nostril and the lower eyelid
    centres = [p[[1, 2, 31, 41]].mean(axis=0), p[[15, 14, 35, 46]].mean(axis=0)]
    patches = [_disk(pixels, centre, radius) for centre in centres]
    return np.median(np.concatenate(patches), axis=0)


def _disk(pixels: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    h, w = pixels.shape[:2]
    ys, xs = np.ogrid[:h, :w]
    mask = (xs - centre[0]) ** 2 + (ys - centre[1]) ** 2 <= radius ** 2
    return pixels[mask]


def _hair_colour(pixels: np.ndarray, p: np.ndarray, skin: np.ndarray) -> Colour | None:
    found = _find_hair(pixels, p, skin)
    return None if found is None else found[0]


def _find_hair(pixels: np.ndarray, p: np.ndarray, skin: np.ndarray) -> tuple[Colour, float] | None:
    """(hair colour, hairline row) found by walking up the forehead, or None."""
    brows = p[BROWS]
    brow_top = float(brows[:, 1].min())
    third = _third(p)
    # the middle 60% of the brows' span: inside the head even where the hair is short at the sides
    span_left, span_right = float(brows[:, 0].min()), float(brows[:, 0].max())
    inset = 0.2 * (span_right - span_left)
    x0, x1 = max(0, round(span_left + inset)), min(pixels.shape[1], round(span_right - inset))
    bottom = round(brow_top - HAIR_SEARCH_BOTTOM * third)
    top = max(0, round(brow_top - HAIR_SEARCH_TOP * third))
    if bottom <= top or x1 <= x0:
        return None
    rows = pixels[top:bottom, x0:x1]
    row_colours = np.median(rows, axis=1)                       # one colour per row
    # the skin is the cheeks' or the forehead's own (its lowest rows searched): a forehead lit
    # brighter than the cheeks is not hair; a fringe down to the brows is not skin either
    forehead = np.median(rows[-max(2, round(FOREHEAD_ROWS * third)):].reshape(-1, 3), axis=0)
    skins = [skin] + ([forehead] if np.linalg.norm(forehead - skin) < FOREHEAD_SKIN_DISTANCE else [])
    not_skin = _off_skin(row_colours, skins)
    # walk upward from the forehead to the first run of rows that are no longer skin
    # (a run, so that one dark forehead crease is not taken for the hairline)
    run = max(2, round(HAIRLINE_RUN * third))
    hairline = next((i for i in range(len(rows) - 1, run - 2, -1) if not_skin[i - run + 1:i + 1].all()), None)
    if hairline is None:
        return None
    band_top = max(0, hairline - max(1, round(HAIR_BAND * third)))
    band = rows[band_top:hairline + 1].reshape(-1, 3)
    band = band[_off_skin(band, skins)]   # skin showing through
    if len(band) == 0:
        return None
    return _as_colour(np.median(band, axis=0)), float(top + hairline)


def _off_skin(colours: np.ndarray, skins: list[np.ndarray]) -> np.ndarray:
    """Which of the colours (rows of RGB) are farther than SKIN_DISTANCE from every skin colour."""
    return np.min([np.linalg.norm(colours - skin, axis=1) for skin in skins], axis=0) > SKIN_DISTANCE


def _third(p: np.ndarray) -> float:
    """The face's lower third (brows → nose tip) in pixels: the unit of the hair search."""
    return float(p[NOSE_TIP, 1] - p[BROWS][:, 1].mean())


@dataclass(frozen=True)
class HairMeasure:
    """What the photo shows of the hair (None where no hair was found above the forehead).

    hairline: how far the hairline lies above the top of the brows, in face thirds;
    length: how far down hair hangs beside the face, from the eye line, in units of the eye
    line → chin distance: short hair ends above about 0.3 (the ears show), hair to the jaw
    near 1, longer hair beyond; HAIR_LENGTH_LIMIT at most.
    """
    colour: Colour | None
    hairline: float | None
    length: float | None


# Hanging hair is looked for in a strip beside each cheek (from HAIR_STRIP[0] to HAIR_STRIP[1]
# face widths outside the jaw line), walking down from the first row with hair (which must lie
# between HAIR_START and HAIR_FOUND_BY, in eye → chin units from the eye line, or the hair is
# short) until neither side shows hair for HAIR_GAP. A strip is hair where its colour is within
# HAIR_DISTANCE of the hair's and nearer to it than to the background further out
# (BACKGROUND_STRIP): a plain background that the hair sampler took for hair (above a bald
# head) is not long hair.
HAIR_STRIP = (0.02, 0.14)
BACKGROUND_STRIP = (0.4, 0.55)
HAIR_DISTANCE = 40.0        # RGB distance from the hair colour within which a strip row is hair
HAIR_GAP = 0.15
HAIR_LENGTH_LIMIT = 2.0
HAIR_START = -0.4           # above the eye line, at the temples
HAIR_FOUND_BY = 0.3         # about the middle of the ears
JAW_LEFT_UPPER, JAW_RIGHT_UPPER = slice(0, 5), slice(12, 17)   # ear level → jaw angle, each side


def measure_hair(image: Image.Image, face: DetectedFace, colours: PhotoColours) -> HairMeasure:
    """The hair's colour (as sampled), its hairline, and its length beside the face.

    Limits: a background of the hair's colour right beside the head reads as long hair; long
    hair tucked behind the shoulders, or tied back, reads as short; a hood or scarf reads as
    hair. Hair is found only where `sample_colours` found a hair colour.
    """
    if colours.hair is None:
        return HairMeasure(None, None, None)
    pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    p = np.asarray(face.points, np.float64)
    found = _find_hair(pixels, p, np.asarray(colours.skin, np.float64))
    hairline = None if found is None else (float(p[BROWS][:, 1].min()) - found[1]) / _third(p)
    return HairMeasure(colours.hair, hairline, _hair_length(pixels, p, np.asarray(colours.hair, np.float64)))


def _hair_length(pixels: np.ndarray, p: np.ndarray, hair: np.ndarray) -> float:
    """Walk down beside the cheeks from the temples: the lowest row before a gap of no hair."""
    height, width = pixels.shape[:2]
    face_width = float(np.linalg.norm(p[16] - p[0]))
    eye_y = float((p[EYE_LEFT, 1].mean() + p[EYE_RIGHT, 1].mean()) / 2)
    unit = float(p[CHIN, 1]) - eye_y
    gap = max(2, round(HAIR_GAP * unit))

    def colour_at(row: int, edge: float, outward: float, strip: tuple[float, float]) -> np.ndarray:
        """The median colour of a strip of the row (the image's outermost column where it lies outside)."""
        x0, x1 = sorted(max(0, min(width - 1, round(edge + outward * d * face_width))) for d in strip)
        return np.median(pixels[row, x0:x1 + 1], axis=0)

    def hair_at(row: int, edge: float, outward: float) -> bool:
        near = colour_at(row, edge, outward, HAIR_STRIP)
        off_hair = float(np.linalg.norm(near - hair))
        beyond = colour_at(row, edge, outward, BACKGROUND_STRIP)
        return off_hair <= HAIR_DISTANCE and off_hair < float(np.linalg.norm(near - beyond))

    lowest, misses = None, 0
    for row in range(max(0, round(eye_y + HAIR_START * unit)), min(height, round(eye_y + HAIR_LENGTH_LIMIT * unit))):
        hair_here = False
        for side, outward in ((p[JAW_LEFT_UPPER], -1.0), (p[JAW_RIGHT_UPPER], 1.0)):
            order = np.argsort(side[:, 1])    # below the jaw angle the strip stays at its x
            edge = float(np.interp(row, side[order, 1], side[order, 0]))
            hair_here |= hair_at(row, edge, outward)
        if hair_here:
            lowest, misses = (row - eye_y) / unit, 0
        elif lowest is None and (row - eye_y) / unit > HAIR_FOUND_BY:
            break
        elif lowest is not None:
            misses += 1
            if misses >= gap:
                break
    return HAIR_START if lowest is None else float(lowest)


def _as_colour(values: np.ndarray) -> Colour:
    r, g, b = (int(round(float(v))) for v in values)
    return (r, g, b)
