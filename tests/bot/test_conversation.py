"""The conversation core against a real database and the real worker (SQLite and PostgreSQL):
the rules a user meets, and every way of reaching someone else's faces refused."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from sqlalchemy import select

from bot.conversation import Conversation, payloads
from bot.conversation.replies import STYLE_NAMES, say_both
from bot.gallery import ensure_default_gallery
from chat_harness import ChatHarness
from facegen.facecode import FaceCode
from facegen.latent import morph
from facegen.montage.backend import MontageBackend
from bot.messages import Incoming
from ground.config import BACKENDS
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.gallery import GalleryRepository
from storage.models import ModerationEvent
from storage.moderation import ModerationActions, ModerationLog


class Harness(ChatHarness):
    """The chat core with a 64-px worker, driven by one web user at a time."""


def text(replies) -> str:
    return "\n".join(r.text for r in replies)


def buttons(replies) -> dict[str, str]:
    return {b.label: b.payload for r in replies for row in r.buttons for b in row}


def test_each_backend_has_a_style_name_in_both_languages():
    assert set(STYLE_NAMES) == set(BACKENDS) and all(set(names) == {"ko", "en"} for names in STYLE_NAMES.values())


def test_an_adapter_that_does_not_know_the_language_says_something_went_wrong_in_both():
    assert say_both("something_went_wrong") == "문제가 생겼어요. 잠시 후 다시 해 주세요 · something went wrong; please try again"


@pytest.fixture
async def chat(engine):
    await ensure_default_gallery(engine, MontageBackend())
    return Harness(engine)


async def test_another_users_face_numbers_are_not_reachable(chat):
    await chat.start("alice")
    await chat.send("alice", "new 1")
    await chat.send("alice", "new 2")
    await chat.start("bob")
    assert "You have no face #2" in text(await chat.send("bob", "back to 2"))
    await chat.send("bob", "new 3")   # bob's #1
    assert "You have no face #2" in text(await chat.send("bob", "morph with #2 at 0.5"))
    morph = await chat.send("bob", "morph with #1 at 0.5")   # his own #1, not alice's
    async with session_factory(chat.engine)() as session:
        repo = FaceRepository(session)
        bob = await repo.get_or_create_user("web", "bob")
        made = await repo.get_face_by_number(bob, 2)
    assert "#2: morphed — you 50% · #1 50%" in text(morph)
    assert made.other_parent_number == 1 and made.user_id == bob.id


async def test_buttons_belong_to_their_owner(chat):
    await chat.start("alice")
    made = await chat.send("alice", "new 1")
    eyes = buttons(made)["Eyes"]
    await chat.start("bob")
    # pressing alice's button in a group, or a copy of it
    assert "belongs to someone else" in text(await chat.send("bob", button=eyes))
    # bob edits the owner tag to his own: the face number is then looked up among bob's faces
    forged = eyes.replace(payloads.owner_tag(chat.conversation.owner_key("web", "alice")), payloads.owner_tag(chat.conversation.owner_key("web", "bob")))
    assert "You have no face #1" in text(await chat.send("bob", button=forged))
    # garbled or truncated payloads
    for junk in ("d1:xx", eyes[:-3] + ":9:9", "hello", "d1:" + payloads.owner_tag(chat.conversation.owner_key("web", "bob")) + ":pk:1:r.eyes.10.1"):
        assert "That button doesn't work" in text(await chat.send("bob", button=junk))
    # alice's own press works
    assert "Pick 1–10: eyes for #1." in text(await chat.send("alice", button=eyes))


async def test_edited_pick_and_morph_payloads_are_checked(chat):
    await chat.start("alice")
    await chat.send("alice", "new 1")
    morph = await chat.send("alice", "morph me with sora at 0.7")
    flip = buttons(morph)["Flip (30%)"]
    tag = payloads.owner_tag(chat.conversation.owner_key("web", "alice"))
    assert "That button doesn't work" in text(await chat.send("alice", button=flip.replace(":30", ":150")))
    assert "That button doesn't work" in text(await chat.send("alice", button=f"d1:{tag}:mr:1:50"))  # #1 is no morph
    # a pick from a set bigger than allowed, or a candidate beyond the set
    assert "That button doesn't work" in text(await chat.send("alice", button=f"d1:{tag}:pk:1:r.eyes.99.1:3"))
    assert "Pick a number from 1 to 10" in text(await chat.send("alice", button=f"d1:{tag}:pk:1:r.eyes.10.1:11"))
    assert "you 30% · Sora Bae 70%" in text(await chat.send("alice", button=flip))


async def test_a_pick_needs_a_set_shown(chat):
    await chat.start("alice")
    assert "nothing to pick from" in text(await chat.send("alice", "3"))
    assert "Make a face first" in text(await chat.send("alice", "show eyes"))
    await chat.send("alice", "new 5")
    assert "nothing to pick from" in text(await chat.send("alice", "eyes 3"))
    await chat.send("alice", "show nose")
    assert "The last set was nose, not eyes" in text(await chat.send("alice", "eyes 3"))
    assert "Pick a number from 1 to 10; there's no 11" in text(await chat.send("alice", "11"))
    assert "#2: nose 2 picked for #1." in text(await chat.send("alice", "nose 2"))


async def test_morph_rules(chat):
    await chat.start("alice")
    assert "Send me a photo" in text(await chat.send("alice", "morph me with sora at 0.7"))
    await chat.send("alice", "new 1")
    assert "I don't know 'zzyzx'" in text(await chat.send("alice", "morph me with zzyzx at 0.7"))
    assert "outside 0–100%" in text(await chat.send("alice", "morph me with sora at 1.5"))
    assert "you 50% · Sora Bae 50%" in text(await chat.send("alice", "morph me with 소라")), "default ratio 0.5"


async def test_typed_and_pressed_morphs_start_from_the_same_me_and_state_the_true_shares(chat):
    """A second typed morph re-morphs "me" (the face the morph chain started from) instead of
    compounding the first, like the ±0.1 and flip buttons; checked on the stored latents."""
    await chat.start("alice")
    await chat.send("alice", "new 1")                                     # #1: me
    assert "you 70% · Sora Bae 30%" in text(await chat.send("alice", "morph me with sora at 0.7"))   # #2
    again = await chat.send("alice", "morph me with sora at 0.3")         # #3: from #1, not from #2
    assert "you 30% · Sora Bae 70%" in text(again)
    assert "you 70% · Sora Bae 30%" in text(await chat.send("alice", button=buttons(again)["Flip (70%)"]))  # #4
    await chat.send("alice", "more smile")                                # #5: an edit starts a new chain
    assert "you 60% · Sora Bae 40%" in text(await chat.send("alice", "morph me with sora at 0.6"))  # #6
    async with session_factory(chat.engine)() as session:
        repo = FaceRepository(session)
        alice = await repo.get_or_create_user("web", "alice")
        faces = {n: await repo.get_face_by_number(alice, n) for n in range(1, 7)}
        sora = await repo.get_face_by_id(faces[2].other_parent_id)
    for number, me, ratio in ((2, 1, 0.7), (3, 1, 0.3), (4, 1, 0.7), (6, 5, 0.6)):
        made = faces[number]
        assert made.parent_id == faces[me].id and made.other_parent_id == sora.id, number
        expected = MontageBackend().morph(FaceCode.from_bytes(faces[me].code), FaceCode.from_bytes(sora.code), ratio)
        assert np.allclose(FaceCode.from_bytes(made.code).base, expected.base, atol=1e-6), number


async def test_a_face_the_moderators_hid_has_no_descendants(chat):
    await chat.start("alice")
    await chat.send("alice", "new 1")
    await chat.send("alice", "more smile")   # #2
    await chat.send("alice", "new 3")        # #3
    async with session_factory(chat.engine)() as session, session.begin():
        alice = await FaceRepository(session).get_or_create_user("web", "alice")
        hidden = await FaceRepository(session).get_face_by_number(alice, 2)
        await ModerationActions(session, "mod").set_hidden(hidden.id, True, "real person")
    await chat.send("alice", "back to 2")
    for attempt in ("more smile", "show eyes", "remix", "morph me with sora at 0.5"):
        assert "The moderators hid #2" in text(await chat.send("alice", attempt)), attempt
    await chat.send("alice", "back to 3")
    assert "The moderators hid #2" in text(await chat.send("alice", "morph with #2 at 0.5"))
    async with session_factory(chat.engine)() as session:
        assert [f.number for f in await FaceRepository(session).history(alice, include_hidden=True)] == [3, 2, 1]


async def test_greetings_and_thanks_get_a_friendly_answer_and_unknown_words_are_echoed_as_written(chat):
    await chat.start("alice")
    assert text(await chat.send("alice", "hello")).startswith("Hi! Describe the face")
    assert text(await chat.send("alice", "thank you")).startswith("You're welcome!")
    await chat.send("alice", "lang ko")
    assert text(await chat.send("alice", "안녕하세요")).startswith("안녕하세요! 떠오르는 얼굴을")
    assert text(await chat.send("alice", "고마워요")).startswith("천만에요!")
    said = text(await chat.send("alice", "눈이 반짝반짝 빛나는 보라색 뿔"))
    assert "빛나는" in said and "빛나다" not in said


async def test_changes_sent_while_a_face_is_drawn_apply_to_it_in_order(chat):
    """Two edits sent before the first face arrives: each waits for the face before it, so the
    result is one chain #1 ← #2 ← #3 with both changes, nothing lost on a side branch."""
    await chat.start("jae")
    await chat.send("jae", "new 1", run=False)         # #1 queued, not drawn yet
    assert "I'll apply this to it" in text(await chat.send("jae", "more smile", run=False))
    assert "I'll apply this to it" in text(await chat.send("jae", "add glasses", run=False))
    said = text(await chat.run_jobs("jae"))            # #1 arrives, then the smile is queued for it
    assert "#1: a new face." in said
    said = text(await chat.run_jobs("jae"))            # #2 (the smile) arrives, then the glasses for it
    assert "#2: #1 edited (more smile)." in said
    said = text(await chat.run_jobs("jae"))
    assert "#3: #2 edited (with glasses)." in said
    async with session_factory(chat.engine)() as session:
        repo = FaceRepository(session)
        jae = await repo.get_or_create_user("web", "jae")
        made = [await repo.get_face_by_number(jae, n) for n in (1, 2, 3)]
    assert [f.parent_number for f in made] == [None, 1, 2]
    assert [e["field"] for f in made[1:] for e in f.params["edits"]] == ["smile", "glasses"]
    assert "You have no face #4" in text(await chat.send("jae", "back to 4"))   # nothing else was made
    # a grid asked for while a face is drawn is drawn around that face
    await chat.send("jae", "new 2", run=False)         # #4
    assert "I'll apply this to it" in text(await chat.send("jae", "show eyes", run=False))
    assert "Pick 1–10: eyes for #4." in text(await chat.run_jobs("jae") + await chat.run_jobs("jae"))


