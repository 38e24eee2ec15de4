"""Contact sheets: numbered pictures in a grid, for "pick 1–N" in any chat.

`candidate_sheet` is the sheet a user picks from. A region's candidates (eyes, nose, …) are
shown as police composite systems show them: each an enlarged close-up of the region, with the
whole face small under it (`close_up_sheet`); whole-face candidates (variations, remixes, and
regions that cover most of the face) as whole faces. Both come in `CANDIDATE_COLUMNS` columns:
a phone shows a sheet about 300 CSS px wide (the web chat at a 390-px viewport; Telegram and
Discord alike), and two columns keep each close-up at least 120 px wide there.

A breeding array (facegen.breeding) is shown whole, as EvoFIT shows its arrays: whole faces in
`array_columns(n)` columns, the most nearly square grid with full rows (9 as 3 × 3, 12 as 4 × 3,
16 as 4 × 4, 18 as 6 × 3), so the whole array fits one look and every number stays legible.

`picture_sheet` lays stored pictures out the same way (the gallery, a user's history), and
`thumbnail` makes one small.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from facegen.backend import UnitBox
from facegen.provenance import encode_picture

BACKGROUND = (250, 250, 250)
BADGE = (24, 24, 28)
BADGE_TEXT = (255, 255, 255)
REGION_OUTLINE = (214, 84, 56)   # where the close-up lies, on the small whole face

CANDIDATE_COLUMNS = 2       # columns of a sheet to pick from (see the module's docstring)
CLOSE_UP_WIDTH = 320        # px: a close-up's width on the sheet
CLOSE_UP_MAX_AREA = 0.6     # a region covering more of the picture is shown as whole faces
FACE_SHARE = 1 / 3          # the small whole face's side, as a share of the close-up's width
CLOSE_UP_GAP = 14           # px between cells and around the sheet
CLOSE_UP_PAD = 4            # px between a close-up and the strip under it
WHOLE_FACE_SIDE = 256       # px: the side candidates are drawn at for whole-face sheets
THUMBNAIL_SIDE = 160        # px: a face in a history (2× the 80 CSS px the web chat shows it at)
BLANK = (225, 225, 225)     # a tile with no picture
CLOSE_UP_SIDE = 512         # …and for close-ups, so the enlarged part stays sharp

Rect = tuple[int, int, int, int]   # (left, top, right, bottom) in pixels of the sheet


def default_columns(n: int) -> int:
    """5 across for 10 (5 × 2), 5 × 4 for 20; small sets in one row."""
    return n if n <= 5 else 5 if n <= 25 else math.ceil(math.sqrt(n))


def array_columns(n: int) -> int:
    """Columns of a breeding array of n faces: at least √n (no taller than wide), at most two
    more, the fewest that fill every row; ⌈√n⌉ when none does."""
    least = math.ceil(math.sqrt(n))
    return next((c for c in range(least, least + 3) if n % c == 0), least)


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


def is_close_up(box: UnitBox | None) -> bool:
    """Whether candidates of a region with this box are shown as close-ups (None: whole faces)."""
    return box is not None and (box[2] - box[0]) * (box[3] - box[1]) <= CLOSE_UP_MAX_AREA


def drawn_side(requested: int, box: UnitBox | None) -> int:
    """The side to draw a sheet's candidates at: at most the size asked for the job."""
    return min(requested, CLOSE_UP_SIDE if is_close_up(box) else WHOLE_FACE_SIDE)


@dataclass(frozen=True)
class CloseUpCell:
    crop: Rect      # the enlarged region
    face: Rect      # the whole face, small, under the close-up's right end
    badge: tuple[int, int]   # the number's corner, under the close-up's left end


@dataclass(frozen=True)
class CloseUpLayout:
    size: tuple[int, int]
    cells: tuple[CloseUpCell, ...]


