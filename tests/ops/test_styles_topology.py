"""Two styles in one deployment on PostgreSQL (issue #12): chat processes that hold no model,
StyleGAN workers for photoreal faces and a montage worker for drawn ones, all real subprocesses
of the installed `dreamface` command.

- 2 chat processes `dreamface run --no-worker`, given the shared env file a careless operator
  would give them (DREAMFACE_BACKEND=stylegan, a checkpoint path that does not exist), making
  new faces photoreal (DREAMFACE_DEFAULT_BACKEND=stylegan); the drawn users choose their style
  in the chat ("그림체로 바꿔줘").
- 2 StyleGAN workers on a tiny random-weight checkpoint the test builds (CPU), 1 montage worker.
- 6 web users over the real websocket protocol, 4 photoreal and 2 drawn (in Korean), each: two
  new faces, an eyes grid and a pick from it, a photo, variations and a pick, a morph of two of
  their own faces. A trigger on the scratch database records every claim and finish of a job.

Then: every stored face was rendered by the backend and model its tree is on, by a worker of
that kind (the face row, its parents and its picture's provenance agree); every grid, variation,
morph and photo job was claimed and finished only by workers of its style. A StyleGAN worker
SIGKILLed while it holds photo jobs: the other StyleGAN worker finishes them, never the montage
worker. With every StyleGAN worker gone (the killed one stopped counting as up when its jobs
were rescued, not a heartbeat window later), a photoreal request gets the "offline" reply and waits while drawn faces go on
being made; a StyleGAN worker started again serves it. No chat process ever maps torch, and
every process stops cleanly on SIGTERM.

    .venv/bin/python -m pytest tests/ops/test_styles_topology.py -s    # -s prints the figures
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from bot.conversation.replies import say
from bot.web.client import ChatClient, button_payloads, is_final
from storage.jobkinds import route_of
from facegen.provenance import BACKEND_KEY, FACE_KEY, MODEL_KEY, read_provenance
from storage.db import create_engine
from storage.presence import Presence

OPS = Path(__file__).resolve().parent
sys.path.insert(0, str(OPS))
sys.path.insert(0, str(OPS.parent / "facegen"))
from test_topology import _ready, environment, free_port, get, scalar_rows, spawn, stop, wait_until  # noqa: E402

PHOTO = OPS.parent / "data" / "obama_official_portrait.jpg"
PHOTOREAL_USERS, DRAWN_USERS = 4, 2
START_TIMEOUT = 90
STEP_TIMEOUT = 120      # one request's result (a rescue waits out the 5 s lease; the machine may be busy)
INVERSION_STEPS = 60    # a photo's inversion on the tiny model takes about a second
STALE_BOUND = 10        # the killed worker was forgotten when its leases were rescued; the other stopped cleanly

pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.parametrize("db_kind", ["postgres"])]   # migrated_database_url: PostgreSQL only

# Every change of a job's state, with the worker that caused it: the claimer (→ running), or the
# owner it was taken from (→ done, or → queued by a rescue). Test instrumentation of the scratch
# database only: finished jobs forget their worker.
TRANSITIONS = [
    """CREATE TABLE job_transitions (job_id bigint, kind text, route text, from_state text, to_state text,
                                     worker_id text, attempt int,
                                     at double precision DEFAULT extract(epoch FROM clock_timestamp()))""",
    """CREATE FUNCTION record_job_transition() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO job_transitions (job_id, kind, route, from_state, to_state, worker_id, attempt)
         VALUES (NEW.id, NEW.kind, NEW.route, OLD.state, NEW.state, COALESCE(NEW.worker_id, OLD.worker_id),
                 NEW.attempt);
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER record_job_transition AFTER UPDATE OF state ON jobs FOR EACH ROW
       WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION record_job_transition()""",
]


def pid_of(worker_id: str) -> int:
    """storage.presence.new_process_id: worker-<host>-<pid>-<8 hex>."""
    found = re.fullmatch(r"worker-.*-(\d+)-[0-9a-f]{8}", worker_id)
    assert found, f"not a worker id: {worker_id!r}"
    return int(found[1])


# --- the users ----------------------------------------------------------------------------------

class Browser:
    """One web user doing one request at a time. A reader task keeps the socket read the whole
    time (answering the server's pings, as an open page does); `step` sends one message or press
    and waits for that request's result."""

    def __init__(self, client: ChatClient, name: str, style: str, locale: str) -> None:
        self.client, self.name, self.style, self.locale = client, name, style, locale
        self.inbox: asyncio.Queue[dict] = asyncio.Queue()
        self.finished: dict[int, dict] = {}          # job id → its result frame
        self.early: dict[int, dict] = {}             # results that overtook their "on it" reply
        self.steps: list[tuple[str, int, dict, list[str]]] = []   # (what, job id, result, progress texts)
        self.reader = asyncio.create_task(self._read(), name=f"{name} reader")

    async def _read(self) -> None:
        while True:
            try:
                frame = await self.client.receive(timeout=5)
            except asyncio.TimeoutError:
                continue
            except Exception as exc:   # the socket closed: the step waiting on it fails saying so
                await self.inbox.put({"type": "closed", "error": repr(exc)})
                return
            await self.inbox.put(frame)

    async def _next(self) -> dict:
        frame = await self.inbox.get()
        assert frame.get("type") == "reply", f"{self.name}: {frame!r}"
        return frame

    async def start(self) -> None:
        """The first-use notice, acknowledged; then the held message is answered."""
        await self.client.say("도움말" if self.locale == "ko" else "help")
        notice = await self._next()
        await self.client.press(notice["buttons"][0][0]["payload"])
        await self._next()   # thanks
        await self._next()   # the held "help"
        if self.style == "montage":   # new faces are photoreal unless a user chooses otherwise
            await self.client.say("그림체로 바꿔줘")
            assert (await self._next())["text"].startswith("이제 새 얼굴은 그림체로 그려요"), self.name

    async def request(self, send: Callable[[], Awaitable[None]]) -> dict:
        """Sends; returns the "on it" reply of the job that started (failing on a refusal)."""
        await send()
        async with asyncio.timeout(STEP_TIMEOUT):
            while True:
                frame = await self._next()
                if frame.get("job_id") in self.finished:
                    continue   # a late progress re-render of a finished job
                if frame["kind"] == "progress":
                    return frame
                assert is_final(frame), f"{self.name}: {frame['text']}"
                self.early[frame["job_id"]] = frame   # a result that overtook its "on it"

    async def result(self, what: str, progress: dict) -> dict:
        """The result of the job `progress` announced; its progress texts are kept in `steps`."""
        job_id, texts = progress["job_id"], [progress["text"]]
        frame = self.early.pop(job_id, None)
        async with asyncio.timeout(STEP_TIMEOUT):
            while frame is None:
                next_frame = await self._next()
                if next_frame.get("job_id") in self.finished:
                    continue   # a late progress re-render of a finished job
                if next_frame["kind"] == "progress" and next_frame["job_id"] == job_id:
                    texts.append(next_frame["text"])
                    continue
                assert is_final(next_frame) and next_frame["job_id"] == job_id, f"{self.name} ({what}): {next_frame!r}"
                frame = next_frame
        assert frame["kind"] == "result" and frame["images"], f"{self.name} ({what}): {frame['text']}"
        self.finished[job_id] = frame
        self.steps.append((what, job_id, frame, texts))
        return frame

    async def step(self, what: str, send: Callable[[], Awaitable[None]]) -> dict:
        return await self.result(what, await self.request(send))

    def say(self, what: str, message: str) -> Awaitable[dict]:
        return self.step(what, lambda: self.client.say(message))

    def press(self, what: str, frame: dict, k: int) -> Awaitable[dict]:
        """Presses the pick button numbered k under a sheet."""
        return self.step(what, lambda: self.client.press(button_payloads(frame)[k - 1]))

    async def flow(self, seed: int) -> None:
        ko = self.locale == "ko"
        await self.say("new", f"새 얼굴 {seed}" if ko else f"new {seed}")                    # #1
        await self.say("new", f"새 얼굴 {seed + 1}" if ko else f"new {seed + 1}")            # #2
        grid = await self.say("eyes grid", "눈" if ko else "eyes")
        await self.press("pick from the eyes grid", grid, 3)                                  # #3
        await self.step("photo", lambda: self.client.send_photo(PHOTO.read_bytes()))         # #4
        variations = await self.say("variations", "변형" if ko else "variations")
        await self.press("pick from the variations", variations, 2)                          # #5
        await self.say("morph", "1번 얼굴이랑 50% 합성해줘" if ko else "morph #1 0.5")          # #6 = #5 + #1

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.reader


# --- the test -----------------------------------------------------------------------------------

async def test_photoreal_and_drawn_faces_each_go_to_their_own_workers_through_a_kill_and_an_outage(
        migrated_database_url, tmp_path):
    from stylegan_fixtures import tiny_sg2, write_nvidia_pickle
    started = time.monotonic()
    checkpoint = tmp_path / "tiny.pkl"
    write_nvidia_pickle(tiny_sg2(), checkpoint)
    direct = create_engine(migrated_database_url)
    async with direct.begin() as conn:
        for statement in TRANSITIONS:
            await conn.exec_driver_sql(statement)

    url = migrated_database_url
    shared = dict(DREAMFACE_BACKEND="stylegan", DREAMFACE_STYLEGAN_CKPT=str(tmp_path / "no-such-checkpoint.pkl"))
    chat_ports = [free_port() for _ in range(2)]
    chats = [await spawn(["run", "--no-worker", "--host", "127.0.0.1", "--port", str(port),
                          "--secret-file", str(tmp_path / "web.key")],
                         environment(url, DREAMFACE_DEFAULT_BACKEND="stylegan", **shared),
                         tmp_path / f"chat-{i}.log", tmp_path)
             for i, port in enumerate(chat_ports)]
    chat_urls = [f"http://127.0.0.1:{port}/" for port in chat_ports]

    kind_of_pid: dict[int, str] = {}
    worker_urls: dict[int, str] = {}

    async def start_worker(name: str, backend: str) -> asyncio.subprocess.Process:
        port = free_port()
        extra = dict(DREAMFACE_BACKEND=backend, DREAMFACE_WORKER_METRICS_PORT=str(port))
        if backend == "stylegan":
            extra.update(DREAMFACE_STYLEGAN_CKPT=str(checkpoint), DREAMFACE_STYLEGAN_DEVICE="cpu",
                         DREAMFACE_INVERSION_STEPS=str(INVERSION_STEPS),
                         OMP_NUM_THREADS="1")   # two cores, tiny tensors: threads only contend
        process = await spawn(["worker"], environment(url, **extra), tmp_path / f"{name}.log", tmp_path)
        kind_of_pid[process.pid] = backend
        worker_urls[process.pid] = f"http://127.0.0.1:{port}/"
        return process

    stylegans = [await start_worker(f"worker-stylegan-{i}", "stylegan") for i in range(2)]
    montage = await start_worker("worker-montage", "montage")
    workers = stylegans + [montage]
    restarted: asyncio.subprocess.Process | None = None
    victim: asyncio.subprocess.Process | None = None

    def logs() -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in sorted(tmp_path.glob("*.log")))

    def kind_of(worker_id: str) -> str:
        return kind_of_pid[pid_of(worker_id)]

    browsers: list[Browser] = []
    flows: asyncio.Future | None = None
    codes: list[int] = []
    async with aiohttp.ClientSession() as http, contextlib.AsyncExitStack() as stack:
        try:
            # --- up: every process answers, both styles announced ---
            async def all_up() -> bool:
                assert all(p.returncode is None for p in chats + workers), logs()
                for page in chat_urls + [worker_urls[p.pid] for p in workers]:
                    with contextlib.suppress(aiohttp.ClientError):
                        if (await get(http, page + "healthz"))[0] == 200:
                            continue
                    return False
                return True
            await wait_until(all_up, START_TIMEOUT, "every process answering /healthz")
            await wait_until(lambda: _ready(http, chat_urls), START_TIMEOUT, "the chat processes ready")
            announced: dict[str, str] = {}

            async def both_announced() -> bool:
                announced.update({backend: model for backend, model in await scalar_rows(
                    direct, "SELECT backend, model_id FROM served_models")})
                return {"stylegan", "montage"} <= set(announced)
            await wait_until(both_announced, START_TIMEOUT, "both styles announced by their workers")
            up = time.monotonic() - started
            routes = {style: route_of(style, model) for style, model in announced.items()}

            # --- the users' flows, and a StyleGAN worker killed while it holds photo jobs ---
            for i in range(PHOTOREAL_USERS + DRAWN_USERS):
                photoreal = i < PHOTOREAL_USERS
                locale = "en" if photoreal else "ko"
                chat = chat_urls[i % 2]
                client = await stack.enter_async_context(ChatClient(chat, accept_language=locale))
                browsers.append(Browser(client, f"user-{i}", "stylegan" if photoreal else "montage", locale))
            await asyncio.gather(*(b.start() for b in browsers))
            flows_started = time.monotonic()
            flows = asyncio.gather(*(b.flow(100 * i + 1) for i, b in enumerate(browsers)))

            victim_id = ""

            async def stylegan_worker_holds_photos() -> bool:
                nonlocal victim_id
                assert not flows.done() or flows.exception() is None, flows.exception()
                rows = await scalar_rows(direct, "SELECT DISTINCT worker_id FROM jobs WHERE state = 'running' "
                                                 "AND kind = 'face.photo' AND route = :route", route=routes["stylegan"])
                victim_id = rows[0].worker_id if rows else ""
                return bool(victim_id)
            await wait_until(stylegan_worker_holds_photos, 150, "a StyleGAN worker holding photo jobs")
            victim = next(p for p in stylegans if p.pid == pid_of(victim_id))
            survivor = next(p for p in stylegans if p is not victim)
            victim.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            await asyncio.sleep(0.5)   # a commit already on its way when it died lands first
            held = {row.id for row in await scalar_rows(
                direct, "SELECT id FROM jobs WHERE state = 'running' AND worker_id = :victim", victim=victim_id)}

            await asyncio.wait_for(flows, 240)
            flows_seconds = time.monotonic() - flows_started

            # --- the killed worker's jobs: finished by the other StyleGAN worker ---
            assert held, "the killed worker held no job at its death"
            rescued = await scalar_rows(
                direct, "SELECT j.id, j.state, j.attempt, t.worker_id FROM jobs j JOIN job_transitions t "
                        "ON t.job_id = j.id AND t.to_state = 'done' WHERE j.id = ANY(:ids)", ids=list(held))
            assert len(rescued) == len(held), f"not every held job finished: {held} {rescued}"
            for job_id, state, attempt, finisher in rescued:
                assert state == "done" and attempt >= 2, (job_id, state, attempt)
                assert pid_of(finisher) == survivor.pid, f"job {job_id} finished by {finisher}, not the other one"
            later_claims = await scalar_rows(
                direct, "SELECT job_id, worker_id FROM job_transitions WHERE to_state = 'running' "
                        "AND job_id = ANY(:ids) AND worker_id <> :victim", ids=list(held), victim=victim_id)
            assert {pid_of(w) for _, w in later_claims} == {survivor.pid}, later_claims

            # --- every StyleGAN worker gone: photoreal requests wait, drawn faces go on ---
            assert await stop(survivor) == 0, f"the surviving StyleGAN worker did not stop cleanly\n{logs()}"
            presence = Presence(direct)

            async def no_stylegan_worker_up() -> bool:
                return not await presence.live("worker", route=routes["stylegan"])
            drawn = [b for b in browsers if b.style == "montage"]
            meanwhile = asyncio.gather(*(b.say("new while StyleGAN is down", f"새 얼굴 {900 + i}")
                                         for i, b in enumerate(drawn)))
            stale = await wait_until(no_stylegan_worker_up, STALE_BOUND,
                                     "no StyleGAN worker counted as up")
            await meanwhile
            waiting_user = browsers[0]
            first = await waiting_user.request(lambda: waiting_user.client.say("new 777"))
            assert first["text"].split("\n")[0] == say("en", "offline"), first
            (waiting_job,), = await scalar_rows(   # the page knows the job by its own token only
                direct, "SELECT j.id FROM jobs j JOIN users u ON u.id = j.user_id WHERE u.platform = 'web' "
                        "AND u.platform_user_id = :key AND j.state = 'queued'", key=waiting_user.client.user_key)
            for i, b in enumerate(drawn):   # drawn faces are not held up meanwhile
                await b.say("new while a photoreal request waits", f"새 얼굴 {950 + i}")
                assert b.steps[-1][3][0].split("\n")[0] != say("ko", "offline"), b.steps[-1]
            (state, claims), = await scalar_rows(
                direct, "SELECT state, (SELECT count(*) FROM job_transitions WHERE job_id = :id "
                        "AND to_state = 'running') FROM jobs WHERE id = :id", id=waiting_job)
            assert (state, claims) == ("queued", 0), "the waiting photoreal request was taken by another worker"

            restarted = await start_worker("worker-stylegan-again", "stylegan")
            workers.append(restarted)
            restart_at = time.monotonic()
            served = await waiting_user.result("new during the outage", first)
            served_after = time.monotonic() - restart_at
            assert served["job_id"] == first["job_id"]

            # --- no chat process ever loaded torch ---
            for chat in chats:
                maps = Path(f"/proc/{chat.pid}/maps").read_text()
                assert "torch" not in maps, f"chat process {chat.pid} has torch mapped"

            # --- every face: its tree's backend and model, drawn by a worker of that kind ---
            style_of_user = {}
            for b in browsers:
                (user_id,), = await scalar_rows(direct, "SELECT id FROM users WHERE platform = 'web' "
                                                        "AND platform_user_id = :key", key=b.client.user_key)
                style_of_user[user_id] = b.style
            faces = {row.id: row for row in await scalar_rows(
                direct, "SELECT f.id, f.user_id, f.parent_id, f.other_parent_id, f.operation, f.backend, "
                        "f.checkpoint_id, f.worker_id, f.public_id, b.data FROM faces f JOIN blobs b ON b.id = f.image_blob_id "
                        "WHERE f.user_id = ANY(:users)", users=list(style_of_user))}
            made_by: Counter = Counter()
            for face in faces.values():
                style = style_of_user[face.user_id]
                model = (face.backend, face.checkpoint_id)
                assert model == (style, announced[style]), face
                root = face
                while root.parent_id is not None:
                    root = faces[root.parent_id]
                    assert (root.backend, root.checkpoint_id) == model, f"face {face.id} left its tree's model"
                if face.other_parent_id is not None:
                    other = faces[face.other_parent_id]
                    assert (other.backend, other.checkpoint_id) == model, f"morph {face.id} across models"
                assert kind_of(face.worker_id) == face.backend, f"face {face.id} drawn by {face.worker_id}"
                chunks = read_provenance(face.data)
                assert (chunks[BACKEND_KEY], chunks[MODEL_KEY], chunks[FACE_KEY]) == (*model, face.public_id), chunks
                made_by[style, face.operation, kind_of(face.worker_id)] += 1
            ops = {"new", "pick", "photo", "morph"}
            for style in ("stylegan", "montage"):
                assert ops <= {op for s, op, _ in made_by if s == style}, made_by
            assert len(faces) == sum(len([s for s in b.steps if s[0] not in ("eyes grid", "variations")])
                                     for b in browsers)

            # --- every job: claimed and finished only by workers of its style ---
            jobs = await scalar_rows(direct, "SELECT id, kind, route, state, user_id, payload FROM jobs "
                                             "WHERE user_id = ANY(:users)", users=list(style_of_user))
            transitions = await scalar_rows(direct, "SELECT job_id, to_state, worker_id FROM job_transitions "
                                                    "WHERE worker_id IS NOT NULL")
            worked: dict[int, set[str]] = {}
            for job_id, to_state, worker_id in transitions:
                if to_state in ("running", "done"):
                    worked.setdefault(job_id, set()).add(kind_of(worker_id))
            ran: Counter = Counter()
            for job in jobs:
                style = style_of_user[job.user_id]
                assert (job.state, job.route) == ("done", routes[style]), job
                assert worked.get(job.id) == {style}, f"job {job.id} ({job.kind}, {style}) ran on {worked.get(job.id)}"
                what = job.payload.get("set", {}).get("kind") or job.payload["operation"]
                ran[style, job.kind, what] += 1
            for style in ("stylegan", "montage"):
                done = {(kind, what) for s, kind, what in ran if s == style}
                assert {("face.sheet", "region"), ("face.sheet", "variations"), ("face.make", "pick"),
                        ("face.make", "morph"), ("face.photo", "photo")} <= done, ran
            for b in browsers:   # the grids the users saw were drawn by their style's model
                for what, _, frame, _ in b.steps:
                    if what in ("eyes grid", "variations"):
                        chunks = read_provenance(base64.b64decode(frame["images"][0]["data"]))
                        assert (chunks[BACKEND_KEY], chunks[MODEL_KEY]) == (b.style, announced[b.style]), chunks
            (last,), = await scalar_rows(direct, "SELECT worker_id FROM faces WHERE job_id = :id", id=waiting_job)
            assert pid_of(last) == restarted.pid, "the waiting request was not served by the restarted worker"
        except BaseException:
            print(logs())
            raise
        finally:
            if flows is not None:   # (only still running when the test failed)
                flows.cancel()
                await asyncio.gather(flows, return_exceptions=True)
            for b in browsers:
                await b.close()
            await stack.aclose()
            codes = await asyncio.gather(*(stop(p) for p in chats + workers))
            await direct.dispose()

    expected = [0] * len(chats) + [-signal.SIGKILL if p is victim else 0 for p in workers]
    assert codes == expected, f"a process did not stop cleanly on SIGTERM: {codes}\n{logs()}"
    jobs_by_style = Counter(style_of_user[job.user_id] for job in jobs)
    print(f"\nstyles topology: {len(chats)} chat + 3 worker processes up in {up:.1f} s; "
          f"{len(jobs)} jobs ({jobs_by_style['stylegan']} photoreal by {PHOTOREAL_USERS} users, "
          f"{jobs_by_style['montage']} drawn by {DRAWN_USERS}), {len(faces)} faces; the flows took "
          f"{flows_seconds:.1f} s, a StyleGAN worker killed {killed_at - flows_started:.1f} s in holding "
          f"{len(held)} jobs, all finished by the other; no StyleGAN worker up {stale:.1f} s after the other "
          f"stopped; the waiting photoreal request served {served_after:.1f} s after a StyleGAN "
          f"worker started again; whole test {time.monotonic() - started:.1f} s")