async def test_faces_of_another_checkpoint_are_not_mixed(chat):
    await chat.start("alice")
    await chat.send("alice", "new 1")
    async with session_factory(chat.engine)() as session, session.begin():
        repo = FaceRepository(session)
        alice = await repo.get_or_create_user("web", "alice")
        first = await repo.get_face_by_number(alice, 1)
        await repo.add_face(alice, parent=None, operation="new", params={}, backend="stylegan",
                            checkpoint_id="ffhq-1024", code=first.code, image=b"png")
    assert text(await chat.send("alice", "morph with #2 at 0.5")) == \
        "#2 is a photoreal face and #1 a drawn one: faces of different styles can't be morphed together."
    await chat.send("alice", "back to 2")          # its picture is still there, but no worker has its model
    assert text(await chat.send("alice", "show eyes")).startswith(
        "The model that drew #2 (ffhq-1024) is no longer here, so it can't be changed further.")


async def test_real_person_morphs_are_logged(chat):
    async with session_factory(chat.engine)() as session, session.begin():
        gallery = GalleryRepository(session)
        entry = await gallery.add_entry("Real Person", ["실제인물"], {"kind": "photo"}, fictional=False)
        sora = next(e for e in await gallery.entries() if e.name == "Sora Bae")
        face = await FaceRepository(session).get_face_by_id(sora.face_for("montage", MontageBackend.checkpoint_id))
        await gallery.add_face(entry, backend=face.backend, checkpoint_id=face.checkpoint_id, code=face.code,
                               image=b"png")
    await chat.start("alice")
    await chat.send("alice", "new 1")
    await chat.send("alice", "morph me with sora")
    assert "you 50% · Real Person 50%" in text(await chat.send("alice", "morph me with 실제인물"))
    async with session_factory(chat.engine)() as session:
        logged = (await session.execute(select(ModerationEvent))).scalars().all()
        (audit,) = (await ModerationLog(session).audit()).rows
        alice = await FaceRepository(session).get_or_create_user("web", "alice")
        made = await FaceRepository(session).get_face_by_number(alice, 3)
    assert [(e.action, e.reason) for e in logged] == [("morph_real_person", "morph with gallery entry 'Real Person'")]
    # the audit log names the face the request made (#3: the morph with the real person)
    assert (audit.action, audit.target_face_id, audit.target_face_number) == ("morph_real_person", made.id, 3)


