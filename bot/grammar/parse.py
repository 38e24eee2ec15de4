"""text + locale → Command: the rule table.

Each rule reads the whole message (anchored at both ends), so a description that happens to
contain "눈" and "20" ("눈이 큰 20대 여자") never turns into a pick. Rules run in the order of
RULES; the first that returns something wins. The last hands the text to facegen.describe.intent:
words that name any feature become a Describe (or an EditAttribute when they ask for a change),
and the core decides with the current face whether they refine it or make a new face; what
nothing takes becomes NotUnderstood with suggestions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot import commands as c
from bot.grammar import lexicon
from bot.grammar.moderate import parse_moderation
from bot.grammar.morph import parse_morph
from bot.grammar.numbers import EN_ORDINALS, INT_ALONE, INT_COUNTED, to_int
from bot.grammar.suggest import suggest
from bot.grammar.text import MAX_TEXT_CHARS, normalize, strip_politeness, words_regex
from facegen.attributes import Description
from facegen.describe import parse_description
from facegen.describe.intent import read_request


@dataclass(frozen=True)
class Message:
    """One message in the two forms the rules read."""
    text: str     # normalized: NFKC, single spaces, no trailing noise, case kept
    core: str     # `text` without courtesy words and Korean request endings


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"^(?:{pattern})$", re.IGNORECASE)


def _lookup(table: dict[str, tuple[str, ...]]) -> tuple[str, Callable[[str], str]]:
    """A regex alternation of a word table and the function mapping a matched word back to its key."""
    index = {re.sub(r"\s+", "", w.lower()): key for key, words in table.items() for w in words}

    def key_of(word: str) -> str:
        return index[re.sub(r"\s+", "", word.lower())]

    return words_regex(w for words in table.values() for w in words), key_of


_REGION, _region_of = _lookup(lexicon.REGIONS)
_LAYER, _layer_of = _lookup(lexicon.LAYERS)
_LOCALE, _locale_of = _lookup(lexicon.LOCALE_NAMES)
_STYLE, _style_of = _lookup(lexicon.STYLES)
# A fixed phrase may be followed by "show / tell": "기록 보여줘", "진행 상황 알려줘".
_FIXED = {intent: _compile(rf"{words_regex(phrases)}(?:\s*{lexicon.FIXED_AFTER})?")
          for intent, phrases in lexicon.FIXED.items()}
_FIXED_COMMANDS: dict[str, c.Command] = {
    "new": c.NewFace(), "variations": c.ShowCandidates(None), "remix": c.Remix(), "undo": c.Undo(),
    "redo": c.Redo(), "history": c.History(), "cancel": c.Cancel(), "gallery": c.Gallery(),
    "delete": c.DeleteMyData(), "confirm": c.Confirm(), "decline": c.Decline(), "help": c.Help(),
    "status": c.Status(), "me": c.Me(), "web": c.WebLogin(), "breed": c.Breed(), "next": c.NextRound(),
    "done": c.Done(), "stop_breeding": c.StopBreeding(), "unlock": c.Lock((), locked=False),
    "hello": c.SmallTalk("hello"), "thanks": c.SmallTalk("thanks"),
}
_KO_OBJ = r"(?:을|를|은|는|도|이|가)?"
# A Korean number slot: counter forms and Sino-Korean (세, 이, 오) only right before 번.
_KO_NUM = rf"(?:{INT_COUNTED}(?=\s*번)|{INT_ALONE})"
_EN_ORDINAL = rf"(?:{'|'.join(EN_ORDINALS)})"


def _number(word: str) -> int | None:
    """A number slot's value: digits, number words, ordinals ("third", 첫)."""
    word = word.strip().lstrip("#").strip()
    if word.lower() in EN_ORDINALS:
        return EN_ORDINALS[word.lower()]
    if word == "첫":
        return 1
    return to_int(word, counted=True)


# --- rules ----------------------------------------------------------------------------------

_DESCRIBE = _compile(rf"{lexicon.DESCRIBE}(?:해\s*(?:줘|주세요|줘요))?\s*[:：]?(?:\s+(?P<text>.+))?")


