"""Gallery faces as models see them: where an entry's face comes from and how its code is
computed for a backend. Pure (no storage): bot/gallery.py stores what this computes.

The embedded default ships a few FICTIONAL named faces, made from descriptions and seeds, so
morphing works out of the box; real people's faces are only what an operator adds from photos.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from facegen.backend import Backend
from facegen.facecode import FaceCode

SOURCE_KINDS = ("seed", "describe", "photo")


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


def code_from_source(backend: Backend, source: dict[str, Any], photo: Image.Image | None = None) -> FaceCode:
    """The entry's face for `backend`. Photo sources need the decoded photo (one face in it)."""
    check_source(source)
    seed = int(source.get("seed", 0))
    if source["kind"] == "seed":
        return backend.sample(seed)
    if source["kind"] == "describe":
        from facegen.describe import parse_description
        return backend.from_attributes(parse_description(source["text"]).attributes, seed)
    if photo is None:
        raise ValueError("a photo source needs the photo")
    return backend.from_photo(photo, seed).code
