"""Two `dreamface bot discord` processes of one deployment (one SQLite database, one key file
in their shared working directory), holding shards 0 and 1 of 2, against the protocol-level
fake: each guild's interactions reach and are answered by the process holding its shard, every
result arrives once, and only shard 0's process syncs the slash commands. The shard-1 process
is SIGKILLed while its in-process worker runs a job of a user in a shard-1 guild and started
again: that result still arrives once, in the progress message the killed process posted, the
shard-0 user is answered all along, and the commands are not synced again.

tests/bot/test_discord_shards.py runs the same split with two bots inside the test process
(stopped cleanly); tests/bot/test_discord_restart.py kills a single-process bot."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, process_env
from discord_fake import FakeDiscord, shard_of
from test_discord import acknowledged_notice, answer_of, result_of
from test_discord_restart import job_state, shown_progress, wait_for

from storage.courier import LEASE_SECONDS as COURIER_LEASE_SECONDS

pytestmark = pytest.mark.slow

SHEET = "face.sheet"
# Both processes run an in-process worker. Shard 0's polls more slowly, so a job queued by
# shard 1's process is nearly always claimed by shard 1's own worker (the test checks, and
# tries again in the rare case it was not); a dead worker's lease runs out within seconds.
POLL_SECONDS = {0: "1.0", 1: "0.1"}
LEASE_SECONDS = "2"


def command_syncs(fake: FakeDiscord) -> int:
    return sum(1 for _, method, path, _ in fake.requests if method == "PUT" and path.endswith("/commands"))


def running_worker(workdir: Path, kind: str) -> str | None:
    """The id (new_process_id: worker-host-pid-…) of the worker running the latest `kind` job;
    None while it is not running."""
    with sqlite3.connect(workdir / "dreamface.db") as db:
        row = db.execute("SELECT state, worker_id FROM jobs WHERE kind = ? ORDER BY id DESC LIMIT 1",
                         (kind,)).fetchone()
    return row[1] if row is not None and row[0] == "running" else None


def repeated_deliveries(workdir: Path) -> list[tuple]:
    """Jobs with more than one delivery."""
    with sqlite3.connect(workdir / "dreamface.db") as db:
        return db.execute("SELECT job_id, COUNT(*) FROM deliveries WHERE job_id IS NOT NULL "
                          "GROUP BY job_id HAVING COUNT(*) > 1").fetchall()


def of_process(pid: int, process_id: str | None) -> bool:
    """Whether a worker or courier id (new_process_id: …-host-pid-…) names the process `pid`."""
    return process_id is not None and f"-{pid}-" in process_id


def unsent_deliveries(workdir: Path) -> list[tuple]:
    """(id, job id, state, owner, attempt) of the deliveries not sent."""
    with sqlite3.connect(workdir / "dreamface.db") as db:
        return db.execute("SELECT id, job_id, state, owner, attempt FROM deliveries WHERE state != 'sent'").fetchall()


class ShardProcesses:
    """One `dreamface bot discord` process per shard (DREAMFACE_DISCORD_SHARD_IDS=0 and 1 of
    DREAMFACE_DISCORD_SHARD_COUNT=2), all in `workdir`: they share its database file and the
    default key file (dreamface-web.key) there. On leaving, each gets SIGINT and must exit 0."""

    def __init__(self, fake: FakeDiscord, workdir: Path) -> None:
        self.fake, self.workdir = fake, workdir
        self.processes: dict[int, subprocess.Popen] = {}
        self.starts = {0: 0, 1: 0}

    def start(self, shard: int) -> subprocess.Popen:
        env = process_env()
        env.update({"PYTHONPATH": str(REPO), "DREAMFACE_DATABASE_URL": f"sqlite:///{self.workdir / 'dreamface.db'}",
                    "DREAMFACE_DISCORD_TOKEN": self.fake.token, "DREAMFACE_DISCORD_API_BASE": self.fake.api_base,
                    "DREAMFACE_DISCORD_GATEWAY_URL": self.fake.gateway_url,
                    "DREAMFACE_DISCORD_SHARD_COUNT": "2", "DREAMFACE_DISCORD_SHARD_IDS": str(shard),
                    "DREAMFACE_WORKER_POLL_SECONDS": POLL_SECONDS[shard],
                    "DREAMFACE_WORKER_LEASE_SECONDS": LEASE_SECONDS})
        self.starts[shard] += 1
        with open(self.workdir / f"shard{shard}-start{self.starts[shard]}.log", "w") as log:
            self.processes[shard] = subprocess.Popen(
                [sys.executable, "-m", "dreamface.cli", "bot", "discord"], cwd=self.workdir, env=env,
                stdout=log, stderr=subprocess.STDOUT)
        return self.processes[shard]

    def claimed_by(self, shard: int, worker_id: str | None) -> bool:
        return of_process(self.processes[shard].pid, worker_id)

    async def kill(self, shard: int) -> int:
        """SIGKILL the shard's process; returns its pid."""
        process = self.processes[shard]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        # the kernel closed its gateway connection: Discord (the fake) sees the shard gone
        await self.fake.until(lambda: self.fake.connected_shards() == [0], timeout=10)
        return process.pid

    def output(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text()[-4000:]}" for path in sorted(self.workdir.glob("*.log")))

    async def __aenter__(self) -> "ShardProcesses":
        return self

    async def __aexit__(self, *exc: object) -> None:
        running = [p for p in self.processes.values() if p.poll() is None]
        for process in running:
            process.send_signal(signal.SIGINT)
        for process in running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if exc[0] is None:
            codes = {shard: p.returncode for shard, p in self.processes.items()}
            assert codes == {0: 0, 1: 0}, f"{codes}\n{self.output()}"


