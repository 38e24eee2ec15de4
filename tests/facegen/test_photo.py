"""The "me" photo path: every way a photo is refused, EXIF rotation, colour sampling, the hair,
the seed a photo gives."""

from __future__ import annotations

import dataclasses
import io
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facegen.landmarks import find_faces
from facegen.photo import (MIN_FACE_PX, PhotoError, content_seed, find_single_face, load_photo, measure_hair,
                           sample_colours)

TESTDATA = Path(__file__).resolve().parents[1] / "data"
LIMITS = {"max_bytes": 8_000_000, "max_pixels": 12_000_000}


def raw(name: str) -> bytes:
    return (TESTDATA / name).read_bytes()


def load(data: bytes, **limits: int) -> Image.Image:
    return load_photo(data, **{**LIMITS, **limits})


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def obama() -> Image.Image:
    return load(raw("obama_official_portrait.jpg"))


@contextmanager
def refused(code: str) -> Iterator[pytest.ExceptionInfo[PhotoError]]:
    with pytest.raises(PhotoError) as info:
        yield info
    assert info.value.code == code, f"expected {code}, got {info.value.code}: {info.value}"
    assert info.value.message


# --- decoding ---------------------------------------------------------------------------

def test_a_jpeg_portrait_loads_as_rgb_at_full_size():
    image = load(raw("obama_official_portrait.jpg"))
    assert image.mode == "RGB" and image.size == (910, 1137)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_accepted(obama, fmt):
    small = obama.resize((300, 375))
    image = load(encode(small, fmt))
    assert image.mode == "RGB" and image.size == small.size


def test_transparency_becomes_white_not_black():
    rgba = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    image = load(encode(rgba, "PNG"))
    assert image.getpixel((10, 10)) == (255, 255, 255)


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused_by_name(obama, fmt):
    with refused("unsupported_format") as info:
        load(encode(obama.resize((100, 125)), fmt))
    assert fmt in str(info.value)


def test_a_text_file_is_not_an_image():
    with refused("not_an_image"):
        load("내 얼굴 사진입니다 / this is my face".encode())