def _describe(m: Message, locale: str) -> c.Parsed | None:
    """`describe <text>` / `묘사 <text>`; the text keeps its endings for the description parser."""
    found = _DESCRIBE.match(m.text)
    if not found:
        return None
    text = (found["text"] or "").strip()
    if not strip_politeness(text):
        return c.InvalidArgument("describe", "missing_text")
    return c.Describe(read_request(text, new_face=True))


_DESCRIBE_FACE = [_compile(lexicon.DESCRIBE_FACE_EN), _compile(lexicon.DESCRIBE_FACE_KO)]


def _describe_face(m: Message, locale: str) -> c.Parsed | None:
    """"describe my face", "이 얼굴 설명해줘": the current face in words, not a new description."""
    return c.DescribeFace() if any(p.match(m.core) or p.match(m.text) for p in _DESCRIBE_FACE) else None


def _fixed(m: Message, locale: str) -> c.Parsed | None:
    for intent, pattern in _FIXED.items():
        if pattern.match(m.core) or pattern.match(m.text):
            return _FIXED_COMMANDS[intent]
    return None


_LANGUAGE = [
    _compile(rf"{lexicon.LANGUAGE}\s*[:=]?\s*(?P<loc>{_LOCALE}){lexicon.LANGUAGE_KO_AFTER}"),
    _compile(rf"(?:switch\s+to|use|change\s+to)\s+(?P<loc>{_LOCALE})"),
    _compile(rf"(?P<loc>{_LOCALE})(?:\s*(?:로|으로)\s*(?:바꿔|변경|말해|대화|설정|해)?|\s+(?:please|mode))?"),
]


def _language(m: Message, locale: str) -> c.Parsed | None:
    for pattern in _LANGUAGE:
        if found := pattern.match(m.core):
            return c.SetLanguage(_locale_of(found["loc"]))
    return None


# --- breeding: numbers of a breeding array, "next", "done 3", locks -----------------------------

_ITEM = rf"#?\s*(?:{_KO_NUM}\s*번|{INT_ALONE})"
_LIST = rf"{_ITEM}(?:{lexicon.LIST_SEPARATOR}{_ITEM})+"    # two or more: one alone is a pick
_LIST1 = rf"{_ITEM}(?:{lexicon.LIST_SEPARATOR}{_ITEM})*"
_ITEM_NUMBER = re.compile(rf"(?:{_KO_NUM}(?=\s*번)|{INT_ALONE})", re.IGNORECASE)
_SELECT = [
    _compile(rf"(?:{lexicon.SELECT_EN}\s+)?(?:(?:faces?|numbers?)\s+)?(?P<list>{_LIST})"),
    _compile(rf"(?P<list>{_LIST})\s*(?:(?:을|를|이|가)\s*)?(?:{lexicon.SELECT_KO})?"),
]
_NEXT_NUMBERED = [
    _compile(rf"{lexicon.NEXT_EN}\s+(?:with\s+|from\s+)?(?P<list>{_LIST1})"),
    _compile(rf"{lexicon.NEXT_KO}\s*(?P<list>{_LIST1})\s*(?:번)?(?:\s*(?:으로|로))?"),
    _compile(rf"(?P<list>{_LIST1})\s*(?:번)?\s*(?:(?:으로|로|을|를)\s*)?{lexicon.NEXT_KO}"),
]
_DONE_NUMBERED = [
    _compile(rf"{lexicon.DONE_EN}\s+(?:with\s+|it'?s\s+|is\s+)?(?:number\s+|#)?(?P<n>{INT_ALONE})"),
    _compile(rf"{lexicon.DONE_KO}\s*#?(?P<n>{_KO_NUM})\s*번?"),
    _compile(rf"#?(?P<n>{_KO_NUM})\s*번?\s*(?:(?:으로|로)\s*)?{lexicon.DONE_KO}"),
]
_REGIONS_EN = rf"{_REGION}(?:\s*(?:,|and|&)\s*(?:the\s+)?{_REGION})*"
_REGIONS_KO = rf"{_REGION}(?:\s*(?:,|이랑|랑|하고|와|과)\s*{_REGION})*"
_LOCKS = [   # (pattern, locked)
    (_compile(rf"{lexicon.LOCK_EN}\s+(?:the\s+|my\s+|these\s+|those\s+)?(?P<regions>{_REGIONS_EN})"
              rf"(?:\s+{lexicon.LOCK_AFTER_EN})?"), True),
    (_compile(rf"(?:the\s+)?(?P<regions>{_REGIONS_EN})\s+{lexicon.LOCK_STAYS_EN}"), True),
    (_compile(rf"(?P<regions>{_REGIONS_KO})\s*(?:(?:은|는|을|를|도)\s*)?{lexicon.LOCK_KO}"), True),
    (_compile(rf"{lexicon.UNLOCK_EN}\s+(?:the\s+)?(?P<regions>{_REGIONS_EN})"), False),
    (_compile(rf"(?:the\s+)?(?P<regions>{_REGIONS_EN})\s+{lexicon.UNLOCK_CHANGE_EN}"), False),
    (_compile(rf"(?P<regions>{_REGIONS_KO})\s*(?:(?:은|는|을|를|도)\s*)?{lexicon.UNLOCK_KO}"), False),
]


