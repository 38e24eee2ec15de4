"""A chat process never loads a model: `dreamface run --no-worker`, run as if torch were not
installed, with the photoreal style as the default, and even DREAMFACE_BACKEND=stylegan and a
checkpoint path that does not exist in its environment, starts, serves, and queues photoreal
requests against what workers announced, without importing torch or the StyleGAN package."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.web.client import ChatClient
from conftest import REPO, process_env
from facegen.backend import BackendInfo
from storage.db import create_engine, session_factory
from storage.models import Job
from storage.presence import Presence, ProcessInfo

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "bot"))
from web_process import free_port  # noqa: E402
from web_served import acknowledge_notice  # noqa: E402

WRAPPER = Path(__file__).with_name("modules_at_exit.py")
PHOTOREAL = BackendInfo(name="stylegan", model_id="stylegan2-0123456789abcdef", resolution=256,
                        regions=("eyes", "nose", "mouth"), layer_groups=("coarse", "middle", "fine"),
                        edits=("smile",), abilities=("photo", "own_variations"))

pytestmark = pytest.mark.slow


async def wait_healthy(url: str, child: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    async with aiohttp.ClientSession() as http:
        while True:
            assert child.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                async with http.get(url + "healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def test_a_chat_process_loads_no_model_and_queues_photoreal_requests(tmp_path):
    port, report, log = free_port(), tmp_path / "modules.txt", tmp_path / "run.log"
    database = f"sqlite:///{tmp_path / 'dreamface.db'}"
    env = process_env()
    env.update({"PYTHONPATH": str(REPO), "MODULES_REPORT": str(report), "DREAMFACE_DATABASE_URL": database,
                "DREAMFACE_WEB_PORT": str(port), "DREAMFACE_DEFAULT_BACKEND": "stylegan",
                "DREAMFACE_BACKEND": "stylegan", "DREAMFACE_STYLEGAN_CKPT": str(tmp_path / "nowhere" / "ffhq.pkl")})
    with open(log, "w") as out:
        child = subprocess.Popen([sys.executable, str(WRAPPER), "run", "--no-worker"], cwd=tmp_path, env=env,
                                 stdout=out, stderr=subprocess.STDOUT)
    engine = create_engine(database)
    try:
        url = f"http://127.0.0.1:{port}/"
        await wait_healthy(url, child, log)
        async with ChatClient(url, accept_language="en") as me:
            await acknowledge_notice(me, "new")
            assert (await me.receive())["text"] == \
                "I can't draw photoreal faces just yet; please try again in a little while."

            # a worker of that model announces itself, then stops: the model is known, no worker is up
            worker = ProcessInfo("worker", ("default", "slow"), ("stylegan/" + PHOTOREAL.model_id, "stylegan"),
                                 (PHOTOREAL.to_json(),))
            await Presence(engine).beat(worker)
            await Presence(engine).forget(worker.id)
            await asyncio.sleep(2.1)                 # the chat reads announcements at most every 2 s
            await me.say("new")
            waiting = await me.receive()
            assert waiting["kind"] == "progress" and waiting["text"] == \
                "Drawing is paused right now; I'll make this as soon as it's back."
        async with session_factory(engine)() as session:
            [job] = (await session.execute(select(Job))).scalars().all()
        assert (job.route, job.state, job.payload["model"]) == (f"stylegan/{PHOTOREAL.model_id}", "queued",
                                                                PHOTOREAL.model_id)
        print(f"\nchat process resident memory: {resident_mib(child.pid):.0f} MiB")
        child.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(child.wait, 30) == 0, log.read_text()
    finally:
        await engine.dispose()
        if child.poll() is None:
            child.kill()
            child.wait()
    assert "Traceback" not in log.read_text()
    assert report.read_text() == "", f"a chat process imported model code: {report.read_text()}"
