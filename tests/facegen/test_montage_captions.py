"""Montage faces said in words: `attributes_of` reads what a face's parameters draw, the
captions of `dreamface dataset montage` say it in English and Korean, and the words parse back
to attributes that draw the same again (the paired text for text guidance)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from facegen.attributes import Attributes
from facegen.describe import parse_description
from facegen.describe.back import describe_back
from facegen.montage import MontageBackend, decode
from facegen.montage.attributes import attributes_of
from facegen.montage.palette import hair_rgb
from facegen.training.montage_dataset import write_montage_dataset

BACKEND = MontageBackend()


def said(attributes: Attributes, names) -> Attributes:
    return Attributes(**{name: getattr(attributes, name) for name in names})


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_captions_parse_back_to_attributes_that_draw_them_again(locale):
    """For 20 random faces: the caption parses to the attributes it was said from (at the
    strength words carry), and those attributes, put on another seed's face, draw a face that
    is said in the same words, field by field of what the caption says."""
    for seed in range(20):
        text = describe_back(attributes_of(decode(BACKEND.sample(seed))), locale)
        parsed = parse_description(text, locale)
        assert not parsed.unknown, text
        assert describe_back(parsed.attributes, locale) == text
        other = 1000 + seed
        redrawn = attributes_of(decode(BACKEND.from_attributes(parsed.attributes, other)))
        assert describe_back(said(redrawn, parsed.attributes.specified()), locale) == text, seed


@pytest.mark.parametrize("field, values", [
    ("gender", ["male", "female"]), ("age_band", ["child", "teen", "twenties", "thirties", "middle", "senior"]),
    ("hair_colour", ["black", "brown", "blond", "red", "grey", "white"]),
    ("skin_tone", ["fair", "medium", "tan", "dark"]), ("beard", ["stubble", "moustache", "goatee", "full"]),
    ("glasses", [True]), ("hair_style", ["bob", "bald", "ponytail"]),
])
def test_attributes_of_reads_back_what_a_description_set(field, values):
    for value in values:
        for seed in (3, 4, 5):
            face = decode(BACKEND.from_attributes(Attributes(**{field: value}), seed))
            assert getattr(attributes_of(face), field) == value, (field, value, seed)


@pytest.mark.parametrize("field", ["eye_size", "smile"])
def test_degrees_read_back_at_the_strength_said(field):
    for degree in (-1.0, -0.7, -0.35, 0.0, 0.35, 0.7, 1.0):
        face = decode(BACKEND.from_attributes(Attributes(**{field: degree}), 7))
        assert getattr(attributes_of(face), field) == pytest.approx(degree, abs=1e-3)   # encoding clips the ends


def test_the_words_follow_what_is_drawn():
    """Glasses and beards are said exactly when drawn; the hair colour said is the one nearest
    the drawn colour, so black hair said is darker than blond hair said."""
    brightness: dict[str, list[float]] = {"black": [], "blond": []}
    for seed in range(60):
        p = decode(BACKEND.sample(seed))
        a = attributes_of(p)
        text = describe_back(a, "en")
        assert ("glasses" in text) == p.glasses
        assert (a.beard is not None) == (p.beard != "none")
        assert set(a.specified()) <= {"gender", "age_band", "hair_style", "hair_length", "hair_colour", "skin_tone",
                                      "eye_size", "smile", "glasses", "beard"}
        if a.hair_colour in brightness:
            brightness[a.hair_colour].append(float(hair_rgb(p.hair_darkness, p.hair_red, p.hair_grey).mean()))
    assert brightness["black"] and brightness["blond"]
    assert max(brightness["black"]) < min(brightness["blond"])


def test_montage_captions_carry_both_languages_and_are_deterministic(tmp_path):
    for name in ("a", "b"):
        write_montage_dataset(tmp_path / name, 4, 8, seed=11)
    lines = [json.loads(line) for line in (tmp_path / "a" / "captions.jsonl").read_text().splitlines()]
    assert (tmp_path / "a" / "captions.jsonl").read_bytes() == (tmp_path / "b" / "captions.jsonl").read_bytes()
    for line in lines:
        attributes = attributes_of(decode(BACKEND.sample(line["seed"])))
        assert line["text_en"] == describe_back(attributes, "en") and line["text_en"].startswith(("a ", "an "))
        assert line["text_ko"] == describe_back(attributes, "ko") and any("가" <= c <= "힣" for c in line["text_ko"])
    assert len({line["text_en"] for line in lines}) == len(lines)   # four faces, four descriptions
    assert np.unique([line["params"]["hair_style"] for line in lines]).size >= 2