def _numbers_in(text: str) -> tuple[int, ...] | None:
    """The numbers of a list ("3 5 7", "3번이랑 5번"), each once, in the order written; None if
    one is below 1."""
    numbers = [_number(found.group()) for found in _ITEM_NUMBER.finditer(text)]
    if any(n is None or n < 1 for n in numbers):
        return None
    return tuple(dict.fromkeys(numbers))


def _breeding(m: Message, locale: str) -> c.Parsed | None:
    """Selecting several faces of a breeding array, the next array from them, keeping one, locks."""
    for patterns, make in ((_NEXT_NUMBERED, c.NextRound), (_SELECT, c.Select)):
        for pattern in patterns:
            if found := pattern.match(m.core):
                numbers = _numbers_in(found["list"])
                if numbers is None:
                    return c.InvalidArgument(c.INTENTS[make], "number_out_of_range", found["list"])
                if make is c.Select and len(numbers) < 2:   # one number ("twenty one") is a pick
                    return None
                return make(numbers)
    for pattern in _DONE_NUMBERED:
        if (found := pattern.match(m.core)) and (number := _number(found["n"])) is not None:
            return c.Done(number) if number >= 1 else c.InvalidArgument("done", "number_out_of_range", found["n"])
    for pattern, locked in _LOCKS:
        if found := pattern.match(m.core):
            regions = re.findall(_REGION, found["regions"], re.IGNORECASE)
            return c.Lock(tuple(dict.fromkeys(_region_of(r) for r in regions)), locked)
    return None


_STYLE_LIST = _compile(words_regex(lexicon.STYLE_LIST) + rf"(?:\s*{lexicon.FIXED_AFTER})?")
_TO = r"(?:\s*(?:으로|로))"
_STYLE_NAMED = [   # any name after a style keyword: the core matches it against what is served
    _compile(rf"{lexicon.STYLE_KEY_EN}\s*(?P<name>.+?)"),
    _compile(rf"{lexicon.STYLE_KEY_KO}\s*[:=]?\s*(?P<name>.+?){_TO}?(?:\s*{lexicon.STYLE_CHANGE_KO})?"),
    _compile(rf"(?P<name>.+?)\s*{lexicon.STYLE_KEY_KO}{_TO}?(?:\s*{lexicon.STYLE_CHANGE_KO})?"),
]
_STYLE_WORD = [    # a built-in style word where nothing else could be meant: "photo style", "그림체로 바꿔"
    _compile(rf"(?:(?:use|switch\s+to|change\s+to|go|draw\s+in|make\s+(?:it|faces)|the)\s+)*(?:the\s+)?"
             rf"(?P<word>{_STYLE})\s+(?:style|mode|faces)"),
    _compile(rf"(?:draw|make)\s+(?:them\s+|faces\s+|it\s+)?(?:in\s+)?(?P<word>{_STYLE})(?:\s+style)?"),
    _compile(rf"(?:스타일\s*)?(?P<word>{_STYLE})\s*(?:스타일|모드|체)?{_TO}\s*{lexicon.STYLE_CHANGE_KO}?"),
    _compile(rf"(?P<word>{_STYLE})\s*(?:스타일|모드)?\s*{lexicon.STYLE_CHANGE_KO}"),
    _compile(rf"(?P<word>{_STYLE})\s*(?:스타일|모드)"),
]


