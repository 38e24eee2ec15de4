"""Faces described back (issue #14 item 7): Attributes → words → the parser gives the same
Attributes, in both languages; and what a stored face's history says it is."""

from __future__ import annotations

import random
from dataclasses import asdict

import pytest

from facegen.attributes import DEGREES, ENUMS, FLAGS, MARK_PLACES, MARKS, Attributes
from facegen.describe import parse_description
from facegen.describe.back import attributes_along, describe_back, face_words

LEVELS = (0.35, 0.7, 1.0)
AMOUNTS = ("wrinkles", "freckles")     # 0 none … 1 many
ROUNDS = 150


def _level(rng: random.Random, signed: bool = True) -> float:
    value = rng.choice(LEVELS) + rng.uniform(-0.08, 0.08)
    value = min(1.0, value) * (rng.choice((1, -1)) if signed else 1)
    return round(value, 2)


def random_attributes(rng: random.Random) -> Attributes:
    """Attributes as a description can say them: every field, each sometimes unsaid. A hair
    length goes with a style that can carry it ("long hair" is long), a beard's colour and
    grooming with a beard."""
    def maybe(make):
        return make() if rng.random() < 0.6 else None

    out: dict = {}
    for name, values in ENUMS.items():
        out[name] = maybe(lambda: rng.choice(values))
    for name in DEGREES:
        if name in AMOUNTS:
            out[name] = maybe(lambda: rng.choice((0.0, _level(rng, signed=False))))
        elif name == "smile":
            out[name] = maybe(lambda: rng.choice((0.0, _level(rng))))
        else:
            out[name] = maybe(lambda: _level(rng))
    for name in FLAGS:
        out[name] = maybe(lambda: rng.random() < 0.5)
    for name in MARKS:
        out[name] = maybe(lambda: tuple(rng.sample(MARK_PLACES, rng.randint(0, 3))))
    style = out["hair_style"]
    if style == "long":
        out["hair_length"] = rng.choice((0.7, 1.0))
    elif style == "short":
        out["hair_length"] = rng.choice((-0.7, -1.0))
    elif style in (None, "bald", "buzz"):
        out["hair_length"] = None
    else:
        out["hair_length"] = maybe(lambda: _level(rng))
    if style == "bald":
        out["hair_colour"] = None
    if out["beard"] in (None, "none"):
        out["beard_colour"] = out["beard_tidy"] = None
    return Attributes(**out)


def differences(said: Attributes, heard: Attributes) -> dict:
    """Fields that did not come back: enums, flags and places exactly, degrees within 0.15."""
    out = {}
    for name, value in asdict(said).items():
        back = getattr(heard, name)
        if name in (*DEGREES, "hair_length") and value is not None and back is not None:
            if abs(value - back) > 0.15:
                out[name] = (value, back)
        elif name in MARKS and value is not None and back is not None:
            if set(value) != set(back):
                out[name] = (value, back)
        elif value != back:
            out[name] = (value, back)
    return out


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_round_trip_of_random_attributes(locale):
    rng = random.Random(f"describe-back-{locale}")
    failures = []
    for _ in range(ROUNDS):
        attributes = random_attributes(rng)
        text = describe_back(attributes, locale)
        wrong = differences(attributes, parse_description(text, locale).attributes)
        if wrong:
            failures.append((text, wrong))
    assert not failures, f"{len(failures)} of {ROUNDS} did not come back, e.g. {failures[:3]}"


def test_the_generator_covers_every_field():
    rng = random.Random("describe-back-en")
    seen: set[str] = set()
    for _ in range(ROUNDS):
        seen |= set(random_attributes(rng).specified())
    assert seen == set(Attributes.__dataclass_fields__)


