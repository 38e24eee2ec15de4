"""50 simulated Discord users at once on the real adapter, core and worker: nothing lost,
every reply in the asker's own channel, and Discord's rate limits kept (the fake counts)."""

from __future__ import annotations

import asyncio
import shutil

from discord_fake import GLOBAL_PER_SECOND, ROUTE_LIMITS, FakeDiscord, running_bot, settings_for
from test_discord import acknowledged_notice, result_of

USERS = 50


async def test_fifty_users_at_once_get_their_own_faces_within_the_rate_limits(tmp_path, migrated_templates):
    path = tmp_path / "dreamface.db"
    shutil.copyfile(migrated_templates["sqlite"], path)
    async with FakeDiscord() as fake:
        users = [fake.add_user(f"user{i}", locale="ko" if i % 2 else "en-US") for i in range(USERS)]
        settings = settings_for(fake, f"sqlite:///{path}", user_job_cap=3)
        async with running_bot(fake, settings):

            async def session(user) -> tuple:
                await acknowledged_notice(fake, user, await user.slash("help"))
                new = await result_of(fake, await user.slash("new"), timeout=120)
                grid = await result_of(fake, await user.press(new, new.button_rows[0][0]), timeout=120)
                picked = await result_of(fake, await user.press(grid, "3"), timeout=120)
                return new, grid, picked

            outcomes = await asyncio.gather(*(session(u) for u in users))

        for user, (new, grid, picked) in zip(users, outcomes):
            english = user.locale.startswith("en")
            assert new.content == ("#1: a new face." if english else "#1: 새 얼굴이에요.")
            assert len(grid.button_rows) == 2 and picked.content.startswith("#2:")
            # everything the bot said to this user is in their own DM, and nobody else's
            mine = {m.id for m in user.bot_messages()}
            assert {new.id, grid.id, picked.id} <= mine
            assert all(m.channel_id == user.dm.id for m in user.bot_messages())
        assert sum(len(u.bot_messages()) for u in users) == sum(len(fake.messages[u.dm.id]) for u in users)

        assert fake.refusals == [] and fake.unmodelled == []
        assert len(fake.interaction_acks()) == len(fake.interactions) == USERS * 5   # help, the notice, new, eyes, pick
        assert max(fake.interaction_acks()) < 3.0
        for rule, (limit, window) in ROUTE_LIMITS.items():
            assert fake.limits.busiest(rule, window) <= limit, rule
        assert fake.limits.busiest("global", 1.0) <= GLOBAL_PER_SECOND
        print(f"\n{USERS} users: slowest acknowledgement {max(fake.interaction_acks()):.2f} s, "
              f"{len(fake.requests)} requests, 429 answers {dict(fake.limits.refused) or 0}")