def close_up_layout(n: int, box: UnitBox, columns: int = CANDIDATE_COLUMNS,
                    width: int = CLOSE_UP_WIDTH) -> CloseUpLayout:
    """Where each of n close-ups of the region `box` (shares of a square picture) goes on the sheet."""
    if n < 1:
        raise ValueError("a contact sheet needs at least one image")
    columns = min(columns, n)
    height = max(1, round(width * (box[3] - box[1]) / (box[2] - box[0])))
    face = round(width * FACE_SHARE)
    cell_height = height + CLOSE_UP_PAD + face
    rows = math.ceil(n / columns)
    cells = []
    for i in range(n):
        x = CLOSE_UP_GAP + (i % columns) * (width + CLOSE_UP_GAP)
        y = CLOSE_UP_GAP + (i // columns) * (cell_height + CLOSE_UP_GAP)
        strip = y + height + CLOSE_UP_PAD
        cells.append(CloseUpCell(crop=(x, y, x + width, y + height), face=(x + width - face, strip, x + width, strip + face),
                                 badge=(x, strip)))
    return CloseUpLayout((columns * width + (columns + 1) * CLOSE_UP_GAP, rows * cell_height + (rows + 1) * CLOSE_UP_GAP),
                         tuple(cells))


def close_up_sheet(images: Sequence[Image.Image], box: UnitBox, columns: int = CANDIDATE_COLUMNS) -> Image.Image:
    """Each picture's `box` enlarged, numbered 1…N, with the whole picture small under it and the
    box outlined there."""
    layout = close_up_layout(len(images), box, columns)
    sheet = Image.new("RGB", layout.size, BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    face_side = layout.cells[0].face[2] - layout.cells[0].face[0]
    font = ImageFont.load_default(size=max(14, face_side * 2 // 5))
    for i, (image, cell) in enumerate(zip(images, layout.cells)):
        image = image.convert("RGB")
        w, h = image.size
        crop = image.crop((round(box[0] * w), round(box[1] * h), round(box[2] * w), round(box[3] * h)))
        sheet.paste(crop.resize(_size(cell.crop), Image.LANCZOS), cell.crop[:2])
        sheet.paste(image.resize(_size(cell.face), Image.LANCZOS), cell.face[:2])
        left, top = cell.face[:2]
        draw.rectangle((left + box[0] * face_side, top + box[1] * face_side,
                        left + box[2] * face_side - 1, top + box[3] * face_side - 1), outline=REGION_OUTLINE, width=2)
        _badge(draw, font, str(i + 1), *cell.badge, face_side)
    return sheet


def candidate_sheet(images: Sequence[Image.Image], box: UnitBox | None = None, *, array: bool = False) -> Image.Image:
    """The numbered sheet a user picks from: close-ups of the region `box` where it is a
    small part of the face, else whole faces; `array`: a breeding array, whole faces in
    `array_columns` columns (see the module's docstring)."""
    if array:
        return contact_sheet(images, columns=array_columns(len(images)))
    if is_close_up(box):
        return close_up_sheet(images, box)
    return contact_sheet(images, columns=min(CANDIDATE_COLUMNS, len(images)))


def _size(rect: Rect) -> tuple[int, int]:
    return rect[2] - rect[0], rect[3] - rect[1]


def picture_sheet(pictures: Sequence[bytes | None], labels: Sequence[str] | None = None,
                  columns: int = CANDIDATE_COLUMNS) -> bytes:
    """Stored pictures (encoded files) as one numbered sheet of whole faces (a PNG), 1…N in the
    order given or with `labels` ("#12"); a missing picture is a blank tile."""
    images = [_decoded(p, WHOLE_FACE_SIDE) for p in pictures]
    sheet = contact_sheet(images, columns=min(columns, len(images)), labels=labels)
    return encode_picture(sheet, photoreal=False, kind="sheet").data


def thumbnail(picture: bytes) -> bytes:
    """A stored picture made small (a PNG), for a list of faces."""
    return encode_picture(_decoded(picture, THUMBNAIL_SIDE), photoreal=False, kind="sheet").data


def _decoded(picture: bytes | None, side: int) -> Image.Image:
    if picture is None:
        return Image.new("RGB", (side, side), BLANK)
    return Image.open(io.BytesIO(picture)).convert("RGB").resize((side, side), Image.LANCZOS)
