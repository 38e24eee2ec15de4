"""The production topology on PostgreSQL (issue #8): two chat processes (`dreamface run
--no-worker`) and three `dreamface worker` processes, real subprocesses of the installed command,
on a scratch database that they reach through a TCP proxy the test can cut (the shared server is
never stopped). 90 web users over the web chat's real websocket protocol, spread over both chat
processes, and 5 `dreamface chat` processes fed by stdin ask for 500 faces; one worker is
SIGKILLed while it holds jobs. Then:

- every job finished exactly once, with exactly one reply, and each user got exactly their own
  faces (no loss, no duplicate, nobody else's);
- /metrics of the workers and the chat processes count the jobs and the delivered replies;
- the database cut: both chat processes' /readyz turn 503 within a bound while /healthz stays
  200; restored: /readyz turns 200 again; every process then stops cleanly on SIGTERM.

    .venv/bin/python -m pytest tests/ops/test_topology.py -s    # -s prints the figures
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.web.client import ChatClient, is_final
from conftest import process_env
from storage.db import create_engine, session_factory
from storage.faces import FaceRepository

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "storage"))
sys.path.insert(0, str(TESTS / "bot"))
from test_outage import CuttableProxy  # noqa: E402
from web_process import free_port  # noqa: E402

DREAMFACE = Path(sys.executable).with_name("dreamface")   # the installed console script
CHATS, WORKERS = 2, 3
WEB_USERS, WEB_FACES = 90, 5      # 5 faces each: exactly the default per-user cap
CLI_USERS, CLI_FACES = 5, 10
JOBS = WEB_USERS * WEB_FACES + CLI_USERS * CLI_FACES
BATCH = 8                          # DREAMFACE_WORKER_BATCH_SIZE
LEASE = 5.0                        # seconds: the killed worker's jobs are rescued this soon
START_TIMEOUT = 60
READY_BOUND = 10.0                 # seconds for /readyz to notice the cut (its database timeout is 3 s)
BACK_BOUND = 20.0                  # seconds for /readyz to be 200 again after the restore

pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.parametrize("db_kind", ["postgres"])]   # migrated_database_url: PostgreSQL only


def environment(database_url: str, **extra: str) -> dict[str, str]:
    env = process_env()
    env.update(DREAMFACE_DATABASE_URL=database_url, DREAMFACE_LOG_FORMAT="json",
               DREAMFACE_WORKER_LEASE_SECONDS=str(LEASE), DREAMFACE_WORKER_BATCH_SIZE=str(BATCH),
               DREAMFACE_WORKER_POLL_SECONDS="0.2",
               DREAMFACE_ADDRESS_JOB_CAP="0",   # every web user here is 127.0.0.1: one address, no cap on it
               DREAMFACE_WEB_IDENTITIES_PER_HOUR="0",   # nor on the identities it makes
               **extra)
    return env


async def spawn(args: list[str], env: dict[str, str], log: Path, cwd: Path) -> asyncio.subprocess.Process:
    """A long-running process writing to a log file (never a pipe a busy test could leave full)."""
    with open(log, "w") as out:
        return await asyncio.create_subprocess_exec(str(DREAMFACE), *args, env=env, cwd=cwd,
                                                    stdout=out, stderr=asyncio.subprocess.STDOUT)


async def stop(process: asyncio.subprocess.Process) -> int:
    """SIGTERM, then its exit status (SIGKILL after 30 s: a hung process fails the test, not the run)."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()
        return -1


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
        return response.status, await response.text()


async def wait_until(condition, bound: float, what: str) -> float:
    """Seconds until the async `condition()` holds; fails after `bound`."""
    started = time.monotonic()
    while not await condition():
        assert time.monotonic() - started < bound, f"{what}: not within {bound:g} s"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


def counters(exposition: str, name: str, *labels: str) -> Counter:
    """A metric's samples summed by the given labels."""
    found: Counter = Counter()
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sample.labels[label] for label in labels)] += sample.value
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU a live process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def scalar_rows(engine, sql: str, **params) -> list:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql), params)).all()


# --- the load ---------------------------------------------------------------------------------

