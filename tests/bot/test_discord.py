"""The Discord bot end to end: the real adapter and discord.py, unmodified, against the
protocol-level fake (tests/bot/discord_fake.py), on the real conversation core and worker.
Assertions are about what Discord would show the user."""

from __future__ import annotations

import re
import shutil

import pytest

from conftest import TESTDATA
from discord_fake import FakeDiscord, FakeFile, FakeMessage, running_bot, settings_for
from facegen.handlers import MAKE, PHOTO_MAX_BYTES
from sqlalchemy import func, select
from storage.db import session_factory
from storage.models import Job
from storage.outbox import DeliveryFailed, Outbox

PHOTO = TESTDATA / "obama_official_portrait.jpg"


@pytest.fixture
def sqlite_url(tmp_path, migrated_templates) -> str:
    path = tmp_path / "dreamface.db"
    shutil.copyfile(migrated_templates["sqlite"], path)
    return f"sqlite:///{path}"


async def result_of(fake: FakeDiscord, interaction, timeout: float = 30.0) -> FakeMessage:
    """The message that ends up showing the interaction's face or grid (the original response
    of a command, a followup of a press)."""
    def shown():
        messages = [fake.response_of(interaction), *fake.followups_of(interaction)]
        return next((m for m in messages if m is not None and m.images), None)
    return await fake.until(shown, timeout)


async def answer_of(fake: FakeDiscord, interaction, timeout: float = 30.0) -> FakeMessage:
    """The first message with text that answers the interaction."""
    def answered():
        messages = [fake.response_of(interaction), *fake.followups_of(interaction)]
        return next((m for m in messages if m is not None and not m.loading and m.content), None)
    return await fake.until(answered, timeout)


async def acknowledged_notice(fake: FakeDiscord, user, interaction) -> None:
    """Press the first-use notice that answers `interaction`; returns once the thanks arrived."""
    notice = await answer_of(fake, interaction)
    assert notice.button_rows in ([["알겠어요"]], [["Got it"]]), notice.content
    await answer_of(fake, await user.press(notice, notice.button_rows[0][0]))


