"""serve_until_signal: the first SIGTERM starts an orderly stop; the same signal repeated within
DUPLICATE_SECONDS (a process group's SIGTERM passed on once more by `make`) changes nothing; a
second one after that ends a stuck shutdown at once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from conftest import REPO

STUCK = """
import asyncio, sys
from dreamface.serving import serve_until_signal

async def serve(stop):
    print("up", flush=True)   # the handlers are in place now
    await stop.wait()
    print("stopping", flush=True)
    await asyncio.sleep(float(sys.argv[1]))   # a slow shutdown
    print("stopped", flush=True)
    return 0

sys.exit(serve_until_signal(serve))
"""


def started(shutdown_seconds: float) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", STUCK, str(shutdown_seconds)], cwd=REPO,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "up"
    return child


def test_a_repeated_signal_within_the_window_is_the_same_request():
    child = started(2.0)
    child.send_signal(signal.SIGTERM)
    assert child.stdout.readline().strip() == "stopping"
    child.send_signal(signal.SIGTERM)   # at once: the same stop, delivered twice
    assert child.wait(15) == 0 and child.stdout.read().strip() == "stopped"


def test_a_second_signal_after_the_window_ends_a_stuck_shutdown():
    child = started(60.0)
    child.send_signal(signal.SIGTERM)
    assert child.stdout.readline().strip() == "stopping"
    time.sleep(1.5)
    child.send_signal(signal.SIGTERM)
    assert child.wait(15) == -signal.SIGTERM