EXAMPLES = [
    (Attributes(gender="male", age_band="thirties", hair_style="short", hair_length=-0.7, hair_colour="black",
                eye_size=0.7, glasses=True),
     "a man in his thirties with short black hair, big eyes and glasses",
     "30대 남자, 짧은 검은 머리, 큰 눈, 안경"),
    (Attributes(gender="female", age_band="twenties", hair_style="curly", hair_length=1.0, hair_colour="red",
                eye_tilt=-0.35, freckles=0.35, moles=("under_eye",)),
     "a woman in her twenties with very long curly red hair, slightly downturned eyes, a few freckles "
     "and a mole under the eye",
     "20대 여자, 아주 기다란 빨간 곱슬머리, 살짝 처진 눈, 약간의 주근깨, 눈 밑에 점"),
    (Attributes(gender="male", age_band="senior", wrinkles=1.0, beard="full", beard_colour="white",
                beard_tidy=True, smile=0.7),
     "an old man with a smile, deep wrinkles and a trimmed white beard",
     "노년 남자, 미소, 깊은 주름, 정리된 하얀 턱수염"),
    (Attributes(face_shape="round", dimples=True, scars=(), glasses=False),
     "a face with a round face, no scars, dimples and no glasses",
     "둥근 얼굴, 흉터 없음, 보조개, 안경 없음"),
    (Attributes(), "a face", "얼굴"),
]


@pytest.mark.parametrize("attributes,en,ko", EXAMPLES)
def test_hand_written_examples(attributes, en, ko):
    assert describe_back(attributes, "en") == en
    assert describe_back(attributes, "ko") == ko
    for text, locale in ((en, "en"), (ko, "ko")):
        assert not differences(attributes, parse_description(text, locale).attributes), text


def test_unknown_locale_is_refused():
    with pytest.raises(ValueError):
        describe_back(Attributes(), "fr")


# --- what a stored face's history says ------------------------------------------------------

DESCRIBED = ("describe", {"text": "a man with glasses", "attributes": {"gender": "male", "glasses": True,
                                                                      "moles": ["cheek"]}, "seed": 1})


def test_a_described_face_with_edits_since():
    lineage = [("edit", {"edits": [{"field": "glasses", "amount": 0.0, "value": False},
                                   {"field": "smile", "amount": 0.5, "value": None},
                                   {"field": "moles", "amount": 0.0, "value": ["chin"]}]}),
               ("remix", {"layers": "fine", "seed": 3}), DESCRIBED]
    origin, attributes = attributes_along(lineage)
    assert origin == DESCRIBED
    assert attributes == Attributes(gender="male", glasses=False, smile=0.5, moles=("cheek", "chin"))
    words = face_words(lineage)
    assert words["en"] == "a man with a slight smile, a mole on the cheek, a mole on the chin and no glasses"
    assert words["ko"] == "남자, 살짝 미소, 볼에 점, 턱에 점, 안경 없음"


def test_faces_without_a_description_say_what_is_known():
    assert face_words([("new", {"seed": 42})]) == {"en": "a random face (seed 42)", "ko": "무작위 얼굴 (시드 42)"}
    assert face_words([("photo", {"seed": 0})])["en"] == "a face made from your photo"
    assert face_words([("photo", {"seed": 0})])["ko"] == "보내 주신 사진으로 만든 얼굴"
    morph = face_words([("morph", {"ratio": 0.7, "mode": "linear"}), DESCRIBED], me="#3", other="Sora Bae")
    assert morph == {"en": "a morph of #3 (70%) and Sora Bae (30%)", "ko": "#3 70% · Sora Bae 30% 합성 얼굴"}
    edited = face_words([("edit", {"edits": [{"field": "glasses", "amount": 0.0, "value": True}]}),
                         ("new", {"seed": 7})])
    assert edited == {"en": "a random face (seed 7) with glasses", "ko": "무작위 얼굴 (시드 7), 안경"}


def test_ageing_steps_the_band():
    lineage = [("edit", {"edits": [{"field": "age", "amount": 1.0, "value": None}]}),
               ("describe", {"text": "", "attributes": {"gender": "female", "age_band": "twenties"}, "seed": 0})]
    assert attributes_along(lineage)[1] == Attributes(gender="female", age_band="thirties")
