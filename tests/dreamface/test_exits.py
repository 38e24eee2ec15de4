"""Every long-running command stops cleanly, whichever way it is stopped, even while a clean-up
tick is in flight: `dreamface chat` (end of input, SIGINT, SIGTERM), `dreamface run`,
`dreamface worker` and `dreamface bot telegram` (SIGINT, SIGTERM). Each runs as a real process
through held_tick.py, which holds its first clean-up tick in flight so the stop always lands
inside one; the process must exit 0 with no ERROR line and no traceback."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, process_env

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "bot"))
from telegram_fake import FakeTelegram  # noqa: E402
from web_process import free_port  # noqa: E402

HELD_TICK = Path(__file__).with_name("held_tick.py")
START_TIMEOUT = 90
STOP_TIMEOUT = 30

pytestmark = pytest.mark.slow


class Stopped:
    def __init__(self, returncode: int, output: str, seconds: float) -> None:
        self.returncode, self.output, self.seconds = returncode, output, seconds


async def stop_while_a_tick_is_held(workdir: Path, args: list[str], how: str,
                                    env: dict[str, str] | None = None) -> Stopped:
    """Start `dreamface ARGS` with its clean-up tick held, wait until the tick is in flight, then
    stop it `how` ("eof", "sigint" or "sigterm")."""
    marker = workdir / "tick-in-flight"
    environment = process_env()
    environment.update({"PYTHONPATH": str(REPO), "HELD_TICK_MARKER": str(marker),
                        "DREAMFACE_DATABASE_URL": f"sqlite:///{workdir / 'dreamface.db'}", **(env or {})})
    log_path = workdir / "process.log"
    with open(log_path, "w") as log:
        child = subprocess.Popen([sys.executable, str(HELD_TICK), *args], cwd=workdir, env=environment,
                                 stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not marker.exists():
            assert child.poll() is None, f"exited before its tick ran:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"no clean-up tick within {START_TIMEOUT} s:\n{log_path.read_text()}"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)   # whatever else starts with the process is up too
        started = time.monotonic()
        if how == "eof":
            child.stdin.close()
        else:
            child.send_signal({"sigint": signal.SIGINT, "sigterm": signal.SIGTERM}[how])
        returncode = await asyncio.to_thread(child.wait, STOP_TIMEOUT)
        return Stopped(returncode, log_path.read_text(), time.monotonic() - started)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def assert_clean(stopped: Stopped) -> None:
    assert stopped.returncode == 0, stopped.output
    assert "Traceback" not in stopped.output, stopped.output
    assert " ERROR " not in stopped.output and "CRITICAL" not in stopped.output, stopped.output
    assert stopped.seconds < 15, f"took {stopped.seconds:.1f} s to stop:\n{stopped.output}"


@pytest.mark.parametrize("how", ["eof", "sigint", "sigterm"])
async def test_chat_stops_cleanly(tmp_path, how):
    stopped = await stop_while_a_tick_is_held(tmp_path, ["chat", "--user", "ann", "--out", "faces"], how)
    assert_clean(stopped)


@pytest.mark.parametrize("how", ["sigint", "sigterm"])
async def test_run_stops_cleanly(tmp_path, how):
    stopped = await stop_while_a_tick_is_held(tmp_path, ["run", "--port", str(free_port())], how)
    assert_clean(stopped)
    assert stopped.output.rstrip().endswith("dreamface: stopped."), stopped.output


@pytest.mark.parametrize("how", ["sigint", "sigterm"])
async def test_worker_stops_cleanly(tmp_path, how):
    stopped = await stop_while_a_tick_is_held(tmp_path, ["worker"], how)
    assert_clean(stopped)
    assert "stopped" in stopped.output.splitlines()[-1], stopped.output


@pytest.mark.parametrize("how", ["sigint", "sigterm"])
async def test_bot_stops_cleanly(tmp_path, how):
    async with FakeTelegram() as fake:
        stopped = await stop_while_a_tick_is_held(tmp_path, ["bot", "telegram"], how, env=fake.env)
    assert_clean(stopped)
