"""Nothing silent (issue #14, build 3): every content word of a description is either understood
(it set a feature or a mark, was an impression or an edit, or is a known function word) or named
back to the user in Description.unknown.

A content word is what the analysers already in use call one: for Korean, Kiwi's nouns, verbs,
adjectives, adverbs, roots and Latin words; for English, every word outside a short list of
articles, pronouns, prepositions and auxiliaries. The test walks both description sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facegen.describe import _resolution, detect_locale, english, korean, parse_description

HERE = Path(__file__).parent
KOREAN_CONTENT = {"NNG", "NNP", "VV", "VA", "MAG", "XR", "SL", "SH"}
ENGLISH_FUNCTION_WORDS = {"a", "an", "the", "and", "or", "but", "of", "to", "for", "from", "as", "is", "are",
                          "was", "were", "be", "been", "am", "'s", "do", "does", "did", "i", "he", "she", "it",
                          "they", "we", "you", "his", "her", "him", "its", "their", "them", "my", "me", "that",
                          "this", "who", "which"}


def _texts() -> list[str]:
    texts = []
    for language in ("ko", "en"):
        data = json.loads((HERE / f"descriptions_{language}.json").read_text(encoding="utf-8"))
        texts += [case["text"] for case in data["descriptions"] + data["not_understood"]]
    return texts


def content_words(text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) for each content word of `text`."""
    if detect_locale(text) == "ko":
        return [(t.form, t.start, t.start + t.len) for t in korean.kiwi().tokenize(text)
                if t.tag.split("-")[0] in KOREAN_CONTENT]
    return [(token, start, end) for token, start, end in english.spans(text)
            if token[0].isalnum() and token not in ENGLISH_FUNCTION_WORDS]


@pytest.mark.parametrize("text", _texts(), ids=lambda t: t[:40])
def test_no_content_word_disappears_without_a_trace(text):
    result = _resolution(text, None)
    understood = [(w.start, w.end) for w in result.understood]
    named = [(w.start, w.end) for w in result.skipped]
    assert parse_description(text).unknown == result.unknown
    for word, start, end in content_words(text):
        covered_by = lambda spans: any(s < end and start < e for s, e in spans)  # noqa: E731
        assert covered_by(understood) or covered_by(named), f"{word!r} vanished from {text!r}"


@pytest.mark.parametrize("text, named", [
    ("이마가 반짝이는 남자", "반짝이는"),
    ("키가 크고 눈이 큰 남자", "키"),
    ("a tall man with big eyes", "tall"),
    ("moles on her neck", "neck"),
    ("눈에서 레이저가 나오는 로봇", "나오는"),
    ("her tongue is forked", "forked"),
])
def test_words_that_describe_nothing_are_named_back(text, named):
    assert any(named in u for u in parse_description(text).unknown)
