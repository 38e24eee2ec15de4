"""Issue #14's vocabulary (build 1) in both languages: marks with places, forehead, cheekbones,
cheeks, eye depth and colour, brow shape, nose bridge, beard colour, ears, hairline, and the
impressions whose look is known. Every new field is read from Korean and from English, comes
back as an edit, and survives Description.to_json."""

from __future__ import annotations

import json

import pytest

from facegen.attributes import Attributes, Edit
from facegen.describe import parse_description, parse_edits

NEW_FIELDS = ("forehead_height", "forehead_width", "cheekbones", "cheek_fullness", "eye_depth", "eye_colour",
              "brow_shape", "nose_bridge", "beard_colour", "ear_size", "hairline", "freckles", "dimples", "moles",
              "scars")

READINGS = [
    # (field, value, Korean texts, English texts)
    ("forehead_height", 0.7, ["이마가 넓고", "이마가 훤하게 넓은", "이마가 높다"], ["a high forehead", "big forehead"]),
    ("forehead_height", -0.7, ["이마가 좁고", "이마 좁은 편"], ["a low forehead", "a small forehead"]),
    ("forehead_width", 0.7, [], ["a broad forehead", "wide forehead", "his forehead is wide"]),
    ("forehead_width", -0.7, [], ["a narrow forehead"]),
    ("cheekbones", 0.7, ["광대뼈가 튀어나왔고", "광대가 도드라진", "광대가 높은"], ["high cheekbones", "prominent cheekbones"]),
    ("cheekbones", -0.7, ["광대 없고", "광대가 납작한"], ["flat cheekbones"]),
    ("cheek_fullness", 0.7, ["볼살이 통통하고", "볼 빵빵한", "젖살이 남아 있는"], ["chubby cheeks", "full, round cheeks"]),
    ("cheek_fullness", -0.7, ["볼이 홀쭉하다", "볼이 움푹 패인", "볼살이 빠져서"], ["hollow cheeks", "sunken cheeks"]),
    ("eye_depth", 0.7, ["눈이 움푹 들어가고", "눈이 깊고", "눈이 움푹하다"], ["deep-set eyes", "deep set eyes", "sunken eyes"]),
    ("eye_depth", -0.7, ["눈이 튀어나온 편이고"], ["bulging eyes", "protruding eyes"]),
    ("eye_colour", "blue", ["파란 눈", "눈동자가 푸르고", "눈 색을 파랗게"], ["blue eyes", "his eyes are blue", "blue-eyed man"]),
    ("eye_colour", "green", ["초록색 눈동자", "눈동자 색이 초록색이다"], ["green eyes", "make her eyes green"]),
    ("eye_colour", "brown", ["눈동자가 갈색이고", "갈색 눈"], ["brown eyes", "brown-eyed girl"]),
    ("eye_colour", "dark", ["까만 눈동자"], ["dark eyes"]),
    ("eye_colour", "hazel", ["헤이즐 눈동자"], ["hazel eyes"]),
    ("eye_colour", "grey", ["회색 눈"], ["grey eyes"]),
    ("brow_shape", "straight", ["일자 눈썹", "눈썹이 일자로 곧고", "일자눈썹"], ["straight eyebrows", "straight brows"]),
    ("brow_shape", "arched", ["아치형 눈썹", "눈썹이 둥글게 휘어 있다"], ["arched eyebrows", "arched brows"]),
    ("brow_shape", "angled", ["갈매기 눈썹", "각진 눈썹"], ["angular brows", "angled brows"]),
    ("nose_bridge", 0.7, ["오똑한 코", "콧대가 높고", "콧날이 서고"], ["a high-bridged nose", "a high nose bridge",
                                                           "a Roman nose"]),
    ("nose_bridge", -0.7, ["콧대가 낮고", "코가 납작하고", "코는 낮은 편"], ["a flat nose", "the bridge of his nose is low"]),
    ("beard_colour", "white", ["흰 수염", "하얀 콧수염", "수염은 흰색"], ["a white beard", "white moustache"]),
    ("beard_colour", "grey", ["희끗희끗한 턱수염", "수염이 희끗희끗하다", "회색 수염"], ["a grey beard", "salt-and-pepper beard",
                                                                   "grey-bearded old man"]),
    ("beard_colour", "red", ["붉은 턱수염"], ["a red beard", "a ginger moustache", "red-bearded man"]),
    ("beard_colour", "blond", ["수염은 금색인"], ["blond stubble"]),
    ("beard_colour", "brown", ["수염은 갈색이고"], ["a brown beard"]),
    ("ear_size", 0.7, ["귀가 크고", "귀가 튀어나온"], ["big ears", "ears that stick out", "large ears"]),
    ("ear_size", -0.7, ["귀가 작은 편이다"], ["small ears"]),
    ("hairline", "m_shaped", ["M자 이마", "M자 탈모가 있는"], ["an M-shaped hairline"]),
    ("hairline", "receding", ["이마가 벗겨지기 시작한", "앞머리 라인이 뒤로 밀린"], ["a receding hairline",
                                                                     "his hairline is receding"]),
    ("hairline", "widows_peak", [], ["a widow's peak"]),
    ("freckles", 0.7, ["주근깨가 있는", "양 볼에 주근깨"], ["freckles", "she has freckles", "freckle-faced kid"]),
    ("freckles", 0.0, ["주근깨 하나 없는", "주근깨는 없다"], ["no freckles"]),
    ("dimples", True, ["보조개가 있는", "웃으면 보조개가 쏙 들어가는"], ["dimples", "dimpled cheeks"]),
    ("dimples", False, ["보조개는 없고"], ["no dimples", "without dimples"]),
    ("moles", ("under_eye",), ["눈 밑에 점", "눈물점이 있는"], ["a mole under her eye"]),
    ("moles", ("mouth",), ["입가에 점이 있는", "입 옆에 큰 점"], ["a beauty mark near her mouth"]),
    ("moles", ("cheek",), ["볼에 점이 두 개"], ["a mole on his cheek", "a beauty spot on her cheek"]),
    ("moles", ("nose",), ["코끝에 점 하나"], ["a small mole near the nose"]),
    ("moles", ("chin",), ["턱에 점이 있고"], ["a mole on her chin"]),
    ("moles", ("forehead",), ["이마에 점이 있고"], ["a mole on the forehead"]),
    ("moles", (), ["점 없음", "점은 없고"], ["no moles"]),
    ("scars", ("cheek",), ["뺨에 흉터가 있는", "볼에 흉터가 있어요"], ["a scar across his left cheek", "a scarred cheek"]),
    ("scars", ("brow",), ["눈썹 위에 흉터", "미간에 흉터가 있는"], ["a scar through his eyebrow"]),
    ("scars", ("chin",), ["턱에 칼자국 같은 흉터"], ["a faint scar on his chin"]),
    ("scars", ("forehead",), ["이마에 흉터가 있는"], ["a scar on his forehead"]),
    ("scars", ("eye",), ["눈 옆에 작은 흉터"], ["a scar beside his eye"]),
    ("scars", ("nose",), ["콧등에 흉터가 있고"], ["a scar across his nose"]),
    ("scars", (), ["얼굴에 흉터 없음"], ["without any scars"]),
]


