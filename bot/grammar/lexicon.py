"""The command words of both languages, as data. Both languages are accepted whatever the
user's locale; the locale only picks the language of suggestions.

Phrases are matched against the whole message after politeness is stripped (see text.py).
A space in a phrase matches any run of spaces, and no space at all where either side is
Hangul, so "새 얼굴" also matches "새얼굴". The UPPER_CASE strings ending in _EN / _KO are
regex fragments for the rules with arguments.
"""

from __future__ import annotations

# Korean request endings and English courtesy words that carry no intent. Endings are cut
# from the end of a message repeatedly ("합성해 주세요" → "합성해" → "합성"), longest first.
KO_ENDINGS = (
    "주시겠어요", "주실래요", "주세요", "줄래요", "줄래", "줘요", "줘", "주라", "봐요", "봐",
    "해요", "해라", "해", "할래요", "할래", "할게요", "할게", "하자", "합시다", "하고 싶어요", "하고 싶어",
    "싶어요", "이요", "요",
)
KO_FILLERS = ("좀", "한번", "그냥", "이제")
EN_LEADING = (
    "please", "pls", "plz", "can you", "could you", "would you", "will you", "can i", "could i",
    "i want to", "i'd like to", "i would like to", "i wanna", "let's", "lets", "let me", "now",
)
EN_TRAILING = ("please", "pls", "plz", "thanks", "thank you", "for me", "now")

# Regions a grid can show: the names backends use → the words for them.
REGIONS: dict[str, tuple[str, ...]] = {
    "eyes": ("eyes", "eye", "눈", "눈매"),
    "brows": ("eyebrows", "eyebrow", "brows", "brow", "눈썹"),
    "nose": ("nose", "코"),
    "mouth": ("mouth", "lips", "lip", "입", "입술"),
    "hair": ("hairstyle", "hair style", "hair", "머리", "머리카락", "머리 스타일", "헤어", "헤어스타일", "헤어 스타일"),
    "jaw": ("jaw", "chin", "턱", "턱선"),
    "face": ("face shape", "face outline", "얼굴형", "얼굴 형", "윤곽"),
    "ears": ("ears", "ear", "귀"),
    "facial_hair": ("beard", "facial hair", "moustache", "mustache", "수염"),
    "glasses": ("glasses", "안경"),
    "skin": ("skin", "피부"),
}

# Remix layer groups (StyleGAN's coarse / middle / fine) → the words for them.
LAYERS: dict[str, tuple[str, ...]] = {
    "coarse": ("coarse", "shape", "structure", "큰 틀", "형태", "골격"),
    "middle": ("middle", "mid", "features", "중간", "이목구비"),
    "fine": ("fine", "details", "detail", "colours", "colors", "colour", "color", "세부", "디테일", "색감", "색깔", "색"),
}

# Morph modes → the words for them ("style mix", "속성 합성").
MORPH_MODES: dict[str, tuple[str, ...]] = {
    "linear": ("linear", "lerp", "선형"),
    "style": ("style", "style mixing", "style mix", "스타일"),
    "attribute": ("attributes", "attribute", "channel", "속성", "특징"),
}

# The kinds of style workers can serve (facegen backend names) → the built-in words for them.
# Operators' labels for their styles ("사진처럼") are matched by the core, not here.
STYLES: dict[str, tuple[str, ...]] = {
    "stylegan": ("photo", "photoreal", "photorealistic", "realistic", "real", "photo-like", "실사", "사진처럼",
                 "사진 같은", "사진같이", "사진풍"),
    "montage": ("drawn", "drawing", "cartoon", "sketch", "montage", "그림", "그림체", "만화", "만화처럼", "그림처럼",
                "몽타주", "그림풍"),
}
# Asking for the list of styles; a style chosen by any name after STYLE_KEY_* ("art style photo",
# "화풍 사진처럼"). Plain "style" / "스타일" is taken: it asks for a remix.
STYLE_LIST = ("styles", "art styles", "art style", "list styles", "style list", "drawing styles", "화풍",
              "화풍 목록", "그림 스타일", "스타일 목록", "그림체 목록", "스타일 종류")
STYLE_KEY_EN = r"(?:/style|art\s+style|drawing\s+style|styles?\s*[:=])"
STYLE_KEY_KO = r"(?:화풍|그림\s*스타일)"
STYLE_CHANGE_KO = r"(?:바꿔|변경|설정|해|그려|만들어)"

LOCALE_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("en", "english", "eng", "영어", "잉글리시"),
    "ko": ("ko", "kr", "korean", "한국어", "한글", "한국말"),
}

