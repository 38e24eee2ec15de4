"""Message → image delivered latency in the web chat, on the embedded default.

Starts `dreamface run` (SQLite file, in-process worker, montage backend, 512 px faces) in a
scratch directory, connects one scripted browser, and times N "new" messages from the moment
the message is sent to the moment the frame carrying the face arrives. Also times the
immediate reply (the progress message). A few warm-up requests are not counted. The server's
per-user rate limit is off (one user sends them all); a refusal or an error stops the run.

    .venv/bin/python bench/web_latency.py [--requests 100] [--warmup 5] [--text new]
    .venv/bin/python bench/web_latency.py --smoke     # 3 requests after 1 warm-up: checks the script
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.web.client import ChatClient, Frame, has_image, is_final  # noqa: E402

GOAL_P50_MS = 300.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def start_server(workdir: Path, extra_env: dict[str, str] | None = None,
                 code: Path = REPO) -> tuple[subprocess.Popen, str]:
    """`dreamface run` from `code` (a checkout) in `workdir`; the process and the chat's address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMFACE_")}
    # one user sends every request: the default rate limit (20 a minute) would refuse most of them
    env |= {"DREAMFACE_WEB_PORT": str(port), "DREAMFACE_USER_RATE_PER_MINUTE": "0", "PYTHONPATH": str(code)}
    env |= extra_env or {}
    log = open(workdir / "run.log", "w")
    child = subprocess.Popen([sys.executable, "-m", "dreamface.cli", "run"], cwd=workdir, env=env,
                             stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for line in (workdir / "run.log").read_text().splitlines():
            if line.startswith("Open http://"):
                return child, line.split()[1]
        if child.poll() is not None:
            break
        time.sleep(0.1)
    child.kill()
    raise SystemExit(f"dreamface run did not start:\n{(workdir / 'run.log').read_text()}")


def ends_request(frame: Frame) -> bool:
    """The face, a job's error, a refusal (an error reply with no job: the rate limit, the cap)
    or a notice: nothing more comes for this message."""
    return is_final(frame) or frame.get("kind") == "error" or frame.get("type") == "notice"


async def measure(url: str, requests: int, warmup: int, text: str) -> tuple[list[float], list[float]]:
    delivered, immediate = [], []
    async with ChatClient(url) as client:
        await client.say("help")
        notice = await client.receive()
        await client.press(notice["buttons"][0][0]["payload"])
        await client.receive()                       # thanks
        await client.receive()                       # the help text
        for i in range(warmup + requests):
            started = time.perf_counter()
            await client.say(text)
            first = await client.receive()
            got_first = time.perf_counter()
            frames = [first] if ends_request(first) else [first, *await client.until(ends_request)]
            done = time.perf_counter()
            last = frames[-1]
            if not has_image(last):
                what = "ended without an image" if last.get("job_id") is not None else "was refused"
                raise SystemExit(f"request {i} {what}: {last.get('text')!r}")
            if i >= warmup:
                immediate.append((got_first - started) * 1000)
                delivered.append((done - started) * 1000)
    return delivered, immediate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--text", default="new", help="the message timed (default: new)")
    parser.add_argument("--smoke", action="store_true", help="3 requests after 1 warm-up: a quick check")
    args = parser.parse_args()
    if args.smoke:
        args.requests, args.warmup = 3, 1
    with tempfile.TemporaryDirectory(prefix="dreamface-web-bench-") as scratch:
        child, url = start_server(Path(scratch))
        try:
            delivered, immediate = asyncio.run(measure(url, args.requests, args.warmup, args.text))
        finally:
            child.send_signal(signal.SIGINT)
            child.wait(timeout=30)
    print(f"web chat, embedded default (SQLite, in-process worker, montage 512 px), "
          f"{len(delivered)} × {args.text!r} after {args.warmup} warm-up")
    for name, values in (("message → image delivered", delivered), ("message → first reply", immediate)):
        print(f"  {name:27s} p50 {percentile(values, 50):7.1f} ms   p95 {percentile(values, 95):7.1f} ms   "
              f"mean {statistics.fmean(values):7.1f} ms   max {max(values):7.1f} ms")
    p50 = percentile(delivered, 50)
    print(f"  goal p50 < {GOAL_P50_MS:.0f} ms: {'met' if p50 < GOAL_P50_MS else 'NOT met'} "
          f"(p50 ÷ goal = {p50 / GOAL_P50_MS:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