@pytest.mark.parametrize("field, value, text", [(f, v, t) for f, v, ko, en in READINGS for t in ko + en],
                         ids=lambda x: x if isinstance(x, str) else None)
def test_new_words(field, value, text):
    d = parse_description(text)
    got = d.attributes.specified().get(field)
    if isinstance(value, tuple):
        assert got is not None and set(got) == set(value), (got, d)
    elif isinstance(value, float):
        assert got == pytest.approx(value), d
    else:
        assert got == value, d


ONLY_ENGLISH = {"forehead_width"}     # 넓은 이마 is a high forehead in Korean (facegen/attributes.py)


def test_every_new_field_is_read_in_both_languages():
    for field in NEW_FIELDS:
        korean = [text for f, _, ko, _ in READINGS if f == field for text in ko]
        english = [text for f, _, _, en in READINGS if f == field for text in en]
        assert english and (korean or field in ONLY_ENGLISH), field


@pytest.mark.parametrize("text, look", [
    ("인상이 날카롭고 눈매가 매섭다", {"eye_tilt": 0.7, "eye_size": -0.7, "brow_thickness": 0.7}),
    ("매서운 눈매의 여자", {"eye_tilt": 0.7, "eye_size": -0.7, "brow_thickness": 0.7}),
    ("sharp eyes", {"eye_tilt": 0.7, "eye_size": -0.7, "brow_thickness": 0.7}),
    ("a fierce look in his eyes", {"eye_tilt": 0.7, "eye_size": -0.7, "brow_thickness": 0.7}),
    ("진지한 표정의 남자", {"smile": 0.0, "brow_shape": "straight"}),
    ("serious expression", {"smile": 0.0, "brow_shape": "straight"}),
    ("a stern man", {"smile": 0.0, "brow_shape": "straight"}),
])
def test_impressions_with_a_known_look_become_features_and_stay_impressions(text, look):
    d = parse_description(text)
    got = d.attributes.specified()
    assert {k: got.get(k) for k in look} == pytest.approx(look)
    assert d.impressions and d.unknown == []