class WebUser:
    """One browser: acknowledges the first-use notice, asks for its faces all at once, and
    keeps reading its socket (as a page does, answering the server's pings) until told to stop."""

    def __init__(self, client: ChatClient, first_seed: int, faces: int = WEB_FACES) -> None:
        self.client, self.first_seed, self.faces = client, first_seed, faces
        self.progress: set[int] = set()     # job ids of the "on it" replies
        self.finals: list[dict] = []        # results, in arrival order
        self.later: list[dict] = []         # anything that came after the last result
        self.served = asyncio.get_running_loop().create_future()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self._browse(stop)
        except BaseException as exc:
            if not self.served.done():
                self.served.set_exception(exc)
            raise

    async def _browse(self, stop: asyncio.Event) -> None:
        client = self.client
        await client.say("help")
        notice = await client.receive()
        await client.press(notice["buttons"][0][0]["payload"])
        await client.receive()                                  # thanks
        await client.receive()                                  # the held "help"
        for seed in range(self.first_seed, self.first_seed + self.faces):
            await client.say(f"new {seed}")
        while len(self.finals) < self.faces:
            frame = await client.receive(timeout=120)
            if frame.get("type") == "reply" and frame.get("kind") == "progress":
                self.progress.add(frame["job_id"])
            elif is_final(frame):
                self.finals.append(frame)
            else:
                raise AssertionError(f"unexpected frame: {frame!r}")
        self.served.set_result(None)
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                self.later.append(await client.receive(timeout=0.2))


async def cli_user(database_url: str, name: str, first_seed: int, workdir: Path,
                   children: list[asyncio.subprocess.Process]) -> list[dict]:
    """`dreamface chat --no-worker` fed its lines on stdin; returns the JSON replies it printed."""
    lines = ["help", "/press 1"] + [f"new {seed}" for seed in range(first_seed, first_seed + CLI_FACES)]
    child = await asyncio.create_subprocess_exec(
        str(DREAMFACE), "chat", "--no-worker", "--user", name, "--lang", "en", "--out", str(workdir / name),
        env=environment(database_url), cwd=workdir, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    children.append(child)
    out, err = await asyncio.wait_for(child.communicate(("\n".join(lines) + "\n").encode()), 180)
    assert child.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines()]


async def stored_images(engine, platform: str, user: str) -> set[bytes]:
    async with session_factory(engine)() as session:
        repo = FaceRepository(session)
        account = await repo.get_or_create_user(platform, user)
        return {(await repo.face_image(face)).data for face in await repo.history(account, limit=100)}


# --- the test ---------------------------------------------------------------------------------

