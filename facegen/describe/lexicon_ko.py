"""Korean words, by lemma as facegen.describe.korean builds it: nouns as written (compounds
joined: 입꼬리, 눈꼬리), predicates in dictionary form (크다, 올라가다, 까무잡잡하다), adverbs as
written. A predicate built from a noun or root + 하다 is also found under the bare root, so
성실 covers 성실하다 / 성실해 / 성실한."""

from __future__ import annotations

from facegen.describe import lexicon as L
from facegen.describe.lexicon import (FILLER, LINK, PLAIN, SLIGHT, VERY, Comparative, Degree, Head,
                                      Negator, Position, S, Table, head, mod, person)

KO = Table()
add = KO.add

# ---- people, age -----------------------------------------------------------------------------
add(person("male"), "남자", "남성", "남", "사내", "남학생", "오빠", "형", "아빠", "아버지", "신사")
add(person("female"), "여자", "여성", "여", "여학생", "언니", "누나", "엄마", "어머니", "숙녀")
add(person("male", "middle"), "아저씨")
add(person("female", "middle"), "아줌마", "아주머니")
add(person("male", "senior"), "할아버지", "할아범", "노신사")
add(person("female", "senior"), "할머니")
add(person("male", "teen"), "소년")
add(person("female", "teen"), "소녀")
add(person("male", "twenties"), "청년", "총각")
add(person("female", "twenties"), "아가씨")
add(Head("person", (S("skin_tone", "fair"),)), "백인")
add(Head("person", (S("skin_tone", "dark"),)), "흑인")
add(person(age="child", weak_age=False), "아이", "어린이", "꼬마", "아기", "애", "유아")
add(person(age="teen", weak_age=False), "청소년", "십대", "고등학생", "중학생")
add(person(age="twenties", weak_age=False), "이십대", "대학생")
add(person(age="thirties", weak_age=False), "삼십대")
add(person(age="middle", weak_age=False), "중년", "사십대", "오십대", "장년")
add(person(age="senior", weak_age=False), "노인", "노년", "어르신", "육십대", "칠십대", "팔십대", "노년층")
add(head("age"), "나이", "연세", "나잇대")
add(L.YOUNG, "젊다", "앳되다", "젊어보이다")
add(L.CHILDLIKE, "어리다")
add(L.OLD, "늙다", "나이들다", "늙수그레하다")
add(L.AGE_UP, "들다", "먹다")              # 나이 (가) 든 / 나이 먹은
add(L.MANY, "많다")

# ---- face, jaw ------------------------------------------------------------------------------
add(head("face"), "얼굴", "얼굴형", "얼굴선", "윤곽", "얼굴라인", "이목구비", "생김새", "외모", "용모", "인물")
add(head("face", S("face_shape", "oval")), "계란형", "달걀형", "타원형", "계란")
add(head("face", S("face_shape", "round")), "둥근형", "원형")
add(head("face", S("face_shape", "square")), "사각형", "각진형", "네모형")
add(head("face", S("face_shape", "long")), "말상", "긴얼굴")
add(head("face", S("face_shape", "heart")), "하트형", "역삼각형")
add(head("face", S("face_shape", "v")), "V라인", "v라인", "브이라인", "갸름형")
add(head("jaw"), "턱", "턱선", "아래턱", "턱라인", "턱끝")
add(head("jaw", S("face_shape", "square")), "사각턱")
add(head("jaw", S("face_shape", "v")), "뾰족턱", "브이턱")
add(head("cheeks"), "볼", "뺨", "양볼", "볼살", "볼따구", "볼때기", "양뺨")
add(head("cheeks", S("cheek_fullness", PLAIN)), "젖살")
add(head("cheekbones"), "광대", "광대뼈", "앞광대", "옆광대", "광대라인")
add(head("forehead"), "이마")
add(head("hairline"), "헤어라인", "이마선", "이마라인", "앞머리라인", "머리라인", "앞이마선")
add(head("ears"), "귀", "귓바퀴", "귓불", "양귀")
add(L.M_SHAPED, "M자", "m자", "엠자", "M자형")
add(L.WIDOWS_PEAK, "V자", "v자", "브이자", "V자형")
add(L.RECEDING, "밀리다", "후퇴하다")      # 이마선이 뒤로 밀린
# 이마가 훤한: an open, high forehead
add(L.vary(L.BRIGHT, forehead=S("forehead_height", PLAIN)), "훤하다")
add(L.V_SHAPE, "갸름하다", "갸름")
add(L.ROUND, "둥글다", "동그랗다", "둥그렇다", "둥글둥글하다", "동글동글하다", "동글하다")
add(L.SQUARE, "각지다", "네모나다", "각", "모나다")
add(L.V_SHAPE, "뾰족하다", "브이", "날렵하다")
add(L.CHUBBY, "통통하다", "포동포동하다", "토실토실하다", "빵빵하다", "오동통하다", "뚱뚱하다", "살찌다", "퉁퉁하다")
add(head("cheeks", S("cheek_fullness", PLAIN)), "이중턱", "두턱")
# 살 (after a number, 서른 살, an age: korean.py reads that first): flesh, what 살 빼 / 살이 찐 speak of
add(head("cheeks"), "살")
add(L.CHUBBY, "찌다", "찌우다")

