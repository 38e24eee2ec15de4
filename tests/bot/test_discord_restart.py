"""`dreamface bot discord` as a process, killed (SIGKILL) while a job runs: after a restart the
result arrives, once, in the progress message the first process posted (no placeholder is
left behind), and the buttons sent before the restart still work. Killed after Discord took
the progress message but before the bot recorded it, the result still arrives once, anew."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO, process_env
from discord_fake import FakeDiscord
from test_discord import acknowledged_notice, result_of

SHEET = "face.sheet"


def start_bot(fake: FakeDiscord, workdir: Path, log_name: str) -> subprocess.Popen:
    env = process_env()
    env.update({"PYTHONPATH": str(REPO), "DREAMFACE_DATABASE_URL": f"sqlite:///{workdir / 'dreamface.db'}",
                "DREAMFACE_DISCORD_TOKEN": fake.token, "DREAMFACE_DISCORD_API_BASE": fake.api_base,
                "DREAMFACE_DISCORD_GATEWAY_URL": fake.gateway_url, "DREAMFACE_WORKER_POLL_SECONDS": "0.1",
                "DREAMFACE_WORKER_LEASE_SECONDS": "2"})   # a dead worker's job is rescued within seconds
    with open(workdir / log_name, "w") as log:
        return subprocess.Popen([sys.executable, "-m", "dreamface.cli", "bot", "discord"], cwd=workdir, env=env,
                                stdout=log, stderr=subprocess.STDOUT)


def is_eyes_grid(message) -> bool:
    return message.content == "Pick 1–10: eyes for #1."


def job_state(workdir: Path, kind: str) -> str | None:
    with sqlite3.connect(workdir / "dreamface.db") as db:
        row = db.execute("SELECT state FROM jobs WHERE kind = ? ORDER BY id DESC LIMIT 1", (kind,)).fetchone()
    return None if row is None else row[0]


def shown_progress(workdir: Path, kind: str) -> str | None:
    """The message id the bot recorded as the latest `kind` job's progress message."""
    with sqlite3.connect(workdir / "dreamface.db") as db:
        row = db.execute("SELECT p.message_id FROM progress_messages p JOIN jobs j ON j.id = p.job_id "
                         "WHERE j.kind = ? ORDER BY j.id DESC LIMIT 1", (kind,)).fetchone()
    return None if row is None else row[0]


def delivery_state(workdir: Path, kind: str) -> str | None:
    with sqlite3.connect(workdir / "dreamface.db") as db:
        row = db.execute("SELECT d.state FROM deliveries d JOIN jobs j ON j.id = d.job_id "
                         "WHERE j.kind = ? ORDER BY d.id DESC LIMIT 1", (kind,)).fetchone()
    return None if row is None else row[0]


async def wait_for(check, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)
    return found


async def wait_for_state(workdir: Path, kind: str, state: str, timeout: float = 30.0) -> None:
    await wait_for(lambda: job_state(workdir, kind) == state, f"a {kind} job to reach {state}", timeout)


class KilledBot:
    """`dreamface bot discord` as a process: started, SIGKILLed and started again by a test;
    stopped with SIGINT on leaving, when the last process must exit 0."""

    def __init__(self, fake: FakeDiscord, workdir: Path) -> None:
        self.fake, self.workdir = fake, workdir
        self.process = start_bot(fake, workdir, "first.log")

    async def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        await self.fake.until(lambda: self.fake.identifies == 1 and not self.fake._sessions, timeout=10)

    def restart(self) -> None:
        self.process = start_bot(self.fake, self.workdir, "second.log")

    async def __aenter__(self) -> "KilledBot":
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=30)
        if exc[0] is None:
            assert self.process.returncode == 0, (self.workdir / "second.log").read_text()


async def first_face(fake: FakeDiscord, ann):
    """ann's face #1, made through the bot once it is connected."""
    await fake.wait_connected(timeout=90)
    await acknowledged_notice(fake, ann, await ann.slash("help"))
    return await result_of(fake, await ann.slash("new"))