def _style(m: Message, locale: str) -> c.Parsed | None:
    if _STYLE_LIST.match(m.core) or _STYLE_LIST.match(m.text):
        return c.ChooseStyle()
    for pattern in _STYLE_WORD:
        if found := pattern.match(m.core):
            return c.ChooseStyle(found["word"], _style_of(found["word"]))
    for pattern in _STYLE_NAMED:
        if found := pattern.match(m.core):
            name = found["name"].strip(_QUOTES + " ")
            if name:
                known = re.fullmatch(_STYLE, name, re.IGNORECASE)
                return c.ChooseStyle(name, _style_of(name) if known else None)
    return None


_TOPICS = {intent for intent in lexicon.EXAMPLES}
_HELP = [
    _compile(rf"{lexicon.HELP_EN}\s+(?P<topic>.+?)(?:\s+work(?:s)?)?"),
    _compile(rf"(?P<topic>.+?)\s*{lexicon.HELP_KO}"),
]


def _topic_of(word: str) -> str | None:
    """The intent a help topic names: its own name, or a word that starts one of its phrases."""
    word = word.strip().lower()
    if word in _TOPICS:
        return word
    for intent, phrases in (*lexicon.KEYWORDS.items(), *lexicon.FIXED.items()):
        if intent in _TOPICS and any(p.lower().split(" ")[0] == word for p in phrases):
            return intent
    return None


def _help(m: Message, locale: str) -> c.Parsed | None:
    for pattern in _HELP:
        if found := pattern.match(m.core):
            topic = _topic_of(found["topic"])
            if topic is not None:
                return c.Help(topic)
    return None


_NEW_WORDS = r"(?:new|random|another)(?:\s+(?:random\s+)?face)?|새\s*얼굴|새로운\s*얼굴|랜덤(?:\s*얼굴)?|아무나|새로"
_NEW_SEED = [
    _compile(rf"(?:{_NEW_WORDS})\s*(?:with\s+)?(?:seed|시드|번호)?\s*[#:=]?\s*(?P<n>{INT_ALONE}|\d+)(?:\s*번)?"
             rf"(?:\s*(?:으로|로))?(?:\s*만들어)?"),
    _compile(rf"(?:seed|시드)\s*[#:=]?\s*(?P<n>{INT_ALONE})(?:\s*(?:으로|로))?(?:\s*(?:{_NEW_WORDS}))?(?:\s*만들어)?"),
]


def _new_with_seed(m: Message, locale: str) -> c.Parsed | None:
    for pattern in _NEW_SEED:
        if (found := pattern.match(m.core)) and (seed := _number(found["n"])) is not None:
            return c.NewFace(seed)
    return None


# "#5", "face 5", "back to 5", "5번으로", "5번 얼굴로 돌아가", "다섯 번으로"
_BACK = [
    _compile(rf"{lexicon.BACK_EN}\s+(?:face\s*)?(?:#|number\s*)?\s*(?P<n>{INT_ALONE})"),
    _compile(r"(?:face\s*#?|#)\s*(?P<n>\d+)(?:\s*번)?(?:\s*얼굴)?"),
    _compile(rf"#?\s*(?P<n>{_KO_NUM})\s*번?\s*(?:얼굴)?\s*(?:으로|로)\s*(?:{lexicon.BACK_KO})?"),
    _compile(rf"#?\s*(?P<n>{INT_COUNTED})\s*번\s*얼굴(?:\s*{lexicon.BACK_KO})?"),
    _compile(rf"(?:{lexicon.BACK_KO})\s+#?\s*(?P<n>{_KO_NUM})\s*번?(?:\s*얼굴)?(?:\s*(?:으로|로))?"),
]
# "3번으로 해줘 / 할래" picks rather than goes back: the ending said "do".
_DO_ENDING = re.compile(r"(?:으로|로)\s*(?:해|할|하자|합시다|골라|선택)", re.IGNORECASE)