def test_a_truncated_jpeg_is_not_an_image():
    data = raw("obama_official_portrait.jpg")
    with refused("not_an_image"):
        load(data[: len(data) // 3])


def test_a_file_over_the_byte_limit_is_too_large():
    with refused("too_large"):
        load(raw("obama_official_portrait.jpg"), max_bytes=100_000)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions but carries almost no data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [5_000, 100_000])  # over our limit; over Pillow's bomb limit too
def test_a_huge_dimension_png_is_refused_before_decoding(side):
    with refused("too_large"):
        load(png_header_only(side, side))


def exif_rotated(image: Image.Image) -> bytes:
    """The portrait stored sideways, with EXIF orientation 6 ("rotate 90° clockwise to view"),
    as phone cameras write it."""
    stored = image.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(stored, "JPEG", exif=exif.tobytes(), quality=90)


def test_exif_orientation_is_honoured(obama):
    data = exif_rotated(obama.resize((455, 568)))
    with Image.open(io.BytesIO(data)) as sideways:
        assert sideways.size == (568, 455)
        assert find_faces(sideways) == [], "stored sideways, the face is not upright"
    image = load(data)
    assert image.size == (455, 568)
    face = find_single_face(image)
    assert face.points[8, 1] > face.points[36:48, 1].mean(), "chin below the eyes: upright"


# --- the one face -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["obama_official_portrait.jpg", "biden_official_portrait.jpg"])
def test_a_portrait_gives_its_single_face(name):
    image = load(raw(name))
    face = find_single_face(image)
    assert face.box[2] - face.box[0] >= MIN_FACE_PX


def test_two_people_are_several_faces():
    with refused("several_faces") as info:
        find_single_face(load(raw("two_faces.jpg")))
    assert "2" in str(info.value)


@pytest.mark.parametrize("scale, subject", [(0.3, "the portrait's face"), (0.7, None)])   # Biden's face 88 / 206 px; Obama's 265
def test_a_small_face_in_the_background_leaves_the_subject_but_two_people_are_refused(scale, subject):
    portrait = load(raw("obama_official_portrait.jpg"))
    other = load(raw("biden_official_portrait.jpg"))
    other = other.resize((round(other.width * scale), round(other.height * scale)))
    picture = Image.new("RGB", (portrait.width + other.width + 40, max(portrait.height, other.height)), (200, 200, 205))
    picture.paste(portrait, (0, 0))
    picture.paste(other, (portrait.width + 40, picture.height - other.height))
    alone = find_single_face(portrait)
    if subject is None:
        with refused("several_faces"):
            find_single_face(picture)
        return
    assert len(find_faces(picture)) == 2
    assert np.abs(find_single_face(picture).points - alone.points).mean() < 4.0   # the portrait's, not Biden's


def test_no_face():
    with refused("no_face"):
        find_single_face(Image.new("RGB", (500, 500), (90, 120, 200)))


def test_a_tiny_photo_is_too_small_rather_than_faceless():
    with refused("face_too_small") as info:
        find_single_face(load(raw("tiny_face.jpg")))
    assert "48×60" in str(info.value)


def test_the_photo_of_half_a_face_is_cut_off():
    with refused("face_cut_off"):
        find_single_face(load(raw("partial_face.jpg")))


def test_a_face_cropped_through_the_chin_is_cut_off(obama):
    (face,) = find_faces(obama)
    chin_y = int(face.points[8, 1])
    mouth_y = int(face.points[57, 1])
    cropped = obama.crop((0, 0, obama.width, (mouth_y + chin_y) // 2))
    assert len(find_faces(cropped)) == 1, "the detector still sees the face"
    with refused("face_cut_off"):
        find_single_face(cropped)


def test_a_small_but_visible_face_is_too_small(obama):
    small = obama.resize((200, 250), Image.LANCZOS)  # face about 58 px wide
    assert len(find_faces(small)) == 1, "the detector still sees the face"
    with refused("face_too_small") as info:
        find_single_face(small)
    assert str(MIN_FACE_PX) in str(info.value)


def test_unknown_codes_are_a_programming_error():
    with pytest.raises(ValueError):
        PhotoError("blurry", "not a code")


# --- colours ------------------------------------------------------------------------------

def luminance(colour: tuple[int, int, int]) -> float:
    r, g, b = colour
    return 0.299 * r + 0.587 * g + 0.114 * b


@pytest.fixture(scope="module")
def biden() -> Image.Image:
    return load(raw("biden_official_portrait.jpg"))


def test_skin_is_sampled_from_the_cheeks(obama, biden):
    for image in (obama, biden):
        r, g, b = sample_colours(image, find_single_face(image)).skin
        assert r > g > b, "skin is warm: red above green above blue"


def test_dark_hair_and_white_hair_are_told_apart(obama, biden):
    obama_colours = sample_colours(obama, find_single_face(obama))
    biden_colours = sample_colours(biden, find_single_face(biden))
    assert obama_colours.hair is not None and biden_colours.hair is not None
    # Obama: dark hair over lighter (brightly lit) skin; Biden: white hair over darker skin
    assert luminance(obama_colours.hair) < luminance(obama_colours.skin) - 60
    assert luminance(biden_colours.hair) > luminance(biden_colours.skin) + 30
    assert luminance(biden_colours.hair) > luminance(obama_colours.hair) + 60


def test_hair_does_not_depend_on_background_beside_the_head(obama):
    face = find_single_face(obama)
    painted = obama.copy()
    left, right = int(face.points[0, 0]), int(face.points[16, 0])
    painted.paste((20, 200, 40), (0, 0, left - 60, obama.height))           # green left of the head
    painted.paste((20, 200, 40), (right + 60, 0, obama.width, obama.height))  # and right of it
    assert sample_colours(painted, face).hair == sample_colours(obama, face).hair


def test_a_bald_head_has_no_hair_colour(obama):
    face = find_single_face(obama)
    skin = sample_colours(obama, face).skin
    bald = obama.copy()
    brow_top = int(face.points[17:27, 1].min())
    # skin from the brows to the top of the photo, across the whole head
    bald.paste(skin, (int(face.points[0, 0]), 0, int(face.points[16, 0]), brow_top - 5))
    assert sample_colours(bald, face).hair is None


def test_colours_are_plain_int_triples(obama):
    colours = sample_colours(obama, find_single_face(obama))
    for colour in (colours.skin, colours.hair):
        assert isinstance(colour, tuple) and len(colour) == 3
        assert all(isinstance(v, int) and 0 <= v <= 255 for v in colour)
    assert np.isfinite(luminance(colours.skin))


# --- hair and the photo's seed ----------------------------------------------------------------

def test_short_hair_measures_short_with_its_hairline_above_the_brows(obama, biden):
    for image in (obama, biden):
        face = find_single_face(image)
        hair = measure_hair(image, face, sample_colours(image, face))
        assert hair.length is not None and hair.length < 0.3            # ends above the middle of the ears
        assert hair.hairline is not None and 0.5 < hair.hairline < 1.5   # face thirds above the brows


def test_hair_painted_down_beside_the_face_measures_long(obama):
    face = find_single_face(obama)
    colours = sample_colours(obama, face)
    long_hair = obama.copy()
    p = face.points
    width = int(p[16, 0] - p[0, 0])
    below_chin = int(p[8, 1] + 0.5 * (p[8, 1] - p[36:48, 1].mean()))
    for x in (int(p[0, 0]) - width // 5, int(p[16, 0])):   # curtains of the hair's colour beside each cheek
        long_hair.paste(colours.hair, (x, int(p[19, 1]), x + width // 5, below_chin))
    assert measure_hair(long_hair, face, colours).length > 1.2


def test_a_bald_head_has_no_hair_to_measure(obama):
    face = find_single_face(obama)
    colours = sample_colours(obama, face)
    hair = measure_hair(obama, face, dataclasses.replace(colours, hair=None))
    assert (hair.colour, hair.hairline, hair.length) == (None, None, None)


def test_a_photo_seeds_by_its_pixels(obama):
    again = load(raw("obama_official_portrait.jpg"))
    assert content_seed(again) == content_seed(obama)
    touched = obama.copy()
    touched.putpixel((0, 0), (0, 0, 0))
    assert content_seed(touched) != content_seed(obama)