# ---- hair -----------------------------------------------------------------------------------
add(head("hair"), "머리", "머리카락", "머릿결", "헤어", "두발", "모발", "머리숱", "헤어스타일", "머리스타일",
    "생머리", "머리칼", "직모", "숱")
add(head("hair", S("hair_style", "bowl")), "바가지", "바가지머리", "버섯머리")
add(head("hair", S("hair_style", "bob")), "단발", "단발머리", "보브", "단발컷")
add(head("hair", S("hair_style", "long"), S("hair_length", PLAIN)), "장발", "긴머리")
add(head("hair", S("hair_style", "short"), S("hair_length", -PLAIN)), "숏컷", "숏커트", "커트머리", "짧은머리",
    "투블럭", "투블록", "쇼트커트")
add(head("hair", S("hair_style", "buzz")), "삭발", "까까머리", "빡빡머리", "스포츠머리", "반삭", "군인머리",
    "스님머리")
add(head("hair", S("hair_style", "bald")), "대머리", "민머리")
add(head("hairline", S("hairline", "receding")), "탈모")
add(head("hair", S("hair_style", "curly")), "곱슬", "곱슬머리", "파마", "파마머리", "펌", "뽀글머리", "아프로",
    "뽀글파마")
add(head("hair", S("hair_style", "wavy")), "웨이브", "웨이브펌", "물결머리")
add(head("hair", S("hair_style", "ponytail")), "포니테일", "꽁지머리", "말총머리", "묶음머리", "묶은머리")
add(head("hair", S("hair_style", "bun")), "똥머리", "올림머리", "번", "상투", "쪽머리", "만두머리")
add(head("hair", S("hair_style", "side_part")), "가르마", "옆가르마", "가르마펌")
add(head("hair", S("hair_style", "bangs")), "앞머리", "뱅", "뱅헤어", "뱅스타일")
add(head("hair", S("hair_colour", "grey")), "흰머리", "새치", "은발", "반백", "회색머리")
add(head("hair", S("hair_colour", "white")), "백발", "백발머리")
add(head("hair", S("hair_colour", "blond")), "금발", "금발머리", "노랑머리")
add(head("hair", S("hair_colour", "black")), "흑발", "검은머리", "까만머리")
add(head("hair", S("hair_colour", "brown")), "갈색머리")
add(head("hair", S("hair_colour", "red")), "빨간머리", "적발", "빨강머리")
add(L.CURLY, "곱슬곱슬하다", "뽀글뽀글하다", "구불구불하다", "볶다")
add(L.WAVY, "굽슬굽슬하다", "구불거리다")
add(mod(mouth=(), lips=(), quiet=True), "벌리다", "다물다", "오므리다")
add(L.STRAIGHT, "곧다", "찰랑찰랑하다", "찰랑거리다", "생")
add(L.TIED_BACK, "묶다", "질끈")
add(L.BALD, "벗겨지다", "빠지다")
add(L.HAIR_MEDIUM_LENGTH, "어깨")           # 어깨까지 오는 머리
add(L.HAIR_VERY_LONG, "허리")