def _back_to(m: Message, locale: str) -> c.Parsed | None:
    for pattern in _BACK:
        if found := pattern.match(m.core):
            if _DO_ENDING.search(m.text):
                return None
            number = _number(found["n"])
            if number is None:
                continue
            return c.BackTo(number) if number >= 1 else c.InvalidArgument("back", "number_out_of_range", found["n"])
    return None


_ORDINAL_KO = rf"(?:첫|{INT_COUNTED})\s*번째(?:\s*(?:거|것|꺼))?"
_PICK = [
    # English: "pick eyes 3", "eyes 3", "3", "pick #3", "eyes number three", "the third one", "3rd"
    _compile(rf"(?:{lexicon.PICK_EN}\s+)?(?:the\s+)?(?:(?P<region>{_REGION})\s*)?(?:{lexicon.NUMBER_WORD}\s*)?"
             rf"(?P<n>{INT_ALONE})(?:st|nd|rd|th)?(?:\s+(?:one|please))?"),
    _compile(rf"(?:{lexicon.PICK_EN}\s+)?(?:the\s+)?(?P<n>{_EN_ORDINAL})(?:\s+(?:one|face))?"
             rf"(?:\s+(?:for\s+)?(?:the\s+)?(?P<region>{_REGION}))?"),
    _compile(rf"{lexicon.PICK_EN}\s+(?:{lexicon.NUMBER_WORD}\s*)?(?P<n>{INT_ALONE})\s+(?:for\s+)?(?:the\s+)?"
             rf"(?P<region>{_REGION})"),
    # Korean: "눈 3번", "3번", "눈 3번 골라", "눈은 세 번째", "3번 눈", "눈 3번으로 할게"
    _compile(rf"(?:(?P<region>{_REGION}){_KO_OBJ}\s*)?(?P<n>{_ORDINAL_KO}|{_KO_NUM})\s*(?:번)?"
             rf"(?:\s*(?:거|것|꺼))?\s*(?:(?:을|를|으로|로)\s*)?(?:{lexicon.PICK_KO})?"),
    _compile(rf"(?P<n>{_ORDINAL_KO}|{_KO_NUM})\s*번?\s*(?P<region>{_REGION}){_KO_OBJ}\s*(?:{lexicon.PICK_KO})?"),
]


def _pick(m: Message, locale: str) -> c.Parsed | None:
    for pattern in _PICK:
        found = pattern.match(m.core)
        if not found:
            continue
        raw = re.sub(r"\s*번째.*$", "", found["n"])
        number = _number(raw)
        if number is None:
            continue
        region = _region_of(found["region"]) if found["region"] else None
        if number < 1:
            return c.InvalidArgument("pick", "number_out_of_range", raw)
        return c.Pick(number, region)
    return None


_SHOW = [
    _compile(rf"(?:{lexicon.SHOW_EN}\s+)?(?:{lexicon.OTHER}\s+)?(?P<region>{_REGION})(?:\s*{lexicon.SHOW_EN_AFTER})?"),
    _compile(rf"(?:{lexicon.OTHER}\s*)?(?P<region>{_REGION}){_KO_OBJ}\s*(?:{lexicon.SHOW_KO_AFTER})?"),
]


def _show(m: Message, locale: str) -> c.Parsed | None:
    for pattern in _SHOW:
        if found := pattern.match(m.core):
            return c.ShowCandidates(_region_of(found["region"]))
    return None