# Words that mean the user's own current face in a morph.
ME = ("me", "myself", "my face", "mine", "my current face", "current face", "this face", "this one",
      "나", "내 얼굴", "저", "제 얼굴", "지금 얼굴", "현재 얼굴", "이 얼굴")
# Words around a morph that are neither a party, a ratio nor a mode.
MORPH_FILLERS = ("with", "and", "at", "to", "by", "ratio", "of", "a", "the", "into", "using", "mode",
                 "together", "faces", "face", "photo", "picture", "in", "&", "+", "x", "비율", "비율로", "모드",
                 "모드로", "방식", "방식으로", "로", "으로", "랑", "이랑", "하고", "와", "과", "같이", "함께", "얼굴",
                 "사진", "해서", "서로")
# Particles cut from the end of a name in a morph ("아이유랑" → "아이유"). Not 이/가/은/는/도,
# which end too many names.
NAME_PARTICLES = ("이랑", "하고", "이와", "이를", "으로", "에게", "한테", "랑", "와", "과", "을", "를", "로",
                  "의")

# Verbs and nouns of the parametric intents, as regex fragments.
SHOW_EN = r"(?:show(?:\s+me)?(?:\s+(?:the|some|other|more))?|see|change(?:\s+the)?|options\s+for)"
SHOW_EN_AFTER = r"(?:options|choices|candidates|grid|\?)"
SHOW_KO_AFTER = r"(?:후보(?:들)?(?:을|를)?\s*(?:보여|보기|볼래|보자)?|보여|보기|볼래|보자|골라\s*볼래|바꿔|바꾸기|바꿀래|변경)"
OTHER = r"(?:other|different|another|new|다른|새)"
PICK_EN = r"(?:pick|choose|select|take|i'?ll\s+take|go\s+with|use)"
PICK_KO = r"(?:골라|고를래|고를게|고르기|선택|할게|할래|하기|로\s*할게|로\s*할래)"
NUMBER_WORD = r"(?:number|no\.?|num|#)"
BACK_EN = r"(?:back\s+to|go\s+back\s+to|go\s+to|return\s+to|revert\s+to|jump\s+to|switch\s+to)"
BACK_KO = r"(?:돌아가|돌아가기|돌아갈래|돌려|되돌려|되돌리기|가|가기|갈래|복귀)"
MORPH_EN = r"\b(?:morph(?:ing)?|mix|blend|merge|combine|fuse)\b"
MORPH_KO = r"(?:합성|섞|믹스|모핑|모프|합쳐|합치)[가-힣]*"   # the verb with its ending: 섞어서, 합쳐줘
REMIX_EN = r"(?:remix(?:es)?|restyle|re-style)"
REMIX_KO_VERB = r"(?:바꿔|바꾸기|바꿀래|변경|다르게|리믹스)"
REMIX_KO_NOUN = r"(?:스타일|분위기|느낌|리믹스)"
SAVE_EN = r"(?:save(?:\s+(?:this\s+face|this\s+one|this|it))?(?:\s+as)?)"
SAVE_KO = r"(?:저장(?:하기)?)"
# What "save this" calls the face: not a name, so the core asks for one.
THIS_FACE = ("this", "it", "this one", "this face", "face", "이거", "이것", "이걸", "이 얼굴", "지금 얼굴", "현재 얼굴", "얼굴")
LOAD_EN = r"(?:load|restore)"
LOAD_KO = r"(?:불러오기|불러와|불러오|열기|열어)"
DESCRIBE = r"(?:describe|description|묘사|설명)"
# Asking for the current face in words ("describe my face", "내 얼굴 설명해줘"): read before DESCRIBE.
DESCRIBE_FACE_EN = r"(?:describe|description\s+of)\s+(?:my|this|the|the\s+current|my\s+current)\s+(?:face|one)"
DESCRIBE_FACE_KO = r"(?:(?:내|제|이|지금|현재)\s*)?얼굴\s*(?:을|를)?\s*(?:설명|묘사)(?:해)?"
LANGUAGE = r"(?:lang|language|locale|speak|in|언어|말)"
LANGUAGE_KO_AFTER = r"(?:(?:로|으로)?\s*(?:바꿔|변경|말해|대화|설정|해)?)"
# Free-text edits (issue #17): an explicit frame around words the parser does not read in full.
# English: "make it look like a vampire", "make them look spooky"; Korean: "뱀파이어처럼 보이게 (해줘)",
# "뱀파이어처럼 만들어 줘", "뱀파이어 느낌으로 (바꿔 줘)". The words are what the frame surrounds.
LOOK_EN = (r"(?:make|turn)\s+(?:it|them|him|her|this|that|this\s+(?:face|one)|the\s+face|my\s+face)"
           r"\s+(?:look|seem)")
