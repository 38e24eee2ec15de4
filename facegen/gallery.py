"""Gallery faces as models see them: where an entry's face comes from, and its code and picture
computed for a backend. Pure (no storage): bot/gallery.py (seeding, the operator's adds) and the
worker's morph job (fitting an entry for its own model on first use, facegen/handlers.py) store
what this computes.

The embedded default ships a few FICTIONAL named faces, made from descriptions and seeds, so
morphing works out of the box; real people's faces are only what an operator adds from photos.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from facegen.backend import Backend, PhotoFitOptions
from facegen.facecode import FaceCode
from facegen.provenance import EncodedPicture, encode_picture
from facegen.sheet import picture_sheet

SOURCE_KINDS = ("seed", "describe", "photo")
PICTURE_SIZE = 256


@dataclass(frozen=True)
class FictionalFace:
    name: str
    aliases: tuple[str, ...]
    source: dict[str, Any] = field(default_factory=dict)


# Invented people: the names belong to nobody in particular.
FICTIONAL_FACES: tuple[FictionalFace, ...] = (
    FictionalFace("Sora Bae", ("배소라", "Sora", "소라"),
                  {"kind": "describe", "text": "둥근 얼굴에 큰 눈, 긴 갈색 머리, 웃는 입의 젊은 여자", "seed": 11}),
    FictionalFace("Taeho Ryu", ("류태호", "Taeho", "태호"),
                  {"kind": "describe", "text": "square jaw, short black hair, thick eyebrows, stubble", "seed": 23}),
    FictionalFace("Grandma Oh", ("오할머니", "오 할머니", "할머니"),
                  {"kind": "describe", "text": "an old woman with grey curly hair, glasses and a kind smile", "seed": 37}),
    FictionalFace("Juno Kang", ("강주노", "Juno", "주노"), {"kind": "seed", "seed": 4242}),
)


def check_source(source: dict[str, Any]) -> None:
    if source.get("kind") not in SOURCE_KINDS:
        raise ValueError(f"a gallery source kind must be one of {', '.join(SOURCE_KINDS)}, got {source.get('kind')!r}")


@dataclass(frozen=True)
class GalleryFace:
    """An entry's face computed for one model, not yet stored."""
    backend: str
    model: str                # the backend's checkpoint id
    code: FaceCode
    public_id: str            # the id the face is stored under, which its picture already carries
    picture: EncodedPicture   # with its provenance (facegen/provenance.py)


def draw_gallery_face(backend: Backend, source: dict[str, Any], photo: Image.Image | None = None, *,
                      public_id: str, options: PhotoFitOptions = PhotoFitOptions(),
                      watermark: bool = False) -> GalleryFace:
    """The entry's face and picture for `backend`, marked like every picture a worker draws
    (kind "gallery", the face's public id, the backend and model). Slow for a photo on a
    StyleGAN: run it in a thread."""
    code = code_from_source(backend, source, photo, options=options)
    (image,) = backend.render([code], PICTURE_SIZE)
    picture = encode_picture(image, photoreal=backend.photoreal, kind="gallery", face_id=public_id,
                             watermark=watermark, backend=backend.name, model=backend.checkpoint_id)
    return GalleryFace(backend.name, backend.checkpoint_id, code, public_id, picture)


def code_from_source(backend: Backend, source: dict[str, Any], photo: Image.Image | None = None, *,
                     options: PhotoFitOptions = PhotoFitOptions()) -> FaceCode:
    """The entry's face for `backend`. Photo sources need the decoded photo (one face in it);
    `options` say how hard a backend may work to fit it."""
    check_source(source)
    seed = int(source.get("seed", 0))
    if source["kind"] == "seed":
        return backend.sample(seed)
    if source["kind"] == "describe":
        from facegen.describe import parse_description
        return backend.from_attributes(parse_description(source["text"]).attributes, seed)
    if photo is None:
        raise ValueError("a photo source needs the photo")
    return backend.from_photo(photo, seed, options=options).code


def gallery_sheet(pictures: Sequence[bytes | None]) -> bytes:
    """The gallery's faces as one numbered sheet to pick from, 1…N in the order given (a PNG);
    an entry with no picture yet is a blank tile."""
    return picture_sheet(pictures)