async def test_a_korean_session_from_description_to_undo(migrated_database_url):
    async with FakeDiscord() as fake:
        ann = fake.add_user("ann", locale="ko")
        async with running_bot(fake, settings_for(fake, migrated_database_url)):
            first = await ann.slash("describe", text="눈이 큰 둥근 얼굴")
            await acknowledged_notice(fake, ann, first)
            # the held description runs after the notice: its progress message becomes the face
            described = await fake.until(lambda: next((m for m in ann.bot_messages() if m.images), None))
            assert described.content == "#1: 묘사한 얼굴이에요."
            assert described.states[0].startswith("만들고 있어요") and described.states[-1] == described.content
            assert described.button_rows == [["눈", "코", "입", "변형"], ["스타일 바꾸기", "🚩 신고"]]
            assert [f.filename for f in described.files] == ["dreamface-1.png"]
            assert described.files[0].description == "둥근 얼굴, 큰 눈"    # its words: the attachment's alt text

            grid = await result_of(fake, await ann.press(described, "눈"))
            assert grid.content == "#1의 눈 후보예요. 1~10 중에 골라 주세요."
            assert grid.button_rows == [["1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]

            picked = await result_of(fake, await ann.slash("pick", region="eyes", number=3))
            assert picked.content == "#2: #1에서 눈 3번을 골랐어요."

            photo = FakeFile("me.jpg", PHOTO.read_bytes(), "image/jpeg")
            mine = await result_of(fake, await ann.slash("me", photo=photo))
            assert re.fullmatch(r"#3: 사진으로 만든 얼굴이에요\. 사진과 닮은 정도: (높음|보통|낮음)", mine.content), mine.content

            morphed = await result_of(fake, await ann.slash("morph", name="배소라", ratio=0.7))
            assert morphed.content == "#4: 합성했어요 — 나 70% · 배소라 30%"
            assert morphed.button_rows[0] == ["−0.1 (60%)", "비율 뒤집기 (30%)", "+0.1 (80%)"]

            remix = await result_of(fake, await ann.slash("remix"))
            assert remix.content.startswith("#4의 스타일 후보예요.") and remix.button_rows == [["1", "2", "3", "4"]]
            remixed = await result_of(fake, await ann.press(remix, "2"))
            assert remixed.content == "#5: #4에서 스타일 2번을 골랐어요."

            undone = await answer_of(fake, await ann.slash("undo"))
            assert undone.content.startswith("#4로 되돌렸어요.\n#4: 합성했어요")
            assert undone.images and undone.files[0].filename == "dreamface-4.png"

        assert all(after < 3.0 for after in fake.interaction_acks())
        assert len(fake.interaction_acks()) == len(fake.interactions)
        assert fake.refusals == [] and fake.unmodelled == []
        # every face arrived once: in the message that first said it was being made
        faces = [m.content.split(":")[0] for m in ann.bot_messages() if m.images and m.content.startswith("#")]
        assert sorted(set(faces)) == sorted(faces) and {"#1", "#2", "#3", "#4", "#5"} <= set(faces)


async def test_text_works_in_dms_and_mentions_in_the_language_discord_reported(sqlite_url):
    async with FakeDiscord() as fake:
        bob = fake.add_user("bob", locale="en-US")
        async with running_bot(fake, settings_for(fake, sqlite_url)):
            await acknowledged_notice(fake, bob, await bob.slash("help"))   # Discord tells us bob reads English
            await fake.until(lambda: any(m.content.startswith("What I can do:") for m in bob.bot_messages()))

            await bob.say("new")                                  # plain text in a DM: answered, in English
            face = await fake.until(lambda: next((m for m in bob.bot_messages() if m.images), None))
            assert face.content == "#1: a new face."
            assert face.states[0] == "On it — coming right up."  # the reply to his message, edited into the face

            guild = fake.guild_channel.id
            await bob.say("history", channel=guild)                # not addressed to the bot: ignored
            await bob.say("history", channel=guild, mention=True)  # addressed: answered in the channel
            history = await fake.until(lambda: next((m for m in bob.bot_messages(guild)), None))
            assert history.content.startswith("Your faces (newest first):\n#1 new")
            assert len(bob.bot_messages(guild)) == 1

            await bob.say("", sticker=True)                        # a sticker alone: told what it reads
            said = await fake.until(lambda: next((m for m in bob.bot_messages() if "글과 사진" in m.content), None))
            assert said.content == ("글과 사진만 읽을 수 있어요. 얼굴을 글로 설명하거나 사진을 보내 주세요 · "
                                    "i can read text and photos only: describe a face, or send a photo")
            await bob.say("", channel=guild, sticker=True)         # in a channel, not addressed: ignored
            await bob.say("history", channel=guild, mention=True)
            await fake.until(lambda: len(bob.bot_messages(guild)) == 2)
            assert all("글과 사진" not in m.content for m in bob.bot_messages(guild))


async def test_malformed_input_gets_a_clear_localized_reply(sqlite_url):
    async with FakeDiscord() as fake:
        ann, bob = fake.add_user("ann", locale="ko"), fake.add_user("bob", locale="en-GB")
        async with running_bot(fake, settings_for(fake, sqlite_url)):
            await acknowledged_notice(fake, ann, await ann.slash("new"))
            face = await fake.until(lambda: next((m for m in ann.bot_messages() if m.images), None))
            await acknowledged_notice(fake, bob, await bob.slash("help"))

            huge = FakeFile("huge.jpg", b"\xff\xd8\xff" + bytes(PHOTO_MAX_BYTES), "image/jpeg")
            too_large = await answer_of(fake, await bob.slash("me", photo=huge))
            assert too_large.content == "That photo is too large; send a smaller one."
            assert fake.cdn_downloads[huge.id] == 0                 # refused without downloading it

            text = FakeFile("notes.txt", b"not a picture at all", "text/plain")
            interaction = await bob.slash("me", photo=text)
            not_image = await fake.until(lambda: (m := fake.response_of(interaction)) and "image" in m.content and m)
            assert not_image.content == "That file isn't an image, or it's damaged."

            cut = FakeFile("cut.jpg", PHOTO.read_bytes()[:600], "image/jpeg")
            interaction = await bob.slash("me", photo=cut)   # a photo cut off inside its EXIF header
            damaged = await fake.until(lambda: (m := fake.response_of(interaction)) and "image" in m.content and m)
            assert damaged.content == "That file isn't an image, or it's damaged."

            # bob presses a button of ann's face in the guild channel: only he is told it is not his
            guild = fake.guild_channel.id
            ann_face = await result_of(fake, await ann.slash("new", channel=guild))
            refused = await answer_of(fake, await bob.press(ann_face, "눈"))
            assert refused.content == "That button belongs to someone else. Make your own face!"
            assert refused.ephemeral_for == bob.id and refused not in ann.sees(guild)

            # buttons the core cannot read (an older version's, or edited by a tampered client)
            old = fake.post_as_bot(guild, "an older dreamface", [[("Eyes", "d0:k3j9qa:sh:1:eyes")]])
            garbage = await answer_of(fake, await bob.press(old, "Eyes"))
            assert garbage.content == "That button doesn't work. Please say what you want instead."
            forged_owner = face.custom_ids[0].replace(face.custom_ids[0].split(":")[1], "zzzzzz")
            tampered = fake.post_as_bot(guild, "a tampered copy", [[("Eyes", forged_owner)]])
            refused_again = await answer_of(fake, await bob.press(tampered, "Eyes"))
            assert refused_again.content == "That button belongs to someone else. Make your own face!"

            too_far = await answer_of(fake, await ann.slash("pick", number=3))
            assert too_far.content.startswith("아직 고를 후보가 없어요")     # no grid was shown yet
        assert fake.refusals == []


async def _first_face_job(engine) -> int:
    """The first face job (the clean-up job the app queues at start may come before it)."""
    async with session_factory(engine)() as session:
        return (await session.execute(select(func.min(Job.id)).where(Job.kind == MAKE))).scalar_one()


async def test_a_repeated_delivery_is_dropped_by_its_nonce_and_a_blocked_user_ends_it(sqlite_url):
    async with FakeDiscord() as fake:
        ann = fake.add_user("ann", locale="en-US")
        async with running_bot(fake, settings_for(fake, sqlite_url)) as bot:
            await acknowledged_notice(fake, ann, await ann.slash("new"))
            face = await fake.until(lambda: next((m for m in ann.bot_messages() if m.images), None))
            (delivery,) = await Outbox(bot.app.engine).for_job(await _first_face_job(bot.app.engine))

            # a courier that crashed between Discord's answer and mark_sent sends it again, twice
            before = len(ann.bot_messages())
            await bot.send(delivery)
            await bot.send(delivery)
            repeats = ann.bot_messages()[before:]
            assert len(repeats) == 1 and repeats[0].content == face.content

            ann.blocked_bot = True
            with pytest.raises(DeliveryFailed) as failed:
                await bot.send(delivery)
            assert failed.value.permanent and "Cannot send messages to this user" in failed.value.reason


async def test_history_is_one_contact_sheet_with_a_button_per_face(sqlite_url):
    async with FakeDiscord() as fake:
        bob = fake.add_user("bob", locale="en-US")
        async with running_bot(fake, settings_for(fake, sqlite_url)):
            await acknowledged_notice(fake, bob, await bob.slash("help"))
            first = await result_of(fake, await bob.slash("new"))
            await result_of(fake, await bob.press(first, "Eyes"))
            picked = await result_of(fake, await bob.slash("pick", region="eyes", number=3))
            assert picked.content == "#2: eyes 3 picked for #1."

            await bob.say("history")
            history = await fake.until(lambda: next((m for m in bob.bot_messages() if m.content.startswith("Your")), None))
            assert history.content.split("\n")[1:3] == ["#2 eyes 3 ← #1  ← current", "#1 new"]
            assert [f.filename for f in history.images] == ["dreamface-history.png"]   # one sheet, numbered #2 and #1
            assert history.button_rows == [["#2", "#1"]]

            back = await answer_of(fake, await bob.press(history, "#1"))
            assert back.content.startswith("Now on #1.") and "#1: a new face." in back.content and back.images
        assert fake.refusals == [] and fake.unmodelled == []