LOOK_KO_VERB = r"(?:해|만들어|바꿔|그려|하게)"
LOOK_KO = rf"(?:처럼|같이|같아|같게)\s*(?:보이게|보이도록)(?:\s*{LOOK_KO_VERB})?|(?:처럼|같이)\s*{LOOK_KO_VERB}"
FEEL_KO = rf"(?:의\s*)?느낌\s*(?:으로|이\s*나게|나게)(?:\s*{LOOK_KO_VERB})?"
# Breeding (issue #21): selecting several faces of an array, the next array, keeping one, locks.
SELECT_EN = r"(?:select|pick|choose|take|i\s+like|i'?ll\s+take)"
SELECT_KO = r"(?:골라|고를게|고를래|고름|선택|찜|닮았어|비슷해)"
LIST_SEPARATOR = r"(?:\s*(?:,|、|&|\band\b|이랑|랑|하고|와|과)\s*|\s+)"
NEXT_EN = r"(?:next(?:\s+round)?|breed(?:\s+next)?)"
NEXT_KO = r"(?:다음|교배)"
DONE_EN = r"(?:done|finish|final|keep\s+number|that'?s)"
DONE_KO = r"(?:이걸로|이거로|결정|최종)"
LOCK_EN = r"(?:keep|lock|freeze)"
LOCK_AFTER_EN = r"(?:as\s+(?:they\s+are|it\s+is|is)|the\s+same|locked|unchanged)"
LOCK_STAYS_EN = r"(?:stays?|are|is)\s+(?:the\s+same|right|fine|good|locked)"
LOCK_KO = r"(?:그대로|고정|유지|잠금|잠가)(?:\s*(?:해|둬|두고|둘래|둘게|놔\s*둬|시켜|할래|할게|하고))?"
UNLOCK_EN = r"(?:unlock|unfreeze|release)"
UNLOCK_CHANGE_EN = r"(?:can|may)\s+change(?:\s+again)?"
UNLOCK_KO = r"(?:(?:고정|잠금)\s*(?:해제|풀어|풀기|취소)|바꿔도\s*(?:돼|됨|괜찮아))"
HELP_EN = r"(?:help(?:\s+(?:with|on))?|how\s+(?:do\s+i|to|does)|what\s+is)"
HELP_KO = r"(?:도움말|도움|사용법|하는\s*법|하는\s*방법|방법|은\s*어떻게|는\s*어떻게|어떻게)"

