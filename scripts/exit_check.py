"""Stop every long-running dreamface command for real, many times, and check that each stop is clean.

tests/dreamface/test_exits.py checks the stops deterministically (with a clean-up tick held in
flight); this script is the other half: the real, unpatched commands, stopped at varied moments.
For each case it runs the command N times as a subprocess, each time in a fresh scratch
directory with its own SQLite database and no inherited DREAMFACE_* variables, waits until it
is up, waits a random (seeded) 0-1.5 s more, so that stops land at different moments (the
clean-up tick at start among them), then stops it:

    chat-eof / chat-sigint / chat-sigterm        `dreamface chat`, after one "help" line has been
                                                 answered: stdin closed, SIGINT or SIGTERM
    run-sigint / run-sigterm                     `dreamface run --port P`, once it prints "Open http://"
    worker-sigint / worker-sigterm               `dreamface worker`, once its /healthz answers 200
    bot-telegram-sigint / bot-telegram-sigterm   `dreamface bot telegram` against the local Telegram
                                                 stand-in (tests/bot/telegram_fake.py), once it has
                                                 set its commands

A run is clean when the command exits 0 and its output (stdout and stderr together) holds no
"Traceback" and no ERROR or CRITICAL log line. It prints one row per case (runs, clean runs,
the longest stop in seconds), then the first and last lines of every unclean run's output, and
exits 1 if any run was unclean. A script, not CI: it takes a while (9 cases x N runs x a few s).

    .venv/bin/python scripts/exit_check.py --runs 20
    .venv/bin/python scripts/exit_check.py --runs 5 --only worker-sigterm
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "bot"))
from telegram_fake import FakeTelegram  # noqa: E402

START_TIMEOUT = 90      # seconds for a command to come up
STOP_TIMEOUT = 30       # seconds for it to exit once stopped (then it is killed: unclean)
MAX_DELAY = 1.5         # the most seconds between "up" and the stop
HEAD_LINES, TAIL_LINES = 20, 10   # how much of an unclean run's output is shown: its start and its end
UNCLEAN = re.compile(r"Traceback| ERROR |CRITICAL")

CASES = {   # name: (command, how it is stopped)
    "chat-eof": ("chat", "eof"),
    "chat-sigint": ("chat", "sigint"),
    "chat-sigterm": ("chat", "sigterm"),
    "run-sigint": ("run", "sigint"),
    "run-sigterm": ("run", "sigterm"),
    "worker-sigint": ("worker", "sigint"),
    "worker-sigterm": ("worker", "sigterm"),
    "bot-telegram-sigint": ("bot-telegram", "sigint"),
    "bot-telegram-sigterm": ("bot-telegram", "sigterm"),
}
SIGNALS = {"sigint": signal.SIGINT, "sigterm": signal.SIGTERM}


@dataclass
class Run:
    number: int
    delay: float
    returncode: int | None      # None: it did not exit within STOP_TIMEOUT (it was killed)
    seconds: float | None       # from the stop to the exit; None: never stopped (it did not come up)
    output: str
    note: str = ""

    @property
    def clean(self) -> bool:
        return not self.note and self.returncode == 0 and not UNCLEAN.search(self.output)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers_200(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))   # never through a proxy
    try:
        with opener.open(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def has_line(log: Path, test) -> bool:
    return any(test(line) for line in log.read_text(errors="replace").splitlines())


def dreamface_command() -> list[str]:
    script = Path(sys.executable).parent / "dreamface"   # the console script beside this Python
    return [str(script)] if script.exists() else [sys.executable, "-m", "dreamface.cli"]


async def run_once(command: str, how: str, number: int, delay: float, fake: FakeTelegram | None) -> Run:
    with tempfile.TemporaryDirectory(prefix="dreamface-exit-check-") as scratch:
        workdir = Path(scratch)
        log = workdir / "output.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMFACE_")}
        env.update({"PYTHONPATH": str(REPO), "DREAMFACE_DATABASE_URL": f"sqlite:///{workdir / 'dreamface.db'}"})
        if command == "chat":
            args = ["chat", "--user", "ann", "--out", "faces"]
            # up once the "help" line has been answered with a JSON reply
            is_up = lambda: has_line(log, lambda line: line.startswith("{"))  # noqa: E731
        elif command == "run":
            args = ["run", "--port", str(free_port())]
            is_up = lambda: has_line(log, lambda line: line.startswith("Open http://"))  # noqa: E731
        elif command == "worker":
            port = free_port()
            args = ["worker"]
            env["DREAMFACE_WORKER_METRICS_PORT"] = str(port)
            is_up = lambda: answers_200(f"http://127.0.0.1:{port}/healthz")  # noqa: E731
        else:
            args = ["bot", "telegram"]
            env.update(fake.env)
            fake.commands.clear()   # up once this run's bot has set its commands
            is_up = lambda: bool(fake.commands)  # noqa: E731
        return await start_and_stop(args, env, workdir, log, is_up, command, how, number, delay)


async def start_and_stop(args, env, workdir, log, is_up, command, how, number, delay) -> Run:
    with open(log, "w") as out:
        child = subprocess.Popen([*dreamface_command(), *args], cwd=workdir, env=env, text=True,
                                 stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
    try:
        if command == "chat":
            with contextlib.suppress(BrokenPipeError):   # exited already: the loop below reports it
                child.stdin.write("help\n")
                child.stdin.flush()
        deadline = time.monotonic() + START_TIMEOUT
        while not await asyncio.to_thread(is_up):
            if child.poll() is not None:
                return Run(number, delay, child.returncode, None, log.read_text(), "exited before it was up")
            if time.monotonic() > deadline:
                return Run(number, delay, None, None, log.read_text(), f"not up within {START_TIMEOUT} s")
            await asyncio.sleep(0.05)
        await asyncio.sleep(delay)
        started = time.monotonic()
        if how == "eof":
            child.stdin.close()
        else:
            child.send_signal(SIGNALS[how])
        try:
            returncode = await asyncio.to_thread(child.wait, STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            return Run(number, delay, None, time.monotonic() - started, log.read_text(),
                       f"still running {STOP_TIMEOUT} s after the stop; killed")
        return Run(number, delay, returncode, time.monotonic() - started, log.read_text())
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        with contextlib.suppress(OSError):
            child.stdin.close()


async def check(names: list[str], runs: int, seed: int) -> dict[str, list[Run]]:
    results = {}
    for name in names:   # one at a time: these commands are not light, and the machine may be small
        command, how = CASES[name]
        rng = random.Random(f"{seed}:{name}")   # the same delays for a case with or without --only
        began = time.monotonic()
        results[name] = []
        # one Telegram stand-in for all runs of a case: closing it waits out the bot's last long
        # poll (about 25 s), which is too long to wait once a run
        async with FakeTelegram() if command == "bot-telegram" else contextlib.nullcontext() as fake:
            for number in range(1, runs + 1):
                results[name].append(await run_once(command, how, number, rng.uniform(0, MAX_DELAY), fake))
        unclean = sum(not r.clean for r in results[name])
        print(f"{name}: {runs} runs in {time.monotonic() - began:.0f} s, {unclean} unclean",
              file=sys.stderr, flush=True)
    return results


def report(results: dict[str, list[Run]]) -> bool:
    """Prints the table and the unclean runs' output; True when every run was clean."""
    print(f"{'case':<22} {'runs':>4} {'clean':>5} {'max stop s':>10}")
    for name, runs in results.items():
        stops = [r.seconds for r in runs if r.seconds is not None]
        longest = f"{max(stops):.2f}" if stops else "-"
        print(f"{name:<22} {len(runs):>4} {sum(r.clean for r in runs):>5} {longest:>10}")
    for name, runs in results.items():
        for r in runs:
            if r.clean:
                continue
            when = "never stopped" if r.seconds is None else \
                f"stopped {r.delay:.2f} s after up, {r.seconds:.2f} s to stop"
            print(f"\n--- {name} run {r.number} ({when}): exit {r.returncode}{', ' + r.note if r.note else ''}")
            lines = r.output.splitlines()
            if len(lines) > HEAD_LINES + TAIL_LINES:   # the start, and the end (what an exception was)
                lines = [*lines[:HEAD_LINES], f"… ({len(lines) - HEAD_LINES - TAIL_LINES} lines) …",
                         *lines[-TAIL_LINES:]]
            print("\n".join("    " + line for line in lines))
    return all(r.clean for runs in results.values() for r in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="runs of each case (default 20)")
    parser.add_argument("--only", choices=list(CASES), help="check this case only")
    parser.add_argument("--seed", type=int, default=0, help="seed of the delays before each stop (default 0)")
    args = parser.parse_args()
    # A command started in the background by a shell without job control inherits SIGINT ignored;
    # make sure the commands we start can see the SIGINT we send them.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    began = time.monotonic()
    results = asyncio.run(check([args.only] if args.only else list(CASES), args.runs, args.seed))
    clean = report(results)
    print(f"\ntotal {time.monotonic() - began:.0f} s")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
