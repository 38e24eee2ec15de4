"""procrastinate's half of bench/queue_bench.py, run by bench/.venv-procrastinate/bin/python.

    procrastinate_side.py setup  URL JOBS                 apply its schema, defer JOBS no-op tasks, print tasks/s
    procrastinate_side.py worker CONCURRENCY URL GO OUT   wait for GO, drain, write (seconds, 1) per fetch_job to OUT

No --smoke of its own: `queue_bench.py --smoke` runs it with 50 jobs when its venv exists.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import procrastinate
from procrastinate import manager



def make_app(url: str) -> procrastinate.App:
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url.replace("+asyncpg", "")))

    @app.task(name="noop")
    def noop() -> None:
        return None

    return app


async def setup(url: str, jobs: int) -> None:
    app = make_app(url)
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        task = app.tasks["noop"]
        started = time.perf_counter()
        for _ in range(jobs):
            await task.defer_async()
        print(jobs / (time.perf_counter() - started))


async def worker(concurrency: int, url: str, go: Path, out: Path) -> None:
    latencies: list[tuple[float, int]] = []
    fetch = manager.JobManager.fetch_job

    async def timed_fetch(self, *args, **kwargs):
        start = time.perf_counter()
        job = await fetch(self, *args, **kwargs)
        if job is not None:
            latencies.append((time.perf_counter() - start, 1))   # (seconds, jobs handed out)
        return job

    manager.JobManager.fetch_job = timed_fetch
    app = make_app(url)
    async with app.open_async():
        while not go.exists():
            await asyncio.sleep(0.005)
        await app.run_worker_async(concurrency=concurrency, wait=False, install_signal_handlers=False)
    out.write_text(json.dumps(latencies))


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        asyncio.run(setup(sys.argv[2], int(sys.argv[3])))
    else:
        asyncio.run(worker(int(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5])))