async def test_two_bot_processes_split_the_shards_and_a_killed_one_loses_no_result(tmp_path):
    async with FakeDiscord(shards=2, max_concurrency=2) as fake:
        zero, one = fake.add_guild("zero", shard=0, of=2), fake.add_guild("one", shard=1, of=2)
        assert (shard_of(zero.id, 2), shard_of(one.id, 2)) == (0, 1)
        ann, bob = fake.add_user("ann"), fake.add_user("bob")   # ann in "zero" (shard 0), bob in "one"
        async with ShardProcesses(fake, tmp_path) as bots:
            bots.start(0), bots.start(1)   # at once: one migrates the new database, one writes the key
            try:
                await fake.until(lambda: fake.connected_shards() == [0, 1], timeout=120)
            except AssertionError:
                raise AssertionError(bots.output()) from None
            assert command_syncs(fake) == 1   # by shard 0's process, before it connected
            assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".key")) == ["dreamface-web.key"]
            assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dreamface-web.key")]

            # each guild's commands go to, and are answered by, the process holding its shard
            ann_help = await ann.slash("help", channel=zero.channel.id)
            bob_help = await bob.slash("help", channel=one.channel.id)
            assert (ann_help.shards, bob_help.shards) == ([0], [1])
            await acknowledged_notice(fake, ann, ann_help)
            await acknowledged_notice(fake, bob, bob_help)
            ann_new = await ann.slash("new", channel=zero.channel.id)
            bob_new = await bob.slash("new", channel=one.channel.id)
            assert (ann_new.shards, bob_new.shards) == ([0], [1])
            ann_face, bob_face = await result_of(fake, ann_new, 60), await result_of(fake, bob_new, 60)
            assert (ann_face.content, bob_face.content) == ("#1: a new face.", "#1: a new face.")

            # bob asks for a grid: shard 1's process answers and posts the placeholder, and its own
            # worker runs the job (if shard 0's worker took it, the grid arrives and bob asks again)
            tries = []
            for _ in range(3):
                press = await bob.press(bob_face, "Eyes")   # a 512-px grid of ten: a second or more of work
                assert press.shards == [1]
                placeholder = await fake.until(lambda: next(iter(fake.followups_of(press)), None))
                await wait_for(lambda: shown_progress(tmp_path, SHEET) == str(placeholder.id),
                               "the placeholder recorded")
                worker = await wait_for(lambda: running_worker(tmp_path, SHEET), "the grid being made")
                tries.append(placeholder)
                if bots.claimed_by(1, worker):
                    break
                assert bots.claimed_by(0, worker), worker
                await fake.until(lambda: placeholder if placeholder.images else None, timeout=60)
            else:
                raise AssertionError("shard 0's worker claimed bob's grid every time")
            waiting = placeholder.states[0]   # what it said first ("on it"; progress may have edited it since)

            killed = await bots.kill(1)
            # killed before the grid was made (a late heartbeat under load may have put it back in line)
            assert job_state(tmp_path, SHEET) in ("running", "queued") and not placeholder.images

            # shard 1 is gone; ann's guild is on shard 0 and she is answered as before
            ann_again = await ann.slash("new", channel=zero.channel.id)
            assert ann_again.shards == [0]
            assert (await result_of(fake, ann_again, 60)).content == "#2: a new face."

            bots.start(1)
            await fake.until(lambda: fake.connected_shards() == [0, 1], timeout=120)
            # the rescued job is made again (by whichever worker) and delivered into the placeholder
            grid = await fake.until(lambda: placeholder if placeholder.images else None, timeout=60)
            assert grid.content == "Pick 1–10: eyes for #1." != waiting   # the placeholder became the grid
            assert grid.button_rows == [["1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]

            # the restarted process answers shard 1's interactions, buttons sent before the kill included
            picked = await bob.press(grid, "4")
            assert picked.shards == [1]
            assert (await result_of(fake, picked, 60)).content == "#2: eyes 4 picked for #1."
            ann_last = await ann.slash("help", channel=zero.channel.id)
            assert ann_last.shards == [0]
            assert (await answer_of(fake, ann_last)).content

            await asyncio.sleep(1.0)   # time for a repeat to show up, if there were one
            # A reply the killed process was still sending when it died (the platform may already
            # have shown it) stays 'sending' under that process's lease; when the lease runs out a
            # live process sends it again, and Discord drops the repeat by its nonce. Any other
            # reply not sent by now is a lost result.
            left = unsent_deliveries(tmp_path)
            assert all(state == "sending" and of_process(killed, owner) for _, _, state, owner, _ in left), \
                f"{left}\n{bots.output()}"
            if left:
                await wait_for(lambda: not unsent_deliveries(tmp_path), "the killed process's reply sent again",
                               timeout=COURIER_LEASE_SECONDS + 30)
                await asyncio.sleep(1.0)
            shown = {guild.name: [m.content for m in user.bot_messages(guild.channel.id) if m.images]
                     for user, guild in ((ann, zero), (bob, one))}
            grids = ["Pick 1–10: eyes for #1."] * len(tries)
            assert shown == {"zero": ["#1: a new face.", "#2: a new face."],
                             "one": ["#1: a new face.", *grids, "#2: eyes 4 picked for #1."]}, shown
            assert not any(m.content == waiting for m in bob.bot_messages(one.channel.id)), "no placeholder left"
            assert repeated_deliveries(tmp_path) == []
            assert all(len(i.shards) == 1 for i in fake.interactions.values())
            assert sorted(shard for _, shard, _ in fake.identified) == [0, 1, 1]
            assert command_syncs(fake) == 1   # the restarted shard-1 process did not sync again
            assert fake.refusals == [] and fake.unmodelled == []
