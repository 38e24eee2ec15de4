"""Many web users at once on the embedded default: faces per second end to end, and nothing lost.

Starts `dreamface run` (SQLite file, in-process worker, montage backend, 512 px faces) in a
scratch directory, connects N scripted browsers (bot.web.client.ChatClient; each accepts the
first-use notice), then every user sends "new" K times, each after the previous face arrived.
The clock runs from the first of those messages to the last face. Every request must end in a
face: a refusal or an error counts as lost and is printed. All users come from 127.0.0.1, so
the per-address limits (new identities an hour, the address job cap) are off for the run, as
is the per-user rate limit; the per-user job cap (5) stays.

    .venv/bin/python bench/web_load.py                      # --users 300 --per-user 2
    .venv/bin/python bench/web_load.py --code /tmp/before   # the same against another checkout
    .venv/bin/python bench/web_load.py --smoke              # 4 users, 1 request each

--code DIR runs the server from another checkout (e.g. `git worktree add /tmp/before <commit>`
or `git archive <commit> | tar -x -C /tmp/before`), so a change is compared in one sitting.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from web_latency import REPO, ends_request, percentile, start_server

from bot.web.client import ChatClient, has_image

WAIT_SECONDS = 600   # a face may wait behind every other user's: no per-frame timeout short of that
ONE_ADDRESS = {"DREAMFACE_WEB_IDENTITIES_PER_HOUR": "0", "DREAMFACE_ADDRESS_JOB_CAP": "0"}


async def user(client: ChatClient, requests: int, go: asyncio.Event, latencies: list[float],
               lost: list[str]) -> None:
    await go.wait()
    for _ in range(requests):
        started = time.perf_counter()
        await client.say("new")
        try:
            frames = await client.until(ends_request, timeout=WAIT_SECONDS)
        except TimeoutError:
            lost.append(f"no face within {WAIT_SECONDS} s")
            return
        if has_image(frames[-1]):
            latencies.append(time.perf_counter() - started)
        else:
            lost.append(str(frames[-1].get("text")))


async def accept_notice(client: ChatClient) -> None:
    await client.say("help")
    notice = await client.receive()
    await client.press(notice["buttons"][0][0]["payload"])
    await client.until(lambda frame: frame.get("type") == "reply" and "help" in str(frame.get("text", "")).lower())


async def measure(url: str, users: int, per_user: int) -> tuple[float, list[float], list[str]]:
    latencies: list[float] = []
    lost: list[str] = []
    go = asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for start in range(0, users, 50):   # connect in waves: the point is the load of the faces
            wave = await asyncio.gather(*(stack.enter_async_context(ChatClient(url))
                                          for _ in range(min(50, users - start))))
            await asyncio.gather(*(accept_notice(client) for client in wave))
            clients += wave
        tasks = [asyncio.create_task(user(client, per_user, go, latencies, lost)) for client in clients]
        started = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return elapsed, latencies, lost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--per-user", type=int, default=2, help="'new' messages per user, one after another")
    parser.add_argument("--code", type=Path, default=REPO, help="the checkout whose `dreamface run` serves")
    parser.add_argument("--smoke", action="store_true", help="4 users, 1 request each: checks the script")
    args = parser.parse_args()
    if args.smoke:
        args.users, args.per_user = 4, 1
    with tempfile.TemporaryDirectory(prefix="dreamface-web-load-") as scratch:
        child, url = start_server(Path(scratch), ONE_ADDRESS, code=args.code.resolve())
        try:
            elapsed, latencies, lost = asyncio.run(measure(url, args.users, args.per_user))
        finally:
            child.send_signal(signal.SIGINT)
            child.wait(timeout=60)
    asked = args.users * args.per_user
    print(f"web chat, embedded default (SQLite, in-process worker, montage 512 px), served from {args.code}: "
          f"{args.users} users × {args.per_user} 'new'")
    print(f"  delivered {len(latencies)}/{asked}, lost {len(lost)}; {len(latencies) / elapsed:.1f} faces/s "
          f"end to end ({elapsed:.1f} s)")
    if latencies:
        ms = [1000 * t for t in latencies]
        print(f"  message → face: p50 {percentile(ms, 50):.0f} ms  p95 {percentile(ms, 95):.0f} ms  "
              f"mean {statistics.fmean(ms):.0f} ms  max {max(ms):.0f} ms")
    for text in sorted(set(lost))[:5]:
        print(f"  lost: {text!r}")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
