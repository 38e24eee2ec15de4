"""The language of a first contact whose platform says nothing (a Discord DM): guessed from the
script of the message; later the stored language holds, a slash command's locale updates it,
and a language the user chose outranks both."""

from __future__ import annotations

import pytest

from bot.grammar.script import locale_of_script
from discord_fake import FakeDiscord, running_bot, settings_for
from test_discord import answer_of


@pytest.mark.parametrize("text, locale", [
    ("새 얼굴", "ko"), ("배소라랑 0.7 합성", "ko"), ("ㅋㅋ", "ko"), ("describe 눈이 큰 남자", "ko"),
    ("new 42", "en"), ("morph with 배소라 at 0.7", "en"), ("Héloïse", "en"),
    ("42", None), ("😀", None), ("", None), (None, None),
])
def test_the_script_decides_when_nothing_else_does(text, locale):
    assert locale_of_script(text) == locale


async def _next_text(fake: FakeDiscord, user, before: int) -> str:
    return await fake.until(lambda: next((m.content for m in user.bot_messages()[before:] if m.content), None))


async def test_a_dm_from_a_first_contact_is_answered_in_the_language_it_was_written_in(migrated_database_url):
    async with FakeDiscord() as fake:
        # Discord reports a user's locale with slash commands and presses, never with a plain DM
        sam, jimin = fake.add_user("sam", locale="ko"), fake.add_user("jimin", locale="en-US")
        async with running_bot(fake, settings_for(fake, migrated_database_url)):
            await sam.say("help")
            await jimin.say("도움말")
            sam_notice = await fake.until(lambda: next((m for m in sam.bot_messages() if m.button_rows), None))
            jimin_notice = await fake.until(lambda: next((m for m in jimin.bot_messages() if m.button_rows), None))
            assert sam_notice.content.startswith("Welcome!") and sam_notice.button_rows == [["Got it"]]
            assert jimin_notice.content.startswith("반가워요!") and jimin_notice.button_rows == [["알겠어요"]]

            # after that, each message is answered in the script it is written in …
            before = len(sam.bot_messages())
            await sam.say("ok")                      # acknowledges the notice; the held "help" follows
            assert (await _next_text(fake, sam, before)).startswith("Thanks!")
            await fake.until(lambda: any(m.content.startswith("What I can do:") for m in sam.bot_messages()))
            before = len(sam.bot_messages())
            await sam.say("도움말")
            assert (await _next_text(fake, sam, before)).startswith("할 수 있는 것")

            # … a slash command is a menu entry, not writing: its locale (Korean, for sam) decides …
            assert (await answer_of(fake, await sam.slash("help"))).content.startswith("할 수 있는 것")
            before = len(sam.bot_messages())
            await sam.say("help")
            assert (await _next_text(fake, sam, before)).startswith("What I can do:")

            # … and a language the user chose outranks every hint
            before = len(jimin.bot_messages())
            await jimin.say("네")
            assert (await _next_text(fake, jimin, before)).startswith("고마워요!")
            await fake.until(lambda: any(m.content.startswith("할 수 있는 것") for m in jimin.bot_messages()))
            before = len(jimin.bot_messages())
            await jimin.say("언어 한국어")
            assert await _next_text(fake, jimin, before) == "이제 한국어로 말할게요."
            assert (await answer_of(fake, await jimin.slash("help"))).content.startswith("할 수 있는 것")
        assert fake.refusals == []