# ---- colours --------------------------------------------------------------------------------
add(L.WHITE, "희다", "하얗다", "하양", "흰색", "하얀색", "새하얗다", "허옇다")
add(L.BLACK, "검다", "까맣다", "검정", "검정색", "검은색", "까만색", "새까맣다", "시커멓다")
add(L.DARK, "어둡다", "거무스름하다", "거무튀튀하다")
add(L.DARK_SKIN, "까무잡잡하다", "가무잡잡하다", "거무잡잡하다", "까무잡잡")
add(L.BRIGHT, "밝다", "환하다")
add(L.PALE, "창백하다", "뽀얗다", "뽀얀", "해맑다", "새하얀")
add(L.TAN, "구릿빛", "그을리다", "햇볕", "태닝", "건강한피부", "탄탄하다", "구리빛", "그을다")
add(L.MEDIUM_SKIN, "중간", "보통", "중간톤", "황색", "살구색", "노르스름하다")
add(L.BROWN, "갈색", "밤색", "브라운", "갈색빛", "고동색")
add(L.BLOND, "노랗다", "노란색", "금색", "노랑")
add(L.RED, "붉다", "빨갛다", "빨간색", "빨강", "붉은색", "적갈색", "주황색")
add(L.GREY, "희끗희끗하다", "희끗하다", "회색", "잿빛", "은색", "은빛", "희끗희끗")
add(L.BLUE, "파랗다", "푸르다", "파란색", "푸른색", "파랑", "청색", "하늘색", "파란빛", "푸른빛", "벽안")
add(L.GREEN, "초록", "초록색", "녹색", "초록빛", "녹색빛", "연두색", "에메랄드")
add(L.HAZEL, "헤이즐", "헤이즐색", "담갈색")

# ---- eyes, brows ----------------------------------------------------------------------------
add(head("eyes"), "눈", "눈매", "눈동자", "두눈", "눈망울", "눈빛", "눈모양")
add(head("eyes", S("eye_size", VERY)), "왕눈", "왕눈이", "눈망울이큰")
add(head("eyes", S("eye_size", -VERY)), "실눈")
add(head("eye_corners"), "눈꼬리", "눈끝", "눈초리", "눈가", "눈꼬리선")
add(head("eye_spacing"), "미간", "눈사이", "눈간격", "양미간")
add(head("double_eyelid"), "쌍꺼풀", "쌍커풀", "쌍꺼플", "쌍커플", "속쌍꺼풀", "속쌍", "쌍수", "겉쌍", "쌍꺼풀눈")
add(head("double_eyelid", S("double_eyelid", False)), "홑꺼풀", "외꺼풀", "무쌍", "홑눈꺼풀", "외겹")
add(head("brows"), "눈썹", "눈썹모양")
add(head("brows", S("brow_shape", "straight")), "일자눈썹")
add(head("brows", S("brow_shape", "angled")), "갈매기눈썹")
add(head("brows", S("brow_shape", "arched")), "아치눈썹", "아치형눈썹")
add(L.STRAIGHT, "일자", "일자형")
add(L.ARCHED, "아치", "아치형", "휘다", "휘어지다")
add(L.ANGLED, "갈매기")
add(L.UP, "올라가다", "치켜올라가다", "올라붙다", "올리다", "치켜뜨다", "치솟다", "올라오다")
add(L.DOWN, "내려가다", "내리다")
# position words; with 로 (아래로 처진) 위 / 아래 / 밑 are directions instead
add(Position(below=True), "밑", "아래", "아래쪽", "밑쪽")
add(Position(), "위", "위쪽", "옆", "옆쪽", "주변", "주위", "근처", "사이", "가운데", "언저리")
DIRECTIONS = {"위": L.UP, "위쪽": L.UP, "아래": L.DOWN, "아래쪽": L.DOWN, "밑": L.DOWN}
add(L.DROOPY, "처지다", "쳐지다", "늘어지다")
add(L.NARROW_EYES, "가늘다", "찢어지다", "째지다", "가느다랗다", "길쭉하다")
add(L.WIDE_SET, "멀다", "떨어지다")
add(L.CLOSE_SET, "가깝다", "붙다", "몰리다")
add(L.THICK, "굵다", "두껍다", "짙다", "두툼하다", "도톰하다", "두텁다", "풍성하다")
# 진한 눈썹 (dark, thick brows), 진한 쌍꺼풀 (a pronounced double eyelid)
add(mod(brows=S("brow_thickness", PLAIN), double_eyelid=L.PRESENT, lips=S("lip_fullness", PLAIN), eyes=()), "진하다")
add(L.LIGHT_BROWS, "연하다", "흐리다", "옅다")

