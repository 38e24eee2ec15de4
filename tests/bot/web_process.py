"""`dreamface run` as a child process on a free port, for tests that need a real server
(the browser test): started in a scratch directory, stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from conftest import REPO, process_env

START_TIMEOUT = 90
READY = "Open http://"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dreamface_run(workdir: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Yields the page URL once `dreamface run` prints where to open it; on leaving, sends
    SIGINT and checks that it stopped cleanly. Its output goes to workdir/run.log (a file,
    so a chatty server never blocks on a full pipe)."""
    port = free_port()
    environment = process_env()
    environment.update({"DREAMFACE_DATABASE_URL": f"sqlite:///{workdir / 'dreamface.db'}",
                        "DREAMFACE_WEB_PORT": str(port), "PYTHONPATH": str(REPO)}, **(env or {}))
    log_path = workdir / "run.log"
    with open(log_path, "w") as log:
        child = subprocess.Popen([sys.executable, "-m", "dreamface.cli", "run", *args], cwd=workdir,
                                 env=environment, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        yield _wait_for_url(child, log_path)
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    output = log_path.read_text()
    assert child.returncode == 0, f"dreamface run stopped with {child.returncode}:\n{output}"
    assert "dreamface: stopped." in output, output


def _wait_for_url(child: subprocess.Popen, log_path: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        for line in log_path.read_text().splitlines():
            if line.startswith(READY):
                return line.split()[1]
        if child.poll() is not None:
            raise AssertionError(f"dreamface run exited with {child.returncode}:\n{log_path.read_text()}")
        time.sleep(0.1)
    raise AssertionError(f"dreamface run did not start in {START_TIMEOUT} s:\n{log_path.read_text()}")
