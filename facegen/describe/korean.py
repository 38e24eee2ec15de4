"""Korean front end: Kiwi morphemes → `Word`s with lemmas looked up in the Korean table.

Kiwi is slow to build (about a second) and safe to share, so one instance is built on first
use and reused. Morphemes are regrouped into words a lexicon can name:
- neighbouring nouns are joined when the joined form is listed (입 + 꼬리 → 입꼬리, also when
  written with a space: "눈 꼬리", "눈 사이"); a prefix joins its noun (무 + 표정);
- a noun or root followed by 하다 / 되다 / 스럽다 / 지다 becomes one predicate (깔끔하다, 주름지다);
- a predicate stem becomes its dictionary form (올라가 → 올라가다) and remembers its ending:
  an adnominal ending (ETM, "-ㄴ/-는") makes it describe the noun after it unless the noun
  before it is its subject (눈이 큰 남자, or with the particle dropped: 턱 각진 얼굴);
- numbers with 대 / 살 / 세 become ages (20대, 서른 살);
- particles become hints: 에 marks a place (입가에 점), 와 / 과 / 이나 and X도 Y도 join two nouns
  (눈과 코가 크고), and 위 / 아래 are directions only with 로 (아래로 처진), else positions (눈 밑에).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from facegen.describe import lexicon_en
from facegen.describe.lexicon import FILLER, LINK, Entry, Head, Modifier, S, Table, age_band_of
from facegen.describe.lexicon_ko import BEFORE_ITS_NOUN, DIRECTIONS, KO, USER_PREDICATES, USER_WORDS
from facegen.describe.resolve import Word

_kiwi = None
_kiwi_lock = threading.Lock()

JOINABLE = {"NNG", "NNP", "NNB", "XSN", "SL", "XR"}
NOUNISH = {"NNG", "NNP", "NNB", "XR", "SL", "SH", "NR", "MAG", "MAJ", "MM", "IC"}
PREDICATES = {"VV", "VA", "VX", "VCP", "VCN"}
SUFFIXES = {"XSA", "XSV", "XSM"}
SUBJECT_PARTICLES = {"JKS", "JX"}
PLACE_PARTICLES = {"에"}
TOWARD_PARTICLES = {"로", "으로"}
OR_PARTICLES = {"나", "이나"}
AGE_UNITS = {"대": "decade", "살": "years", "세": "years"}

NATIVE_TENS = {"열": 10, "스물": 20, "스무": 20, "서른": 30, "마흔": 40, "쉰": 50, "예순": 60, "일흔": 70,
               "여든": 80, "아흔": 90}
NATIVE_UNITS = {"하나": 1, "한": 1, "둘": 2, "두": 2, "셋": 3, "세": 3, "넷": 4, "네": 4, "다섯": 5, "여섯": 6,
                "일곱": 7, "여덟": 8, "아홉": 9}
SINO = {"일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "칠": 7, "팔": 8, "구": 9}


def kiwi():
    """The shared Kiwi analyser, built on first use with the face vocabulary added."""
    global _kiwi
    with _kiwi_lock:
        if _kiwi is None:
            from kiwipiepy import Kiwi
            analyser = Kiwi()
            for word in USER_WORDS:
                analyser.add_user_word(word, "NNG", 0.0)
            for stem, tag in USER_PREDICATES:
                analyser.add_user_word(stem, tag, 0.0)
            analyser.tokenize("준비")    # the first analysis loads the model; do it here, not on a user's text
            _kiwi = analyser
        return _kiwi


def korean_number(text: str) -> int | None:
    """스물다섯 → 25, 이십 → 20, 서른 → 30, 40 → 40; None when it is not a number."""
    if text.isascii() and text.isdigit():
        return int(text) if len(text) <= 3 else None
    total, rest = 0, text
    for word, value in sorted(NATIVE_TENS.items(), key=lambda kv: -len(kv[0])):
        if rest.startswith(word):
            total, rest = value, rest[len(word):]
            break
    if rest in NATIVE_UNITS:
        return total + NATIVE_UNITS[rest]
    if not rest:
        return total or None
    if total == 0:
        sino = 0
        if "십" in rest:
            tens, _, units = rest.partition("십")
            sino = (SINO.get(tens, 0) if tens else 1) * 10
            if tens and tens not in SINO:
                return None
            rest = units
        if rest and rest not in SINO:
            return None
        value = sino + SINO.get(rest, 0)
        return value or None
    return None


@dataclass
class _Piece:
    """A word under construction, with what the grammar says about it."""
    text: str
    lemma: str
    kind: str                   # noun | predicate | adverb | number | boundary | comma | other
    start: int
    end: int
    ending: str | None = None   # first ending tag after a predicate (ETM, EC, EF)
    particle: str | None = None # particle tag after a noun (JKS, JX, JKO, …)
    particle_form: str = ""     # … and the particle itself (에, 와, 도)
    entry: Entry | None = None


def _tag(token) -> str:
    return token.tag.split("-")[0]


def _lookup(lemma: str, table: Table = KO) -> Entry | None:
    if lemma in table.words:
        return table.words[lemma]
    for tail in ("하다", "되다", "스럽다", "롭다", "다"):
        if lemma.endswith(tail) and lemma[: -len(tail)] in table.words:
            return table.words[lemma[: -len(tail)]]
    return None


def _pieces(text: str) -> list[_Piece]:
    tokens = kiwi().tokenize(text)
    pieces: list[_Piece] = []
    prefix = ""
    i = 0
    while i < len(tokens):
        tok, tag = tokens[i], _tag(tokens[i])
        end = tok.start + tok.len
        if tag == "SF":
            pieces.append(_Piece(tok.form, "", "boundary", tok.start, end))
        elif tag in ("SP", "SS", "SO") and tok.form in ",;/·":
            pieces.append(_Piece(tok.form, "", "comma", tok.start, end))
        elif tag.startswith("J"):
            if pieces and pieces[-1].particle is None:
                pieces[-1].particle = tag
                pieces[-1].particle_form = tok.form
        elif tag.startswith("E"):
            if pieces and pieces[-1].kind == "predicate" and pieces[-1].ending is None and tag != "EP":
                pieces[-1].ending = tag
        elif tag == "XPN":
            prefix = tok.form
        elif tag == "SN" or (tag in ("NR", "MM") and korean_number(tok.form) is not None):
            i = _number(tokens, i, pieces)
            continue
        elif tag in JOINABLE or tag in NOUNISH:
            i = _noun(tokens, i, pieces, prefix)
            prefix = ""
            continue
        elif tag in PREDICATES:
            pieces.append(_Piece(tok.form, tok.form + "다", "predicate", tok.start, end))
        elif tag in SUFFIXES and pieces:
            # a suffix left over (e.g. after a number): fold it into the previous word
            pieces[-1].lemma += tok.form
        i += 1
    return pieces


def _adverbial(piece: _Piece) -> None:
    """Kiwi sometimes reads an adverbial -게 form as a noun (눈 크게, 코 높게): read it as the
    predicate it comes from."""
    stem = piece.lemma[:-1]
    if piece.kind == "noun" and piece.lemma.endswith("게") and piece.lemma not in KO.words \
            and _lookup(stem + "다") is not None:
        piece.lemma, piece.kind, piece.ending = stem + "다", "predicate", "EC"


def _number(tokens, i: int, pieces: list[_Piece]) -> int:
    tok = tokens[i]
    value = korean_number(tok.form)
    j = i + 1
    if j < len(tokens) and _tag(tokens[j]) in ("NR", "MM") and korean_number(tok.form + tokens[j].form):
        value = korean_number(tok.form + tokens[j].form)
        j += 1
    unit = tokens[j].form if j < len(tokens) and _tag(tokens[j]) in ("NNB", "NNG") else None
    if value is not None and unit in AGE_UNITS:
        years = value + 5 if AGE_UNITS[unit] == "decade" else value
        band = age_band_of(years)
        end = tokens[j].start + tokens[j].len
        surface = f"{tok.form}{unit}"
        piece = _Piece(surface, surface, "number", tok.start, end)
        piece.entry = Head("person", (S("age_band", band),)) if band else FILLER
        pieces.append(piece)
        return j + 1
    pieces.append(_Piece(tok.form, tok.form, "number", tok.start, tok.start + tok.len, entry=FILLER))
    return i + 1


def _noun(tokens, i: int, pieces: list[_Piece], prefix: str) -> int:
    """A noun (or root, adverb) at i, joined with its neighbours or its 하다-suffix."""
    # longest listed compound, spaces allowed: 입 꼬리, 눈 사이, V 라인
    best_k, lemma = i + 1, prefix + tokens[i].form
    for k in range(min(len(tokens), i + 4), i + 1, -1):
        if all(_tag(t) in JOINABLE for t in tokens[i:k]):
            joined = prefix + "".join(t.form for t in tokens[i:k])
            if joined in KO.words:
                best_k, lemma = k, joined
                break
    start = tokens[i].start
    last = tokens[best_k - 1]
    end = last.start + last.len
    kind = "adverb" if _tag(tokens[i]) in ("MAG", "MAJ") and best_k == i + 1 else "noun"
    j = best_k
    # noun/root + 하다/되다/스럽다, or + 지다 written together (주름지다, 각지다)
    if j < len(tokens) and tokens[j].start == end:
        nxt, tag = tokens[j], _tag(tokens[j])
        if tag in SUFFIXES or (tag == "VV" and nxt.form == "지") or (tag == "VX" and nxt.form == "하"):
            lemma = lemma + nxt.form + "다"
            kind = "predicate"
            end = nxt.start + nxt.len
            j += 1
    text = prefix + "".join(t.form for t in tokens[i:best_k])
    pieces.append(_Piece(text, lemma, kind, start - len(prefix), end))
    _adverbial(pieces[-1])
    return j


def _entry(piece: _Piece) -> Entry | None:
    if piece.entry is not None:
        return piece.entry
    entry = _lookup(piece.lemma)
    if entry is None and piece.lemma.isascii():
        entry = lexicon_en.lookup_word(piece.lemma.lower())
    if entry is None and piece.kind in ("other",):
        return FILLER
    return entry


def words(text: str) -> list[Word]:
    """Korean text → resolver words."""
    pieces = _pieces(text)
    out: list[Word] = []
    last_piece: _Piece | None = None
    for index, piece in enumerate(pieces):
        if piece.kind == "boundary":
            out.append(Word(piece.text, FILLER, boundary=True, start=piece.start, end=piece.end))
            last_piece = None
            continue
        if piece.kind == "comma":
            out.append(Word(piece.text, LINK, comma=True, start=piece.start, end=piece.end))
            last_piece = None
            continue
        entry = _entry(piece)
        if entry is None and piece.kind == "adverb":
            entry = FILLER          # unlisted adverbs (그냥, 딱) carry no face content
        if entry is None and out and out[-1].entry is None and last_piece and last_piece.end == piece.start:
            out[-1].text += piece.text          # one unknown word split by Kiwi: 보라 + 색
            out[-1].end = piece.end
            last_piece = piece
            continue
        if piece.lemma in DIRECTIONS and piece.particle_form in TOWARD_PARTICLES:
            entry = DIRECTIONS[piece.lemma]     # 아래로 처진: a direction, not a place
        word = Word(_as_written(text, piece) if piece.kind == "predicate" else piece.text, entry,
                    start=piece.start, end=piece.end)
        if piece.kind == "predicate":
            word.back_first = piece.ending != "ETM" or _after_subject(pieces, index)
            word.adnominal = piece.ending == "ETM"
        elif piece.lemma in BEFORE_ITS_NOUN:
            word.back_first = True              # 수염 없이: about the noun before it
        elif isinstance(entry, Modifier) and ((index and _is_subject(pieces[index - 1]))
                                              or piece.particle_form in TOWARD_PARTICLES):
            word.back_first = True              # 수염은 흰색, 회색으로 바꿔줘: said of the noun before it
        word.locative = piece.particle == "JKB" and piece.particle_form in PLACE_PARTICLES
        word.subject = _is_subject(piece)
        word.joined = _joined(pieces, index)
        out.append(word)
        last_piece = piece
    return out


def _joined(pieces: list[_Piece], index: int) -> str | None:
    """"and" / "or" when the noun at index is listed with the next noun (눈과 코, 흉터나 점, 안경도 수염도)."""
    piece = pieces[index]
    if piece.kind != "noun":
        return None
    if piece.particle == "JC":
        return "or" if piece.particle_form in OR_PARTICLES else "and"
    if piece.particle_form == "도":
        following = next((p for p in pieces[index + 1:] if p.kind == "noun"), None)
        if following is not None and following.particle_form == "도":
            return "and"
    return None


def _as_written(text: str, piece: _Piece) -> str:
    """A predicate as the user wrote it (the whole word with its ending: 빛나는, 안녕하세요),
    which is how a reply names a word it did not understand, never its dictionary form."""
    start = text.rfind(" ", 0, piece.start) + 1
    end = text.find(" ", piece.end)
    return text[start:end if end >= 0 else len(text)].strip(".,!?~ ")


def _is_subject(piece: _Piece) -> bool:
    return piece.kind == "noun" and piece.particle in SUBJECT_PARTICLES and _entry(piece) is not FILLER


def _after_subject(pieces: list[_Piece], index: int) -> bool:
    """Whether this adnominal predicate describes the noun before it rather than the one after:
    that noun is marked as its subject (눈이 큰 남자), or stands right before it with its particle
    dropped and no adnominal of its own (턱 각진 얼굴, but not 큰 눈 작은 코). A predicate in
    between has taken that subject already (주근깨가 많은 빨간 머리)."""
    for k in range(index - 1, -1, -1):
        earlier = pieces[k]
        if earlier.kind in ("boundary", "comma", "predicate"):
            return False
        entry = _entry(earlier)
        if earlier.kind == "noun" and (isinstance(entry, Head) or entry is None):
            if earlier.particle in SUBJECT_PARTICLES:
                return True
            return earlier.particle is None and k == index - 1 and not _has_adnominal(pieces, k)
    return False


def _has_adnominal(pieces: list[_Piece], index: int) -> bool:
    before = pieces[index - 1] if index else None
    return before is not None and (before.ending == "ETM"
                                   or (before.kind == "noun" and isinstance(_entry(before), Modifier)))
