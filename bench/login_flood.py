"""Face render latency while the moderator dashboard is flooded with logins, before and after
password checks got their own threads (issue #23).

One process, as `dreamface run` has it: the dashboard (SQLite file, one moderator, real scrypt
at the default cost: 128 MiB, about half a second) and renders of 512-px montage faces through
the default thread pool, which is where the in-process worker renders (storage/worker.py). A
flood of `--clients` browsers, each from its own loopback address and inside every login
limit, posts wrong passwords as fast as it is answered while --renders faces are drawn one
after another; each render's latency is timed from asking to the finished picture.

- idle:   no flood;
- after:  checks on the dashboard's own PasswordChecks (1 thread, 4 waiting; the rest 429 at once);
- before: checks in the default thread pool with no bound, as before issue #23.
Peak resident memory is read after each phase (it only grows, so "after" runs before "before").

    .venv/bin/python bench/login_flood.py [--renders 20] [--clients 40]
    .venv/bin/python bench/login_flood.py --smoke     # 3 renders, 4 clients, a cheap scrypt cost
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
from aiohttp import web

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.moderation import passwords  # noqa: E402
from bot.moderation.app import CHECKS, DashboardConfig, create_dashboard  # noqa: E402
from facegen.montage import MontageBackend  # noqa: E402
from storage.db import session_factory  # noqa: E402
from storage.migrate import open_database  # noqa: E402
from storage.moderation import Moderators  # noqa: E402

PASSWORD = "correct horse battery"
SIZE = 512


class DefaultPoolChecks:
    """Before issue #23: every check went to asyncio.to_thread (the default pool), unbounded.
    Stands in for PasswordChecks and its CheckPlace at once."""

    def place(self) -> "DefaultPoolChecks":
        return self

    def __enter__(self) -> "DefaultPoolChecks":
        return self

    def __exit__(self, *exc) -> None:
        pass

    async def verify(self, password: str, stored: str | None) -> bool:
        if stored is None:
            await asyncio.to_thread(passwords.burn_verification_time, password)
            return False
        return await asyncio.to_thread(passwords.verify_password, password, stored)

    def close(self) -> None:
        pass


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def render_latencies(backend: MontageBackend, renders: int) -> list[float]:
    """Renders one after another through the default thread pool, each timed in ms."""
    times = []
    for seed in range(renders):
        code = backend.sample(seed)
        started = time.perf_counter()
        await asyncio.to_thread(backend.render, [code], SIZE)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def flood_client(url: str, address: str, stop: asyncio.Event, answers: Counter) -> None:
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{url}/login") as response:
            page = await response.text()
        csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        while not stop.is_set():
            async with http.post(f"{url}/login", data={"name": "alice", "password": "wrong guess!", "csrf": csrf},
                                 allow_redirects=False) as response:
                await response.read()
                answers[response.status] += 1
                if response.status == 429:
                    await asyncio.sleep(0.05)   # a flood, not a busy loop on this one CPU


async def phase(name: str, url: str, backend: MontageBackend, renders: int, clients: int) -> list[float]:
    stop, answers = asyncio.Event(), Counter()
    flood = [asyncio.create_task(flood_client(url, f"127.0.{1 + n // 250}.{1 + n % 250}", stop, answers))
             for n in range(clients)]
    if flood:
        await asyncio.sleep(1.0)   # let the flood fill whatever queue there is
    times = await render_latencies(backend, renders)
    stop.set()
    await asyncio.gather(*flood)
    answered = ", ".join(f"{status}×{count}" for status, count in sorted(answers.items())) or "none"
    print(f"{name:7s} render {SIZE} px  p50 {statistics.median(times):7.1f} ms  max {max(times):7.1f} ms   "
          f"logins answered: {answered}   peak RSS {peak_mib():.0f} MiB")
    return times


async def serve(engine, before: bool) -> tuple[web.AppRunner, str]:
    config = DashboardConfig(secret=b"bench secret, 32 bytes long.....", login_max_failures=10**6,
                             login_address_max_failures=10**6)
    dashboard = create_dashboard(config, lambda: engine)
    if before:
        dashboard[CHECKS].close()
        dashboard[CHECKS] = DefaultPoolChecks()
    app = web.Application()
    app.add_subapp("/mod", dashboard)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/mod"


async def main_async(args: argparse.Namespace) -> int:
    cost = passwords.ScryptCost(log2_n=12) if args.smoke else passwords.DEFAULT_COST
    with tempfile.TemporaryDirectory() as scratch:
        engine = await open_database(f"sqlite:///{scratch}/bench.db")
        async with session_factory(engine)() as session, session.begin():
            await Moderators(session).add("alice", passwords.hash_password(PASSWORD, cost))
        backend = MontageBackend()
        backend.render([backend.sample(0)], SIZE)   # warm caches
        print(f"login flood: {args.clients} clients, {args.renders} renders per phase, scrypt n=2^{cost.log2_n}")
        results = {"idle": await phase("idle", "http://unused", backend, args.renders, 0)}
        for name, before in (("after", False), ("before", True)):
            runner, url = await serve(engine, before)
            try:
                results[name] = await phase(name, url, backend, args.renders, args.clients)
            finally:
                await runner.cleanup()
        await engine.dispose()
    idle = statistics.median(results["idle"])
    print(f"p50 / idle p50: after {statistics.median(results['after']) / idle:.2f}, "
          f"before {statistics.median(results['before']) / idle:.2f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="render latency during a moderator login flood")
    parser.add_argument("--renders", type=int, default=20, help="faces rendered per phase")
    parser.add_argument("--clients", type=int, default=40, help="flooding browsers, one address each")
    parser.add_argument("--smoke", action="store_true", help="tiny counts and a cheap scrypt: checks the script runs")
    args = parser.parse_args(argv)
    if args.smoke:
        args.renders, args.clients = 3, 4
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