async def test_two_chat_processes_three_workers_500_jobs_a_killed_worker_and_a_database_cut(
        migrated_database_url, tmp_path):
    started = time.monotonic()
    direct = create_engine(migrated_database_url)          # the test's own view, never cut
    parsed = make_url(migrated_database_url)
    proxy = CuttableProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
    proxied = parsed.set(port=await proxy.start()).render_as_string(hide_password=False)

    chat_ports = [free_port() for _ in range(CHATS)]
    worker_ports = [free_port() for _ in range(WORKERS)]
    chats = [await spawn(["run", "--no-worker", "--host", "127.0.0.1", "--port", str(port),
                          "--secret-file", str(tmp_path / "web.key")],   # shared, as behind a load balancer
                         environment(proxied), tmp_path / f"chat-{i}.log", tmp_path)
             for i, port in enumerate(chat_ports)]
    workers = [await spawn(["worker"], environment(proxied, DREAMFACE_WORKER_METRICS_PORT=str(port)),
                           tmp_path / f"worker-{i}.log", tmp_path)
               for i, port in enumerate(worker_ports)]
    chat_urls = [f"http://127.0.0.1:{port}/" for port in chat_ports]
    worker_urls = [f"http://127.0.0.1:{port}/" for port in worker_ports]
    victim, survivors = workers[0], workers[1:]

    def logs() -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in sorted(tmp_path.glob("*.log")))

    stop_reading = asyncio.Event()
    browsing: asyncio.Future | None = None
    cli_children: list[asyncio.subprocess.Process] = []
    async with aiohttp.ClientSession() as http, contextlib.AsyncExitStack() as stack:
        try:
            async def all_up() -> bool:
                assert all(p.returncode is None for p in chats + workers), logs()
                for url in chat_urls + worker_urls:
                    with contextlib.suppress(aiohttp.ClientError):
                        if (await get(http, url + "healthz"))[0] == 200:
                            continue
                    return False
                return True
            await wait_until(all_up, START_TIMEOUT, "the five processes answering /healthz")
            await wait_until(lambda: _ready(http, chat_urls), START_TIMEOUT, "the chat processes ready")
            up = time.monotonic() - started

            # --- load: 90 web users over both chat processes and 5 CLI chats, 500 faces ---
            clients = await asyncio.gather(*(stack.enter_async_context(ChatClient(chat_urls[i % CHATS]))
                                             for i in range(WEB_USERS)))
            load_started = time.monotonic()
            cpu_at_start = {p.pid: cpu_seconds(p.pid) for p in chats + workers}
            users = [WebUser(c, 1000 + 10 * i) for i, c in enumerate(clients)]
            browsing = asyncio.gather(*(user.run(stop_reading) for user in users))
            web = asyncio.gather(*(user.served for user in users))
            cli = asyncio.gather(*(cli_user(proxied, f"cli-{i}", 5000 + 100 * i, tmp_path, cli_children)
                                   for i in range(CLI_USERS)))

            # --- kill one worker while it holds jobs, after a fifth of the work ---
            victim_id = f"worker-%-{victim.pid}-%"

            victim_metrics = ""

            async def victim_busy() -> bool:
                # scraped right before each look, so the kill follows the look at once: a batch
                # settling in between would leave the victim holding nothing to rescue
                nonlocal victim_metrics
                victim_metrics = (await get(http, worker_urls[0] + "metrics"))[1]
                (done, held), = await scalar_rows(
                    direct, "SELECT count(*) FILTER (WHERE state = 'done'), "
                            "count(*) FILTER (WHERE state = 'running' AND worker_id LIKE :victim) FROM jobs",
                    victim=victim_id)
                return done >= JOBS // 5 and held > 0
            await wait_until(victim_busy, 60, "the victim worker holding jobs mid-run")
            victim.send_signal(signal.SIGKILL)
            victim_cpu = cpu_seconds(victim.pid)
            await asyncio.sleep(0.5)   # a commit already on its way when it died lands first
            held_at_kill = {row.id for row in await scalar_rows(
                direct, "SELECT id FROM jobs WHERE state = 'running' AND worker_id LIKE :victim", victim=victim_id)}
            killed_at = time.monotonic() - load_started

            _, cli_results = await asyncio.wait_for(asyncio.gather(web, cli), 120)
            load_seconds = time.monotonic() - load_started
            cpu_at_end = {p.pid: cpu_seconds(p.pid) for p in chats + survivors} | {victim.pid: victim_cpu}
            worker_cpu, chat_cpu = (sum(cpu_at_end[p.pid] - cpu_at_start[p.pid] for p in group)
                                    for group in (workers, chats))

            # --- nothing lost, nothing twice, nobody else's ---
            jobs = await scalar_rows(direct, "SELECT kind, state, count(*) FROM jobs GROUP BY kind, state")
            done_by_kind = Counter({kind: n for kind, state, n in jobs if state == "done"})
            # (besides the faces: the workers' periodic clean-up job, which may be queued for later)
            assert {state for kind, state, _ in jobs if kind == "face.make"} == {"done"}, jobs
            assert done_by_kind["face.make"] == JOBS and "failed" not in {state for _, state, _ in jobs}, jobs
            held_rows = await scalar_rows(direct, "SELECT id, state, attempt FROM jobs WHERE id = ANY(:ids)",
                                          ids=list(held_at_kill)) if held_at_kill else []
            assert held_rows and all(state == "done" and attempt >= 2 for _, state, attempt in held_rows), \
                f"the killed worker's jobs were not rescued: {held_rows}"
            replies = await scalar_rows(
                direct, "SELECT d.job_id, d.platform, d.state, d.chat_id = u.platform_user_id FROM deliveries d "
                        "JOIN jobs j ON j.id = d.job_id JOIN users u ON u.id = j.user_id")
            assert len(replies) == JOBS and len({r[0] for r in replies}) == JOBS, "not one reply per job"
            assert all(state == "sent" and own for _, _, state, own in replies)
            sent_by_platform = Counter(platform for _, platform, _, _ in replies)
            assert sent_by_platform == {"web": WEB_USERS * WEB_FACES, "cli": CLI_USERS * CLI_FACES}

            for user in users:
                finals = user.finals
                assert all(f["kind"] == "result" and f["images"] for f in finals), finals
                assert sorted(f["job_id"] for f in finals) == sorted(user.progress), "a reply twice or lost"
                received = {base64.b64decode(f["images"][0]["data"]) for f in finals}
                assert received == await stored_images(direct, "web", user.client.user_key), "someone else's face"
            for i, lines in enumerate(cli_results):
                images = [Path(p).read_bytes() for line in lines for p in line["images"]]
                assert len(images) == CLI_FACES, lines
                assert set(images) == await stored_images(direct, "cli", f"cli-{i}")

            # --- /metrics: the workers' job counters and the chat processes' delivery counters ---
            scraped = [(await get(http, url + "metrics"))[1] for url in worker_urls[1:]]
            survivors_done = sum((counters(m, "dreamface_jobs_finished_total", "kind", "outcome") for m in scraped),
                                 Counter())
            victim_done = counters(victim_metrics, "dreamface_jobs_finished_total", "kind", "outcome")
            # ("lost": a survivor too slow to extend its lease on this busy machine; another ran the job)
            assert {outcome for _, outcome in survivors_done} <= {"done", "lost"}, survivors_done
            # the killed worker's counters died with it; it was scraped just before, and may have
            # settled at most one more batch between that scrape and the kill
            unseen = done_by_kind["face.make"] - survivors_done["face.make", "done"] - victim_done["face.make", "done"]
            assert 0 <= unseen <= BATCH, (done_by_kind, survivors_done, victim_done)
            chat_metrics = [(await get(http, url + "metrics"))[1] for url in chat_urls]
            delivered = sum((counters(m, "dreamface_deliveries_total", "platform", "outcome") for m in chat_metrics),
                            Counter())
            assert delivered == {("web", "sent"): WEB_USERS * WEB_FACES}, delivered
            assert not [n for (kind, _), n in counters(chat_metrics[0], "dreamface_jobs", "kind", "state").items()
                        if kind == "face.make" and n]

            # --- stray replies: nothing more reaches any user ---
            await asyncio.sleep(1.0)
            stop_reading.set()
            await browsing
            for user in users:   # a late progress edit is dropped by the page; a result would not be
                assert not [frame for frame in user.later if is_final(frame)], user.later

            # --- the database cut: unready, still alive; restored: ready ---
            proxy.cut()
            unready = await wait_until(lambda: _all_status(http, chat_urls, "readyz", 503), READY_BOUND,
                                       "/readyz 503 on both chat processes")
            assert await _all_status(http, chat_urls + worker_urls[1:], "healthz", 200), "/healthz failed in the outage"
            assert await _all_status(http, worker_urls[1:], "readyz", 503)
            proxy.restore()
            ready_again = await wait_until(lambda: _ready(http, chat_urls), BACK_BOUND,
                                           "/readyz 200 again on both chat processes")
            await wait_until(lambda: _all_status(http, worker_urls[1:], "readyz", 200), BACK_BOUND,
                             "the workers' /readyz 200 again")
            after = WebUser(await stack.enter_async_context(ChatClient(chat_urls[1])), 9000, faces=1)
            await asyncio.wait_for(asyncio.gather(after.run(stop_reading), after.served), 60)
            assert after.finals[0]["images"], "no face after the database came back"
        except BaseException:
            print(logs())
            raise
        finally:
            stop_reading.set()
            if browsing is not None:
                await asyncio.gather(browsing, return_exceptions=True)
            await stack.aclose()
            for child in cli_children:   # (only left running when the test failed)
                if child.returncode is None:
                    child.kill()
            codes = await asyncio.gather(*(stop(p) for p in chats + workers))
            await proxy.close()
            await direct.dispose()

    assert codes == [0] * CHATS + [-signal.SIGKILL] + [0] * (WORKERS - 1), \
        f"a process did not stop cleanly on SIGTERM: {codes}\n{logs()}"
    print(f"\ntopology: {CHATS} chat + {WORKERS} worker processes up in {up:.1f} s; {JOBS} jobs "
          f"({WEB_USERS} web users × {WEB_FACES}, {CLI_USERS} CLI users × {CLI_FACES}) in {load_seconds:.1f} s "
          f"= {JOBS / load_seconds:.1f} jobs/s; worker killed at {killed_at:.1f} s holding {len(held_at_kill)} jobs; "
          f"/readyz 503 {unready:.1f} s after the cut, 200 {ready_again:.1f} s after the restore; "
          f"whole test {time.monotonic() - started:.1f} s. CPU per job during the load: workers "
          f"{1000 * worker_cpu / JOBS:.0f} ms, chat processes {1000 * chat_cpu / JOBS:.0f} ms; this test's "
          f"browsers and proxy, whole run: {time.process_time():.0f} s")


async def _all_status(http: aiohttp.ClientSession, urls: list[str], path: str, status: int) -> bool:
    for url in urls:
        try:
            if (await get(http, url + path))[0] != status:
                return False
        except aiohttp.ClientError:
            return False
    return True


async def _ready(http: aiohttp.ClientSession, urls: list[str]) -> bool:
    return await _all_status(http, urls, "readyz", 200)