async def test_a_result_made_while_the_bot_was_killed_arrives_once_after_restart(tmp_path):
    async with FakeDiscord() as fake:
        ann = fake.add_user("ann", locale="en-US")
        async with KilledBot(fake, tmp_path) as bot:
            face = await first_face(fake, ann)
            press = await ann.press(face, "Eyes")        # a 512-px grid of ten: about a second of work
            placeholder = await fake.until(lambda: next(iter(fake.followups_of(press)), None))
            waiting = placeholder.content
            await wait_for(lambda: shown_progress(tmp_path, SHEET) == str(placeholder.id), "the placeholder recorded")
            await wait_for_state(tmp_path, SHEET, "running")
            await bot.kill()
            shown_before = [m for m in ann.bot_messages() if is_eyes_grid(m)]

            bot.restart()
            grid = await fake.until(lambda: next((m for m in ann.bot_messages() if is_eyes_grid(m)), None),
                                    timeout=90)
            assert shown_before == []                    # the grid was still being made when the bot died
            assert grid is placeholder and grid.states[0] == waiting != grid.content
            assert grid.content == "Pick 1–10: eyes for #1." and len(grid.images) == 1
            assert grid.button_rows == [["1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]
            assert not any(m.content == waiting for m in ann.bot_messages()), "no placeholder left behind"

            # a button sent by the first process works in the second
            picked = await result_of(fake, await ann.press(grid, "4"))
            assert picked.content == "#2: eyes 4 picked for #1."
            await asyncio.sleep(1.0)                     # time for a repeat to show up, if there were one
            assert len([m for m in ann.bot_messages() if is_eyes_grid(m)]) == 1
            assert fake.identifies == 2 and fake.refusals == []


async def test_killed_before_recording_its_placeholder_the_bot_still_delivers_the_result_once(tmp_path):
    async with FakeDiscord() as fake:
        ann = fake.add_user("ann", locale="en-US")
        async with KilledBot(fake, tmp_path) as bot:
            face = await first_face(fake, ann)
            fake.hold_next_post()                        # Discord takes the placeholder; the bot never hears back
            await ann.press(face, "Eyes")
            placeholder = await fake.until(lambda: fake.held)
            await bot.kill()
            assert shown_progress(tmp_path, SHEET) is None   # killed inside the unrecorded window

            bot.restart()
            await wait_for(lambda: delivery_state(tmp_path, SHEET) == "sent", "the grid delivered", timeout=90)
            grids = [m for m in ann.bot_messages() if is_eyes_grid(m)]
            assert len(grids) == 1 and grids[0] is not placeholder, "the grid once, as a new message"
            assert len(grids[0].images) == 1 and grids[0].button_rows[0] == ["1", "2", "3", "4", "5"]
            assert placeholder.states == [placeholder.content]   # stale: nobody knew to edit it
            assert fake.identifies == 2 and fake.refusals == []


async def test_a_result_after_the_interaction_token_ran_out_replaces_its_message_through_the_channel(
        migrated_database_url, monkeypatch):
    import bot.discord.adapter as adapter_module
    from discord_fake import running_bot, settings_for

    monkeypatch.setattr(adapter_module, "INTERACTION_EDIT_SECONDS", 0.0)   # every token "expires" at once
    async with FakeDiscord() as fake:
        ann = fake.add_user("ann", locale="en-US")
        async with running_bot(fake, settings_for(fake, migrated_database_url)):
            await acknowledged_notice(fake, ann, await ann.slash("help"))
            command = await ann.slash("new")
            face = await result_of(fake, command)
            assert face is fake.response_of(command) and face.content == "#1: a new face."
            assert face.states[0] != face.content   # it said "on it" first, then became the face
        edits = [path for _, method, path, status in fake.requests if method == "PATCH" and status == 200]
        assert f"/api/v10/channels/{face.channel_id}/messages/{face.id}" in edits
        assert fake.refusals == []
