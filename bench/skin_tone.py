"""What skin tone a photo's face reads as, with and without the exposure correction (issue #15;
a script that prints figures, not a test).

    .venv/bin/python bench/skin_tone.py
    .venv/bin/python bench/skin_tone.py --smoke    # the same (it takes seconds)

For every face photo in tests/data (both halves of two_faces.jpg), the montage skin tone
(0 fair … 1 dark) that the measured fit takes from the cheeks: as sampled, corrected in full
by the eye whites (gain SCLERA_LUMA / eye-white luma, the rule before the floor: min_gain 0), and
as the fit corrects today (that gain, darkening by MIN_EXPOSURE_GAIN at most). The faces of one person
should read alike, and Obama's darker than the others'.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facegen.landmarks import find_faces  # noqa: E402
from facegen.montage.photo_fit import (exposure_corrected_skin, load_table, nearest_colour_knobs,  # noqa: E402
                                       sclera_luma)
from facegen.photo import level_face, load_photo, sample_colours  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
PHOTOS = ("obama_official_portrait.jpg", "obama_podium.jpg", "biden_official_portrait.jpg", "biden_smiling.jpg",
          "collins_astronaut.jpg", "hopper_portrait.jpg", "two_faces.jpg")


def faces():
    """(label, image, face) for every face photo; two_faces.jpg gives its left and right face."""
    for name in PHOTOS:
        image = load_photo((DATA / name).read_bytes(), max_bytes=50_000_000, max_pixels=50_000_000)
        found = sorted(find_faces(image), key=lambda face: face.box[0])
        if name == "two_faces.jpg":
            yield from ((f"{name} ({side})", image, face) for side, face in zip(("left", "right"), found))
        else:
            yield name, image, max(found, key=lambda face: face.box[2] - face.box[0])


def tone(table, colour) -> float:
    return nearest_colour_knobs(table.skin, colour)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="skin tone read from each photo, with and without the exposure correction")
    parser.add_argument("--smoke", action="store_true", help="the same run (it takes seconds)")
    parser.parse_args(argv)
    table = load_table()
    print(f"{'photo':<32} {'cheeks (RGB)':<16} {'eye whites':>10} {'as sampled':>10} {'full gain':>9} {'today':>6}")
    for label, image, face in faces():
        image, face = level_face(image, face)
        skin = sample_colours(image, face).skin
        sclera = sclera_luma(image, face)
        full = exposure_corrected_skin(skin, sclera, min_gain=0.0)
        print(f"{label:<32} {str(tuple(skin)):<16} {'-' if sclera is None else f'{sclera:.0f}':>10} "
              f"{tone(table, skin):10.2f} {tone(table, full):9.2f} "
              f"{tone(table, exposure_corrected_skin(skin, sclera)):6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
