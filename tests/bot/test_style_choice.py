"""Choosing the style of new faces when workers serve more than one (issue #12): the styles are
named as the operator labelled them (DREAMFACE_STYLE_LABEL / _KO) or by their usual names, a
first face offers a button that draws it again in each other style, "styles" / "화풍" lists
them with buttons, typed names choose one in either language, the choice is remembered for
later new faces, and with one style served nothing of this is offered (SQLite and PostgreSQL)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.conversation import payloads
from chat_harness import ChatHarness
from facegen.backends import load_backend
from facegen.stylegan.loaders import save_safetensors
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.presence import Presence, ProcessInfo

sys.path.insert(0, str(Path(__file__).parents[1] / "facegen"))
from stylegan_fixtures import tiny_sg2  # noqa: E402


@pytest.fixture
def stylegan_checkpoint(tmp_path, monkeypatch):
    save_safetensors(tiny_sg2(), tmp_path / "g.safetensors")
    monkeypatch.setenv("DREAMFACE_STYLEGAN_CKPT", str(tmp_path / "g.safetensors"))
    load_backend.cache_clear()
    yield
    load_backend.cache_clear()


async def announce(engine, backend: str, label: str = "", label_ko: str = "") -> None:
    """A worker's heartbeat, its style labelled as an operator would."""
    info = replace(load_backend(backend).describe(), label=label, label_ko=label_ko)
    await Presence(engine).beat(ProcessInfo("worker", ("default", "slow"), (), (info.to_json(),)))


def text(replies) -> str:
    return "\n".join(r.text for r in replies)


def buttons(replies) -> dict[str, str]:
    """Every button shown: its label → its payload."""
    return {b.label: b.payload for r in replies for row in r.buttons for b in row}


async def face(engine, user: str, number: int):
    async with session_factory(engine)() as session:
        repo = FaceRepository(session)
        return await repo.get_face_by_number(await repo.get_or_create_user("web", user), number)


async def both_styles(engine) -> ChatHarness:
    chat = ChatHarness(engine)
    await announce(engine, "montage")
    await announce(engine, "stylegan", label="photo", label_ko="사진처럼")
    return chat


async def test_a_first_face_can_be_drawn_again_in_the_other_style_and_the_choice_is_kept(
        engine, stylegan_checkpoint):
    chat = await both_styles(engine)
    await chat.start("alice")
    first = await chat.send("alice", "new 7")
    assert "#1: a new face." in text(first)
    assert (await face(engine, "alice", 1)).backend == "montage"          # the default style
    shown = buttons(first)
    assert "Draw it photo" in shown and "Draw it drawn" not in shown      # only the other style

    redrawn = await chat.send("alice", button=shown["Draw it photo"])
    assert "Redrawing it photo; new faces will be photo too." in text(redrawn)
    second = await face(engine, "alice", 2)
    assert (second.backend, second.operation, second.params["seed"], second.parent_id) == ("stylegan", "new", 7, None)
    assert "Draw it drawn" in buttons(redrawn)                            # and back again, from there

    await chat.send("alice", "new 8")
    assert (await face(engine, "alice", 3)).backend == "stylegan", "the chosen style is kept for new faces"
    described = text(await chat.send("alice", "describe a round face with big eyes"))   # plain words would refine #3
    assert "#4" in described and (await face(engine, "alice", 4)).backend == "stylegan"

    # a later step is not a first face: no redraw button on a pick
    await chat.send("alice", "show eyes")
    picked = await chat.send("alice", "3")
    assert "#5: eyes 3 picked for #4" in text(picked)
    assert not [label for label in buttons(picked) if label.startswith("Draw it")]

    # someone else's style button is refused
    await chat.start("bob")
    assert text(await chat.send("bob", button=shown["Draw it photo"])) == \
        "That button belongs to someone else. Make your own face!"


async def test_styles_are_listed_chosen_by_name_and_offered_in_help(engine, stylegan_checkpoint):
    chat = await both_styles(engine)
    await chat.start("alice")
    listed = await chat.send("alice", "styles")
    assert text(listed) == "Choose the style new faces are drawn in. Now: drawn."
    assert list(buttons(listed)) == ["✓ drawn", "photo"]

    chosen = await chat.send("alice", button=buttons(listed)["photo"])
    assert text(chosen) == "New faces will be photo from now on. Say 'new' or describe one."
    assert list(buttons(await chat.send("alice", "art style"))) == ["drawn", "✓ photo"]

    assert text(await chat.send("alice", "drawn style")) == \
        "New faces will be drawn from now on. Say 'new' or describe one."
    await chat.send("alice", "new 1")
    assert (await face(engine, "alice", 1)).backend == "montage"
    assert text(await chat.send("alice", "art style anime")) == "There's no 'anime' style. You can choose: drawn, photo"
    assert text(await chat.send("alice", "photoreal style")).startswith("New faces will be photo")

    helped = await chat.send("alice", "help")
    assert "• styles: drawn, photo (choose with 'art style photo')" in text(helped)
    assert list(buttons(helped)) == ["drawn", "✓ photo"]

    stale = payloads.encode(payloads.owner_tag(chat.conversation.owner_key("web", "alice")), "st", 0, "0badc0de")
    assert text(await chat.send("alice", button=stale)) == \
        "That style isn't available any more. You can choose: drawn, photo"


async def test_korean_names_choose_styles(engine, stylegan_checkpoint):
    chat = await both_styles(engine)
    await chat.start("minji")
    await chat.send("minji", "언어 한국어")
    listed = await chat.send("minji", "화풍")
    assert text(listed) == "새 얼굴을 어떤 화풍으로 그릴지 골라 주세요. 지금은 그림체예요."
    assert list(buttons(listed)) == ["✓ 그림체", "사진처럼"]
    assert text(await chat.send("minji", "사진처럼 바꿔줘")) == \
        "이제 새 얼굴은 사진처럼으로 그려요. '새 얼굴'이나 묘사로 시작해 보세요."
    await chat.send("minji", "새 얼굴")
    assert (await face(engine, "minji", 1)).backend == "stylegan"
    assert text(await chat.send("minji", "그림체로 바꿔줘")).startswith("이제 새 얼굴은 그림체로")
    assert text(await chat.send("minji", "화풍 애니")) == "'애니' 화풍은 없어요. 고를 수 있는 화풍: 그림체, 사진처럼"
    assert "• 화풍: 그림체, 사진처럼 ('화풍 사진처럼'처럼 골라요)" in text(await chat.send("minji", "도움말"))


async def test_with_one_style_served_no_choice_is_offered(engine):
    chat = ChatHarness(engine)
    await announce(engine, "montage")
    await chat.start("alice")
    first = await chat.send("alice", "new 1")
    assert not [label for label in buttons(first) if label.startswith("Draw it")]
    assert text(await chat.send("alice", "styles")) == "Right now I can only draw drawn faces."
    assert "styles:" not in text(await chat.send("alice", "help"))
    assert text(await chat.send("alice", "photo style")) == "There's no 'photo' style. You can choose: drawn"