def test_an_impressions_look_loses_to_what_is_said_outright():
    got = parse_description("눈꼬리가 치켜 올라가서 날카로워 보이는 여자, 눈이 크다").attributes.specified()
    assert got["eye_tilt"] == 1.0 and got["eye_size"] == 0.7
    got = parse_description("a serious man with a big smile").attributes.specified()
    assert got["smile"] == 1.0


@pytest.mark.parametrize("text, expected", [
    ("more freckles", [Edit("freckles", amount=0.5)]),
    ("remove the freckles", [Edit("freckles", value=0.0)]),
    ("주근깨 줄여줘", [Edit("freckles", amount=-0.5)]),
    ("add a mole under the eye", [Edit("moles", value=("under_eye",))]),
    ("눈 밑에 점 추가해줘", [Edit("moles", value=("under_eye",))]),
    ("remove the moles", [Edit("moles", value=())]),
    ("점 빼줘", [Edit("moles", value=())]),
    ("턱에 흉터 추가", [Edit("scars", value=("chin",))]),
    ("흉터 지워줘", [Edit("scars", value=())]),
    ("add dimples", [Edit("dimples", value=True)]),
    ("make her eyes green", [Edit("eye_colour", value="green")]),
    ("눈동자를 갈색으로", [Edit("eye_colour", value="brown")]),
    ("눈썹을 일자로 바꿔줘", [Edit("brow_shape", value="straight")]),
    ("수염을 하얗게 해줘", [Edit("beard_colour", value="white")]),
    ("make the beard grey", [Edit("beard_colour", value="grey")]),
    ("give him a grey beard", [Edit("beard", value="full"), Edit("beard_colour", value="grey")]),
    ("콧대 좀 높여줘", [Edit("nose_bridge", amount=0.25)]),
    ("광대 줄여줘", [Edit("cheekbones", amount=-0.5)]),
    ("볼살 좀 빼주고", [Edit("cheek_fullness", amount=-0.25)]),
    ("deeper set eyes", [Edit("eye_depth", amount=0.5)]),
    ("make the ears smaller", [Edit("ear_size", amount=-0.5)]),
    ("a wider forehead", [Edit("forehead_width", amount=0.5)]),
    ("이마 좁게", [Edit("forehead_height", amount=-0.5)]),
    ("a receding hairline", [Edit("hairline", value="receding")]),
])
def test_new_fields_as_edits(text, expected):
    assert parse_edits(text) == expected


def test_marks_survive_attributes_and_json():
    d = parse_description("눈 밑에 점이 있고 턱에 흉터, 주근깨가 많고 보조개가 있는 여자. 흰 수염.")
    attributes = d.attributes.specified()
    assert attributes["moles"] == ("under_eye",) and attributes["scars"] == ("chin",)
    assert Attributes(**attributes) == d.attributes
    shown = json.loads(json.dumps(d.to_json(), ensure_ascii=False))["attributes"]
    assert shown["moles"] == ["under_eye"] and shown["scars"] == ["chin"]
    assert shown["freckles"] == 1.0 and shown["dimples"] is True and shown["beard_colour"] == "white"