async def test_job_cap_offline_and_cancel(engine):
    chat = Harness(engine, cap=2)
    await chat.start("alice")
    first = await chat.send("alice", "new 1", run=False)
    assert "Drawing is paused right now" in text(first)
    await chat.send("alice", "new 2", run=False)
    assert "You already have 2 requests waiting" in text(await chat.send("alice", "new 3", run=False))
    assert "request 1: #1 in line" in text(await chat.send("alice", "status", run=False))
    assert "Cancelled 2 request(s)." in text(await chat.send("alice", "cancel", run=False))
    assert await chat.conversation.pending_jobs("web", "alice") == []


async def test_delete_my_data_asks_first(chat):
    await chat.start("alice")
    await chat.send("alice", "new 1")
    assert await chat.send("alice", "yes") == []          # nothing was asked: ignored
    ask = await chat.send("alice", "delete my data")
    assert "This can't be undone" in text(ask)
    assert "nothing was deleted" in text(await chat.send("alice", button=buttons(ask)["No"]))
    ask = await chat.send("alice", "delete my data")
    await chat.start("bob")
    assert "belongs to someone else" in text(await chat.send("bob", button=buttons(ask)["Yes, delete"]))
    assert "deleted 1 faces" in text(await chat.send("alice", button=buttons(ask)["Yes, delete"]))
    # nothing is kept, not even that the notice was seen: alice starts again as a new user
    assert "generated by AI" in text(await chat.send("alice", "history"))
    assert "haven't made any faces" in text(await chat.send("alice", "ok"))