_REMIX = [
    _compile(rf"{lexicon.REMIX_EN}(?:\s+(?:the\s+)?(?:style|look))?(?:\s+(?:the\s+)?(?P<layers>{_LAYER}))?"
             rf"(?:\s+(?:x\s*)?(?P<n>{INT_ALONE}))?(?:\s+(?P<layers2>{_LAYER}))?(?:\s+(?:versions|faces|times))?"),
    _compile(rf"(?P<n>{INT_ALONE})\s+(?:(?P<layers>{_LAYER})\s+)?{lexicon.REMIX_EN}"),
    _compile(rf"(?:(?P<layers>{_LAYER})\s*(?:만|을|를|은|는)?\s*)?(?:{lexicon.REMIX_KO_NOUN}(?:을|를)?\s*)?"
             rf"(?:(?P<n>{INT_COUNTED})\s*(?:개|가지)\s*(?:로|만)?\s*)?{lexicon.REMIX_KO_VERB}"
             rf"(?:\s*(?P<n2>{INT_COUNTED})\s*(?:개|가지))?"),
    _compile(rf"(?:(?P<layers>{_LAYER})\s*)?{lexicon.REMIX_KO_NOUN}\s*(?P<n>{INT_COUNTED})\s*(?:개|가지)"),
]


def _remix(m: Message, locale: str) -> c.Parsed | None:
    for pattern in _REMIX:
        found = pattern.match(m.core)
        if not found:
            continue
        groups = found.groupdict()
        layers_word = groups.get("layers") or groups.get("layers2")
        count_word = groups.get("n") or groups.get("n2")
        # "바꿔" alone, with no noun or layer, is not a remix ("눈 바꿔" was a grid already).
        if not layers_word and not re.search(rf"{lexicon.REMIX_EN}|{lexicon.REMIX_KO_NOUN}", m.core, re.IGNORECASE):
            continue
        count = _number(count_word) if count_word else None
        if count_word and count is None:
            continue
        if count is not None and count < 1:
            return c.InvalidArgument("remix", "count_out_of_range", count_word)
        return c.Remix(_layer_of(layers_word) if layers_word else None, count)
    return None


_THIS_FACE = _compile(words_regex(lexicon.THIS_FACE) + r"(?:을|를)?")
_LEADING_THIS_FACE = re.compile(rf"^{words_regex(lexicon.THIS_FACE)}(?:을|를)?\s+", re.IGNORECASE)
_QUOTES = "\"'“”‘’「」『』"
_SAVE = [_compile(rf"{lexicon.SAVE_EN}(?:\s+(?P<name>.+))?"),
         _compile(rf"{lexicon.SAVE_KO}(?:\s*[:]?\s+(?P<name>.+))?"),
         _compile(rf"(?P<name>.+?)\s*(?:(?:이라는|라는)\s*이름|이라고|라고|(?:으로|로))\s*{lexicon.SAVE_KO}"),
         _compile(rf"(?P<name>.+?)\s*(?:을|를)?\s*{lexicon.SAVE_KO}")]
_LOAD = [_compile(rf"{lexicon.LOAD_EN}(?:\s+(?P<name>.+))?"),
         _compile(rf"{lexicon.LOAD_KO}(?:\s*[:]?\s+(?P<name>.+))?"),
         _compile(rf"(?P<name>.+?)\s*(?:을|를)?\s*{lexicon.LOAD_KO}")]


def _named(patterns: list[re.Pattern[str]], make: Callable[[str], c.Command], intent: str) -> Callable:
    def rule(m: Message, locale: str) -> c.Parsed | None:
        for pattern in patterns:
            if found := pattern.match(m.core):
                name = _LEADING_THIS_FACE.sub("", (found["name"] or "").strip()).strip(_QUOTES).strip()
                if not name or _THIS_FACE.match(name):
                    return c.InvalidArgument(intent, "missing_name")
                return make(name)
        return None
    return rule


def _moderate(m: Message, locale: str) -> c.Parsed | None:
    return parse_moderation(m.text, m.core)


def _morph(m: Message, locale: str) -> c.Parsed | None:
    return parse_morph(m.core)


