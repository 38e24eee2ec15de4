"""Contact sheets: a grid of pictures, each with a large number 1…N."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facegen.sheet import contact_sheet, default_columns


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
