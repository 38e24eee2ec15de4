"""The grammar of descriptions (issue #14, build 2): negation and its scope, 만 / 는 contrast,
"X 없이", a denied size word, several edits in one message in either language and any order,
degree words, and position words that belong to the mark they place, never a tilt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facegen.attributes import Edit
from facegen.describe import parse_description, parse_edits

HERE = Path(__file__).parent


def said(text: str) -> dict:
    return parse_description(text).attributes.specified()


@pytest.mark.parametrize("text, beard", [
    ("콧수염만 있고 턱수염은 없다", "moustache"),
    ("콧수염은 있지만 턱수염은 기르지 않았다", "moustache"),
    ("턱수염만 길렀고 콧수염은 없어", "full"),
    ("수염은 없지만 콧수염은 있다", "moustache"),
    ("no beard but a moustache", "moustache"),
    ("a man with a moustache but no beard", "moustache"),
    ("has a goatee, no moustache", "goatee"),
    ("he has a mustache and no beard", "moustache"),
    ("수염 없이 말끔한 얼굴", "none"),
    ("a man with no glasses, no beard and no moustache", "none"),
])
def test_absence_of_one_beard_keeps_the_other(text, beard):
    assert said(text)["beard"] == beard


@pytest.mark.parametrize("text, field, value", [
    ("눈이 크지 않고", "eye_size", -0.35),
    ("눈이 안 크다", "eye_size", -0.35),
    ("코가 크지 않고 입술도 두껍지 않다", "lip_fullness", -0.35),
    ("입이 작지 않은 편", "mouth_width", 0.35),
    ("광대가 나오지 않았고", "cheekbones", -0.35),
    ("her eyes are not big", "eye_size", -0.35),
    ("his lips aren't thin", "lip_fullness", 0.35),
    ("her nose is not very big", "nose_size", -0.35),
    ("eyes aren't very big", "eye_size", -0.35),
    # a denied tilt or smile is level, not the other way
    ("눈꼬리가 올라가지 않았고", "eye_tilt", 0.0),
    ("he isn't smiling", "smile", 0.0),
    # neither one way nor the other is the middle
    ("코가 작지도 않고 크지도 않다", "nose_size", 0.0),
])
def test_a_denied_degree_is_a_little_the_other_way(text, field, value):
    assert said(text)[field] == pytest.approx(value)


@pytest.mark.parametrize("text, expected", [
    ("흉터나 점 같은 건 없어요", {"scars": (), "moles": ()}),
    ("안경도 수염도 없는 청년", {"glasses": False, "beard": "none"}),
    ("no scars or moles on her face", {"scars": (), "moles": ()}),
    ("he doesn't have freckles or dimples", {"freckles": 0.0, "dimples": False}),
    ("He doesn't wear glasses and has no scars", {"glasses": False, "scars": ()}),
    ("눈과 코가 크고 입은 작은 편", {"eye_size": 0.7, "nose_size": 0.7, "mouth_width": -0.7}),
    # a relative clause on the last noun of a list speaks of that noun only
    ("slightly droopy eyes and lips that curve up at the corners", {"eye_tilt": -0.35, "mouth_corners": 0.7}),
])
def test_negation_and_predicates_reach_every_noun_of_a_list(text, expected):
    got = said(text)
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize("text, expected", [
    ("수염 없이 깔끔한 얼굴", {"beard": "none"}),
    ("쌍꺼풀 없이 눈이 큰 편이다", {"double_eyelid": False, "eye_size": 0.7}),
    ("안경 없이 수염만 길렀다", {"glasses": False, "beard": "full"}),
    ("without dimples", {"dimples": False}),
])
def test_without_speaks_of_the_noun_it_follows(text, expected):
    got = said(text)
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize("text, field, value", [
    ("주근깨가 살짝 있는 하얀 피부", "freckles", 0.35),
    ("주근깨 약간", "freckles", 0.35),
    ("주근깨가 엄청 많다", "freckles", 1.0),
    ("광대가 조금 튀어나와 있어요", "cheekbones", 0.35),
    ("콧대가 엄청 높고 오똑해요", "nose_bridge", 1.0),
    ("인상이 되게 날카로웠어요", "eye_tilt", 1.0),
    ("a few freckles", "freckles", 0.35),
    ("lots of freckles", "freckles", 1.0),
    ("quite prominent cheekbones", "cheekbones", 0.85),
    ("very deep set eyes", "eye_depth", 1.0),
    ("cheeks a bit hollow", "cheek_fullness", -0.35),
])
def test_degree_words_scale_the_new_features(text, field, value):
    assert said(text)[field] == pytest.approx(value)


@pytest.mark.parametrize("text, moles", [
    ("눈 밑에 점이 있고", ("under_eye",)),
    ("눈밑 점", ("under_eye",)),
    ("왼쪽 눈 아래에 작은 점이 하나 있어요", ("under_eye",)),
    ("점이 눈 밑에 있다", ("under_eye",)),
    ("입가 점", ("mouth",)),
    ("입술 위에 점", ("mouth",)),
    ("코 옆에 점", ("nose",)),
    ("눈 밑이랑 턱에 점이 있다", ("under_eye", "chin")),
    ("a mole under her left eye", ("under_eye",)),
    ("a mole below her right eye", ("under_eye",)),
    ("a beauty mark above her upper lip", ("mouth",)),
    ("a mole at the corner of her mouth", ("mouth",)),
    ("a mole under the right eye and another by the mouth", ("under_eye", "mouth")),
])
def test_position_words_place_the_mark_they_belong_to(text, moles):
    got = said(text)
    assert set(got["moles"]) == set(moles)
    assert "eye_tilt" not in got and "mouth_corners" not in got     # 밑 / under never tilt on their own


@pytest.mark.parametrize("text, field, value", [
    ("입꼬리가 위로 올라가 있고", "mouth_corners", 0.7),
    ("눈 꼬리가 아래로 처진", "eye_tilt", -0.7),
    ("입꼬리가 아래로 향해 있다", "mouth_corners", -0.7),
])
def test_up_and_down_with_ro_are_still_directions(text, field, value):
    assert said(text)[field] == pytest.approx(value)


def test_a_mark_said_off_the_face_is_not_drawn_on_it():
    d = parse_description("moles on her neck")
    assert "moles" not in d.attributes.specified() and "neck" in d.unknown


@pytest.mark.parametrize("text, expected", [
    ("make eyes bigger, nose smaller", [Edit("eye_size", amount=0.5), Edit("nose_size", amount=-0.5)]),
    ("make eyes bigger and add glasses", [Edit("eye_size", amount=0.5), Edit("glasses", value=True)]),
    ("make the nose smaller and the eyes bigger", [Edit("nose_size", amount=-0.5), Edit("eye_size", amount=0.5)]),
    ("less smile, bigger eyes", [Edit("smile", amount=-0.5), Edit("eye_size", amount=0.5)]),
    ("눈은 크게 코는 작게", [Edit("eye_size", amount=0.5), Edit("nose_size", amount=-0.5)]),
    ("코는 좀 작게 하고 눈은 크게 해줘", [Edit("nose_size", amount=-0.25), Edit("eye_size", amount=0.5)]),
    ("눈 크게, 코 높게, 입술 도톰하게",
     [Edit("eye_size", amount=0.5), Edit("nose_bridge", amount=0.5), Edit("lip_fullness", amount=0.5)]),
    ("안경 씌우고 눈은 더 크게", [Edit("glasses", value=True), Edit("eye_size", amount=0.5)]),
    ("remove glasses and beard", [Edit("glasses", value=False), Edit("beard", value="none")]),
])
def test_every_edit_of_a_message_comes_back_in_order(text, expected):
    assert parse_edits(text) == expected


def _edit_cases() -> list[dict]:
    return json.loads((HERE / "edits.json").read_text(encoding="utf-8"))["edits"]


def test_edit_set_is_large_enough():
    cases = _edit_cases()
    assert len(cases) >= 50
    assert sum(len(case["edits"]) > 1 for case in cases) >= 20


@pytest.mark.parametrize("case", _edit_cases(), ids=lambda c: c["text"][:40])
def test_edit_set(case):
    expected = [Edit(e["field"], amount=e["amount"]) if "amount" in e
                else Edit(e["field"], value=tuple(e["value"]) if isinstance(e["value"], list) else e["value"])
                for e in case["edits"]]
    got = parse_edits(case["text"])
    assert [(e.field, e.value) for e in got] == [(e.field, e.value) for e in expected]
    assert [e.amount for e in got] == pytest.approx([e.amount for e in expected], abs=0.02)


@pytest.mark.parametrize("text,expected", [
    # the place between two marks-or-beards goes to the side the wording puts the mark on
    ("an older guy with a scar across his left eyebrow and a salt-and-pepper beard",
     {"scars": ("brow",), "beard": "full", "beard_colour": "grey"}),
    ("a beard and a scar on his chin", {"scars": ("chin",), "beard": "full"}),
    ("눈썹에 흉터가 있고 수염이 난 남자", {"scars": ("brow",), "beard": "full"}),
    # a thin person shows it in the cheeks
    ("마른 중년 남성", {"cheek_fullness": -0.7, "age_band": "middle"}),
    ("a skinny old man", {"cheek_fullness": -0.7, "age_band": "senior"}),
])
def test_places_and_builds_said_in_passing(text, expected):
    said = parse_description(text).attributes.specified()
    assert {k: said.get(k) for k in expected} == expected
    assert not parse_description(text).unknown