async def test_first_use_notice_is_shown_once_and_holds_the_message(chat):
    first = await chat.send("carol", "new 7")
    assert "generated by AI" in text(first) and "#1" not in text(first)
    assert "generated by AI" in text(await chat.send("carol", "new 8"))   # still not acknowledged
    done = await chat.send("carol", button=buttons(first)["Got it"])
    said = text(done)
    assert "#1: a new face." in said and "#2: a new face." in said        # both held messages ran
    async with session_factory(chat.engine)() as session:                  # in the order sent
        repo = FaceRepository(session)
        carol = await repo.get_or_create_user("web", "carol")
        assert [(await repo.get_face_by_number(carol, n)).params.get("seed") for n in (1, 2)] == [7, 8]
    assert "generated by AI" not in text(await chat.send("carol", "help"))


async def test_made_up_words_are_named_back(chat):
    await chat.start("erin")
    said = text(await chat.send("erin", "보라색 뿔이 난 얼굴"))   # written in Korean: answered in Korean
    assert "'보라색, 뿔'은 아직 모르는 말이에요" in said and "이렇게 말해 보세요" in said
    said = text(await chat.send("erin", "a man with glasses and purple horns"))
    assert "purple, horns" in said and "#1" in said            # the rest of the description is still drawn


async def test_one_users_simultaneous_messages_take_turns(chat):
    await chat.start("fay")
    await chat.send("fay", "new 1")
    for _ in range(4):                               # a chain #1 ← #2 ← … ← #5
        await chat.send("fay", "show eyes")
        await chat.send("fay", "1")
    await asyncio.gather(*(chat.send("fay", "undo", run=False) for _ in range(4)))
    async with session_factory(chat.engine)() as session:
        repo = FaceRepository(session)
        user = await repo.get_or_create_user("web", "fay")
        assert (await repo.current_face(user)).number == 1   # four undos from #5, none lost to a race


@pytest.mark.parametrize("photo, expected", [("tiny_face.jpg", "The face is too small"),
                                             ("two_faces.jpg", "That photo has several faces")])
async def test_unusable_photos_get_a_reply_that_says_why(chat, photo, expected):
    from pathlib import Path
    await chat.start("gus")
    data = (Path(__file__).resolve().parents[1] / "data" / photo).read_bytes()
    replies = await chat.send("gus", photo=data)
    assert expected in text(replies)