# ---- nose, mouth ----------------------------------------------------------------------------
add(head("nose"), "코", "콧대", "코끝", "콧방울", "콧날", "코모양", "콧볼", "콧등", "코허리")
add(head("nose", S("nose_length", PLAIN)), "매부리코")
add(head("nose", S("nose_bridge", PLAIN)), "오똑코")
add(head("nose", S("nose_length", -SLIGHT)), "들창코")
add(head("nose", S("nose_size", PLAIN)), "주먹코", "복코", "왕코")
add(head("nose", S("nose_size", -PLAIN)), "단추코")
add(L.HIGH, "오똑하다", "오뚝하다", "높다", "우뚝하다", "오똑", "오뚝", "솟다", "높이다")
add(L.HIGH_NOSE, "서다", "세우다")         # 콧날이 선
add(L.LOW, "낮다", "낮추다")
add(L.FLAT, "납작하다", "펑퍼짐하다", "뭉개지다", "밋밋하다", "납작")
add(L.PROTRUDING, "튀어나오다", "나오다", "돌출되다", "돌출", "도드라지다", "불거지다", "두드러지다", "툭")
add(L.SUNKEN, "움푹하다", "움푹", "꺼지다", "들어가다", "퀭하다", "움푹패다")
add(L.BULBOUS_NOSE, "뭉툭하다", "뭉뚝하다", "둥글넓적하다")
add(head("mouth"), "입", "입모양", "입매", "입크기")
add(head("lips"), "입술", "윗입술", "아랫입술")
add(head("mouth_corners"), "입꼬리", "입끝", "입가", "입꼬리선")
add(head("smile"), "미소", "웃음", "웃상", "눈웃음", "웃는상", "스마일")
add(L.BIG, "크다", "큼직하다", "큼지막하다", "시원하다", "부리부리하다", "부리부리", "키우다")
add(L.HUGE, "커다랗다", "거대하다", "왕")
add(L.SMALL, "작다", "자그마하다", "조그맣다", "조그마하다", "앙증맞다")
add(L.TINY, "조그만하다", "쪼그맣다")
add(L.LONG, "길다", "기다랗다", "길쭉")
add(L.SHORT, "짧다", "짤막하다")
add(L.WIDE_KO, "넓다", "넓적하다", "퍼지다", "벌어지다")
add(L.NARROW_KO, "좁다", "좁장하다")
add(L.WIDE, "널찍하다")          # 널찍한 이마: broad from side to side
add(L.NARROW, "좁다랗다")
add(L.THIN, "얇다", "홀쭉하다", "마르다", "가냘프다", "날씬하다", "갸냘프다", "야위다", "수척하다")
add(L.FULL, "통통")

# ---- skin, wrinkles -------------------------------------------------------------------------
add(head("skin"), "피부", "피부색", "피부톤", "톤", "살결", "안색", "얼굴빛", "살갗", "피부결", "살색", "혈색",
    "낯빛", "얼굴색")
