"""bot.grammar.parse: what a chat user types → the Command the core will apply."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import (
    INTENTS, BackTo, Cancel, ChooseStyle, Confirm, Decline, DeleteMyData, Describe, EditAttribute, FaceRef,
    FreeTextEdit, Gallery, GalleryName, Help, History, InvalidArgument, Load, Me, Morph, NewFace, NotUnderstood, Pick,
    Redo, Remix, Save, SetLanguage, ShowCandidates, Status, Undo,
)
from bot.grammar import MAX_TEXT_CHARS, parse
from bot.grammar import lexicon
from bot.grammar.lexicon import EXAMPLES
from bot.grammar.numbers import to_int
from facegen.latent import MORPH_MODES
from ground.config import BACKENDS

PARSED_TYPES = (*INTENTS, InvalidArgument, NotUnderstood)


def lee(ratio: float | None = None, mode: str = "linear") -> Morph:
    return Morph(GalleryName("Lee"), ratio, mode)


def iu(ratio: float | None = None, mode: str = "linear") -> Morph:
    return Morph(GalleryName("아이유"), ratio, mode)


# Every intent of the table, in both languages, with word order, spacing and
# politeness variants. Each row: text, the Command expected.
TABLE = [
    # new random face
    ("new", NewFace()), ("random", NewFace()), ("new 42", NewFace(42)), ("new face 42", NewFace(42)),
    ("random face please", NewFace()), ("new forty-two", NewFace(42)), ("seed 7", NewFace(7)),
    ("새 얼굴", NewFace()), ("새얼굴", NewFace()), ("랜덤", NewFace()), ("아무나", NewFace()),
    ("새 얼굴 만들어줘", NewFace()), ("새 얼굴 만들어 주세요", NewFace()), ("랜덤 42", NewFace(42)),
    ("새 얼굴 42번으로", NewFace(42)),
    # show candidates
    ("show eyes", ShowCandidates("eyes")), ("eyes?", ShowCandidates("eyes")), ("show nose", ShowCandidates("nose")),
    ("show me the mouth", ShowCandidates("mouth")), ("other eyebrows", ShowCandidates("brows")),
    ("nose options", ShowCandidates("nose")), ("variations", ShowCandidates(None)),
    ("눈 보여줘", ShowCandidates("eyes")), ("눈 보여 주세요", ShowCandidates("eyes")),
    ("눈 좀 보여줄래요?", ShowCandidates("eyes")), ("눈을 보여줘", ShowCandidates("eyes")),
    ("코 후보", ShowCandidates("nose")), ("코후보 보여줘", ShowCandidates("nose")), ("다른 입", ShowCandidates("mouth")),
    ("눈썹 보여줘", ShowCandidates("brows")), ("변형", ShowCandidates(None)), ("변형 보여주세요", ShowCandidates(None)),
    # pick
    ("pick eyes 3", Pick(3, "eyes")), ("eyes 3", Pick(3, "eyes")), ("3", Pick(3)), ("pick 3", Pick(3)),
    ("pick #3", Pick(3)), ("eyes number three", Pick(3, "eyes")), ("the third one", Pick(3)),
    ("pick 2 for the nose", Pick(2, "nose")), ("3rd", Pick(3)),
    ("눈 3번", Pick(3, "eyes")), ("눈3번", Pick(3, "eyes")), ("3번", Pick(3)), ("눈 3번 골라줘", Pick(3, "eyes")),
    ("눈 3번 골라 주세요", Pick(3, "eyes")), ("눈은 세 번째", Pick(3, "eyes")), ("3번 눈", Pick(3, "eyes")),
    ("눈 3번으로 할게요", Pick(3, "eyes")), ("3번으로 해줘", Pick(3)), ("코 다섯 번", Pick(5, "nose")),
    ("첫 번째", Pick(1)), ("삼번", Pick(3)),
    # morph: the ratio is always the share of "me"
    ("morph me with Lee at 0.7", lee(0.7)), ("morph me with Lee at 0.3", lee(0.3)),
    ("morph with Lee at 0.7 style", lee(0.7, "style")), ("morph with Lee at 0.7 attribute", lee(0.7, "attribute")),
    ("morph me with Lee at 0.7 linear", lee(0.7)), ("mix me with Lee", lee()),
    ("morph with #12 at 0.4", Morph(FaceRef(12), 0.4)), ("blend with face 12 at 40%", Morph(FaceRef(12), 0.4)),
    ("morph me with Lee Min-ho at 70%", Morph(GalleryName("Lee Min-ho"), 0.7)),
    ("me 70% Lee 30%", lee(0.7)), ("Lee 70% me 30%", lee(0.3)), ("70% me 30% Lee", lee(0.7)),
    ("나랑 아이유 0.7로 합성", iu(0.7)), ("나랑 아이유 0.7로 합성해줘", iu(0.7)), ("나랑아이유0.7로합성", iu(0.7)),
    ("나와 아이유를 70%로 합성해 주세요", iu(0.7)), ("나 70% 아이유 30%로 섞어줘", iu(0.7)),
    ("아이유 70% 나 30%", iu(0.3)), ("아이유 30% 나 70%로 섞어줘", iu(0.7)), ("나랑 아이유 7할로 합성", iu(0.7)),
    ("아이유랑 섞어줘", iu()), ("아이유랑 나 7:3으로 섞어줘", iu(0.3)), ("나랑 아이유 7대3", iu(0.7)),
    ("스타일 합성 아이유 0.6", iu(0.6, "style")), ("아이유랑 속성 합성 60%", iu(0.6, "attribute")),
    ("12번 얼굴이랑 0.4로 합성", Morph(FaceRef(12), 0.4)), ("#12랑 섞어줘", Morph(FaceRef(12))),
    # remix
    ("remix", Remix()), ("remix style", Remix()), ("remix fine", Remix("fine")), ("remix middle", Remix("middle")),
    ("remix coarse", Remix("coarse")), ("remix 4", Remix(None, 4)), ("remix fine 4", Remix("fine", 4)),
    ("remix four", Remix(None, 4)), ("4 remixes", Remix(None, 4)),
    ("스타일 바꿔줘", Remix()), ("분위기 바꿔줘", Remix()), ("스타일 바꿔 주세요", Remix()), ("리믹스", Remix()),
    ("스타일 4개", Remix(None, 4)), ("스타일 네 개 바꿔줘", Remix(None, 4)), ("색감 바꿔줘", Remix("fine")),
    ("세부 리믹스", Remix("fine")),
    # history
    ("undo", Undo()), ("go back", Undo()), ("redo", Redo()), ("history", History()), ("show history", History()),
    ("back to 5", BackTo(5)), ("go back to #5", BackTo(5)), ("back to five", BackTo(5)), ("#12", BackTo(12)),
    ("save mine", Save("mine")), ("save this as Best One", Save("Best One")), ("load mine", Load("mine")),
    ("되돌리기", Undo()), ("되돌려줘", Undo()), ("실행 취소", Undo()), ("다시 하기", Redo()), ("다시하기", Redo()),
    ("기록", History()), ("기록 보여줘", History()), ("5번으로", BackTo(5)), ("5번으로 돌아가줘", BackTo(5)),
    ("다섯 번으로", BackTo(5)), ("12번 얼굴", BackTo(12)), ("5번 얼굴로 돌아가", BackTo(5)),
    ("저장 민수", Save("민수")), ("민수로 저장해줘", Save("민수")), ("불러오기 민수", Load("민수")),
    ("민수 불러와줘", Load("민수")),
    # cancel, me, gallery, language, privacy, help, status
    ("cancel", Cancel()), ("stop", Cancel()), ("취소", Cancel()), ("취소해 주세요", Cancel()),
    ("me", Me()), ("use my photo", Me()), ("내 사진", Me()),
    ("celebs", Gallery()), ("celebrities", Gallery()), ("연예인 목록", Gallery()), ("연예인 목록 보여줘", Gallery()),
    ("lang en", SetLanguage("en")), ("lang ko", SetLanguage("ko")), ("language: korean", SetLanguage("ko")),
    ("english please", SetLanguage("en")), ("언어 영어", SetLanguage("en")), ("언어 한국어", SetLanguage("ko")),
    ("영어로 바꿔줘", SetLanguage("en")), ("한국어로 해주세요", SetLanguage("ko")),
    ("delete my data", DeleteMyData()), ("please delete all my data", DeleteMyData()),
    ("내 데이터 삭제", DeleteMyData()), ("내 데이터 삭제해줘", DeleteMyData()), ("내데이터 삭제해 주세요", DeleteMyData()),
    ("yes", Confirm()), ("네", Confirm()), ("no", Decline()), ("아니요", Decline()),
    ("help", Help()), ("?", Help()), ("도움말", Help()), ("help morph", Help("morph")), ("합성 도움말", Help("morph")),
    ("how do i undo", Help("undo")),
    ("status", Status()), ("상태", Status()), ("진행 상황 알려줘", Status()),
]


@pytest.mark.parametrize("text,expected", TABLE, ids=[t for t, _ in TABLE])
def test_every_intent_in_both_languages(text, expected):
    assert parse(text, "en") == expected
    assert parse(text, "ko") == expected, "the locale picks reply language only, never which words count"


@pytest.mark.parametrize("text,field,sign", [
    ("more smile", "smile", +1), ("older", "age", +1), ("younger", "age", -1), ("less wrinkles", "wrinkles", -1),
    ("bigger eyes", "eye_size", +1), ("더 웃게", "smile", +1), ("더 웃게 해주세요", "smile", +1),
    ("나이 들게", "age", +1), ("나이 들게 해줘", "age", +1), ("더 젊게", "age", -1), ("눈 더 크게", "eye_size", +1),
])
def test_degree_edits(text, field, sign):
    """Words that ask for a change step the degree (the core applies them to the current face)."""
    result = parse(text, "en")
    assert isinstance(result, EditAttribute)
    (edit,) = result.edits
    assert edit.field == field and edit.amount * sign > 0 and edit.value is None


@pytest.mark.parametrize("text,field,value", [
    ("add glasses", "glasses", True), ("no beard", "beard", "none"), ("안경 씌워줘", "glasses", True),
    ("안경 씌워 주세요", "glasses", True), ("수염 없애줘", "beard", "none"), ("금발로 바꿔줘", "hair_colour", "blond"),
])
def test_value_edits(text, field, value):
    result = parse(text, "ko")
    assert isinstance(result, EditAttribute)
    assert [(e.field, e.value) for e in result.edits] == [(field, value)]


def test_a_message_with_several_edits_keeps_them_all():
    result = parse("더 웃고 안경 씌워줘", "ko")
    assert isinstance(result, EditAttribute)
    assert {e.field for e in result.edits} == {"smile", "glasses"}


@pytest.mark.parametrize("text,edits", [
    ("smile", [("smile", 0.7)]), ("미소", [("smile", 0.7)]), ("blonde", [("hair_colour", "blond")]),
    ("금발", [("hair_colour", "blond")]), ("금발로", [("hair_colour", "blond")]),
    ("곱슬머리", [("hair_style", "curly")]), ("curly hair", [("hair_style", "curly")]),
    ("big eyes", [("eye_size", 0.7)]),
])
def test_features_named_plainly_are_a_description_that_sets_each_one(text, edits):
    """Rule changed (issue #14): a bare feature is a Describe; on a current face it refines it,
    each feature set to what was said (a degree to the degree said, not stepped)."""
    result = parse(text, "en")
    assert isinstance(result, Describe) and not result.request.new_face
    assert [(e.field, e.value) for e in result.request.edits] == edits


@pytest.mark.parametrize("text,words", [
    ("new: a smiling woman", "a smiling woman"), ("new smiling woman", "smiling woman"),
    ("another person with red hair", "with red hair"), ("새 얼굴 금발 여자", "금발 여자"),
    ("금발 여자로 새로 만들어줘", "금발 여자"), ("describe a round face", "a round face"),
    ("묘사 눈이 큰 둥근 얼굴", "눈이 큰 둥근 얼굴"),
])
def test_words_that_ask_for_a_new_face_are_a_description_of_one(text, words):
    result = parse(text, "en")
    assert isinstance(result, Describe) and result.request.new_face and result.text == words


@pytest.mark.parametrize("text,expected_attributes", [
    ("describe a round face with big eyes", {"face_shape": "round", "eye_size": 0.7}),
    ("묘사 눈이 큰 둥근 얼굴", {"eye_size": 0.7}),
    ("눈이 크고 쌍꺼풀이 있는 20대 여자", {"eye_size": 0.7, "double_eyelid": True, "age_band": "twenties"}),
    ("a young man with glasses and no beard", {"gender": "male", "glasses": True, "beard": "none"}),
    ("안경 쓴 남자", {"gender": "male", "glasses": True}),
])
def test_descriptions_become_describe(text, expected_attributes):
    """Free text that names features is a new face, even when it holds a region word and a
    number ("눈 … 20대") or a word an edit would use ("no beard" inside a sentence)."""
    result = parse(text, "ko")
    assert isinstance(result, Describe)
    said = result.description.attributes.specified()
    assert {k: said.get(k) for k in expected_attributes} == expected_attributes
    assert not result.text.lower().startswith(("describe", "묘사"))


def _description_set(locale: str) -> list[str]:
    path = Path(__file__).resolve().parent.parent / "facegen" / f"descriptions_{locale}.json"
    return [d["text"] for d in json.loads(path.read_text(encoding="utf-8"))["descriptions"]]


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_every_description_of_the_description_test_sets_reads_as_a_description(locale):
    """The description parser's own test sentences (written before its lexicon) must reach
    it: no command rule and no edit may take them."""
    misread = {text: parse(text, locale) for text in _description_set(locale)}
    misread = {text: type(result).__name__ for text, result in misread.items() if not isinstance(result, Describe)}
    assert misread == {}


@pytest.mark.parametrize("text", ["more smile and add glasses", "bigger eyes and a smaller nose"])
def test_every_clause_asking_for_a_change_makes_an_edit(text):
    result = parse(text, "en")
    assert isinstance(result, EditAttribute) and len(result.edits) == 2


@pytest.mark.parametrize("text", ["describe", "묘사", "describe:   "])
def test_describe_without_text_says_what_is_missing(text):
    assert parse(text, "en") == InvalidArgument("describe", "missing_text")


@pytest.mark.parametrize("word,number", [
    ("3", 3), ("three", 3), ("셋", 3), ("다섯", 5), ("twenty-one", 21), ("twenty one", 21), ("스물둘", 22),
    ("열", 10), ("열하나", 11),
])
def test_numbers_in_words_pick(word, number):
    assert parse(word, "en") == Pick(number)
    assert parse(f"eyes {word}", "en") == Pick(number, "eyes")


@pytest.mark.parametrize("word,number", [("세", 3), ("네", 4), ("삼", 3), ("오", 5), ("이십", 20), ("스무", 20)])
def test_counter_forms_and_sino_korean_count_only_before_a_counter(word, number):
    assert parse(f"{word} 번", "ko") == Pick(number)
    assert parse(f"눈 {word}번", "ko") == Pick(number, "eyes")
    assert to_int(word) is None            # alone they are other words: "네" is yes, "이" is this
    assert parse("네", "ko") == Confirm()


@pytest.mark.parametrize("text", ["이", "오", "일로", "이로 가", "눈이", "세"])
def test_syllables_that_spell_numbers_are_not_numbers_without_a_counter(text):
    assert not isinstance(parse(text, "ko"), (Pick, BackTo))


@pytest.mark.parametrize("ratio_text,share", [
    ("0.7", 0.7), (".7", 0.7), ("70%", 0.7), ("70 %", 0.7), ("70퍼센트", 0.7), ("70 프로", 0.7), ("7할", 0.7),
    ("칠 할", 0.7), ("3할 5푼", 0.35), ("seventy percent", 0.7), ("half", 0.5), ("반반", 0.5), ("0", 0.0),
    ("1", 1.0), ("100%", 1.0), ("７０％", 0.7),
])
def test_ratio_forms(ratio_text, share):
    assert parse(f"morph me with Lee at {ratio_text}", "en") == lee(share)
    assert parse(f"나랑 아이유 {ratio_text}로 합성해줘", "ko") == iu(share)


@pytest.mark.parametrize("text,value", [
    ("morph me with Lee at 1.5", "1.5"), ("morph with Lee at 130%", "130%"), ("나랑 아이유 130%로 합성", "130%"),
    ("나랑 아이유 11할로 섞어줘", "11할"), ("morph with Lee at -0.2", "-0.2"), ("morph with Lee at 3", "3"),
])
def test_out_of_range_ratio_is_reported_with_what_was_typed(text, value):
    assert parse(text, "en") == InvalidArgument("morph", "ratio_out_of_range", value)


def test_shares_that_do_not_add_up_are_reported():
    assert parse("나 70% 아이유 40%", "ko") == InvalidArgument("morph", "shares_do_not_add_up", "70% / 40%")


@pytest.mark.parametrize("text,expected", [
    ("morph", InvalidArgument("morph", "missing_target", "morph")),
    ("pick 0", InvalidArgument("pick", "number_out_of_range", "0")),
    ("back to 0", InvalidArgument("back", "number_out_of_range", "0")),
    ("remix 0", InvalidArgument("remix", "count_out_of_range", "0")),
    ("save", InvalidArgument("save", "missing_name")), ("저장", InvalidArgument("save", "missing_name")),
    ("load", InvalidArgument("load", "missing_name")),
])
def test_invalid_arguments(text, expected):
    assert parse(text, "en") == expected


def test_commands_are_valid_by_construction():
    for bad in (lambda: Morph(GalleryName("Lee"), 1.5), lambda: Pick(0), lambda: BackTo(0), lambda: Remix("huge"),
                lambda: SetLanguage("fr"), lambda: Morph(FaceRef(1), 0.5, "sideways"), lambda: Save(" ")):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(dataclasses.FrozenInstanceError):
        Pick(3).number = 4


def test_names_keep_their_case_and_script():
    assert parse("Morph me with Lee Min-ho at 0.7", "en") == Morph(GalleryName("Lee Min-ho"), 0.7)
    assert parse("나랑 Lee 0.7로 합성", "ko") == lee(0.7)
    assert parse("save \"My Best\"", "en") == Save("My Best")


def test_description_with_region_word_and_number_is_not_a_pick():
    assert not isinstance(parse("눈이 크고 20대 여자", "ko"), Pick)


@pytest.mark.parametrize("text,locale,expected", [
    ("hlep", "en", "help"), ("undoo", "en", "undo"), ("histroy", "en", "history"), ("celbs", "en", "celebs"),
    ("되돌리가", "ko", "되돌리기"), ("도움맘", "ko", "도움말"), ("연애인 목록", "ko", "연예인 목록"),
    ("되돌리가", "en", "undo"), ("hlep", "ko", "도움말"),
])
def test_unknown_text_suggests_the_closest_commands_in_the_users_language(text, locale, expected):
    result = parse(text, locale)
    assert isinstance(result, NotUnderstood) and result.reason == "unknown"
    assert expected in result.suggestions


@pytest.mark.parametrize("text,words", [
    ("make it look like a vampire", "like a vampire"), ("make them look like zombies", "like zombies"),
    ("make it look spooky", "spooky"), ("Please make him look like a pirate!", "like a pirate"),
    ("can you make her look like an elf?", "like an elf"), ("make this face look like a vampire with glasses",
                                                              "like a vampire with glasses"),
    ("make it look 'art deco'", "art deco"),
    ("뱀파이어처럼 보이게", "뱀파이어"), ("뱀파이어처럼 보이게 해줘", "뱀파이어"), ("뱀파이어처럼 보이게 해 주세요", "뱀파이어"),
    ("뱀파이어처럼 보이게 만들어 줘", "뱀파이어"), ("뱀파이어처럼 만들어줘", "뱀파이어"), ("뱀파이어 같아 보이게", "뱀파이어"),
    ("뱀파이어 느낌으로", "뱀파이어"), ("빈티지한 느낌으로 바꿔 줘", "빈티지한"), ("빈티지 느낌 나게 해줘", "빈티지"),
    ("보라색 뿔 달린 악마처럼 보이게", "보라색 뿔 달린 악마"),
])
def test_an_explicit_request_with_words_the_parser_cannot_read_is_a_free_text_edit(text, words):
    assert parse(text, "en") == FreeTextEdit(words)


@pytest.mark.parametrize("text,expected", [
    # words the parser reads in full stay an attribute edit or a description: fast, exact, every style
    ("make it look older", EditAttribute), ("make her look happier", EditAttribute),
    ("make eyes bigger", EditAttribute),
    ("나이 들어 보이게", EditAttribute), ("슬퍼 보이게", EditAttribute), ("차가운 느낌으로", Describe),
    # other commands keep their phrases
    ("스타일 바꿔줘", Remix), ("느낌 바꿔", Remix), ("분위기 바꿔줘", Remix), ("make it photo style", ChooseStyle),
    # a style word chooses the style; nothing after the frame asks what is missing
    ("make it look like a cartoon", ChooseStyle), ("사진처럼 보이게", ChooseStyle), ("만화처럼 보이게 해줘", ChooseStyle),
    ("make it look like", InvalidArgument), ("make it look", InvalidArgument),
    # without the frame, unknown words are only unknown (the chat offers them as a button after a description)
    ("a vampire", NotUnderstood), ("사진처럼", NotUnderstood), ("make it look like this", NotUnderstood),
])
def test_what_is_not_a_free_text_edit(text, expected):
    assert type(parse(text, "en")) is expected


def test_a_free_text_edit_without_words_says_what_is_missing():
    assert parse("make it look like", "en") == InvalidArgument("free_text", "missing_look", "make it look like")
    with pytest.raises(ValueError):
        FreeTextEdit("  ")


@pytest.mark.parametrize("text, words", [("보라색 뿔이 난 얼굴", {"보라색", "뿔"}),
                                         ("purple horns", {"purple", "horns"})])
def test_not_understood_names_the_words_it_did_not_know(text, words):
    result = parse(text, "ko")
    assert isinstance(result, NotUnderstood) and words <= set(result.unknown_words)


EXAMPLE_ROWS = [(intent, locale, example) for intent, langs in EXAMPLES.items()
                for locale, examples in langs.items() for example in examples]


@pytest.mark.parametrize("intent,locale,example", EXAMPLE_ROWS, ids=[f"{i}-{e}" for i, _, e in EXAMPLE_ROWS])
def test_every_suggested_example_does_what_it_suggests(intent, locale, example):
    text = example.replace("<name>", "Lee").replace("<이름>", "민수").replace(" (send a photo)", "")
    text = text.replace(" (사진 보내기)", "")
    assert INTENTS[type(parse(text, locale))] == intent


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_gibberish_still_gets_suggestions_with_help(locale):
    result = parse("qwzx plorb", locale)
    assert isinstance(result, NotUnderstood)
    assert EXAMPLES["help"][locale][0] in result.suggestions and len(result.suggestions) <= 3


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "!!!"])
def test_empty_messages(text):
    result = parse(text, "ko")
    assert isinstance(result, NotUnderstood) and result.reason == "empty" and result.suggestions


def test_length_cap():
    """Up to MAX_TEXT_CHARS a message is read in full; longer ones are refused as a whole
    (reason "too_long", text cut to the cap) so the end is never dropped silently."""
    sentence = "a round face with big eyes. "
    at_cap = (sentence * (MAX_TEXT_CHARS // len(sentence) + 1))[:MAX_TEXT_CHARS]
    assert isinstance(parse(at_cap, "en"), Describe)
    too_long = parse(at_cap + "x", "en")
    assert isinstance(too_long, NotUnderstood) and too_long.reason == "too_long"
    assert len(too_long.text) == MAX_TEXT_CHARS
    # NFKC can lengthen text: one "ﷺ" becomes 18 letters, so the cap applies after it too.
    assert parse("ﷺ" * 100, "en").reason == "too_long"


def test_an_unknown_locale_is_a_programming_error():
    with pytest.raises(ValueError, match="locale"):
        parse("help", "fr")


COMMAND_WORDS = st.sampled_from([
    "morph", "with", "at", "0.7", "70%", "7할", "나", "아이유", "합성", "섞어줘", "eyes", "눈", "3", "번", "세", "#12",
    "remix", "fine", "스타일", "바꿔줘", "back to", "으로", "save", "저장", "lang", "ko", "더", "웃게", "new", "42",
    "describe", "묘사", "?", "%", "할", "1.5", "-", ":", "대", "하나", "열", "번째", "주세요", "please", " ",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=60) | st.lists(COMMAND_WORDS | st.text(max_size=3), max_size=8).map(" ".join),
       locale=st.sampled_from(["en", "ko"]))
def test_parse_never_raises_and_always_returns_a_parsed_result(text, locale):
    result = parse(text, locale)
    assert isinstance(result, PARSED_TYPES)
    if isinstance(result, NotUnderstood):
        assert result.suggestions, "the chat never answers with silence"
    if isinstance(result, Morph) and result.ratio is not None:
        assert 0.0 <= result.ratio <= 1.0


# --- moderator commands (the core decides who may use them) --------------------------------

def _hide(face_id: int, reason: str = "", hidden: bool = True):
    from bot.commands import HideFace
    return HideFace(face_id, hidden, reason)


def _ban(reason: str = "", banned: bool = True, **user):
    from bot.commands import BanUser, UserRef
    return BanUser(UserRef(**user), banned, reason)


@pytest.mark.parametrize("text,expected", [
    ("hide 1234", _hide(1234)), ("/hide #1234 spam faces", _hide(1234, "spam faces")),
    ("hide face 12 nudity", _hide(12, "nudity")), ("unhide 1234 my mistake", _hide(1234, "my mistake", False)),
    ("숨기기 1234 스팸", _hide(1234, "스팸")), ("1234번 숨겨 줘", _hide(1234)), ("얼굴 1234 숨겨주세요", _hide(1234)),
    ("숨김 해제 1234 실수", _hide(1234, "실수", False)), ("숨기기 취소 1234", _hide(1234, "", False)),
    ("ban 56", _ban(user_id=56)), ("/ban user 56 abusive names", _ban("abusive names", user_id=56)),
    ("ban telegram:123456 spam", _ban("spam", platform="telegram", platform_user_id="123456")),
    ("ban <@80351110224678912>", _ban(platform="discord", platform_user_id="80351110224678912")),
    ("ban <@!80351110224678912> raid", _ban("raid", platform="discord", platform_user_id="80351110224678912")),
    ("unban 56", _ban(banned=False, user_id=56)), ("차단 56 욕설", _ban("욕설", user_id=56)),
    ("사용자 56 차단해 줘", _ban(user_id=56)), ("차단 해제 56 소명 확인", _ban("소명 확인", False, user_id=56)),
    ("밴 discord:42", _ban(platform="discord", platform_user_id="42")),
])
def test_moderator_commands_in_both_languages(text, expected):
    assert parse(text, "ko") == expected and parse(text, "en") == expected


@pytest.mark.parametrize("text,value", [("ban @ann", "@ann"), ("hide 0", "0"), ("/ban 0 x", "0"),
                                        ("hide 99999999999999999999", "99999999999999999999")])
def test_moderator_commands_with_an_unreadable_target_say_how_to_name_one(text, value):
    assert parse(text, "en") == InvalidArgument("hide" if "hide" in text else "ban", "bad_target", value)


@pytest.mark.parametrize("text", ["hide", "ban", "hide the glasses", "숨김", "차단"])
def test_moderator_words_without_a_target_are_not_moderator_commands(text):
    assert type(parse(text, "en")).__name__ not in ("HideFace", "BanUser", "InvalidArgument")


def test_the_word_tables_name_each_morph_mode_and_backend_once():
    assert tuple(lexicon.MORPH_MODES) == MORPH_MODES and set(lexicon.STYLES) == set(BACKENDS)
