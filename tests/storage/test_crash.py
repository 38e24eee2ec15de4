"""500 jobs, 4 worker processes and 2 courier processes, SIGKILLed at random moments.

Every job must end exactly once (done, or failed after its attempts with the reason), none
lost; every reply must be sent at least once, and a reply may repeat only when a courier was
killed between the platform accepting it and marking it sent (then that courier logged the
send and not the mark). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from storage.jobkinds import JobKinds
from storage.outbox import Outbox
from storage.queue import Queue

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from queue_processes import ECHO  # noqa: E402

JOBS, FAILING, WORKERS, COURIERS, KILLS = 500, 10, 4, 2, 8


class Fleet:
    """The test's worker and courier processes, restartable by slot."""

    def __init__(self, url: str, logdir: Path) -> None:
        self.url, self.logdir = url, logdir
        self.procs: dict[str, subprocess.Popen] = {}
        self.killed_couriers: list[int] = []

    def start(self, slot: str) -> None:
        role = slot.split("-")[0]
        self.procs[slot] = subprocess.Popen(
            [sys.executable, str(HERE / "queue_processes.py"), role, self.url, str(self.logdir),
             "--lease", "1.5" if role == "worker" else "2"],
            stderr=open(self.logdir / f"{slot}.err", "a"))

    def kill(self, slot: str) -> None:
        proc = self.procs[slot]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if slot.startswith("courier"):
            self.killed_couriers.append(proc.pid)

    def stop_all(self) -> list[int]:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(
                (self.logdir / f"ready-{p.pid}").exists() or p.poll() is not None for p in self.procs.values()):
            time.sleep(0.1)
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = []
        for proc in self.procs.values():
            try:
                codes.append(proc.wait(15))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(proc.wait())
        return codes


async def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.25)
    return False


@pytest.mark.slow
async def test_every_job_ends_once_and_every_reply_arrives_despite_sigkill(migrated_database_url, engine, tmp_path):
    queue, outbox = Queue(engine, JobKinds({"echo": ECHO})), Outbox(engine)
    failing = set(random.Random(7).sample(range(JOBS), FAILING))
    ids = {}
    for n in range(JOBS):
        ids[n] = (await queue.enqueue("echo", {"n": n, "ms": 5, "fail": n in failing},
                                      max_attempts=3 if n in failing else 10)).id

    fleet = Fleet(migrated_database_url, tmp_path)
    slots = [f"worker-{i}" for i in range(WORKERS)] + [f"courier-{i}" for i in range(COURIERS)]
    for slot in slots:
        fleet.start(slot)
    rng = random.Random()
    started = time.monotonic()

    async def everything_finished() -> bool:
        async with engine.connect() as conn:
            from sqlalchemy import text
            open_jobs = (await conn.execute(text("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')"))).scalar()
            open_replies = (await conn.execute(text("SELECT count(*) FROM deliveries WHERE state != 'sent'"))).scalar()
        return open_jobs == 0 and open_replies == 0

    try:
        victims = [rng.choice(slots[:WORKERS]) for _ in range(KILLS - 3)] + [rng.choice(slots[WORKERS:]) for _ in range(3)]
        rng.shuffle(victims)
        for slot in victims:
            await asyncio.sleep(rng.uniform(0.4, 1.2))
            fleet.kill(slot)
            fleet.start(slot)
        finished = await wait_for(everything_finished, timeout=50)
    finally:
        exit_codes = fleet.stop_all()
    elapsed = time.monotonic() - started
    assert finished, "jobs or replies left unfinished"
    assert exit_codes == [0] * len(slots), "a restarted process did not stop cleanly on SIGTERM"

    # every job ended exactly once, with one reply per done job (written in its finalize)
    retried = 0
    for n, job_id in ids.items():
        job = await queue.get(job_id)
        retried += n not in failing and job.attempt > 1
        replies = await outbox.for_job(job_id)
        if n in failing:
            assert (job.state, len(replies)) == ("failed", 0)
            # the handler raised on its batch (or its worker was killed on the last attempt)
            assert re.fullmatch(r"RuntimeError: echo job \d+ always fails \(gave up after 3 attempts\)"
                                r"|lease expired: the worker stopped responding", job.error), job.error
        else:
            assert (job.state, job.result["n"], len(replies)) == ("done", n, 1), f"job {n}"

    # every reply sent at least once; repeats only from a killed courier's send-to-mark window:
    # what it sent and had not recorded as sent when it died (it sends to several chats at once)
    logs = {int(path.stem.split("-")[1]): path.read_text().split() for path in tmp_path.glob("sent-*.log")}
    marked = {int(path.stem.split("-")[1]): set(path.read_text().split()) for path in tmp_path.glob("marked-*.log")}
    sends = Counter(nonce for lines in logs.values() for nonce in lines)
    nonces = {d.nonce for job_id in ids.values() for d in await outbox.for_job(job_id)}
    assert set(sends) == nonces
    window = Counter(nonce for pid, lines in logs.items() if pid in fleet.killed_couriers
                     for nonce in lines if nonce not in marked.get(pid, set()))
    repeats = {nonce: count - 1 for nonce, count in sends.items() if count > 1}
    for nonce, extra in repeats.items():
        assert extra <= window[nonce], f"reply {nonce} repeated without its courier dying in the window"
    print(f"\n[{engine.dialect.name}] {JOBS} jobs, {KILLS} SIGKILLs ({len(fleet.killed_couriers)} couriers) "
          f"in {elapsed:.1f} s; {retried} jobs finished after a lost lease; {len(nonces)} replies, {sum(repeats.values())} repeated from the "
          f"send-to-mark window")
