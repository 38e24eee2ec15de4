"""Discord sharding end to end: the real adapter and discord.py's AutoShardedClient against the
protocol-level fake, which assigns guilds to shards by Discord's rule and keeps Discord's
identify limit. Two bots in this test process stand for two processes of one deployment (one
database, one key file), each holding one shard of two: a result goes out through the process
that answered for it while that one lives, through the other once it is gone."""

from __future__ import annotations

import asyncio
import contextlib
import secrets

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

import bot.discord.shards as shards_module
from discord_fake import IDENTIFY_WINDOW, FakeDiscord, running_bot, settings_for, shard_of
from dreamface.app import open_app
from dreamface.health import ReadinessRules, mount_ops_routes
from facegen.handlers import SHEET
from storage.db import session_factory
from storage.models import Job, ShownProgress
from storage.outbox import Outbox
from test_discord import acknowledged_notice, answer_of, result_of


def command_syncs(fake: FakeDiscord) -> int:
    return sum(1 for _, method, path, _ in fake.requests if method == "PUT" and path.endswith("/commands"))


async def until_remembered(engine, message_id: int) -> None:
    """Until a process has recorded this message as a job's progress message."""
    for _ in range(600):
        async with session_factory(engine)() as session:
            if await session.scalar(select(ShownProgress.job_id).where(ShownProgress.message_id == str(message_id))):
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"message {message_id} was not recorded as a progress message")