add(head("wrinkles"), "주름", "주름살", "팔자주름", "눈가주름", "이마주름", "미간주름", "목주름")
add(head("wrinkles", S("wrinkles", SLIGHT)), "잔주름")
add(L.WRINKLED, "주름지다", "쭈글쭈글하다", "자글자글하다", "쪼글쪼글하다")
add(L.SMOOTH, "매끈하다", "매끄럽다", "탱탱하다", "팽팽하다", "매끈매끈하다", "보들보들하다")
add(L.DEEP, "깊다", "깊숙하다", "패다", "패이다", "파이다")
add(L.FINE, "가볍다", "자잘하다")
add(L.FEW, "적다", "드물다", "듬성하다")
add(head("freckles"), "주근깨", "죽은깨", "주끈깨")
add(head("dimples"), "보조개", "볼우물")
add(head("moles"), "점", "반점", "검은점", "애교점", "복점", "점박이")
add(head("moles", S("moles", ("under_eye",))), "눈물점")
add(head("scars"), "흉터", "흉", "상처", "칼자국", "상처자국", "흉터자국", "흉자국", "화상자국", "수술자국", "자국",
    "칼빵", "꿰맨자국")
add(head("freckles", S("freckles", VERY)), "주근깨투성이")

# ---- beard, glasses -------------------------------------------------------------------------
add(head("beard"), "수염", "턱수염", "구레나룻", "구렛나루", "구레나루", "얼굴수염", "수염자국")
KO.words["수염자국"] = head("beard", S("beard", "stubble"))
add(head("beard", S("beard", "moustache")), "콧수염", "코밑수염", "카이저수염")
add(head("beard", S("beard", "goatee")), "염소수염", "턱밑수염")
add(head("beard", S("beard", "stubble")), "면도자국", "까칠수염")
add(L.STUBBLY, "거뭇거뭇하다", "거뭇하다", "까칠하다", "거뭇거뭇", "듬성듬성하다", "송송")
add(L.TIDY, "깔끔하다", "정리되다", "다듬다", "단정하다", "정돈되다", "손질되다", "정리하다", "가지런하다")
add(L.ROUGH, "덥수룩하다", "텁수룩하다", "지저분하다", "무성하다", "헝클어지다", "부스스하다", "덥수룩",
    "수북하다", "덥수룩히")
# 깔끔한 / 단정한: a tidy beard, and an impression whatever they describe
KO.words["깔끔하다"] = mod(impression="깔끔한", reported=True, beard=S("beard_tidy", True), hair=(), brows=())
KO.words["단정하다"] = mod(impression="단정한", reported=True, beard=S("beard_tidy", True), hair=(), brows=())
KO.words["깔끔"] = KO.words["말끔하다"] = KO.words["말끔"] = KO.words["깔끔하다"]
KO.words["단정"] = KO.words["단정하다"]
add(head("glasses"), "안경", "뿔테", "뿔테안경", "금테안경", "은테안경", "선글라스", "돋보기", "안경테", "무테안경")
add(L.HAVE, "있다", "나다", "기르다", "쓰다", "끼다", "착용하다", "띠다", "짓다", "걸치다", "씌우다", "넣다",
    "추가하다", "달다", "붙이다", "만들다", "그리다", "착용", "머금다", "찍다", "추가", "남다")
add(L.LACK, "없다", "없이", "없애다", "빼다", "지우다", "벗다", "벗기다", "제거하다", "사라지다", "제거")
BEFORE_ITS_NOUN = {"없이"}      # 수염 없이: describes the noun before it
add(L.SHAVE, "면도하다", "깎다", "밀다", "면도", "밀어버리다")

# ---- expression -----------------------------------------------------------------------------
add(L.SMILING, "웃다", "미소짓다", "방긋", "생글생글하다", "싱글벙글하다", "빙그레", "방실방실", "싱긋")
add(L.FROWNING, "찡그리다", "찌푸리다", "인상쓰다", "울상")
add(L.EXPRESSIONLESS, "무표정하다", "무표정", "덤덤하다", "포커페이스")

# ---- degrees, negation, comparison ----------------------------------------------------------
add(Degree(SLIGHT), "살짝", "약간", "조금", "좀", "다소", "약하게", "살며시", "은근히", "어느정도",
    "적당히", "슬쩍")
