"""facegen.describe.intent: whether words about a face refine the current face or start a new one."""

from __future__ import annotations

import pytest

from facegen.attributes import Edit
from facegen.describe.intent import (IMPRESSION_FEATURES, Identity, NewDescribedFace, Refinement, decide,
                                     identity_after, identity_of, read_request)

OLD_BEARDED_MAN = Identity("male", "senior")
YOUNG_WOMAN = Identity("female", "twenties")

# issue #14 item 4: typed on an existing face, none of these may replace it with a new person
REFINEMENTS = ["smile", "smile more", "a bit older", "slightly older", "glasses off", "blonde", "curly hair",
               "happier", "sad", "make him look friendlier", "make her eyes green", "미소", "금발로", "금발",
               "곱슬머리", "add freckles", "더 웃게", "나이 들게", "안경 씌워줘", "눈 크게 하고 안경 씌워줘"]


@pytest.mark.parametrize("text", REFINEMENTS)
@pytest.mark.parametrize("current", [OLD_BEARDED_MAN, YOUNG_WOMAN, Identity()], ids=["old man", "young woman", "unknown"])
def test_words_that_name_features_refine_the_current_face_whoever_it_is(text, current):
    assert isinstance(decide(read_request(text), current), Refinement)


@pytest.mark.parametrize("text", ["a young woman with long red hair", "긴 빨간 머리의 젊은 여자", "20대 여자",
                                  "a little girl with pigtails"])
def test_a_different_person_described_starts_a_new_face(text):
    assert isinstance(decide(read_request(text), OLD_BEARDED_MAN), NewDescribedFace)


@pytest.mark.parametrize("text", ["an old man with glasses", "a man with no beard", "수염 난 할아버지"])
def test_the_same_person_described_again_refines(text):
    decision = decide(read_request(text), OLD_BEARDED_MAN)
    assert isinstance(decision, Refinement) and decision.edits


@pytest.mark.parametrize("text", ["new smiling woman", "new: smile", "another person with red hair", "describe smile",
                                  "새 얼굴 금발", "묘사 미소", "금발 여자로 새로 만들어줘"])
def test_a_new_face_asked_for_is_a_new_face(text):
    request = read_request(text)
    assert request.new_face and isinstance(decide(request, YOUNG_WOMAN), NewDescribedFace)


def test_with_no_current_face_words_describe_a_new_one():
    assert isinstance(decide(read_request("smile"), None), NewDescribedFace)
    assert isinstance(decide(read_request("more smile"), None), NewDescribedFace)


def test_a_change_asked_for_never_starts_a_new_face():
    """"make her younger" names an age band far from an old man's, but asks for a change."""
    assert isinstance(decide(read_request("make him a lot younger"), OLD_BEARDED_MAN), Refinement)
    assert isinstance(decide(read_request("더 젊게"), OLD_BEARDED_MAN), Refinement)


@pytest.mark.parametrize("text,edit", [
    ("smile", Edit("smile", value=0.7)), ("미소", Edit("smile", value=0.7)), ("big eyes", Edit("eye_size", value=0.7)),
    ("smile more", Edit("smile", amount=0.5)), ("더 웃게", Edit("smile", amount=0.5)),
    ("blonde", Edit("hair_colour", value="blond")), ("곱슬머리", Edit("hair_style", value="curly")),
    ("a bit older", Edit("age", amount=0.5)),
])
def test_a_feature_named_plainly_is_set_and_one_said_relatively_is_stepped(text, edit):
    assert read_request(text).edits == (edit,)


def test_impressions_become_features_set_or_stepped():
    sad = read_request("sad").edits
    assert {e.field: e.value for e in sad} == IMPRESSION_FEATURES["sad"]
    happier = read_request("happier").edits
    assert {e.field for e in happier} == set(IMPRESSION_FEATURES["happy"]) and all(e.amount > 0 for e in happier)
    friendlier = {e.field: e.amount for e in read_request("make him look friendlier").edits}
    assert friendlier["smile"] > 0 and friendlier["mouth_corners"] > 0 and friendlier["eye_tilt"] < 0
    # a feature said outright wins over an impression's
    assert {e.field: e.value for e in read_request("sad with a big smile").edits}["smile"] > 0


def test_a_pronoun_is_no_person():
    """"make her eyes …" on a man changes eyes: a pronoun's gender is a guess, never an edit."""
    request = read_request("make her smile")
    assert request.person == Identity() and all(e.field != "gender" for e in request.edits)


def test_the_known_person_follows_the_history():
    known = identity_of({"gender": "male", "age_band": "senior", "beard": "full"})
    assert known == OLD_BEARDED_MAN
    assert identity_after(known, [Edit("age", amount=-1)]) == Identity("male", "middle")
    assert identity_after(known, [Edit("age", amount=0.5)]) == OLD_BEARDED_MAN
    assert identity_after(known, [Edit("gender", value="female"), Edit("age_band", value="teen")]) == \
        Identity("female", "teen")
    assert identity_after(Identity(), [Edit("age", amount=1)]) == Identity()


def test_words_not_understood_are_kept_to_say_back():
    assert read_request("blonde with purple horns").skipped == ["purple", "horns"]