async def test_status_says_which_styles_have_a_generator_up(engine):
    from facegen.backend import BackendInfo
    from storage.jobkinds import routes_served
    from storage.presence import Presence, ProcessInfo
    drawn = MontageBackend().describe()
    photoreal = BackendInfo(name="stylegan", model_id="stylegan2-x", resolution=256, regions=("eyes",),
                            layer_groups=("coarse", "middle", "fine"), edits=("smile",), abilities=("photo",))
    presence = Presence(engine)
    cpu, gpu = (ProcessInfo("worker", ("default", "slow"), routes_served([(m.name, m.model_id)]), (m.to_json(),))
                for m in (drawn, photoreal))
    await presence.beat(cpu)
    await presence.beat(gpu)
    await presence.forget(gpu.id)          # the GPU worker stopped; the CPU one is up
    conversation = Conversation(engine, default_backend="stylegan")
    owner = payloads.owner_tag(conversation.owner_key("web", "ann"))

    async def say(**what):
        return [r.text for r in await conversation.handle(Incoming("web", "ann", "c", locale="en", **what))]

    await say(text="hi")
    await say(button=payloads.encode(owner, "ack"))
    [status] = await say(text="status")
    assert status.splitlines()[-2:] == ["Drawing in the photoreal style is paused for now.", "Ready to draw in the drawn style now."]


async def test_history_says_what_each_step_did_beside_a_sheet_with_a_button_per_face(chat):
    from PIL import Image
    import io
    await chat.start("hana")
    await chat.send("hana", "new 1")                                    # 1
    await chat.send("hana", "show eyes")
    await chat.send("hana", "3")                                        # 2 = eyes 3 of #1
    await chat.send("hana", "morph me with Sora at 0.7")                # 3
    await chat.send("hana", "more smile")                               # 4
    await chat.send("hana", "save smiley")
    (history,) = await chat.send("hana", "history")
    assert history.text.split("\n")[:5] == [
        "Your faces (newest first):", "#4 edit: smile + ← #3 · 'smiley'  ← current",
        "#3 morph 70% Sora Bae ← #2", "#2 eyes 3 ← #1", "#1 new"]
    (sheet,) = history.pictures
    assert sheet.sheet and Image.open(io.BytesIO(sheet.data)).size[0] > Image.open(io.BytesIO(sheet.data)).size[1]
    assert [b.label for row in history.buttons for b in row] == ["#4", "#3", "#2", "#1"]
    assert [t.caption for t in history.tiles] == ["#4 edit: smile +", "#3 morph 70% Sora Bae", "#2 eyes 3", "#1 new"]
    assert [t.current for t in history.tiles] == [True, False, False, False] and all(t.picture for t in history.tiles)

    back = await chat.send("hana", button=buttons([history])["#2"])    # a face's button: back there
    assert back[0].text.startswith("Now on #2.") and back[0].pictures
    async with session_factory(chat.engine)() as session:
        repo = FaceRepository(session)
        assert (await repo.current_face(await repo.find_user("web", "hana"))).number == 2
    assert "You have no face" in text(await chat.send("bob", button=buttons([history])["#2"].replace(
        payloads.owner_tag(chat.conversation.owner_key("web", "hana")),
        payloads.owner_tag(chat.conversation.owner_key("web", "bob")))))   # bob has no #2

    await chat.send("hana", "lang ko")
    (korean,) = await chat.send("hana", "기록")
    assert korean.text.split("\n")[1:5] == [
        "#4 고치기: 웃음 + ← #3 · 'smiley'", "#3 합성 70% 배소라 ← #2", "#2 눈 3번 고르기 ← #1  ← 지금", "#1 새 얼굴"]


async def test_a_reopened_chat_gets_the_current_face_and_its_ancestors_back(chat):
    assert await chat.conversation.restore("web", "nobody") == []      # a first visit: nothing, nobody created
    async with session_factory(chat.engine)() as session:
        assert await FaceRepository(session).find_user("web", "nobody") is None
    await chat.start("ivy")
    for step in ("new 1", "more smile", "older", "add glasses", "no glasses"):   # 1 … 5, a chain
        await chat.send("ivy", step)
    await chat.send("ivy", "back to 4")
    restored = await chat.conversation.restore("web", "ivy")
    assert restored[0].kind == "notice" and restored[0].text == "Here's where you left off."
    assert [r.extra["face_number"] for r in restored[1:]] == [1, 2, 3, 4]   # oldest first, the current last
    assert all(r.pictures and r.buttons for r in restored[1:])