add(Degree(0.85), "꽤", "제법", "상당히", "꽤나", "비교적")
add(Degree(VERY), "투성이", "가득", "아주", "매우", "많이", "무척", "정말", "엄청", "굉장히", "너무", "진짜", "완전", "활짝",
    "환하게", "확", "심하게", "대단히", "몹시", "잔뜩", "치키다", "치켜", "되게", "엄청나다", "극히", "한껏",
    "푹", "쫙", "쭉", "훨씬")
add(Comparative(1), "더", "더욱", "좀더", "보다")
add(Comparative(-1), "덜", "줄이다", "줄다")
add(Negator("next"), "안", "못")
add(Negator("prev"), "않다", "아니다", "말다")

# ---- fillers --------------------------------------------------------------------------------
add(LINK, "모양", "형태", "스타일", "타입", "느낌", "라인", "형", "색", "색깔", "빛", "계열", "톤의")
add(FILLER, "이미지", "인상", "분위기", "편", "정도", "사람", "모습", "것", "수", "때", "부분", "쪽", "크기",
    "길이", "표정", "특징", "전체", "전체적", "전체적으로", "대체로", "특히", "그리고", "또", "또한", "그냥",
    "그", "이", "저", "다", "모두", "항상", "늘", "잘", "뒤", "앞", "하나", "둘", "두", "한",
    "쯤", "대", "세", "초반", "중반", "후반", "가량", "남짓", "중", "정", "깨끗이", "말끔히", "단정히",
    "보이다", "하다", "되다", "가지다", "생기다", "느껴지다", "같다", "가다", "오다", "주다", "바꾸다",
    "향하다", "타다", "싶다", "원하다", "이다", "보여지다", "지다", "닮다", "갖다", "보다", "주세요", "부탁",
    "혹은", "또는", "및", "등", "곳", "왼쪽", "오른쪽", "양쪽", "한쪽", "양", "개", "거",
    "시작", "범인", "용의자", "목격", "기억", "그렇다", "이렇다", "저렇다", "나", "저희", "우리", "제", "내", "그녀", "그분",
    "얼굴이", "상", "인", "자", "분", "님", "씨", "같이", "처럼", "만큼", "듯하다", "듯", "듯이", "만",
    "마치", "어떤", "모든", "각각", "약", "인상적", "특유", "특이", "평소", "주로", "다른", "게", "부위",
    "데", "면", "끝", "뭔가", "왠지", "거의", "역시", "조합", "느낌상", "겉모습", "모양새", "형상")

