"""A contact sheet: numbered pictures in a grid, for "pick 1–N" in any chat."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (250, 250, 250)
BADGE = (24, 24, 28)
BADGE_TEXT = (255, 255, 255)


def default_columns(n: int) -> int:
    """5 across for 10 (5 × 2), 5 × 4 for 20; small sets in one row."""
    return n if n <= 5 else 5 if n <= 25 else math.ceil(math.sqrt(n))


def contact_sheet(images: Sequence[Image.Image], columns: int | None = None, tile: int | None = None,
                  gap: int | None = None, numbered: bool = True,
                  labels: Sequence[str] | None = None) -> Image.Image:
    """The images in a grid, left to right then down, each with its number (1…N) in a large badge,
    or with `labels` instead (λ values, layer names).

    `tile` is the side of each cell (default: the first image's width, up to 256 px).
    """
    if not images:
        raise ValueError("a contact sheet needs at least one image")
    n = len(images)
    if labels is not None and len(labels) != n:
        raise ValueError(f"{len(labels)} labels for {n} images")
    if labels is None and numbered:
        labels = [str(i + 1) for i in range(n)]
    columns = columns or default_columns(n)
    rows = math.ceil(n / columns)
    tile = tile or min(256, images[0].width)
    gap = max(2, tile // 32) if gap is None else gap
    sheet = Image.new("RGB", (columns * tile + (columns + 1) * gap, rows * tile + (rows + 1) * gap), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    # one size per sheet: large for numbers and short labels, smaller when any label is a word
    short = labels is None or all(len(label) <= 4 for label in labels)
    font = ImageFont.load_default(size=max(14, tile // 5) if short else max(12, tile // 11))
    for i, image in enumerate(images):
        x = gap + (i % columns) * (tile + gap)
        y = gap + (i // columns) * (tile + gap)
        sheet.paste(image.convert("RGB").resize((tile, tile), Image.LANCZOS) if image.size != (tile, tile)
                    else image.convert("RGB"), (x, y))
        if labels is not None:
            _badge(draw, font, labels[i], x, y, tile)
    return sheet


def _badge(draw: ImageDraw.ImageDraw, font: ImageFont.FreeTypeFont, label: str, x: int, y: int, tile: int) -> None:
    left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
    pad = max(3, tile // 40)
    height = bottom - top + 2 * pad
    width = max(height, right - left + 2 * pad)
    corner = (x + pad, y + pad)
    draw.rounded_rectangle((corner[0], corner[1], corner[0] + width, corner[1] + height), radius=height // 3, fill=BADGE)
    draw.text((corner[0] + (width - (right - left)) / 2 - left, corner[1] + pad - top), label, font=font, fill=BADGE_TEXT)
