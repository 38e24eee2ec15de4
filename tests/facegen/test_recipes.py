"""Recipes: the checks a request meets at enqueue, and what a remix keeps of a face's history."""

from __future__ import annotations

import json

import pytest

from facegen.attributes import Attributes
from facegen.montage import MontageBackend, decode
from facegen.recipes import RecipeError, asked, candidate_set, clean_face_params, make_face, wants_keep

BACKEND = MontageBackend()
MODEL = BACKEND.describe()


def describe(attributes: dict) -> dict:
    return clean_face_params("describe", {"text": "…", "attributes": attributes, "seed": 4}, MODEL)


def test_issue_14s_attributes_pass_and_marks_become_json_lists_of_known_places():
    params = describe({"moles": ("under_eye", "mouth", "under_eye"), "scars": [], "freckles": 0.5, "dimples": True,
                       "eye_colour": "blue", "brow_shape": "arched", "hairline": "m_shaped", "beard_colour": "white",
                       "cheek_fullness": -0.35, "forehead_height": 1.0})
    attributes = params["attributes"]
    assert attributes["moles"] == ["under_eye", "mouth"] and attributes["scars"] == []
    stored = json.loads(json.dumps(params))             # what the face node keeps, and a replay reads
    code = make_face(BACKEND, "describe", stored)
    p = decode(code)
    assert p.mole_under_eye and p.mole_mouth and p.eye_colour == "blue" and p.beard_colour == "white"
    assert code == BACKEND.from_attributes(Attributes(**{**stored["attributes"], "moles": ("under_eye", "mouth")}), 4)
    forehead = json.loads(json.dumps(describe({"moles": ["forehead"], "scars": []})))
    assert decode(make_face(BACKEND, "describe", forehead)).mole_forehead in ("left", "right")


@pytest.mark.parametrize("attributes, message", [
    ({"moles": "cheek"}, "moles must be a list of places"),
    ({"scars": ["cheek", "elbow"]}, "scars can sit at .* not elbow"),
    ({"eye_colour": "purple"}, "eye_colour must be one of"),
    ({"hairline": "high"}, "hairline must be one of"),
    ({"dimples": "yes"}, "dimples must be true or false"),
    ({"eye_depth": 2.0}, "eye_depth must be between -1 and 1"),
    ({"freckles": "many"}, "freckles must be a number"),
])
def test_bad_values_of_the_new_attributes_are_refused_at_enqueue(attributes, message):
    with pytest.raises(RecipeError, match=message):
        describe(attributes)


def test_mark_edits_are_checked_too():
    edits = clean_face_params("edit", {"edits": [{"field": "moles", "value": ("chin",)}]}, MODEL)["edits"]
    assert edits[0]["value"] == ["chin"]
    assert clean_face_params("edit", {"edits": [{"field": "scars", "value": []}]}, MODEL)["edits"][0]["value"] == []
    with pytest.raises(RecipeError, match="can sit at"):
        clean_face_params("edit", {"edits": [{"field": "moles", "value": ["knee"]}]}, MODEL)


def test_what_was_asked_gathers_descriptions_and_edits_back_through_the_history():
    lineage = [  # the face first, back to its first face
        ("pick", {"set": {"kind": "remix"}, "number": 2}),
        ("edit", {"edits": [{"field": "moles", "value": ["cheek"]}, {"field": "smile", "amount": 0.5}]}),
        ("morph", {"ratio": 0.7, "mode": "linear"}),
        ("describe", {"text": "…", "attributes": {"skin_tone": "medium", "beard": "full"}, "seed": 1}),
    ]
    assert set(asked(lineage)) == {"moles", "smile", "skin_tone", "beard", "glasses"}
    assert asked([("new", {"seed": 3})]) == () and asked([("photo", {"seed": 3})]) == ()
    assert wants_keep("remix", {}) and wants_keep("pick", {"set": {"kind": "remix"}})
    assert not wants_keep("pick", {"set": {"kind": "region"}}) and not wants_keep("edit", {})


def test_a_remix_and_a_pick_from_a_remix_set_keep_what_was_asked():
    described = make_face(BACKEND, "describe", describe({"beard": "full", "skin_tone": "dark", "wrinkles": 0.0}))
    keep = asked([("describe", {"attributes": {"beard": "full", "skin_tone": "dark", "wrinkles": 0.0}})])
    remix_set = {"kind": "remix", "layers": "fine", "n": 6, "seed": 2}
    before = decode(described)
    for number, candidate in enumerate(candidate_set(BACKEND, described, remix_set, keep), start=1):
        p = decode(candidate)
        assert (p.beard, p.skin_tone, p.wrinkles, p.glasses) == (before.beard, before.skin_tone, before.wrinkles, False)
        assert make_face(BACKEND, "pick", {"set": remix_set, "number": number}, parent=described, keep=keep) == candidate
    remixed = decode(make_face(BACKEND, "remix", {"layers": "fine", "seed": 9}, parent=described, keep=keep))
    assert (remixed.beard, remixed.skin_tone) == (before.beard, before.skin_tone)


@pytest.mark.parametrize("params, message", [
    ({"text": "  "}, "text must be words"),
    ({"text": "x" * 1001}, "at most 1000 characters"),
    ({"text": "a vampire", "steps": 0}, "steps must be between 1 and 1000"),
])
def test_a_text_step_needs_words_within_the_limits(params, message):
    with pytest.raises(RecipeError, match=message):
        clean_face_params("text", params, MODEL)


def test_a_text_step_leaves_its_steps_to_the_worker_and_is_refused_by_a_backend_without_words():
    assert clean_face_params("text", {"text": "a vampire"}, MODEL) == {"text": "a vampire"}
    with pytest.raises(RecipeError, match="needs its steps"):
        make_face(BACKEND, "text", {"text": "a vampire"}, parent=BACKEND.sample(1))
    with pytest.raises(ValueError, match="the montage backend cannot edit a face from free words"):
        make_face(BACKEND, "text", {"text": "a vampire", "steps": 2}, parent=BACKEND.sample(1))
    assert MODEL.text_edit_languages == () and not MODEL.reads("a vampire")