# ---- impressions (label reported in Description.impressions) --------------------------------
KO.impressions(
    "선하다=선한", "착하다=착한", "순하다=순한", "성실하다=성실한", "성실=성실한", "믿음=믿음직한",
    "믿다=믿음직한", "믿음직하다=믿음직한", "믿음직스럽다=믿음직한", "신뢰=믿음직한", "신뢰감=믿음직한",
    "듬직하다=듬직한", "건강하다=건강한", "건강=건강한", "촌스럽다=촌스러운", "촌=촌스러운", "무뚝뚝하다=무뚝뚝한",
    "날카롭다=날카로운", "깨끗하다=깨끗한", "친절하다=친절한", "친근하다=친근한", "다정하다=다정한",
    "따뜻하다=따뜻한", "온화하다=온화한", "부드럽다=부드러운", "차갑다=차가운", "강하다=강한", "강인하다=강인한",
    "귀엽다=귀여운", "잘생기다=잘생긴", "예쁘다=예쁜", "아름답다=아름다운", "멋지다=멋진", "세련되다=세련된",
    "지적=지적인", "똑똑하다=똑똑한", "무섭다=무서운", "사납다=사나운", "험악하다=험악한", "순수하다=순수한",
    "차분하다=차분한", "수수하다=수수한", "평범하다=평범한", "푸근하다=푸근한", "인자하다=인자한",
    "엄격하다=엄격한", "까칠하다=까칠한", "우울하다=우울한", "피곤하다=피곤한", "서글서글하다=서글서글한",
    "시원시원하다=시원시원한", "진지하다=진지한", "명랑하다=명랑한", "활발하다=활발한", "쾌활하다=쾌활한",
    "소탈하다=소탈한", "호감=호감형", "좋다=좋은", "선량하다=선량한", "온순하다=온순한", "정직하다=정직한",
    "솔직하다=솔직한", "듬직=듬직한", "동안=동안", "귀티=귀티", "세련=세련된", "매섭다=매서운",
    "고집스럽다=고집스러운", "카리스마=카리스마", "시크하다=시크한", "도도하다=도도한", "순박하다=순박한",
    "소박하다=소박한", "유순하다=유순한", "강아지상=강아지상", "고양이상=고양이상", "여우상=여우상",
    "곰상=곰상", "토끼상=토끼상", "공룡상=공룡상", "사슴상=사슴상", "여리다=여린", "씩씩하다=씩씩한", "늠름하다=늠름한",
    "성격=성격", "고상하다=고상한", "우아하다=우아한", "지적이다=지적인", "냉정하다=냉정한", "심술=심술궂은",
    "심술궂다=심술궂은", "장난스럽다=장난스러운", "장난기=장난스러운", "맑다=맑은", "선해=선한",
    "편안하다=편안한", "편하다=편안한", "안정감=안정감", "든든하다=든든한", "믿음직=믿음직한",
    "촌티=촌스러운", "순둥하다=순한", "슬프다=슬픈", "우울=우울한", "순둥이=순한", "인상좋다=좋은", "후덕하다=후덕한", "복스럽다=복스러운",
)
KO.words["건강한피부"] = L.TAN
# impressions whose look is known
for lemma, label in (("날카롭다", "날카로운"), ("매섭다", "매서운"), ("사납다", "사나운"), ("예리하다", "예리한")):
    KO.words[lemma] = L.sharp_look(label)
for lemma, label in (("진지하다", "진지한"), ("엄숙하다", "엄숙한"), ("근엄하다", "근엄한"), ("진지", "진지한")):
    KO.words[lemma] = L.serious_look(label)
KO.impressions("또렷하다=또렷한", "선명하다=선명한", "서양인=서양인 같은", "서양=서양인 같은", "외국인=외국인 같은",
               "이국적=이국적인", "동양적=동양적인")
# 밝다 describes skin or hair, else it is an impression (밝은 인상)
KO.words["밝다"] = mod(impression="밝은", skin=S("skin_tone", "fair"), hair=S("hair_colour", "blond"))
KO.words["부드럽다"] = mod(impression="부드러운", hair=(), beard=(), skin=())

# Compound nouns that Kiwi splits or that people write with a space ("입 꼬리", "눈 사이").
# The Korean front end joins neighbouring nouns when the joined form is listed above.
USER_WORDS = ("입꼬리", "눈꼬리", "일자", "광대뼈", "볼살", "젖살", "보조개", "주근깨", "눈물점", "콧볼", "콧등", "헤어라인",
              "곱슬", "쌍꺼풀", "쌍커풀", "쌍꺼플", "쌍커플", "속쌍꺼풀", "흰머리", "콧대", "턱선",
              "옆가르마", "포니테일", "숏컷", "똥머리", "올림머리", "왕눈이", "뿔테", "염소수염", "구레나룻",
              "무쌍", "홑꺼풀", "외꺼풀", "단발머리", "곱슬머리", "생머리", "계란형", "달걀형", "미간", "사각턱",
              "잔주름", "주름살", "뱅헤어", "꽁지머리", "까까머리", "빡빡머리", "스포츠머리", "민머리", "대머리",
              "이중턱")
USER_PREDICATES = (("진하", "VA"), ("각지", "VA"), ("오똑하", "VA"), ("오뚝하", "VA"), ("까무잡잡하", "VA"),
                   ("갸름하", "VA"), ("덥수룩하", "VA"), ("거뭇거뭇하", "VA"), ("희끗희끗하", "VA"),
                   ("무표정하", "VA"), ("두툼하", "VA"), ("쳐지", "VV"), ("도톰하", "VA"), ("뭉툭하", "VA"), ("주름지", "VV"),
                   ("튀어나오", "VV"), ("도드라지", "VV"))
