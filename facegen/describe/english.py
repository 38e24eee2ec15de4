"""English front end: a small tokenizer and lemmatizer → `Word`s for the resolver.

Lower-cases, splits "doesn't" into does + n't and "he's" into he + 's, drops possessive 's,
matches listed phrases ("bowl cut", "a bit", "corners of the eyes") before single words,
reads ages ("twenty-five-year-old", "about 40 years old", "in his 30s"), and splits
hyphenated words nobody listed ("purple-haired" → purple + hair). An adjective right after
a copula ("eyes are big", "turn up") or right after its noun ("make eyes bigger, nose smaller")
describes the noun before it; nouns joined by and / or are marked as a list ("no scars or moles").
"""

from __future__ import annotations

import re

from facegen.describe.lexicon import (FILLER, LINK, PARTS, Comparative, Copula, Degree, Entry, Head, Impression,
                                      Modifier, Negator, age_head)
from facegen.describe.lexicon_en import EN, NUMBER_WORDS, lemma_candidates, lookup_with_form
from facegen.describe.resolve import Word

TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*(?:-[^\W_]+(?:'[^\W_]+)*)*|[.!?;,]")
BOUNDARIES = {".", "!", "?", ";"}
CONTRACTIONS = {"can't": ["can", "n't"], "won't": ["will", "n't"], "cannot": ["can", "n't"]}
SUBJECT_S = {"he", "she", "it", "that", "who", "there", "what", "this"}
YEAR_WORDS = {"year", "years", "yr", "yrs", "yo"}
DEGREE_BEFORE_ADJECTIVE = {"pretty": 0.85}     # "pretty big eyes" vs "a pretty woman"
MAX_PHRASE = 5
DETERMINERS = {"a", "an", "the", "his", "her", "their", "its", "my", "your", "our", "this", "that", "these",
               "those", "any", "some", "him", "them", "me", "us"}     # and object pronouns: give him a beard
CONJUNCTIONS = {"and": "and", "or": "or", "nor": "or"}


def _split(raw: str) -> list[str]:
    word = raw.lower()
    if word in CONTRACTIONS:
        return CONTRACTIONS[word]
    if word.endswith("n't") and len(word) > 3:
        return [word[:-3], "n't"]
    if word.endswith("'s"):
        stem = word[:-2]
        return [stem, "'s"] if stem in SUBJECT_S else [stem]
    if word.endswith("'re") or word.endswith("'m"):
        return [word.rsplit("'", 1)[0], "is"]
    if "-" in word and word not in EN.words and not _starts_phrase(word.split("-")):
        return [part for part in word.split("-") if part]
    return [word]


def _starts_phrase(parts: list[str]) -> bool:
    return tuple(parts) in EN.phrases


def tokens(text: str) -> list[str]:
    return [token for token, _, _ in spans(text)]


def spans(text: str) -> list[tuple[str, int, int]]:
    """Tokens with where each came from in the text (a split word's parts share its span)."""
    out: list[tuple[str, int, int]] = []
    for match in TOKEN.finditer(text.replace("’", "'").replace("‘", "'")):
        out.extend((part, match.start(), match.end()) for part in _split(match.group()))
    return out


def _number(tokens_: list[str], i: int) -> tuple[int | None, int]:
    """A number starting at i ("25", "twenty five", "twenty") and the index after it."""
    word = tokens_[i]
    if word.isascii() and word.isdigit() and len(word) <= 3:
        return int(word), i + 1
    if word in NUMBER_WORDS:
        value, j = NUMBER_WORDS[word], i + 1
        if value >= 20 and value % 10 == 0 and j < len(tokens_) and 0 < NUMBER_WORDS.get(tokens_[j], 0) < 10:
            value += NUMBER_WORDS[tokens_[j]]
            j += 1
        return value, j
    return None, i


def _age(tokens_: list[str], i: int) -> tuple[Word | None, int]:
    """An age at i ("25", "twenty-five years old", "ten"), consuming "years old" after it."""
    value, j = _number(tokens_, i)
    if value is None:
        return None, i
    if j < len(tokens_) and tokens_[j] in YEAR_WORDS:
        j += 1
        if j < len(tokens_) and tokens_[j] == "old":
            j += 1
        elif j + 1 < len(tokens_) and tokens_[j:j + 2] == ["of", "age"]:
            j += 2
    elif j < len(tokens_) and tokens_[j] == "something":
        value, j = value + 5, j + 1
    elif j < len(tokens_) and _counts_a_part(tokens_[j]):
        return Word(tokens_[i], FILLER), j      # one eye, two moles: a count, not an age
    entry = age_head(value)
    return Word(" ".join(tokens_[i:j]), entry if entry is not None else FILLER), j


def _counts_a_part(token: str) -> bool:
    entry, _ = lookup_with_form(token)
    return isinstance(entry, Head) and entry.part != "person"


def _phrase(tokens_: list[str], i: int) -> tuple[Entry | None, int]:
    for length in range(min(MAX_PHRASE, len(tokens_) - i), 1, -1):
        words = tokens_[i:i + length]
        if tuple(words) in EN.phrases:
            return EN.phrases[tuple(words)], i + length
        for candidate, comparative in lemma_candidates(words[-1])[1:]:
            key = tuple(words[:-1]) + (candidate,)
            if not comparative and key in EN.phrases:
                return EN.phrases[key], i + length
    return None, i


def words(text: str) -> list[Word]:
    """English text → resolver words."""
    located = spans(text)
    toks = [token for token, _, _ in located]
    out: list[Word] = []
    i = 0
    while i < len(toks):
        tok, start = toks[i], located[i][1]
        if tok in BOUNDARIES:
            out.append(Word(tok, FILLER, boundary=True, start=start, end=located[i][2]))
            i += 1
            continue
        if tok == ",":
            out.append(Word(tok, LINK, comma=True, start=start, end=located[i][2]))
            i += 1
            continue
        entry, j = _phrase(toks, i)
        if entry is not None:
            out.append(Word(" ".join(toks[i:j]), entry, start=start, end=located[j - 1][2]))
            i = j
            continue
        age, j = _age(toks, i)
        if age is not None:
            age.start, age.end = start, located[j - 1][2]
            out.append(age)
            i = j
            continue
        entry, comparative = lookup_with_form(tok)
        out.append(Word(tok, entry, comparative=comparative, determiner=tok in DETERMINERS, start=start,
                        end=located[i][2]))
        i += 1
    _settle_roles(out)
    _mark_lists(out)
    return out


def _skip_back(out: list[Word], k: int, kinds: tuple[type, ...]) -> int:
    j = k - 1
    while j >= 0 and isinstance(out[j].entry, kinds) and not out[j].boundary:
        j -= 1
    return j


def _settle_roles(out: list[Word]) -> None:
    """Choices that depend on neighbours: "pretty big" is a degree; an adjective after a
    copula (skipping degree words and negators) describes the noun before it, and so does one
    right after a noun it fits when no noun follows it ("eyes bigger, nose smaller")."""
    for k, word in enumerate(out):
        following = out[k + 1] if k + 1 < len(out) else None
        if word.text in DEGREE_BEFORE_ADJECTIVE and isinstance(word.entry, Impression) \
                and following is not None and isinstance(following.entry, Modifier):
            word.entry = Degree(DEGREE_BEFORE_ADJECTIVE[word.text])
    for k, word in enumerate(out):
        if not isinstance(word.entry, Modifier):
            continue
        j = _skip_back(out, k, (Degree, Negator, Comparative))
        before = out[j] if j >= 0 and not out[j].boundary else None
        following = out[k + 1] if k + 1 < len(out) else None
        after_copula = before is not None and isinstance(before.entry, Copula)
        after_its_noun = (before is not None and isinstance(before.entry, Head) and not before.determiner
                          and (before.entry.part in word.entry.effects or PARTS[before.entry.part].mark)
                          and not (following is not None and isinstance(following.entry, (Head, Modifier))))
        word.back_first = after_copula or after_its_noun
        if after_copula and j > 0 and isinstance(out[j - 1].entry, Head):
            out[j - 1].subject = True           # "her chin is prominent" speaks of the chin
        elif after_its_noun:
            before.subject = True


def _mark_lists(out: list[Word]) -> None:
    """A noun followed by and / or and another noun is listed with it."""
    for k, word in enumerate(out):
        if not isinstance(word.entry, Head) or k + 1 >= len(out) or out[k + 1].text not in CONJUNCTIONS:
            continue
        j = k + 2
        while j < len(out) and out[j].determiner:
            j += 1
        if j < len(out) and isinstance(out[j].entry, Head):
            word.joined = CONJUNCTIONS[out[k + 1].text]
