"""parse_description never raises on text within the cap and always returns values inside
the vocabulary of facegen/attributes.py."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from facegen.attributes import DEGREES, ENUMS, FLAGS, MARK_PLACES, MARKS, Description
from facegen.describe import parse_description, parse_edit
from facegen.describe.lexicon_en import EN
from facegen.describe.lexicon_ko import KO
from ground.limits import MAX_TEXT_CHARS

VOCABULARY = sorted(KO.words) + sorted(EN.words) + ["안", "않다", "no", "not", ",", ".", "은", "가", "😀", "🧔"]
words_text = st.lists(st.sampled_from(VOCABULARY), max_size=40).map(" ".join)
any_text = st.text(max_size=MAX_TEXT_CHARS)


def _check(d: Description) -> None:
    assert isinstance(d, Description)
    for name, value in d.attributes.specified().items():
        if name in ENUMS:
            assert value in ENUMS[name], (name, value)
        elif name in FLAGS:
            assert isinstance(value, bool)
        elif name in MARKS:
            assert isinstance(value, tuple) and set(value) <= set(MARK_PLACES), (name, value)
        else:
            assert name in DEGREES or name == "hair_length"
            low = 0.0 if name in ("wrinkles", "freckles") else -1.0
            assert low <= value <= 1.0, (name, value)
    assert all(isinstance(w, str) and w for w in d.unknown)


@settings(max_examples=150, deadline=None)
@given(any_text)
def test_any_text_parses(text):
    _check(parse_description(text))
    parse_edit(text)


@settings(max_examples=150, deadline=None)
@given(words_text, st.sampled_from([None, "ko", "en"]))
def test_lexicon_word_soup_parses(text, locale):
    _check(parse_description(text, locale))
    parse_edit(text, locale)
