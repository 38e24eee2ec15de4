"""In-chat moderation and the report button on Discord, end to end: the real adapter and
discord.py against the protocol-level fake, with a guild role for moderators."""

from __future__ import annotations

from bot.conversation.josa import attach_particles

import re

from sqlalchemy import select

from discord_fake import FakeDiscord, running_bot, settings_for
from storage.db import session_factory
from storage.faces import FaceRepository
from storage.models import ModerationEvent
from test_discord import acknowledged_notice, answer_of, result_of


async def test_a_guild_moderator_hides_a_face_anyone_there_reported(migrated_database_url):
    async with FakeDiscord() as fake:
        ann, bob, cy = fake.add_user("ann"), fake.add_user("bob"), fake.add_user("cy", locale="ko")
        cy.roles.append(fake.add_role("Moderators"))
        settings = settings_for(fake, migrated_database_url, discord_mod_role="moderators")
        async with running_bot(fake, settings) as bot:
            guild = fake.guild_channel.id
            for user in (ann, bob, cy):
                await acknowledged_notice(fake, user, await user.slash("help"))
            face = await result_of(fake, await ann.slash("new", channel=guild))
            assert face.button_rows == [["Eyes", "Nose", "Mouth", "Variations"], ["Remix", "🚩 Report"]]

            # bob sees ann's face in the channel and reports it: only he sees the thanks
            thanks = await answer_of(fake, await bob.press(face, "🚩 Report"))
            assert thanks.content == "Thanks for the report. A moderator will take a look."
            assert thanks.ephemeral_for == bob.id and thanks not in ann.sees(guild)
            again = await answer_of(fake, await bob.press(face, "🚩 Report"))
            assert again.content == thanks.content   # the same answer: a press tells nothing about faces

            # cy holds the moderator role: the same button tells her the ids her commands take
            ids = await answer_of(fake, await cy.press(face, "🚩 Report"))   # labelled in ann's language
            found = re.fullmatch(r"얼굴 (\d+) \(사용자 (\d+)의 #1, 신고 1건\)\. 숨기기: /hide \1 · 차단: /ban \2", ids.content)
            assert found and ids.ephemeral_for == cy.id
            face_id, ann_id = int(found[1]), int(found[2])

            def answer_to(user, prefix):
                return fake.until(lambda: next((m for m in user.bot_messages(guild) if m.content.startswith(prefix)), None))

            await bob.say(f"hide {face_id}", channel=guild, mention=True)
            assert (await answer_to(bob, "Sorry")).content == "Sorry, only moderators can do that."
            await cy.say(f"숨기기 {face_id}")   # a DM has no guild roles
            assert (await fake.until(lambda: next((m for m in cy.bot_messages() if "운영진만" in m.content), None)))

            await cy.say(f"숨기기 {face_id} 신고 확인함", channel=guild, mention=True)
            assert (await answer_to(cy, attach_particles(f"얼굴 {face_id}을(를) 숨겼"))).content == attach_particles(f"얼굴 {face_id}을(를) 숨겼어요 (사용자 {ann_id}의 #1).")
            await cy.say(f"ban <@{ann.id}> 반복 신고", channel=guild, mention=True)
            banned = await answer_to(cy, f"사용자 {ann_id}(")
            assert banned.content == f"사용자 {ann_id}(discord:{ann.id}, ann)을 차단했어요. 기다리던 요청 0건도 취소했어요."

            async with session_factory(bot.app.engine)() as session:
                events = (await session.execute(select(ModerationEvent).order_by(ModerationEvent.id))).scalars().all()
                bob_id = (await FaceRepository(session).get_or_create_user("discord", str(bob.id))).id
            assert [(e.actor, e.action, e.target_face_id, e.reason) for e in events] == [
                (f"user:{bob_id}", "report", face_id, "reported from the chat"),
                (f"discord:{cy.id}", "hide", face_id, "신고 확인함"),
                (f"discord:{cy.id}", "ban", None, "반복 신고")]
        assert fake.refusals == []