_LOOK = [
    _compile(rf"{lexicon.LOOK_EN}(?P<text>(?:\s+.*)?)"),
    _compile(rf"(?P<text>.+?)\s*(?:{lexicon.LOOK_KO})"),
    _compile(rf"(?P<text>.+?)\s*{lexicon.FEEL_KO}"),
]
_LOOK_LIKE = re.compile(r"^(?:(?:more|a\s+bit\s+more)\s+)?(?:like\b\s*)?(?:(?:an?|the)\s+)?", re.IGNORECASE)
_LOOK_STYLE = _compile(rf"(?P<word>{_STYLE})(?:\s*(?:style|picture|drawing|스타일|풍))?")


def _free_text(m: Message, locale: str) -> c.Parsed | None:
    """"make it look like a vampire", "뱀파이어처럼 보이게 해줘", "빈티지 느낌으로": words the
    description parser does not read in full become a free-text edit (the whole of them, for the
    text model). Words it reads in full ("make him look older", "차가운 느낌으로") are left to the
    rule after this one: an attribute edit is fast, exact and works in every style. A style word
    ("make it look like a cartoon", "사진처럼 보이게") chooses that style."""
    for pattern in _LOOK:
        found = pattern.match(m.core)
        if not found:
            continue
        text = found["text"].strip().strip(_QUOTES).strip()
        bare = _LOOK_LIKE.sub("", text).strip(_QUOTES + " ")
        if not bare:
            return c.InvalidArgument("free_text", "missing_look", m.text)
        # "사진처럼 보이게": the style words include "사진처럼", which the frame split
        if style := _LOOK_STYLE.match(bare) or _LOOK_STYLE.match(f"{bare}처럼"):
            return c.ChooseStyle(style["word"], _style_of(style["word"]))
        if not read_request(text).skipped:   # every word read, or only small words ("like this")
            return None
        return c.FreeTextEdit(text)
    return None


def _about_a_face(m: Message, locale: str) -> c.Parsed | None:
    """Words that name features, marks, colours or impressions: a change asked for ("more
    smile", "안경 씌워줘") or a description ("blonde", "a round face with big eyes"). Whether
    they refine the current face or make a new one is the core's call, with the current face
    (facegen.describe.intent.decide)."""
    request = read_request(m.text)
    if not request.says_anything:
        return None
    return c.EditAttribute(request) if request.change and not request.new_face else c.Describe(request)


def _describe_text(text: str, locale: str) -> Description:
    """The text's own script picks the description language, whatever the user's locale."""
    return parse_description(text, None)


Rule = Callable[[Message, str], "c.Parsed | None"]
RULES: tuple[Rule, ...] = (
    _describe_face, _describe, _moderate, _fixed, _breeding, _language, _help, _new_with_seed, _back_to, _pick, _show,
    _remix, _style,
    _named(_SAVE, c.Save, "save"), _named(_LOAD, c.Load, "load"), _morph, _free_text, _about_a_face,
)


def parse(text: str, locale: str) -> c.Parsed:
    """The Command a message asks for, an InvalidArgument when a value breaks a rule, or
    NotUnderstood with the closest commands in `locale` ("ko" or "en"). Never raises.

    Messages longer than MAX_TEXT_CHARS are not parsed: they come back as NotUnderstood with
    reason "too_long" and the text cut to that length. An unknown `locale` is a programming
    error (it comes from stored user state) and raises ValueError."""
    if locale not in c.LOCALES:
        raise ValueError(f"locale must be one of {c.LOCALES}, got {locale!r}")
    if len(text) > MAX_TEXT_CHARS:
        return c.NotUnderstood(text[:MAX_TEXT_CHARS], suggest("", locale), reason="too_long")
    normalized = normalize(text)
    if not normalized:
        return c.NotUnderstood(text, suggest("", locale), reason="empty")
    if len(normalized) > MAX_TEXT_CHARS:   # NFKC can lengthen text ("ﷺ" is 18 letters)
        return c.NotUnderstood(normalized[:MAX_TEXT_CHARS], suggest("", locale), reason="too_long")
    message = Message(normalized, strip_politeness(normalized))
    for rule in RULES:
        result = rule(message, locale)
        if result is not None:
            return result
    return c.NotUnderstood(normalized, suggest(message.core, locale),
                           unknown_words=tuple(_describe_text(normalized, locale).unknown))
