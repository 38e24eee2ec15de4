"""A new face from a sentence, ranked by the whole sentence (issue #17, part 4): on a model whose
worker has a CLIP that reads the sentence's language, a description is drawn from RANK_POOL
candidates and the one nearest the words is kept; its runners-up are a button away, as a sheet
of 4 to pick from. Through the real core, queue and worker, on the montage-trained 32-px
StyleGAN with tiny random CLIPs (one reading both languages, one English only). On SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.conversation import Conversation
from chat_harness import ChatHarness
from clip_served import make_clips, served  # noqa: F401  (a fixture)
from facegen.attributes import Attributes
from facegen.backend import Unsupported, child_seeds
from facegen.backends import load_backend
from facegen.facecode import FaceCode
from facegen.handlers import load
from facegen.recipes import RANK_POOL, RANKED_SHOWN, ranked_description
from ground.config import Settings
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.worker import Worker

SENTENCES = ["a smiling woman with black hair", "검은 머리에 웃는 여자", "a man with glasses"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    return make_clips(tmp_path_factory, SENTENCES)


async def photoreal_chat(engine, rank_pool: int = RANK_POOL) -> ChatHarness:
    chat = ChatHarness(engine)
    chat.worker = Worker(engine, load(Settings.from_env(), engine), queues=("default", "slow"))
    await chat.announce("stylegan")
    chat.conversation = Conversation(engine, default_backend="stylegan", size=64, rank_pool=rank_pool)
    await chat.start("alice")
    return chat


async def face(engine, number: int):
    async with session_factory(engine)() as session:
        repo = FaceRepository(session)
        return await repo.get_face_by_number(await repo.get_or_create_user("web", "alice"), number)


def buttons(reply) -> dict[str, str]:
    return {b.label: b.payload for row in reply.buttons for b in row}


def drawn(backend, attributes: dict, seed: int) -> bytes:
    return backend.from_attributes(Attributes(**attributes), seed).to_bytes()


async def test_a_description_keeps_the_candidate_nearest_the_sentence_and_offers_the_runners_up(
        engine, served, clips):
    served(clips["both"])
    chat = await photoreal_chat(engine)
    (made,) = [r for r in await chat.send("alice", "describe a smiling woman with black hair") if r.pictures]
    assert made.text.endswith(f"#1: your description, the closest to your words of {RANK_POOL} candidates.")
    first = await face(engine, 1)
    p, backend = first.params, load_backend("stylegan")
    assert p["rank"] == RANK_POOL and len(p["ranked"]) == RANKED_SHOWN and p["ranked"][0] == p["seed"]
    pool = child_seeds(p["pool_seed"], RANK_POOL)
    assert p["seed"] in pool and set(p["ranked"]) <= set(pool)
    # the kept face is the pool's best by the worker's own measure, and replays from its recipe alone
    scores = backend.text_similarity([backend.from_attributes(Attributes(**p["attributes"]), s) for s in pool],
                                     p["text"])
    assert p["text_similarity"] == pytest.approx(max(scores), abs=1e-4)
    assert [scores[pool.index(s)] for s in p["ranked"]] == sorted(scores, reverse=True)[:RANKED_SHOWN]
    assert first.code == drawn(backend, p["attributes"], p["seed"])

    (sheet,) = [r for r in await chat.send("alice", button=buttons(made)["See the 4 closest"]) if r.pictures]
    assert sheet.text == "Pick 1–4: closest match for #1." and sheet.pictures and len(buttons(sheet)) == 4
    (picked,) = [r for r in await chat.send("alice", button=buttons(sheet)["2"]) if r.pictures]
    assert picked.text.startswith("#2: closest match 2 picked for #1.")
    assert (await face(engine, 2)).code == drawn(backend, p["attributes"], p["ranked"][1])
    await chat.send("alice", "back to 1")
    (typed,) = [r for r in await chat.send("alice", "pick 1") if r.pictures]   # 1 is the kept face itself
    assert (await face(engine, 3)).code == first.code and typed.text.startswith("#3: closest match 1 picked for #1.")


async def test_korean_is_ranked_where_the_text_side_reads_it_and_drawn_as_before_where_it_does_not(
        engine, served, clips):
    served(clips["both"])
    chat = await photoreal_chat(engine)
    await chat.send("alice", "lang ko")   # (the harness's platform says English; a button carries no words)
    (made,) = [r for r in await chat.send("alice", "묘사 검은 머리에 웃는 여자") if r.pictures]
    assert "후보 16개 중에서 설명에 가장 가까운 얼굴을 골랐어요." in made.text
    assert "가까운 후보 4개 보기" in buttons(made)
    (sheet,) = [r for r in await chat.send("alice", button=buttons(made)["가까운 후보 4개 보기"]) if r.pictures]
    assert sheet.text == "#1의 설명에 가까운 후보예요. 1~4 중에 골라 주세요."

    served(clips["en"])   # English only: the Korean description is the seed's face, as without a CLIP
    chat = await photoreal_chat(engine)
    (plain,) = [r for r in await chat.send("alice", "묘사 검은 머리에 웃는 여자") if r.pictures]
    assert plain.text.endswith("#2: 묘사한 얼굴이에요.") and not any("후보" in label for label in buttons(plain))
    assert "ranked" not in (await face(engine, 2)).params


async def test_the_operator_sets_the_pool_and_the_languages_the_text_side_understands(
        engine, served, clips, monkeypatch):
    # a byte-level tokenizer reads Korean whether or not its model learned it: the operator says en
    monkeypatch.setenv("DREAMFACE_CLIP_LANGUAGES", "en")
    served(clips["both"])
    assert load_backend("stylegan").text_edit_languages() == ("en",)
    chat = await photoreal_chat(engine, rank_pool=3)
    (made,) = [r for r in await chat.send("alice", "describe a smiling woman with black hair") if r.pictures]
    assert made.text.endswith("#1: your description, the closest to your words of 3 candidates.")
    assert "See the 3 closest" in buttons(made) and len((await face(engine, 1)).params["ranked"]) == 3
    (plain,) = [r for r in await chat.send("alice", "묘사 검은 머리에 웃는 여자") if r.pictures]
    assert "후보" not in plain.text and "ranked" not in (await face(engine, 2)).params

    chat = await photoreal_chat(engine, rank_pool=1)   # DREAMFACE_RANK_POOL=1: no ranking at all
    (single,) = [r for r in await chat.send("alice", "describe a man with glasses") if r.pictures]
    assert single.text.endswith("#3: your description.") and "rank" not in (await face(engine, 3)).params


async def test_without_a_text_model_a_description_is_one_face_as_before(engine, served, clips):
    served(None)
    chat = await photoreal_chat(engine)
    (made,) = [r for r in await chat.send("alice", "describe a man with glasses") if r.pictures]
    assert made.text.endswith("#1: your description.") and "See the 4 closest" not in buttons(made)
    assert "rank" not in (await face(engine, 1)).params
    forged = buttons(made)["Variations"].replace(":sh:1:*", ":sh:1:best")   # a runners-up button it never had
    assert (await chat.send("alice", button=forged))[0].kind == "error"
    assert await chat.conversation.pending_jobs("web", "alice") == []


def test_ranking_is_deterministic_and_needs_a_text_side_that_reads_the_words(served, clips):
    served(clips["en"])
    backend = load_backend("stylegan")
    params = {"text": "a man with glasses", "attributes": {"glasses": True}, "seed": 41, "rank": 6}
    once, again = ranked_description(backend, params), ranked_description(backend, params)
    assert once.code.to_bytes() == again.code.to_bytes() and once.made == again.made
    assert once.made["seed"] in child_seeds(41, 6) and len(once.made["ranked"]) == 4
    scores = backend.text_similarity([FaceCode.from_bytes(once.code.to_bytes())], params["text"])
    assert len(scores) == 1 and -1 <= scores[0] <= 1
    with pytest.raises(Unsupported, match="cannot read 'ko'"):
        backend.text_similarity([once.code], "안경 쓴 남자")
    served(None)
    with pytest.raises(Unsupported, match="DREAMFACE_CLIP_MODEL"):
        load_backend("stylegan").text_similarity([once.code], "a man with glasses")
