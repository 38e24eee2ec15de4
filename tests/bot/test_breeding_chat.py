"""Breeding in the chat (issue #21), through the real core, worker and outbox (tests/bot/chat_harness.py):
select several faces of an array, breed the next one, lock regions, scale every face, go back a
round, keep one; stale and foreign buttons. The adapters' own tests (Telegram, Discord, web, CLI)
are in test_breeding_platforms.py."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot import commands as c
from bot.conversation import Conversation, payloads
from bot.grammar import parse
from bot.messages import MAX_BUTTON_PAYLOAD_BYTES, Button, Reply, menu_payload
from chat_harness import ChatHarness
from facegen import breeding
from facegen.attributes import Edit
from facegen.backends import load_backend
from facegen.facecode import FaceCode
from storage.chat_state import Breeding, ChatStates
from storage.db import session_factory
from storage.faces import FaceRepository


@pytest.fixture
def db_kind() -> str:
    """SQLite only here: the state is one JSON column, stored alike on PostgreSQL (the storage tests)."""
    return "sqlite"


# --- the words ---------------------------------------------------------------------------------

PHRASES = [
    ("breed", c.Breed()), ("교배", c.Breed()), ("교배해 줘", c.Breed()), ("여러 개 골라서 섞어 줘", c.Breed()),
    ("3 5 7", c.Select((3, 5, 7))), ("3, 5, 7", c.Select((3, 5, 7))), ("select 3 5", c.Select((3, 5))),
    ("3 and 5", c.Select((3, 5))), ("3번 5번 골라", c.Select((3, 5))), ("3번이랑 5번", c.Select((3, 5))),
    ("3번 5번 7번 골라 주세요", c.Select((3, 5, 7))),
    ("next", c.NextRound()), ("다음", c.NextRound()), ("다음 1 3 5", c.NextRound((1, 3, 5))),
    ("next 1 3 5", c.NextRound((1, 3, 5))), ("1 3 5로 다음", c.NextRound((1, 3, 5))), ("breed 3 5", c.NextRound((3, 5))),
    ("done", c.Done()), ("이걸로", c.Done()), ("이걸로 할게요", c.Done()), ("done 3", c.Done(3)), ("이걸로 3", c.Done(3)),
    ("3번으로 결정", c.Done(3)),
    ("keep the eyes", c.Lock(("eyes",))), ("눈은 그대로", c.Lock(("eyes",))), ("코는 고정", c.Lock(("nose",))),
    ("keep the eyes and nose", c.Lock(("eyes", "nose"))), ("눈이랑 코는 그대로 둬 줘", c.Lock(("eyes", "nose"))),
    ("unlock", c.Lock((), False)), ("unlock the eyes", c.Lock(("eyes",), False)), ("눈 고정 해제", c.Lock(("eyes",), False)),
    ("stop breeding", c.StopBreeding()), ("교배 그만", c.StopBreeding()),
]


@pytest.mark.parametrize("text,expected", PHRASES, ids=[t for t, _ in PHRASES])
def test_breeding_phrases_in_both_languages(text, expected):
    assert parse(text, "en") == expected and parse(text, "ko") == expected


@pytest.mark.parametrize("text,expected", [("3", c.Pick(3)), ("3번으로 할게", c.Pick(3)), ("stop", c.Cancel()),
                                           ("twenty one", c.Pick(21)), ("eyes 3", c.Pick(3, "eyes"))])
def test_what_one_number_or_stop_meant_before_still_holds(text, expected):
    """A bare number is still a pick (while an array is in front the core reads it as selecting
    it); "stop" still cancels the jobs."""
    assert parse(text, "en") == expected


def test_every_button_payload_fits_and_reads_back():
    params = breeding.next_round(breeding.first_round(breeding.MAX_ARRAY, 999_999), [18, 17, 16, 15, 14, 13], 5)
    token, tag, face = payloads.round_token(params), "k3j9qa", 2**31 - 1
    assert token != payloads.round_token(breeding.adjust(params, locks=["eyes"]))
    for verb, *args in (("bt", 18), ("bn",), ("bd",), ("bs",)):
        payload = payloads.encode(tag, verb, face, token, *args)
        Button("x", payload)   # raises over MAX_BUTTON_PAYLOAD_BYTES
        press = payloads.decode(payload)
        assert (press.verb, press.face, press.token, press.value) == (verb, face, token, args[0] if args else None)
    chosen = payloads.decode(menu_payload(payloads.menu(tag, face, token), [str(k) for k in range(1, 7)]))
    assert (chosen.verb, chosen.numbers) == ("bm", (1, 2, 3, 4, 5, 6))
    assert payloads.decode(menu_payload(payloads.menu(tag, face, token), [])).numbers == ()
    assert len(payloads.encode(tag, "bt", face, token, 18).encode()) <= MAX_BUTTON_PAYLOAD_BYTES
    for forged in (f"d1:{tag}:bt:1:UPPER1:3", f"d1:{tag}:bm:1:{token}:3.x", f"d1:{tag}:bn:1:{token}:3"):
        with pytest.raises(payloads.BadPayload):
            payloads.decode(forged)


@pytest.mark.parametrize("db_kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_the_breeding_state_is_kept_on_both_databases(engine, db_kind):
    async with session_factory(engine)() as session, session.begin():
        user = await FaceRepository(session).get_or_create_user("web", "ann", "en")
        params = breeding.first_round(9, 42, locks=["eyes"])
        await ChatStates(session).update(user.id, breeding=Breeding(7, 3, params, (4, 2), ("eyes",)))
    async with session_factory(engine)() as session:
        kept = (await ChatStates(session).get(user.id)).breeding
    assert kept == Breeding(7, 3, params, (4, 2), ("eyes",)) and kept.live


# --- the conversation ---------------------------------------------------------------------------

@pytest.fixture
def chat(engine):
    harness = ChatHarness(engine)
    harness.conversation = Conversation(engine, size=64, rng=random.Random(21))
    return harness


def the(replies: list[Reply], kind: str) -> Reply:
    found = [r for r in replies if r.kind == kind]
    assert len(found) == 1, [(r.kind, r.text) for r in replies]
    return found[0]


def labels(reply: Reply) -> list[list[str]]:
    return [[b.label for b in row] for row in reply.buttons]


def press(reply: Reply, label: str) -> str:
    return next(b.payload for row in reply.buttons for b in row if b.label == label)


async def state(chat, user: str):
    async with session_factory(chat.engine)() as session:
        found = await FaceRepository(session).find_user("web", user)
        return await ChatStates(session).get(found.id)


async def faces(chat, user: str):
    async with session_factory(chat.engine)() as session:
        repo = FaceRepository(session)
        found = await repo.find_user("web", user)
        return await repo.current_face(found), {f.number: f for f in await repo.history(found, limit=100)}


async def members(chat, user: str, params: dict) -> list[FaceCode]:
    """The faces of a round, as the worker draws them (latent math on the anchor only)."""
    current = (await state(chat, user)).breeding
    _, by_number = await faces(chat, user)
    anchor = FaceCode.from_bytes(by_number[current.face_number].code)
    return breeding.breed(load_backend("montage"), anchor, params)


async def test_select_three_breed_lock_the_eyes_breed_again_and_keep_one(chat):
    await chat.start("ann")
    await chat.send("ann", "new 7")

    # round 1: an array of the web's size around #1, nothing selected, a toggle per face
    first = the(await chat.send("ann", "breed"), "result")
    assert first.pictures and first.pictures[0].sheet
    assert first.text.startswith("Breeding #1, round 1") and "Nothing selected yet." in first.text
    columns = len(labels(first)[0])
    assert [label for row in labels(first)[:-1] for label in row] == [str(k) for k in range(1, breeding.WEB_ARRAY + 1)]
    assert labels(first)[-1] == ["Next ▶", "Done", "Stop"]
    assert first.menu is not None and first.menu.size == breeding.WEB_ARRAY and first.menu.rows == len(labels(first)) - 1

    # select three: toggles tick ✓ on the message pressed (an update), best-liked first
    toggled = [the(await chat.send("ann", button=press(first, str(k)), run=False), "update") for k in (5, 2, 9)]
    assert "Selected: 5, 2, 9 (most alike: 5)" in toggled[-1].text
    assert labels(toggled[-1])[0] == ["1", "✓ 2", "3", "4"][:columns] and "✓ 5" in sum(labels(toggled[-1]), [])
    untoggled = the(await chat.send("ann", button=press(toggled[-1], "✓ 2"), run=False), "update")
    assert "Selected: 5, 9" in untoggled.text
    await chat.send("ann", button=press(untoggled, "2"), run=False)

    # next: round 2 bred from them, its member 1 the best-liked face unchanged
    second = the(await chat.send("ann", button=press(first, "Next ▶")), "result")
    assert second.text.startswith("Breeding #1, round 2")
    bred = (await state(chat, "ann")).breeding
    assert bred.params["chosen"] == [5, 9, 2] and bred.chosen == ()   # 2 ticked again: last
    round_1 = await members(chat, "ann", bred.params["previous"])
    round_2 = await members(chat, "ann", bred.params)
    assert round_2[0] == round_1[4]

    # the first array is over: its buttons answer so and change nothing
    stale = await chat.send("ann", button=press(first, "3"), run=False)
    assert [(r.kind, r.text) for r in stale] == [("error", "This array is over; pick from the newest one.")]

    # lock the eyes: the array is drawn again, every face with face 1's eyes
    locked = the(await chat.send("ann", "keep the eyes"), "result")
    assert "Kept as they are: eyes" in locked.text
    bred = (await state(chat, "ann")).breeding
    assert bred.locks == ("eyes",) and bred.params["round"] == 2
    round_2 = await members(chat, "ann", bred.params)
    assert all(face.part("eyes").tolist() == round_2[0].part("eyes").tolist() for face in round_2)

    # select by typing, breed again: the eyes do not change between the two arrays
    selected = the(await chat.send("ann", "4 1 7", run=False), "message")
    assert "Selected: 4, 1, 7 (most alike: 4)" in selected.text
    third = the(await chat.send("ann", "next"), "result")
    assert third.text.startswith("Breeding #1, round 3") and "Kept as they are: eyes" in third.text
    round_3 = await members(chat, "ann", (await state(chat, "ann")).breeding.params)
    assert round_3[0] == round_2[3]
    assert all(face.part("eyes").tolist() == round_2[0].part("eyes").tolist() for face in round_3)

    # keep one: a face of the history tree, made from #1 by the recorded rounds
    made = the(await chat.send("ann", "done 6"), "result")
    assert made.text.startswith("#2: bred from #1 (round 3, face 6).")
    current, by_number = await faces(chat, "ann")
    assert current.number == 2 and current.parent_number == 1 and current.operation == "pick"
    rounds = current.params["set"]
    assert (rounds["round"], rounds["previous"]["chosen"], rounds["chosen"]) == (3, [5, 9, 2], [4, 1, 7])
    assert FaceCode.from_bytes(current.code) == round_3[5]
    assert not (await state(chat, "ann")).breeding.live and (await state(chat, "ann")).breeding.locks == ("eyes",)

    # the history says what each step did; undo goes back to the face breeding started from
    history = the(await chat.send("ann", "history", run=False), "message")
    assert "#2 bred: round 3, face 6 ← #1" in history.text
    undone = await chat.send("ann", "undo", run=False)
    assert undone[0].text.startswith("Back to #1.")


async def test_undo_goes_back_a_round_with_its_selection_then_stops_breeding(chat):
    await chat.start("ann")
    await chat.send("ann", "언어 한국어")   # (a button press carries no words to tell the language by)
    await chat.send("ann", "new 7")
    await chat.send("ann", "교배")
    await chat.send("ann", "3번 5번 골라", run=False)
    second = the(await chat.send("ann", "다음"), "result")
    assert second.text.startswith("#1 교배 2회차예요.")

    back = await chat.send("ann", "되돌리기")
    assert the(back, "progress").text.endswith("1회차 배열로 돌아갈게요.")
    first = the(back, "result")
    assert "고른 얼굴: 3, 5 (가장 닮은 얼굴: 3번)" in first.text and "✓ 3" in sum(labels(first), [])
    assert (await state(chat, "ann")).breeding.params["round"] == 1
    stale = await chat.send("ann", button=press(second, "1"), run=False)
    assert [r.text for r in stale] == ["이 배열은 끝났어요. 가장 최근 배열에서 골라 주세요."]

    stopped = await chat.send("ann", "되돌리기", run=False)
    assert [r.text for r in stopped] == ["교배를 멈췄어요. 지금 얼굴은 #1예요."]
    assert not (await state(chat, "ann")).breeding.live
    nothing = await chat.send("ann", "다음", run=False)
    assert nothing[0].text.startswith("지금은 교배 중이 아니에요.")


async def test_a_whole_face_scale_changes_every_face_of_the_array(chat):
    await chat.start("ann")
    await chat.send("ann", "new 7")
    first = the(await chat.send("ann", "breed"), "result")
    await chat.send("ann", "2 3", run=False)
    older = await chat.send("ann", "older")
    assert the(older, "progress").text.endswith("Changing every face of the array: older")
    drawn = the(older, "result")
    assert "On every face: older" in drawn.text and "Selected: 2, 3" in drawn.text   # the same faces, so still selected
    bred = (await state(chat, "ann")).breeding
    assert [e["field"] for e in bred.params["edits"]] == ["age"] and bred.params["round"] == 1
    plain = await members(chat, "ann", {**bred.params, "edits": []})
    aged = await members(chat, "ann", bred.params)
    backend, (edit,) = load_backend("montage"), bred.params["edits"]
    older_edit = Edit(edit["field"], edit["amount"], edit["value"])
    assert all(a == backend.edit(p, older_edit) and a != p for a, p in zip(aged, plain))
    _, by_number = await faces(chat, "ann")
    assert list(by_number) == [1], "the array changed, no face was made"
    stale = await chat.send("ann", button=press(first, "Next ▶"), run=False)
    assert stale[0].text == "This array is over; pick from the newest one."


async def test_done_keeps_the_face_selected_or_the_best_liked(chat):
    await chat.start("ann")
    await chat.send("ann", "a young woman with long red hair")
    await chat.send("ann", "breed")
    assert (await chat.send("ann", "done", run=False))[0].text == "Which face? Select one first, or say 'done 3'."
    assert (await chat.send("ann", "next", run=False))[0].text.startswith("Select the faces most like the person first")
    too_many = await chat.send("ann", "1 2 3 4 5 6 7", run=False)
    assert too_many[0].text == f"You can select up to {breeding.MAX_PARENTS} faces at once."
    assert (await chat.send("ann", "4 13", run=False))[0].text == "Pick a number from 1 to 12; there's no 13."
    await chat.send("ann", "4 2", run=False)
    made = the(await chat.send("ann", "done"), "result")
    assert made.text.startswith("#2: bred from #1 (round 1, face 4).")


async def test_a_grid_between_rounds_and_breeding_again_from_the_new_face_keeps_the_locks(chat):
    await chat.start("ann")
    await chat.send("ann", "new 7")
    await chat.send("ann", "breed")
    await chat.send("ann", "keep the nose")
    await chat.send("ann", "show eyes")
    picked = the(await chat.send("ann", "3"), "result")   # a bare number picks from the grid shown last
    assert picked.text.startswith("#2: eyes 3 picked for #1.")
    await chat.send("ann", "5 6", run=False)   # the array still breeds, around #1
    second = the(await chat.send("ann", "next"), "result")
    assert second.text.startswith("Breeding #1, round 2") and "Kept as they are: nose" in second.text

    again = await chat.send("ann", "breed")   # from the face current now, #2, with the locks kept
    assert the(again, "progress").text.endswith("(keeping the nose as they are; 'unlock' lets them change)")
    assert the(again, "result").text.startswith("Breeding #2, round 1")
    assert (await chat.send("ann", "unlock", run=False)) and not (await state(chat, "ann")).breeding.locks


async def test_another_users_array_buttons_are_refused(chat):
    await chat.start("ann")
    await chat.start("bob")
    await chat.send("ann", "new 7")
    array = the(await chat.send("ann", "breed"), "result")
    for label in ("1", "Next ▶", "Done", "Stop"):
        refused = await chat.send("bob", button=press(array, label), run=False)
        assert [(r.kind, r.text) for r in refused] == [("error", "That button belongs to someone else. Make your own face!")]
    assert (await state(chat, "ann")).breeding.chosen == ()
    assert (await state(chat, "bob")).breeding == type((await state(chat, "bob")).breeding)()


PORTRAIT = (Path(__file__).resolve().parents[1] / "data" / "obama_official_portrait.jpg").read_bytes()


async def test_breeding_starts_from_a_photo_face_and_from_a_morph(chat):
    """A round is bred around whatever face is current: here the face made from a photo, then
    a morph of it; "done" makes the chosen face a child of the face breeding started from."""
    await chat.start("pia")
    photo = the(await chat.send("pia", photo=PORTRAIT), "result")
    assert photo.text.startswith("#1:")
    first = the(await chat.send("pia", "breed"), "result")
    assert first.text.startswith("Breeding #1, round 1") and first.pictures[0].sheet
    await chat.send("pia", "2 4", run=False)
    assert the(await chat.send("pia", "next"), "result").text.startswith("Breeding #1, round 2")
    kept = the(await chat.send("pia", "done 3"), "result")
    assert kept.text.startswith("#2:")
    history = the(await chat.send("pia", "history", run=False), "message").text
    assert "#2 bred: round 2, face 3 ← #1" in history, history

    await chat.send("pia", "new 9")
    morphed = the(await chat.send("pia", "morph with #3 at 0.6"), "result")   # me (#1, the photo face) with #3
    assert morphed.text.startswith("#4:")
    array = the(await chat.send("pia", "breed"), "result")
    assert array.text.startswith("Breeding #4, round 1")