# Whole-message phrases of the intents that take no argument.
FIXED: dict[str, tuple[str, ...]] = {
    "new": ("new", "new face", "a new face", "random", "random face", "a random face", "another face",
            "new random face", "start over", "새 얼굴", "새로운 얼굴", "새로", "랜덤", "랜덤 얼굴", "아무나",
            "아무 얼굴", "아무거나", "새 얼굴 만들어", "새로 만들어", "랜덤으로", "다시 시작"),
    "variations": ("variations", "variation", "variants", "show variations", "more like this", "similar faces",
                   "similar", "변형", "변형 보여", "변형해", "비슷한 얼굴", "비슷한 얼굴들", "비슷하게"),
    "remix": ("remix", "remix style", "restyle", "change style", "change the style", "change the mood",
              "different style", "스타일 바꿔", "분위기 바꿔", "스타일 변경", "분위기 변경", "리믹스",
              "느낌 바꿔", "스타일", "다른 스타일"),
    "undo": ("undo", "go back", "back", "step back", "revert", "previous", "되돌리기", "되돌려", "되돌리",
             "실행 취소", "뒤로", "뒤로 가기", "뒤로 가", "이전", "이전으로", "전으로", "전 얼굴", "아까 얼굴"),
    "redo": ("redo", "forward", "go forward", "다시 하기", "다시하기", "다시 실행", "다시", "앞으로", "앞으로 가기",
             "앞으로 가"),
    "history": ("history", "show history", "my faces", "my history", "timeline", "tree", "기록", "기록 보여",
                "히스토리", "내 얼굴들", "내 기록", "내 얼굴 목록", "이력"),
    "cancel": ("cancel", "stop", "cancel jobs", "cancel it", "abort", "취소", "그만", "중지", "멈춰", "작업 취소"),
    "gallery": ("celebs", "celebrities", "celeb list", "celebrity list", "gallery", "show celebs", "list celebs",
                "who can i morph with", "연예인 목록", "연예인", "연예인 리스트", "연예인 보여", "갤러리", "셀럽",
                "셀럽 목록", "유명인", "유명인 목록"),
    "delete": ("delete my data", "delete all my data", "delete everything", "delete my account", "forget me",
               "erase my data", "remove my data", "내 데이터 삭제", "데이터 삭제", "내 정보 삭제", "내 데이터 지워",
               "내 데이터 전부 삭제", "모든 데이터 삭제", "탈퇴", "나를 잊어"),
    "confirm": ("yes", "y", "yeah", "yep", "confirm", "ok", "okay", "sure", "do it", "네", "예", "응", "어",
                "확인", "좋아", "그래", "맞아", "삭제 확인"),
    "decline": ("no", "n", "nope", "never mind", "nevermind", "keep it", "don't", "아니", "아니오", "아뇨",
                "아냐", "싫어", "안 해", "안 할래", "괜찮아"),
    "help": ("help", "?", "commands", "what can you do", "how does this work", "menu", "도움말", "도움",
             "도와", "명령어", "사용법", "뭐 할 수 있어", "메뉴"),
    "status": ("status", "queue", "progress", "where is my face", "is it done", "상태", "진행 상황", "진행상황",
               "대기열", "얼마나 걸려", "언제 돼", "다 됐어", "작업 상태"),
    "hello": ("hi", "hello", "hey", "hiya", "good morning", "good evening", "안녕", "안녕하세요", "안녕하십니까",
              "하이", "헬로", "반가워", "반가워요", "반갑습니다", "처음 뵙겠습니다"),
    "thanks": ("thanks", "thank you", "thanks a lot", "thank you so much", "thx", "ty", "고마워", "고마워요",
               "고맙습니다", "감사", "감사해요", "감사합니다", "땡큐", "수고했어", "수고하셨어요"),
    "web": ("web", "web chat", "web login", "web link", "login link", "open in browser", "browser", "웹",
            "웹 채팅", "웹으로", "웹 로그인", "웹 링크", "로그인 링크", "브라우저", "브라우저로"),
    "breed": ("breed", "breeding", "start breeding", "breed faces", "evolve", "교배", "교배 시작",
              "교배하기", "얼굴 교배", "여러 개 골라서 섞어", "여러 개 골라서 섞기", "여러 얼굴 골라서 섞어",
              "골라서 섞어", "여러 개 섞어"),
    "next": ("next", "next round", "next array", "next generation", "breed next", "breed the next", "breed them", "breed these", "다음",
             "다음 배열", "다음 세대", "다음 라운드", "다음 단계", "다음으로", "다음 거", "교배 계속", "계속 교배"),
    "done": ("done", "i'm done", "im done", "finish", "finished", "that's the one", "that's it", "이걸로",
             "이거로", "이걸로 결정", "이걸로 정할게", "결정", "완료"),
    "stop_breeding": ("stop breeding", "end breeding", "quit breeding", "cancel breeding", "no more breeding",
                      "교배 그만", "교배 끝", "교배 중지", "교배 멈춰", "교배 취소", "교배 종료", "그만 교배"),
    "unlock": ("unlock", "unlock all", "unlock everything", "release locks", "잠금 해제", "고정 해제", "고정 풀어",
               "고정 풀기", "다 풀어", "모두 풀어", "잠금 풀어"),
    "me": ("me", "my face", "my photo", "use my photo", "use my face", "나", "내 얼굴", "내 사진", "제 사진",
           "제 얼굴", "셀카"),
}

FIXED_AFTER = r"(?:보여|보기|알려|볼래|목록|리스트)"

