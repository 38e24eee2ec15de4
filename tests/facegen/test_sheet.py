"""Contact sheets: a grid of pictures, each with a large number 1…N."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facegen.sheet import candidate_sheet, close_up_layout, contact_sheet, default_columns, drawn_side, is_close_up


def tiles(n: int, size: int = 128) -> list[Image.Image]:
    """Flat pale tiles, different enough to find again on the sheet."""
    return [Image.new("RGB", (size, size), (200, 180 + i * 3 % 60, 160)) for i in range(n)]


@pytest.mark.parametrize("n,columns,rows", [(10, 5, 2), (20, 5, 4), (4, 4, 1), (6, 5, 2)])
def test_layout(n, columns, rows):
    assert default_columns(n) == columns
    sheet = contact_sheet(tiles(n))
    gap = 128 // 32
    assert sheet.size == (columns * 128 + (columns + 1) * gap, rows * 128 + (rows + 1) * gap)


def badge(sheet: Image.Image, index: int, columns: int = 5, tile: int = 128) -> np.ndarray:
    gap = tile // 32
    x = gap + (index % columns) * (tile + gap)
    y = gap + (index // columns) * (tile + gap)
    return np.asarray(sheet, dtype=np.int16)[y:y + tile // 3, x:x + tile // 3]


def test_every_tile_carries_a_large_distinct_number():
    sheet = contact_sheet(tiles(10))
    crops = [badge(sheet, i) for i in range(10)]
    for crop in crops:
        dark = (crop.max(axis=2) < 60).mean()
        light = (crop.min(axis=2) > 230).mean()
        assert dark > 0.15 and light > 0.01     # a dark badge with white digits on it
        # large: the badge spans at least a sixth of the tile
        rows = np.nonzero((crop.max(axis=2) < 60).any(axis=1))[0]
        assert rows.max() - rows.min() >= 128 // 6
    digits = {crop.tobytes() for crop in crops}
    assert len(digits) == 10


def test_tiles_keep_their_pictures_and_order():
    images = tiles(10)
    sheet = np.asarray(contact_sheet(images, numbered=False), dtype=np.int16)
    gap = 4
    for i, image in enumerate(images):
        x = gap + (i % 5) * (128 + gap)
        y = gap + (i // 5) * (128 + gap)
        assert np.array_equal(sheet[y:y + 128, x:x + 128], np.asarray(image, dtype=np.int16))


def test_larger_pictures_are_scaled_to_the_tile():
    sheet = contact_sheet(tiles(2, size=512), tile=100)
    assert sheet.height == 100 + 2 * (100 // 32)


def test_an_empty_sheet_is_an_error():
    with pytest.raises(ValueError):
        contact_sheet([])


def test_labels_replace_numbers():
    labelled = contact_sheet(tiles(3), labels=["λ=0", "λ=.5", "λ=1"])
    numbered = contact_sheet(tiles(3))
    assert labelled.size == numbered.size
    assert badge(labelled, 0, columns=3).tobytes() != badge(numbered, 0, columns=3).tobytes()
    with pytest.raises(ValueError, match="labels"):
        contact_sheet(tiles(3), labels=["one"])


# --- sheets to pick from: close-ups of a region, whole faces otherwise ------------------------

PHONE_SHEET_CSS = 306   # the web chat's bubble content at a 390-px viewport (tests/bot/test_browser.py measures it)
EYES = (0.2, 0.33, 0.8, 0.57)


def faces(n: int, size: int = 256) -> list[Image.Image]:
    """Tiles whose eyes box is one flat colour per candidate, the rest another."""
    out = []
    for i in range(n):
        image = Image.new("RGB", (size, size), (90, 90, 90))
        box = tuple(round(v * size) for v in EYES)
        image.paste((40 + 20 * i, 200, 120), box)
        out.append(image)
    return out


def test_close_ups_come_two_across_and_stay_wide_on_a_phone():
    layout = close_up_layout(10, EYES)
    assert len({cell.crop[0] for cell in layout.cells}) == 2          # two columns, five rows
    assert len({cell.crop[1] for cell in layout.cells}) == 5
    for cell in layout.cells:
        width = cell.crop[2] - cell.crop[0]
        assert width * PHONE_SHEET_CSS / layout.size[0] >= 120      # each close-up ≥ 120 CSS px on a phone
        # the close-up keeps the region's proportions; the whole face is small, under it, inside the cell
        assert abs((cell.crop[3] - cell.crop[1]) / width - 0.24 / 0.6) < 0.01
        assert cell.face[1] > cell.crop[3] and cell.face[2] == cell.crop[2]
        assert cell.face[2] - cell.face[0] < width / 2
        assert cell.face[3] <= layout.size[1] and cell.crop[2] <= layout.size[0]
    crops = [cell.crop for cell in layout.cells]
    assert all(a[2] <= b[0] or a[3] <= b[1] or b[2] <= a[0] or b[3] <= a[1]
               for i, a in enumerate(crops) for b in crops[i + 1:])    # no two overlap


def test_a_close_up_sheet_shows_each_candidates_region_enlarged_and_numbered_in_order():
    images = faces(10)
    sheet = np.asarray(candidate_sheet(images, EYES), dtype=np.int16)
    layout = close_up_layout(10, EYES)
    for i, cell in enumerate(layout.cells):
        left, top, right, bottom = cell.crop
        assert (np.abs(sheet[top + 4:bottom - 4, left + 4:right - 4] - (40 + 20 * i, 200, 120)).max(axis=2) <= 2).all()
        x, y = cell.badge
        number = sheet[y:y + 30, x:x + 30]
        assert (number.max(axis=2) < 60).mean() > 0.15 and (number.min(axis=2) > 230).mean() > 0.01


def test_whole_face_regions_and_sets_are_whole_faces_two_across():
    assert not is_close_up(None) and not is_close_up((0.0, 0.0, 1.0, 1.0)) and is_close_up(EYES)
    sheet = candidate_sheet(tiles(10, size=256))
    gap = 256 // 32
    assert sheet.size == (2 * 256 + 3 * gap, 5 * 256 + 6 * gap)
    assert candidate_sheet(tiles(10, size=256), (0.0, 0.0, 1.0, 1.0)).size == sheet.size
    assert drawn_side(512, EYES) == 512 and drawn_side(512, None) == 256 and drawn_side(128, EYES) == 128


def test_every_backend_region_has_a_box_inside_the_picture():
    from facegen.backends import load_backend
    from facegen.stylegan.blend import REGIONS, region_box
    montage = load_backend("montage")
    boxes = [montage.region_box(r) for r in montage.regions] + [region_box(r) for r in REGIONS]
    assert all(0 <= left < right <= 1 and 0 <= top < bottom <= 1 for left, top, right, bottom in boxes)
    assert montage.region_box("ears") == (0.17, 0.40, 0.83, 0.59)   # both ears, one box
