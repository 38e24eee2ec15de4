"""Korean particles follow the word before them, and no two-way form reaches a user."""

from __future__ import annotations

import re
import string

import pytest

from bot.conversation.josa import PARTICLES, attach_particles
from bot.conversation.replies import TEXTS, say


@pytest.mark.parametrize("written, read", [
    ("#3(으)로 되돌렸어요", "#3으로 되돌렸어요"),        # 삼: ㅁ
    ("#2을(를) 고쳤어요", "#2를 고쳤어요"),            # 이
    ("#7(으)로", "#7로"), ("#8을(를)", "#8을"),        # 칠, 팔: ㄹ takes 로 but 을
    ("#10(으)로", "#10으로"), ("#100은(는)", "#100은"), ("#1000이(가)", "#1000이"), ("#20000(으)로", "#20000으로"),
    ("#5은(는)", "#5는"), ("#0(으)로", "#0으로"),
    ("'수염남'(으)로 저장했어요", "'수염남'으로 저장했어요"), ("'서울'(으)로", "'서울'로"), ("'소라'을(를)", "'소라'를"),
    ("사진 같은(으)로", "사진 같은으로"), ("그림체(으)로 그려요", "그림체로 그려요"),
    ("Sora은(는)", "Sora는"), ("Bob을(를)", "Bob을"), ("Paul(으)로", "Paul로"), ("'zzyzx'은(는)", "'zzyzx'은"),
    ("사용자 12(alice)을(를)", "사용자 12(alice)를"),
])
def test_each_particle_follows_the_word_before_it(written, read):
    assert attach_particles(written) == read


def _sample(name: str) -> str:
    return {"number": "3", "parent": "12", "name": "수염남", "style": "그림체"}.get(name, "값")


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_no_two_way_particle_reaches_a_user(key):
    names = {field for _, field, _, _ in string.Formatter().parse(TEXTS[key]["ko"]) if field}
    for filler in (_sample, lambda name: "7", lambda name: "Sora", lambda name: "🙂"):
        text = say("ko", key, **{name: filler(name) for name in names})
        assert not any(marker in text for marker in PARTICLES), (key, text)
        assert not re.search(r"\((?:으|이|을|를|은|는|가|과|와)\)", text), (key, text)