async def until_claimed(engine, kind: str) -> None:
    """Until a courier has claimed the delivery of the latest `kind` job."""
    for _ in range(600):
        async with session_factory(engine)() as session:
            job_id = await session.scalar(select(Job.id).where(Job.kind == kind).order_by(Job.id.desc()).limit(1))
        if job_id is not None and any(d.state != "pending" for d in await Outbox(engine).for_job(job_id)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no courier claimed the {kind} job's delivery")


async def test_one_process_runs_the_recommended_shards_within_the_identify_limit(migrated_database_url):
    async with FakeDiscord(shards=4, max_concurrency=2, strict_identify=True) as fake:
        guilds = [fake.add_guild(f"guild {i}", shard=i, of=4) for i in range(4)]
        ann = fake.add_user("ann")
        async with running_bot(fake, settings_for(fake, migrated_database_url)):   # no shard settings
            await fake.until(lambda: fake.connected_shards() == [0, 1, 2, 3], timeout=30)
            times = {shard: t for t, shard, count in fake.identified}
            assert [count for _, _, count in fake.identified] == [4, 4, 4, 4]
            assert fake.identify_refusals == 0
            # two buckets (max_concurrency 2): shards 0 and 1 at once, 2 and 3 one window later
            assert abs(times[1] - times[0]) < 1.0
            assert times[2] - times[0] >= IDENTIFY_WINDOW - 0.1 and times[3] - times[1] >= IDENTIFY_WINDOW - 0.1
            assert command_syncs(fake) == 1

            # each guild's command reaches the one shard that carries it, and is answered
            await acknowledged_notice(fake, ann, await ann.slash("help"))
            for shard, guild in enumerate(guilds):
                command = await ann.slash("new", channel=guild.channel.id)
                assert command.shards == [shard]
                assert (await result_of(fake, command)).content == f"#{shard + 1}: a new face."
            assert fake.refusals == []


async def test_two_processes_split_the_shards_and_either_delivers(migrated_database_url):
    secret = secrets.token_bytes(32)   # the key file every process of a deployment shares
    async with FakeDiscord(shards=2, max_concurrency=2) as fake:
        zero, one = fake.add_guild("zero", shard=0, of=2), fake.add_guild("one", shard=1, of=2)
        ann, bob, cy = fake.add_user("ann"), fake.add_user("bob"), fake.add_user("cy")
        cy.roles.append(fake.add_role("Moderators", guild=one))
        common = dict(discord_shard_count=2, discord_mod_role="moderators")
        settings = {shard: settings_for(fake, migrated_database_url, discord_shard_ids=str(shard), **common)
                    for shard in (0, 1)}

        @contextlib.asynccontextmanager
        async def worker():
            async with open_app(settings[0], with_worker=True, size=128, secret=secret):
                yield

        async with contextlib.AsyncExitStack() as stack:
            jobs = await stack.enter_async_context(contextlib.AsyncExitStack())   # the worker, stopped and restarted
            await jobs.enter_async_context(worker())
            first = await stack.enter_async_context(running_bot(fake, settings[0], with_worker=False, secret=secret))
            second = await stack.enter_async_context(contextlib.AsyncExitStack())   # shard 1's process
            await second.enter_async_context(running_bot(fake, settings[1], with_worker=False, secret=secret))
            await fake.until(lambda: fake.connected_shards() == [0, 1])
            assert command_syncs(fake) == 1   # by the process holding shard 0 only
            assert [g.shard_id for g in first.client.guilds] == [0, 0]   # the first guild and "zero"
            assert shard_of(zero.id, 2) == 0 and shard_of(one.id, 2) == 1

            for user in (ann, bob, cy):   # direct messages: shard 0's process
                notice = await user.slash("help")
                await acknowledged_notice(fake, user, notice)
                assert notice.shards == [0]
            ann_face = await ann.slash("new", channel=zero.channel.id)
            bob_face = await bob.slash("new", channel=one.channel.id)
            assert (ann_face.shards, bob_face.shards) == ([0], [1])
            ann_face, bob_face = await result_of(fake, ann_face), await result_of(fake, bob_face)
            assert (ann_face.content, bob_face.content) == ("#1: a new face.", "#1: a new face.")

            # cy moderates in "one": its process has that guild's roles, so the report button
            # tells her the ids her commands take (anyone else gets the thanks)
            ids = await answer_of(fake, await cy.press(bob_face, "🚩 Report"))
            assert ids.content.startswith("Face ") and "Hide: /hide" in ids.content, ids.content

            # the worker pauses; bob asks for a grid in "one", and shard 1's process posts its placeholder
            await jobs.aclose()
            press = await bob.press(bob_face, "Eyes")
            assert press.shards == [1]
            placeholder = await fake.until(lambda: next(iter(fake.followups_of(press)), None))
            waiting = placeholder.content
            await until_remembered(first.app.engine, placeholder.id)   # in the database
            await second.aclose()      # shard 1's process goes away
            assert fake.connected_shards() == [0]

            # the grid is made while it is gone: shard 0's process delivers it into that placeholder
            await jobs.enter_async_context(worker())
            grid = await fake.until(lambda: placeholder if placeholder.images else None)
            assert grid.content == "Pick 1–10: eyes for #1." and grid.states[0] == waiting

            # shard 1's process comes back: the grid's buttons work there, and nothing repeats
            await second.enter_async_context(running_bot(fake, settings[1], with_worker=False, secret=secret))
            await fake.until(lambda: fake.connected_shards() == [0, 1])
            picked = await bob.press(grid, "4")
            assert picked.shards == [1]
            assert (await result_of(fake, picked)).content == "#2: eyes 4 picked for #1."
            await asyncio.sleep(0.5)   # time for a repeat to show up, if there were one
            grids = [m for m in bob.bot_messages(one.channel.id) if m.content.startswith("Pick 1–10")]
            assert grids == [grid]
            assert command_syncs(fake) == 1   # shard 1's restart did not sync again
            assert fake.refusals == []


async def test_a_result_waits_for_the_placeholder_its_process_is_still_posting(migrated_database_url):
    """Shard 0's process answers a press, and Discord is slow to confirm its placeholder; the grid
    is made meanwhile. Shard 1's process, idle and polling the outbox twenty times as often, must
    leave it alone: not knowing the placeholder yet, it would post the grid as a new message and
    leave the placeholder saying "drawing" for good. The process that posted it sends it, into it."""
    secret = secrets.token_bytes(32)
    async with FakeDiscord(shards=2, max_concurrency=2) as fake:
        zero = fake.add_guild("zero", shard=0, of=2)
        ann = fake.add_user("ann")
        settings = {shard: settings_for(fake, migrated_database_url, discord_shard_count=2,
                                        discord_shard_ids=str(shard)) for shard in (0, 1)}
        async with open_app(settings[0], with_worker=True, size=128, secret=secret), \
                running_bot(fake, settings[0], with_worker=False, secret=secret, poll_seconds=1.0) as first, \
                running_bot(fake, settings[1], with_worker=False, secret=secret):
            await fake.until(lambda: fake.connected_shards() == [0, 1])
            await acknowledged_notice(fake, ann, await ann.slash("help"))
            face = await result_of(fake, await ann.slash("new", channel=zero.channel.id))

            fake.hold_next_post()
            press = await ann.press(face, "Eyes")
            assert press.shards == [0]
            placeholder = await fake.until(lambda: fake.held)
            await until_claimed(first.app.engine, SHEET)   # made and claimed while the placeholder's answer is held
            fake.release_held()
            grid = await fake.until(lambda: next((m for m in ann.bot_messages(zero.channel.id)
                                                  if m.images and m is not face), None), timeout=15)
            assert grid is placeholder and grid.content == "Pick 1–10: eyes for #1."
            assert [m for m in ann.bot_messages(zero.channel.id) if m.images] == [face, grid]


async def test_readiness_reports_each_shard_and_turns_off_when_one_cannot_reconnect(migrated_database_url,
                                                                                     monkeypatch):
    monkeypatch.setattr(shards_module, "DOWN_SECONDS", 0.5)
    async with FakeDiscord(shards=2, max_concurrency=2) as fake:
        fake.add_guild("one", shard=1, of=2)
        fake.add_guild("another one", shard=1, of=2)
        async with running_bot(fake, settings_for(fake, migrated_database_url)) as bot:
            await fake.until(lambda: fake.connected_shards() == [0, 1])
            app = web.Application()
            mount_ops_routes(app, lambda request: bot.app.engine, ReadinessRules())
            async with TestClient(TestServer(app)) as http:
                async def readyz() -> tuple[int, dict]:
                    response = await http.get("/readyz")
                    return response.status, await response.json()

                async def until_ready(wanted: bool) -> dict:
                    for _ in range(200):
                        status, body = await readyz()
                        if body["ok"] is wanted and {s["id"] for s in body["discord"]["shards"] if s["connected"]} \
                                == ({0, 1} if wanted else {0}):
                            return body
                        await asyncio.sleep(0.05)
                    raise AssertionError(body)

                body = await until_ready(True)
                shards = {s["id"]: s for s in body["discord"]["shards"]}
                assert body["discord"]["shard_count"] == 2
                assert (shards[0]["guilds"], shards[1]["guilds"]) == (len(fake.guilds) - 2, 2)
                assert all(s["latency"] is not None and s["latency"] >= 0 for s in shards.values())
                check = next(c for c in body["checks"] if c["name"] == "discord")
                assert check == {"name": "discord", "ok": True, "detail": "2 of 2 shards connected (2 in all)"}
                metrics = await (await http.get("/metrics")).text()
                assert 'dreamface_discord_shard_connected{shard="1"} 1.0' in metrics
                assert 'dreamface_discord_shard_guilds{shard="1"} 2.0' in metrics
                assert 'dreamface_discord_shard_latency_seconds{shard="0"}' in metrics

                fake.cut_shard(1)   # Discord drops shard 1 and will not take it back
                body = await until_ready(False)
                assert (await readyz())[0] == 503
                check = next(c for c in body["checks"] if c["name"] == "discord")
                assert check["detail"] == "shard 1 of 2 disconnected for over 0.5 s"
                metrics = await (await http.get("/metrics")).text()
                assert 'dreamface_discord_shard_connected{shard="1"} 0.0' in metrics

                fake.cut_shard(1, False)   # it may come back: the next identify takes it
                await until_ready(True)
                assert (await readyz())[0] == 200