# Example commands per intent in each language: what NotUnderstood suggests and Help lists.
# The first example of each is the one shown; the fuzzy matcher also compares against FIXED.
EXAMPLES: dict[str, dict[str, tuple[str, ...]]] = {
    "new": {"en": ("new", "random", "new 42"), "ko": ("새 얼굴", "랜덤", "아무나")},
    "describe": {"en": ("describe a round face with big eyes",), "ko": ("묘사 눈이 큰 둥근 얼굴",)},
    "describe_face": {"en": ("describe my face",), "ko": ("내 얼굴 설명해줘",)},
    "show": {"en": ("show eyes", "show nose", "variations"), "ko": ("눈 보여줘", "코 후보", "변형")},
    "pick": {"en": ("pick eyes 3", "eyes 3", "3"), "ko": ("눈 3번", "3번", "눈 3번 골라줘")},
    "morph": {"en": ("morph me with <name> at 0.7", "morph with #12 at 0.4"),
              "ko": ("나랑 <이름> 0.7로 합성", "나 70% <이름> 30%로 섞어줘")},
    "remix": {"en": ("remix style", "remix fine", "remix 4"), "ko": ("스타일 바꿔줘", "분위기 바꿔줘")},
    "edit": {"en": ("more smile", "older", "add glasses", "no beard"),
             "ko": ("더 웃게", "나이 들게", "안경 씌워줘", "수염 없애줘")},
    "free_text": {"en": ("make it look like a vampire", "make them look spooky"),
                  "ko": ("뱀파이어처럼 보이게", "빈티지 느낌으로")},
    "undo": {"en": ("undo",), "ko": ("되돌리기",)},
    "redo": {"en": ("redo",), "ko": ("다시 하기",)},
    "history": {"en": ("history",), "ko": ("기록",)},
    "back": {"en": ("back to 5",), "ko": ("5번으로",)},
    "save": {"en": ("save <name>",), "ko": ("저장 <이름>",)},
    "load": {"en": ("load <name>",), "ko": ("불러오기 <이름>",)},
    "cancel": {"en": ("cancel",), "ko": ("취소",)},
    "me": {"en": ("me (send a photo)",), "ko": ("내 사진 (사진 보내기)",)},
    "gallery": {"en": ("celebs",), "ko": ("연예인 목록",)},
    "style": {"en": ("styles", "photo style", "drawn style"), "ko": ("화풍", "실사로 바꿔줘", "그림체로 바꿔줘")},
    "language": {"en": ("lang en", "lang ko"), "ko": ("언어 한국어", "언어 영어")},
    "delete": {"en": ("delete my data",), "ko": ("내 데이터 삭제",)},
    "help": {"en": ("help",), "ko": ("도움말",)},
    "status": {"en": ("status",), "ko": ("상태",)},
    "web": {"en": ("web",), "ko": ("웹",)},
    "breed": {"en": ("breed",), "ko": ("교배",)},
    "select": {"en": ("3 5 7", "select 3 5"), "ko": ("3번 5번 7번", "3번이랑 5번 골라")},
    "next": {"en": ("next", "next 1 3 5"), "ko": ("다음", "다음 1 3 5")},
    "done": {"en": ("done", "done 3"), "ko": ("이걸로", "이걸로 3")},
    "lock": {"en": ("keep the eyes", "unlock"), "ko": ("눈은 그대로", "고정 해제")},
    "stop_breeding": {"en": ("stop breeding",), "ko": ("교배 그만",)},
}
# Words the fuzzy matcher compares against for intents whose phrases take arguments.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "describe": ("describe", "description", "묘사", "설명"),
    "show": ("show eyes", "show nose", "show mouth", "eyes", "nose", "눈 보여", "코 후보", "입 후보"),
    "pick": ("pick", "choose", "select", "골라", "선택", "번"),
    "morph": ("morph", "mix", "blend", "merge", "합성", "섞어", "믹스"),
    "back": ("back to", "go to", "번으로", "돌아가"),
    "save": ("save", "저장"),
    "load": ("load", "open", "불러오기", "불러와"),
    "language": ("lang", "language", "english", "korean", "언어", "영어", "한국어"),
    "style": ("styles", "art style", "화풍", "그림체", "실사"),
    "breed": ("breed", "교배"),
    "edit": ("more", "less", "older", "younger", "add", "remove", "더", "덜", "없애", "씌워", "나이 들게", "웃게"),
    "free_text": ("make it look like", "make it look", "처럼 보이게", "느낌으로"),
}
# What an unrecognised message is offered when nothing is close.
DEFAULT_SUGGESTIONS = ("help", "new", "describe")

# Moderator commands (the core refuses them to everyone else). A leading "/" is allowed (web
# and Discord text; Telegram's own commands arrive without it).
MOD_VERBS: dict[str, tuple[str, ...]] = {
    "unhide": ("unhide", "숨김 해제", "숨김 취소", "숨기기 해제", "숨기기 취소", "다시 보이기"),
    "hide": ("hide", "숨기기", "숨김", "숨겨"),
    "unban": ("unban", "차단 해제", "차단 취소", "차단 풀기", "밴 해제", "이용 정지 해제"),
    "ban": ("ban", "차단", "밴", "이용 정지"),
}
MOD_USER_WORD = r"(?:user|사용자|유저)\s*"
MOD_FACE_WORD = r"(?:face|얼굴)\s*"
